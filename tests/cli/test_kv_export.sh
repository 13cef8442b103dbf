# teemate kv import / export: a plain RDB written by Debian's redis-server
# sealed into a dump and unsealed back byte for byte; the sealed file shows
# no value; tampered, truncated and other signers' dumps refused with a
# clear error and nothing written; bad inputs and unwritable places refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kv/kv_lib.sh"
unset TEEMATE_KV_IMAGE
mnt=
rpid=
cleanup() {
    kv_cleanup
    [ -n "$rpid" ] && { kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; }
    [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
}
trap cleanup EXIT

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    skip "kv export/import" "redis-server and redis-cli (Debian's redis-server, redis-tools) are not installed"
    exit 0
fi
image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ ! -r "$image" ]; then skip "kv export/import" "$image is not built"; exit 0; fi

# The original: strings, a list, a hash, a set, a zset, 20000 populated keys
# and a 300 KB value (several sealed chunks), uncompressed so that the
# values are in the RDB's bytes as they are.
R=(redis-cli -s "$WORK/redis.sock")
redis-server --port 0 --unixsocket "$WORK/redis.sock" --dir "$WORK" --dbfilename orig.rdb \
    --save "" --appendonly no --rdbcompression no --enable-debug-command yes \
    --logfile "$WORK/redis.log" &
rpid=$!
for _ in $(seq 200); do [ "$("${R[@]}" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
"${R[@]}" set secret-key "topsecret-value-4711" >/dev/null
"${R[@]}" rpush alist first-element second-element >/dev/null
"${R[@]}" hset ahash field1 hashsecret-1 field2 hashsecret-2 >/dev/null
"${R[@]}" sadd aset setsecret-a setsecret-b >/dev/null
"${R[@]}" zadd azset 1 zsetsecret-one 2.5 zsetsecret-two >/dev/null
"${R[@]}" set withttl ttlsecret ex 100000 >/dev/null
"${R[@]}" debug populate 20000 popkey 64 >/dev/null
python3 -c 'import sys; sys.stdout.write("bigsecret-" + "".join(chr(65 + (i * 7919) % 26) for i in range(300000)))' \
    | "${R[@]}" -x set big >/dev/null
"${R[@]}" save >/dev/null
"${R[@]}" shutdown nosave >/dev/null 2>&1
wait "$rpid" 2>/dev/null; rpid=
orig=$WORK/orig.rdb
if [ ! -s "$orig" ] || ! grep -q topsecret-value-4711 "$orig"; then
    not_ok "redis-server wrote the original RDB"; exit 1
fi
ok "redis-server wrote the original RDB ($(stat -c %s "$orig") bytes)"

# Import: sealed, nothing in the clear.
db=$WORK/db; mkdir -p "$db"
expect_ok "kv import seals the RDB into DIR/dump.rdb" "$TEEMATE" kv import "$orig" --dir "$db"
sealed=$db/dump.rdb
[ "$(head -c 8 "$sealed")" = TMKVSEAL ] && ok "the dump is a sealed file (TMKVSEAL)" \
    || not_ok "the dump is a sealed file (TMKVSEAL)"
leaks=0
for v in topsecret-value-4711 first-element hashsecret-1 setsecret-a zsetsecret-one ttlsecret \
         bigsecret- popkey:1234 secret-key REDIS0010 redis-ver; do
    grep -qa -- "$v" "$sealed" && { leaks=$((leaks + 1)); echo "  '$v' is in the sealed file" >&2; }
done
expect_eq "the sealed file holds none of the keys and values" "$leaks" 0
expect_eq "the sealed file is private (0600)" "$(stat -c %a "$sealed")" 600
expect_eq "no temporary file left in DIR" "$(ls "$db")" dump.rdb

# Export: byte for byte the original, to a file and to stdout.
expect_ok "kv export unseals it" "$TEEMATE" kv export --dir "$db" -o "$WORK/back.rdb"
cmp -s "$orig" "$WORK/back.rdb" && ok "the export is byte-identical to redis-server's RDB" \
    || not_ok "the export is byte-identical to redis-server's RDB"
if command -v redis-check-rdb >/dev/null; then
    expect_ok "redis-check-rdb accepts the export" redis-check-rdb "$WORK/back.rdb"
fi
"$TEEMATE" kv export --dir "$db" -o - 2>"$WORK/err" | cmp -s - "$orig" \
    && ok "kv export -o - writes the same bytes to stdout" \
    || { not_ok "kv export -o - writes the same bytes to stdout"; cat "$WORK/err" >&2; }
expect_ok "kv export replaces an existing OUT" "$TEEMATE" kv export --dir "$db" -o "$WORK/back.rdb"
cmp -s "$orig" "$WORK/back.rdb" && ok "the replaced OUT is whole" || not_ok "the replaced OUT is whole"

expect_fail "kv export refuses to overwrite the dump it reads" "dump.rdb is the sealed dump itself" \
    "$TEEMATE" kv export --dir "$db" -o "$db/dump.rdb"
[ "$(head -c 8 "$sealed")" = TMKVSEAL ] && ok "the dump is still sealed" || not_ok "the dump is still sealed"

# Import again: refused without --force; with it, a fresh key (other bytes).
cp "$sealed" "$WORK/first.sealed"
expect_fail "kv import refuses to overwrite a dump" "dump.rdb exists \(--force" \
    "$TEEMATE" kv import "$orig" --dir "$db"
cmp -s "$sealed" "$WORK/first.sealed" && ok "the refused import left the dump as it was" \
    || not_ok "the refused import left the dump as it was"
expect_ok "kv import --force replaces it" "$TEEMATE" kv import "$orig" --dir "$db" --force
cmp -s "$sealed" "$WORK/first.sealed" && not_ok "each seal has a fresh key" || ok "each seal has a fresh key"
mkdir -p "$WORK/named"
expect_ok "kv import --dbfilename" "$TEEMATE" kv import "$orig" --dir "$WORK/named" --dbfilename snap.rdb
expect_ok "kv export --dbfilename" "$TEEMATE" kv export --dir "$WORK/named" --dbfilename snap.rdb -o "$WORK/named.rdb"
cmp -s "$orig" "$WORK/named.rdb" && ok "--dbfilename round trip" || not_ok "--dbfilename round trip"

# Altered dumps: refused, the reason said, no OUT, nothing left behind.
authfail="dump.rdb: sealed file does not authenticate \(tampered, truncated, or sealed by another signer\)"
refused_dump() {   # NAME: $WORK/t/dump.rdb prepared by the caller
    rm -f "$WORK/t.out"
    expect_fail "$1: export refused" "$authfail" "$TEEMATE" kv export --dir "$WORK/t" -o "$WORK/t.out"
    ls "$WORK"/t.out* >/dev/null 2>&1 && not_ok "$1: no OUT written" || ok "$1: no OUT written"
    "$TEEMATE" kv export --dir "$WORK/t" -o - >"$WORK/t.stdout" 2>/dev/null
    [ -s "$WORK/t.stdout" ] && not_ok "$1: nothing on stdout" || ok "$1: nothing on stdout"
}
size=$(stat -c %s "$sealed")
mkdir -p "$WORK/t"
for at in 20 100 $((size / 2)) $((size - 5)); do
    cp "$sealed" "$WORK/t/dump.rdb"
    printf '\x55' | dd of="$WORK/t/dump.rdb" bs=1 seek="$at" conv=notrunc status=none
    cmp -s "$sealed" "$WORK/t/dump.rdb" || refused_dump "byte $at changed"
done
head -c $((size - 100)) "$sealed" >"$WORK/t/dump.rdb"; refused_dump "truncated by 100 bytes"
head -c $((72 + 65536 + 24)) "$sealed" >"$WORK/t/dump.rdb"; refused_dump "cut after the first chunk"
{ cat "$sealed"; head -c 100 "$sealed"; } >"$WORK/t/dump.rdb"; refused_dump "bytes after the final chunk"

# Another signer on the same (simulated) machine: the same CPU key (sim
# root key), another development key.
other=$WORK/other-state; mkdir -p "$other"; chmod 700 "$other"
cp "$TEEMATE_STATE_DIR/sim-root.key" "$other/" && chmod 600 "$other/sim-root.key"
cp "$sealed" "$WORK/t/dump.rdb"
rm -f "$WORK/t.out"
TEEMATE_STATE_DIR=$other expect_fail "a dump sealed by another signer is refused" "$authfail" \
    "$TEEMATE" kv export --dir "$WORK/t" -o "$WORK/t.out"
[ -e "$WORK/t.out" ] && not_ok "another signer: no OUT" || ok "another signer: no OUT"
# The same signer, another image (an upgrade: another MRENCLAVE) reads it.
python3 - "$image" "$WORK/kv-upgraded.elf" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
old = b"one inline command"
assert data.count(old) == 1, "marker string not found once"
open(sys.argv[2], "wb").write(data.replace(old, b"One inline command"))
PY
if [ "$("$TEEMATE" measure "$image" 2>/dev/null)" != "$("$TEEMATE" measure "$WORK/kv-upgraded.elf" 2>/dev/null)" ]; then
    TEEMATE_KV_IMAGE=$WORK/kv-upgraded.elf expect_ok "another image of the same signer unseals it (MRSIGNER)" \
        "$TEEMATE" kv export --dir "$db" -o "$WORK/upgraded.rdb"
    cmp -s "$orig" "$WORK/upgraded.rdb" && ok "the upgraded image's export is identical" \
        || not_ok "the upgraded image's export is identical"
else
    not_ok "the altered image measures differently"
fi

# The server (teemated's kv-NAME, signed by the same development key) loads
# the imported dump, and its own SAVE exports to what redis-server reads.
if [ "$(id -u)" -ne 0 ]; then
    skip "kv serve loads an imported dump" "needs root (a TeeMate container)"
elif ! "$TEEMATE" kv serve --help | grep -q -- --dbfilename; then
    skip "kv serve loads an imported dump" "this build's kv serve does not load dumps"
else
    start_daemon
    port=$(free_port)
    if serve srv --dir "$db" --save "" --port "$port" --name "export$$" --socket "$TEEMATE_SOCKET" \
        && wait_ping "$port" "$spid"; then
        K=(redis-cli -h 127.0.0.1 -p "$port")
        expect_eq "kv serve loads the imported dump: a value" "$("${K[@]}" get secret-key)" topsecret-value-4711
        expect_eq "kv serve loads the imported dump: every key" "$("${K[@]}" dbsize)" 20007
        expect_eq "kv serve loads the imported dump: the big value" \
            "$("${K[@]}" strlen big)" 300010
        "${K[@]}" set added-after-import "server-side-value" >/dev/null
        expect_eq "the server's SAVE" "$("${K[@]}" save)" OK
        "${K[@]}" shutdown nosave >/dev/null 2>&1
        wait "$spid" 2>/dev/null
        grep -qa server-side-value "$db/dump.rdb" && not_ok "the server's dump is sealed" \
            || ok "the server's dump is sealed"
        expect_ok "kv export of the server's dump" "$TEEMATE" kv export --dir "$db" -o "$WORK/srv.rdb"
        if command -v redis-check-rdb >/dev/null; then
            expect_ok "redis-check-rdb accepts the server's dump" redis-check-rdb "$WORK/srv.rdb"
        fi
        mkdir -p "$WORK/r2"; cp "$WORK/srv.rdb" "$WORK/r2/dump.rdb"
        redis-server --port 0 --unixsocket "$WORK/r2.sock" --dir "$WORK/r2" --save "" \
            --logfile "$WORK/r2.log" &
        rpid=$!
        for _ in $(seq 200); do [ "$(redis-cli -s "$WORK/r2.sock" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done
        expect_eq "redis-server loads the exported dump: the new key" \
            "$(redis-cli -s "$WORK/r2.sock" get added-after-import)" server-side-value
        expect_eq "redis-server loads the exported dump: every key" "$(redis-cli -s "$WORK/r2.sock" dbsize)" 20008
        redis-cli -s "$WORK/r2.sock" shutdown nosave >/dev/null 2>&1
        wait "$rpid" 2>/dev/null; rpid=
    else
        not_ok "kv serve starts on the imported dump"; sed 's/^/  | /' "$WORK/srv.log" >&2
    fi
    stop_daemon
fi

# Plain files where a dump belongs, and bad RDBs to import.
mkdir -p "$WORK/p"; cp "$orig" "$WORK/p/dump.rdb"
expect_fail "export of a plain RDB says so" "dump.rdb is a plain RDB file, not a sealed dump" \
    "$TEEMATE" kv export --dir "$WORK/p" -o "$WORK/p.out"
head -c 5000 /dev/urandom >"$WORK/garbage"
fresh=$WORK/fresh; mkdir -p "$fresh"
expect_fail "import refuses garbage" "garbage: not an RDB file \(no REDIS magic\)" \
    "$TEEMATE" kv import "$WORK/garbage" --dir "$fresh"
head -c $(($(stat -c %s "$orig") - 3)) "$orig" >"$WORK/short.rdb"
expect_fail "import refuses a truncated RDB" "short.rdb: (RDB checksum mismatch|truncated RDB)" \
    "$TEEMATE" kv import "$WORK/short.rdb" --dir "$fresh"
head -c 5 "$orig" >"$WORK/tiny.rdb"
expect_fail "import refuses a 5-byte RDB" "tiny.rdb: truncated RDB file" \
    "$TEEMATE" kv import "$WORK/tiny.rdb" --dir "$fresh"
cp "$orig" "$WORK/flip.rdb"
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(2000); b = f.read(1); f.seek(2000); f.write(bytes([b[0] ^ 0xff]))' "$WORK/flip.rdb"   # a byte that surely changes
expect_fail "import refuses a corrupted RDB" "flip.rdb: RDB checksum mismatch" \
    "$TEEMATE" kv import "$WORK/flip.rdb" --dir "$fresh"
{ printf 'REDIS0011'; tail -c +10 "$orig"; } >"$WORK/v11.rdb"
expect_fail "import refuses RDB version 11" "RDB version 11 is not supported" \
    "$TEEMATE" kv import "$WORK/v11.rdb" --dir "$fresh"
expect_eq "refused imports wrote nothing" "$(ls -A "$fresh")" ""
expect_fail "import of a missing file" "cannot open $WORK/missing.rdb: No such file" \
    "$TEEMATE" kv import "$WORK/missing.rdb" --dir "$fresh"

# Places that cannot be written.
expect_fail "import into a missing directory" "cannot create a file in $WORK/nodir: No such file" \
    "$TEEMATE" kv import "$orig" --dir "$WORK/nodir"
expect_fail "export into a missing directory" "cannot create a file in $WORK/nodir: No such file" \
    "$TEEMATE" kv export --dir "$db" -o "$WORK/nodir/out.rdb"
expect_fail "export from a missing dump" "cannot open $WORK/nodir/dump.rdb: No such file" \
    "$TEEMATE" kv export --dir "$WORK/nodir" -o "$WORK/x.rdb"
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$WORK/ro"; chmod 500 "$WORK/ro"
    expect_fail "import into a read-only directory" "cannot create a file in $WORK/ro: Permission denied" \
        "$TEEMATE" kv import "$orig" --dir "$WORK/ro"
else
    skip "import into a read-only directory" "root writes anywhere (a missing directory is checked above)"
fi
# A full disk: a 64 KiB tmpfs, an export of several hundred KB.
mkdir -p "$WORK/small"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=64k tmpfs "$WORK/small" 2>/dev/null; then
    mnt=$WORK/small
    expect_fail "export to a full disk" "cannot write $WORK/small/out.rdb: No space left on device" \
        "$TEEMATE" kv export --dir "$db" -o "$WORK/small/out.rdb"
    expect_eq "the full disk holds no partial file" "$(ls -A "$WORK/small")" ""
    umount "$mnt"; mnt=
else
    skip "export to a full disk" "cannot mount a small tmpfs here"
fi

# Usage.
expect_ok "kv export --help" "$TEEMATE" kv export --help
grep -q "Usage: teemate kv export --dir DIR" "$WORK/out" && ok "export --help shows the usage" \
    || not_ok "export --help shows the usage"
expect_ok "kv import --help" "$TEEMATE" kv import --help
grep -q "Usage: teemate kv import FILE --dir DIR" "$WORK/out" && ok "import --help shows the usage" \
    || not_ok "import --help shows the usage"
"$TEEMATE" kv export --dir "$db" 2>"$WORK/err"; expect_eq "export without -o: usage error (2)" "$?" 2
"$TEEMATE" kv import --dir "$db" 2>"$WORK/err"; expect_eq "import without FILE: usage error (2)" "$?" 2
"$TEEMATE" kv import "$orig" 2>"$WORK/err"; expect_eq "import without --dir: usage error (2)" "$?" 2
"$TEEMATE" kv export --dir "$db" --dbfilename ../x -o "$WORK/x" 2>"$WORK/err"
expect_eq "--dbfilename with a slash: usage error (2)" "$?" 2
exit $((failures > 0))
