# teemate kv serve --fork strawman (issue 13 point 5), driven by redis-cli: a
# store of every type, BGSAVE: the child builds an enclave of its own, the
# data crosses the attested channel (the log shows where the time went), the
# child writes the sealed dump and is reaped; the server serves on, without
# copy-on-write once the child has its copy, and its later writes are not in
# the dump; a server whose key is not teemated's refuses to start; a server started on the same dir (the
# default attach fork) loads the dump back to the same answers. Root only
# (the server is a TeeMate container); state under $WORK, free ports.
. "$(dirname "$0")/lib.sh"
if ! command -v redis-cli >/dev/null; then skip "test_kv_strawman" "no redis-cli (redis-tools)"; exit 0; fi
. "$(dirname "$0")/kv/kv_lib.sh"
image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ "$(id -u)" -ne 0 ]; then skip "test_kv_strawman" "needs root (a TeeMate container)"; exit 0; fi
if [ ! -r "$image" ]; then skip "test_kv_strawman" "$image is not built"; exit 0; fi
stop() { kill -TERM "$1"; wait "$1"; }
# descendants PID: how many processes run under PID (the server's container)
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 } END {
        n = 0; for (p in parent) { q = parent[p]; while (q && q != root && q in parent) q = parent[q]
            if (q == root) n++ } print n }'
}

expect_fail "--fork takes attach, ahead or strawman" "--fork copy: attach, ahead or strawman" \
    "$TEEMATE" kv serve --fork copy
expect_fail "--fork strawman needs the enclave" "not with --no-enclave" \
    "$TEEMATE" kv serve --fork strawman --no-enclave

start_daemon
mkdir -p "$WORK/data"
# a server whose development key is not teemated's: its children would be
# refused by the channel, so it refuses to start
P=$(free_port)
TEEMATE_STATE_DIR=$WORK/other-state timeout 60 "$TEEMATE" kv serve --port "$P" --name straw \
    --socket "$TEEMATE_SOCKET" --maxmemory 64mb --dir "$WORK/data" --fork strawman >"$WORK/other.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && grep -q "signed by another key" "$WORK/other.log" \
    && ok "another signer: refused at start" \
    || { not_ok "another signer: refused at start"; echo "  rc=$rc" >&2; tail -3 "$WORK/other.log" | sed 's/^/  | /' >&2; }
P=$(free_port)
# the reads compared: none depends on a dict's order
answers() {
    printf '%s\n' "DBSIZE" "GET key:1" "GET key:1999" "STRLEN big" "LRANGE list 0 -1" "HLEN hash" \
        "HGET hash f7" "SCARD set" "ZRANGE zset 0 -1 WITHSCORES" "EXPIRETIME ttl" "GET later" \
        "SELECT 3" "GET other" "DBSIZE" | redis-cli -p "$1"
}
if serve straw --port "$P" --name straw --socket "$TEEMATE_SOCKET" --maxmemory 64mb \
        --dir "$WORK/data" --save "" --fork strawman; then
    R=(redis-cli -p "$P")
    for i in $(seq 2000); do printf 'SET key:%d value-%d-of-the-strawman-store\r\n' "$i" "$i"; done >"$WORK/fill.txt"
    for i in $(seq 200); do printf 'RPUSH list e%d\r\nHSET hash f%d v%d\r\nSADD set m%d\r\nZADD zset %d z%d\r\n' \
        "$i" "$i" "$i" "$i" "$((i % 17))" "$i"; done >>"$WORK/fill.txt"
    printf 'SET ttl t\r\nEXPIREAT ttl 4102444800\r\nSELECT 3\r\nSET other in-db-3\r\n' >>"$WORK/fill.txt"
    expect_eq "filled" "$("${R[@]}" --pipe <"$WORK/fill.txt" | tail -1)" "errors: 0, replies: 2804"
    head -c 200000 /dev/zero | tr '\0' x | "${R[@]}" -x set big >/dev/null
    answers "$P" >"$WORK/before.txt"
    procs=$(descendants "$spid")
    expect_eq "BGSAVE starts" "$("${R[@]}" bgsave)" "Background saving started"
    "${R[@]}" set later after-the-fork >/dev/null
    "${R[@]}" append big y >/dev/null   # an attach fork's snapshot would copy the value
    done_=
    for _ in $(seq 600); do
        grep -qs "Background saving terminated" "$WORK/straw.log" && { done_=1; break; }; sleep 0.05
    done
    [ -n "$done_" ] && grep -q "Background saving terminated with success" "$WORK/straw.log" \
        && ok "the strawman child wrote the dump" \
        || { not_ok "the strawman child wrote the dump"; tail -8 "$WORK/straw.log" | sed 's/^/  | /' >&2; }
    grep -q "Strawman fork: the child's enclave holds the data after" "$WORK/straw.log" \
        && ok "the log says where the fork's time went" || not_ok "the log says where the fork's time went"
    grep -o "Strawman fork: .*" "$WORK/straw.log" | head -1 | sed 's/^/  /' >&2
    expect_eq "the dump is sealed" "$(head -c 8 "$WORK/data/dump.rdb" 2>/dev/null)" "TMKVSEAL"
    expect_eq "no temp file left" "$(ls "$WORK/data" | grep -c temp-)" "0"
    expect_eq "the server serves on, its write its own" "$("${R[@]}" get later)" "after-the-fork"
    expect_eq "INFO: last bgsave ok" "$("${R[@]}" info persistence | tr -d '\r' | sed -n 's/^rdb_last_bgsave_status://p')" "ok"
    # the parent's snapshot is released once the child has its copy: no copy-on-write after
    expect_eq "INFO: no copy-on-write after the copy" "$("${R[@]}" info persistence | tr -d '\r' | sed -n 's/^rdb_last_cow_size://p')" "0"
    expect_eq "the child reaped: no process more under the server" "$(descendants "$spid")" "$procs"
    stop "$spid"; expect_eq "SIGTERM: exit 0" "$?" "0"
    "$TEEMATE" enclave inspect kv-straw --json >"$WORK/inspect.json" 2>&1
    expect_eq "slot given back" "$(jq -r .slots.in_use "$WORK/inspect.json")" "0"

    # the dump loads back (a server with the default attach fork)
    P2=$(free_port)
    if serve back --port "$P2" --name straw --socket "$TEEMATE_SOCKET" --maxmemory 64mb \
            --dir "$WORK/data" --save ""; then
        answers "$P2" >"$WORK/after.txt"
        if cmp -s "$WORK/before.txt" "$WORK/after.txt"; then ok "the dump loads back to the answers at the fork"
        else not_ok "the dump loads back to the answers at the fork"; diff "$WORK/before.txt" "$WORK/after.txt" | head -10 | sed 's/^/  | /' >&2; fi
        expect_eq "the write after the fork is not in it" "$(redis-cli -p "$P2" get later)" ""
        stop "$spid"
    else
        not_ok "a server loads the strawman's dump"; sed 's/^/  | /' "$WORK/back.log" >&2
    fi
else
    not_ok "--fork strawman server starts"; sed 's/^/  | /' "$WORK/straw.log" >&2
fi
finish
