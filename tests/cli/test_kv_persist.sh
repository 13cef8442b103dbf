# Persistence of teemate kv serve (issue 13), with Debian's redis-server as
# the reference for contents: SAVE and a restart give back every type and
# TTL; BGSAVE while one client keeps writing saves exactly the data set of
# the moment BGSAVE ran (writes before it in, writes after it out, FLUSHALL
# included); the dump is sealed in the enclave (no plaintext, a tampered or
# cut file refused at start) and plain with --no-enclave (redis-check-rdb
# accepts it). Faults: the BGSAVE child SIGKILLed (old dump intact, temp file
# gone, INFO says err, slot back), the server SIGKILLed mid-snapshot (no
# partial dump), a full disk (-MISCONF until a save succeeds), SIGTERM saving.
. "$(dirname "$0")/lib.sh"
for c in redis-cli redis-server redis-check-rdb; do
    command -v $c >/dev/null || { skip "test_kv_persist" "no $c (redis-tools, redis-server)"; exit 0; }
done
. "$(dirname "$0")/kv/kv_lib.sh"
PY="python3 $(dirname "$0")/kv/rdb_vs_redis.py"
PP="python3 $(dirname "$0")/kv/persist.py"

descendants() { local c; for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done; }
info() { redis-cli -p "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }
# bgsave_wait PORT: until no background save runs (60 s at most)
bgsave_wait() {
    for _ in $(seq 1200); do [ "$(info "$1" persistence rdb_bgsave_in_progress)" = 0 ] && return 0; sleep 0.05; done
    return 1
}
# the child of the BGSAVE just started: a new descendant of the server
new_child() {
    for _ in $(seq 200); do
        for p in $(descendants "$spid"); do grep -qx "$p" "$WORK/before.pids" || { echo "$p"; return; }; done
        sleep 0.01
    done
}

# slots_free MODE: teemated takes a stopped or killed server's slots back
# when it sees its processes gone (asynchronously): wait for that (10 s at
# most) before the next server on the same enclave
slots_free() {
    [ "$1" = native ] && return 0
    for _ in $(seq 100); do
        [ "$("$TEEMATE" enclave inspect "kv-$ename" --json 2>/dev/null | jq -r .slots.in_use)" = 0 ] && return 0
        sleep 0.1
    done
}

$PY commands "$WORK/fill.resp"
$PP bulk "$WORK/bulk.resp" 1000 40000      # 40 MB in db 9
$PP writes "$WORK/before.resp" 1
$PP writes "$WORK/after.resp" 2
$PP bgsave "$WORK/bgsave.resp"
$PP flushall "$WORK/flushall.resp"
cat "$WORK/before.resp" "$WORK/bgsave.resp" "$WORK/after.resp" "$WORK/flushall.resp" >"$WORK/run.resp"

# The reference: what the snapshot must hold (the fill, the bulk, the writes before BGSAVE).
mkdir -p "$WORK/ref"
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --dir "$WORK/ref" >"$WORK/ref.log" 2>&1 &
pids+=($!)
wait_ping "$rport" || { not_ok "reference redis-server starts"; finish; }
for f in fill bulk before; do $PY send "$rport" "$WORK/$f.resp"; done
$PY dump "$rport" >"$WORK/ref.dump"
$PY send "$rport" "$WORK/fill.resp"   # (idempotent on the fill's keys? no: build the first-save reference apart)
redis-cli -p "$rport" flushall >/dev/null
$PY send "$rport" "$WORK/fill.resp"
$PY dump "$rport" >"$WORK/fill.dump"

# run MODE ARGS...: the whole sequence against one server kind.
run() {
    local mode=$1; shift
    local D=$WORK/$mode P
    mkdir -p "$D"
    P=$(free_port)
    serve "$mode-1" --port "$P" --dir "$D" "$@" || { not_ok "$mode: server starts"; sed 's/^/  | /' "$WORK/$mode-1.log" >&2; return; }
    $PY send "$P" "$WORK/fill.resp"
    expect_eq "$mode: SAVE" "$(redis-cli -p "$P" save)" "OK"
    if [ "$mode" != native ]; then
        expect_eq "$mode: the dump is sealed" "$(head -c 8 "$D/dump.rdb")" "TMKVSEAL"
        grep -qa "the empty key" "$D/dump.rdb" && not_ok "$mode: no plaintext in the dump" || ok "$mode: no plaintext in the dump"
    else
        redis-check-rdb "$D/dump.rdb" >"$WORK/check.out" 2>&1 && ok "$mode: redis-check-rdb accepts the dump" \
            || { not_ok "$mode: redis-check-rdb accepts the dump"; tail -5 "$WORK/check.out" >&2; }
    fi
    expect_eq "$mode: LASTSAVE is now" "$(( $(date +%s) - $(redis-cli -p "$P" lastsave) < 5 ))" "1"
    redis-cli -p "$P" shutdown nosave >/dev/null 2>&1; wait "$spid" 2>/dev/null
    slots_free "$mode"
    serve "$mode-2" --port "$P" --dir "$D" "$@" || { not_ok "$mode: restart"; sed 's/^/  | /' "$WORK/$mode-2.log" >&2; return; }
    grep -q "DB loaded from disk" "$WORK/$mode-2.log" && ok "$mode: the dump is loaded at start" || not_ok "$mode: the dump is loaded at start"
    $PY dump "$P" >"$WORK/$mode-fill.dump"
    cmp -s "$WORK/fill.dump" "$WORK/$mode-fill.dump" && ok "$mode: every type and TTL back as redis-server holds them" \
        || { not_ok "$mode: every type and TTL back as redis-server holds them"; diff "$WORK/fill.dump" "$WORK/$mode-fill.dump" | cut -c1-160 | head -5 >&2; }

    # BGSAVE amid writes: one connection, writes, BGSAVE, more writes, FLUSHALL
    $PY send "$P" "$WORK/bulk.resp"
    $PY send "$P" "$WORK/run.resp"
    local running; running=$(info "$P" persistence rdb_bgsave_in_progress)
    if [ "$mode" != native ]; then
        expect_eq "$mode: the writes after BGSAVE ran while the child read the data" "$running" "1"
    else
        echo "# $mode: the child was still writing after the writes: $running"   # a fork(2): fast
    fi
    expect_eq "$mode: FLUSHALL ran" "$(redis-cli -p "$P" dbsize)" "0"
    bgsave_wait "$P"
    expect_eq "$mode: BGSAVE succeeded" "$(info "$P" persistence rdb_last_bgsave_status)" "ok"
    local fork cow
    fork=$(info "$P" stats latest_fork_usec); cow=$(info "$P" persistence rdb_last_cow_size)
    [ "${fork:-0}" -gt 0 ] && ok "$mode: latest_fork_usec $fork" || not_ok "$mode: latest_fork_usec $fork"
    echo "# $mode: rdb_last_cow_size $cow bytes"
    redis-cli -p "$P" shutdown nosave >/dev/null 2>&1; wait "$spid" 2>/dev/null
    slots_free "$mode"
    serve "$mode-3" --port "$P" --dir "$D" "$@" || { not_ok "$mode: restart on the BGSAVE"; sed 's/^/  | /' "$WORK/$mode-3.log" >&2; return; }
    $PY dump "$P" >"$WORK/$mode-snap.dump"
    cmp -s "$WORK/ref.dump" "$WORK/$mode-snap.dump" && ok "$mode: the snapshot is the data set of the moment BGSAVE ran" \
        || { not_ok "$mode: the snapshot is the data set of the moment BGSAVE ran"; diff "$WORK/ref.dump" "$WORK/$mode-snap.dump" | cut -c1-160 | head -5 >&2; }

    # the child SIGKILLed mid-snapshot (a native child, a plain fork(2),
    # writes this data set before it can be caught: enclave only)
    local sum; sum=$(md5sum <"$D/dump.rdb")
    [ "$mode" != native ] && {
    descendants "$spid" >"$WORK/before.pids"
    redis-cli -p "$P" bgsave >/dev/null
    local child
    # --fork ahead: the child is the one already waiting under the server
    if [ "$mode" = ahead ]; then child=$(for c in $(pgrep -P "$spid"); do pgrep -P "$c"; done | head -1)
    else child=$(new_child); fi
    if [ -n "$child" ]; then kill -KILL "$child"; fi
    bgsave_wait "$P"
    expect_eq "$mode: child killed: INFO says the save failed" "$(info "$P" persistence rdb_last_bgsave_status)" "err"
    expect_eq "$mode: child killed: the last dump intact" "$(md5sum <"$D/dump.rdb")" "$sum"
    expect_eq "$mode: child killed: no temp file left" "$(ls "$D" | grep -c '^temp-')" "0"
    expect_eq "$mode: child killed: the server serves" "$(redis-cli -p "$P" set after-kill 1)" "OK"
    if [ "$mode" != native ]; then
        "$TEEMATE" enclave inspect "kv-$ename" --json >"$WORK/inspect.json" 2>&1
        # (--fork ahead: the next child is already attached in it)
        expect_eq "$mode: child killed: its slot is back" "$(jq -r .slots.in_use "$WORK/inspect.json")" \
            "$([ "$mode" = ahead ] && echo 2 || echo 1)"
    fi
    expect_eq "$mode: a later BGSAVE works" "$(redis-cli -p "$P" bgsave)" "Background saving started"
    bgsave_wait "$P"
    expect_eq "$mode: ... and succeeds" "$(info "$P" persistence rdb_last_bgsave_status)" "ok"
    }

    # the server SIGKILLed mid-snapshot: the dump is the old one or a whole new one
    $PY send "$P" "$WORK/bulk.resp"
    sum=$(md5sum <"$D/dump.rdb")
    redis-cli -p "$P" bgsave >/dev/null
    kill -KILL "$spid"; wait "$spid" 2>/dev/null
    # its container (and with it the child) goes asynchronously: wait for the port
    for _ in $(seq 100); do redis-cli -p "$P" ping >/dev/null 2>&1 || break; sleep 0.1; done
    for _ in $(seq 100); do ss -ltn "sport = :$P" | grep -q LISTEN || break; sleep 0.1; done
    slots_free "$mode"
    serve "$mode-4" --port "$P" --dir "$D" "$@" && ok "$mode: server killed mid-snapshot: a whole dump remains (it loads)" \
        || { not_ok "$mode: server killed mid-snapshot: a whole dump remains (it loads)"; sed 's/^/  | /' "$WORK/$mode-4.log" >&2; return; }
    # SHUTDOWN SAVE while a BGSAVE runs: its child goes, the data set as it is now is saved
    rm -f "$D"/temp-*.rdb   # the killed server's child's, left as Redis leaves them
    $PY send "$P" "$WORK/bulk.resp"
    redis-cli -p "$P" bgsave >/dev/null
    redis-cli -p "$P" set marker after-bgsave >/dev/null
    local keys; keys=$(redis-cli -p "$P" dbsize)
    redis-cli -p "$P" shutdown save >/dev/null 2>&1; wait "$spid" 2>/dev/null
    expect_eq "$mode: SHUTDOWN SAVE amid a BGSAVE: no temp file left" "$(ls "$D" | grep -c '^temp-')" "0"
    slots_free "$mode"
    serve "$mode-4b" --port "$P" --dir "$D" "$@" || { not_ok "$mode: restart after SHUTDOWN SAVE"; return; }
    expect_eq "$mode: SHUTDOWN SAVE amid a BGSAVE saved the data set as it was" \
        "$(redis-cli -p "$P" get marker) $(redis-cli -p "$P" dbsize)" "after-bgsave $keys"
    redis-cli -p "$P" shutdown nosave >/dev/null 2>&1; wait "$spid" 2>/dev/null

    # SIGTERM saves when save points are set; a tampered or cut dump is refused
    slots_free "$mode"
    serve "$mode-5" --port "$P" --dir "$D" --save "3600 1" "$@" || { not_ok "$mode: restart with save points"; return; }
    redis-cli -p "$P" flushall >/dev/null
    redis-cli -p "$P" set only-key 1 >/dev/null
    kill -TERM "$spid"; wait "$spid"
    expect_eq "$mode: SIGTERM exits 0" "$?" "0"
    slots_free "$mode"
    serve "$mode-6" --port "$P" --dir "$D" "$@" || { not_ok "$mode: restart after SIGTERM"; return; }
    expect_eq "$mode: SIGTERM saved first" "$(redis-cli -p "$P" keys '*')" "only-key"
    redis-cli -p "$P" shutdown nosave >/dev/null 2>&1; wait "$spid" 2>/dev/null
    local size; size=$(stat -c %s "$D/dump.rdb")
    cp "$D/dump.rdb" "$WORK/good.rdb"
    python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$D/dump.rdb" $((size - 20))   # surely changed
    slots_free "$mode"
    if serve "$mode-7" --port "$P" --dir "$D" "$@"; then not_ok "$mode: a tampered dump is refused"
    else
        wait "$spid"; ok "$mode: a tampered dump is refused (exit $?)"
        grep -E "Fatal error loading the DB" "$WORK/$mode-7.log" | sed 's/^.*# /# /'
    fi
    head -c $((size / 2)) "$WORK/good.rdb" >"$D/dump.rdb"
    slots_free "$mode"
    if serve "$mode-8" --port "$P" --dir "$D" "$@"; then not_ok "$mode: a cut dump is refused"
    else wait "$spid"; ok "$mode: a cut dump is refused"; fi
    rm -f "$D/dump.rdb"
}

run native --no-enclave

# A full disk (a small tmpfs; root): the save fails, writes and PING get
# -MISCONF until a save succeeds, reads go on, no temp file is left.
if [ "$(id -u)" -ne 0 ]; then skip "full disk" "needs root (mount a tmpfs)"
else
    F=$WORK/full; mkdir -p "$F"
    if mount -t tmpfs -o size=256k tmpfs "$F" 2>"$WORK/mount.err"; then
        P=$(free_port)
        if serve full --port "$P" --dir "$F" --save "3600 1" --no-enclave; then
            for i in $(seq 600); do printf 'SET k%d %01000d\r\n' "$i" "$i"; done | redis-cli -p "$P" --pipe >/dev/null
            redis-cli -p "$P" bgsave >/dev/null
            bgsave_wait "$P"
            expect_eq "full disk: the save failed" "$(info "$P" persistence rdb_last_bgsave_status)" "err"
            expect_eq "full disk: no temp file left" "$(ls "$F" | grep -c '^temp-')" "0"
            out=$(redis-cli -p "$P" set x 1)
            case $out in MISCONF*) ok "full disk: writes get -MISCONF" ;; *) not_ok "full disk: writes get -MISCONF (got '$out')" ;; esac
            case $(redis-cli -p "$P" ping) in MISCONF*) ok "full disk: PING gets -MISCONF" ;; *) not_ok "full disk: PING gets -MISCONF" ;; esac
            expect_eq "full disk: reads go on" "$(redis-cli -p "$P" get k7 | cut -c1-4)" "0000"
            expect_eq "full disk: SAVE fails" "$(redis-cli -p "$P" save)" "ERR"
            mount -o remount,size=16m "$F"
            redis-cli -p "$P" bgsave >/dev/null
            bgsave_wait "$P"
            expect_eq "room again: the save succeeds" "$(info "$P" persistence rdb_last_bgsave_status)" "ok"
            expect_eq "room again: writes accepted" "$(redis-cli -p "$P" set x 1)" "OK"
            redis-cli -p "$P" shutdown nosave >/dev/null 2>&1; wait "$spid" 2>/dev/null
        else
            not_ok "full disk: server starts"; sed 's/^/  | /' "$WORK/full.log" >&2
        fi
        umount "$F"
    else
        skip "full disk" "cannot mount a tmpfs: $(cat "$WORK/mount.err")"
    fi
fi
image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ "$(id -u)" -ne 0 ]; then skip "enclave persistence" "needs root (a TeeMate container)"
elif [ ! -r "$image" ]; then skip "enclave persistence" "$image is not built"
else
    start_daemon
    ename=persist; run enclave --name "$ename" --socket "$TEEMATE_SOCKET"
    # the same with BGSAVE's child made the conventional way (kvh_strawman.h)
    ename=persist-straw; run strawman --name "$ename" --socket "$TEEMATE_SOCKET" --fork strawman
    # and with the child forked and attached before BGSAVE
    ename=persist-ahead; run ahead --name "$ename" --socket "$TEEMATE_SOCKET" --fork ahead
    # teemated gone: BGSAVE's child cannot attach; the save fails, the server
    # answers every command (the failed child never serves in its place)
    P=$(free_port); mkdir -p "$WORK/nod"
    if serve nodaemon --port "$P" --dir "$WORK/nod" --name persist-nod --socket "$TEEMATE_SOCKET"; then
        redis-cli -p "$P" set k v >/dev/null
        stop_daemon
        expect_eq "teemated gone: BGSAVE starts" "$(redis-cli -p "$P" bgsave)" "Background saving started"
        out=""; for i in $(seq 20); do out="$out$(redis-cli -p "$P" incr n) "; done
        expect_eq "teemated gone: every command answered" "$out" "$(seq -s ' ' 20) "
        bgsave_wait "$P"
        expect_eq "teemated gone: the save failed" "$(info "$P" persistence rdb_last_bgsave_status)" "err"
        redis-cli -p "$P" shutdown nosave >/dev/null 2>&1; wait "$spid" 2>/dev/null
    else
        not_ok "teemated gone: server starts"; sed 's/^/  | /' "$WORK/nodaemon.log" >&2
    fi
fi
# Servers SIGKILLed above left their containers; each next server of the
# same database removed them, and the last ones stopped cleanly.
[ "$(id -u)" -eq 0 ] && expect_eq "no container of these servers left" \
    "$("$TEEMATE" list -q | grep -c "^kv-persist-")" 0
finish
