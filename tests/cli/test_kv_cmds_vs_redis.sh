# Strings, keys, expiry, SCAN, connection, transactions, AUTH, server
# commands and error replies against the real thing: kv/cmds_vs_redis.py
# (~700 replies: SET's options, the INCR family's overflow and float errors,
# GETRANGE/SETRANGE edges, EXPIRE's NX/XX/GT/LT, TTL/PTTL after each expiry
# command, lazy expiry (DEBUG SET-ACTIVE-EXPIRE 0: DBSIZE keeps expired keys
# until each is touched), the active cycle emptying a db nobody touches,
# KEYS patterns, whole SCANs with MATCH/COUNT/TYPE, CLIENT SETNAME/GETNAME/
# ID/LIST/INFO/KILL (old form and filters), HELLO 2, MULTI/EXEC/DISCARD,
# WATCH aborting an EXEC when another client touched the key or it expired,
# maxmemory refusing denyoom and queued commands, CONFIG SET requirepass then
# NOAUTH/WRONGPASS/AUTH on new connections, WRONGTYPE, arity, unknown
# commands with their args text, SHUTDOWN) goes to Debian's redis-server 7
# and to `teemate kv serve`: --no-enclave, and as root in its shared
# enclave; so do the list/hash and set/zset scripts of the other two
# comparisons (which run them natively). The replies must be the same bytes; TIME, CLIENT ID/LIST, INFO,
# HELLO, RANDOMKEY, COMMAND COUNT/DOCS are compared by shape. Each server
# ends with SHUTDOWN and must exit 0.
. "$(dirname "$0")/lib.sh"
T=test_kv_cmds_vs_redis
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in redis-server redis-cli python3 jq; do
    if ! command -v $tool >/dev/null; then skip "$T" "no $tool"; exit 0; fi
done
. "$(dirname "$0")/kv/kv_lib.sh"
# types TAG PORT: the list/hash and set/zset scripts of the other
# comparisons (listhash_vs_redis.py, kv/sets_vs_redis.txt) against a server,
# so both our servers answer them as redis-server does, the enclave too
replay_bin=$BUILD/tests/test_kv_zset_replay
types() {
    python3 "$HERE/listhash_vs_redis.py" 127.0.0.1 "$2" >"$WORK/$1.listhash" 2>&1
    redis-cli -p "$2" flushall >/dev/null
    if [ -x "$replay_bin" ]; then
        "$replay_bin" --tcp "$2" "$HERE/kv/sets_vs_redis.txt" >"$WORK/$1.sets" 2>&1
    else
        echo "no $replay_bin" >"$WORK/$1.sets"
    fi
    redis-cli -p "$2" flushall >/dev/null
}
same_types() {
    local f
    for f in listhash sets; do
        if [ -s "$WORK/redis.$f" ] && cmp -s "$WORK/redis.$f" "$WORK/$1.$f"; then
            ok "$T: $1: the $f script ($(wc -l <"$WORK/redis.$f") replies) the same as Redis 7's"
        else
            not_ok "$T: $1: the $f script the same as Redis 7's"
            diff "$WORK/redis.$f" "$WORK/$1.$f" | head -20 | sed 's/^/  | /' >&2
        fi
    done
}
# replay TAG PORT PID: the script (ending with SHUTDOWN) against one server;
# its replies in $WORK/TAG.replies; the server must then exit 0.
replay() {
    local tag=$1 port=$2 pid=$3
    python3 "$HERE/kv/cmds_vs_redis.py" 127.0.0.1 "$port" --shutdown >"$WORK/$tag.replies" 2>"$WORK/$tag.py.err"
    local rc=$? n
    n=$(wc -l <"$WORK/$tag.replies")
    if [ $rc -eq 0 ] && [ "$n" -gt 650 ]; then ok "$T: the script runs against $tag ($n replies)"
    else not_ok "$T: the script runs against $tag"; tail -5 "$WORK/$tag.py.err" | sed 's/^/  | /' >&2; fi
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then not_ok "$T: $tag: SHUTDOWN ends the server"; return; fi
    wait "$pid"; expect_eq "$T: $tag: SHUTDOWN ends the server with 0" "$?" 0
}
same() {
    if cmp -s "$WORK/redis.replies" "$WORK/$1.replies"; then
        ok "$T: $1: every reply the same as Redis 7's"
    else
        not_ok "$T: $1: every reply the same as Redis 7's"
        diff "$WORK/redis.replies" "$WORK/$1.replies" | head -40 | sed 's/^/  | /' >&2
    fi
}

mkdir -p "$WORK/redis" "$WORK/kv"
rport=$(free_port)
# DEBUG SLEEP 0 needs the debug command on in Redis 7 (ours always answers it)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
    --enable-debug-command yes >"$WORK/redis.log" 2>&1 &
rpid=$!; pids+=($rpid)
if ! wait_ping "$rport"; then skip "$T" "redis-server did not start"; exit 0; fi
types redis "$rport"
replay redis "$rport" "$rpid"

kport=$(free_port)
"$TEEMATE" kv serve --no-enclave --save "" --port "$kport" --dir "$WORK/kv" 2>"$WORK/kv.err" &
kpid=$!; pids+=($kpid)
if wait_ping "$kport"; then
    types no-enclave "$kport"
    same_types no-enclave
    replay no-enclave "$kport" "$kpid"
    same no-enclave
else
    not_ok "$T: teemate kv serve --no-enclave starts"; sed 's/^/  | /' "$WORK/kv.err" >&2
fi

image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ "$(id -u)" -ne 0 ]; then skip "$T: enclave mode" "needs root (a TeeMate container)"
elif [ ! -r "$image" ]; then skip "$T: enclave mode" "$image is not built"
else
    start_daemon
    eport=$(free_port)
    "$TEEMATE" kv serve --save "" --dir "$WORK" --port "$eport" --name cmds --socket "$TEEMATE_SOCKET" \
        2>"$WORK/encl.err" &
    epid=$!; pids+=($epid)
    if wait_ping "$eport"; then
        types enclave "$eport"
        same_types enclave
        replay enclave "$eport" "$epid"
        same enclave
        n=$("$TEEMATE" enclave inspect kv-cmds --json 2>/dev/null | jq -r .slots.in_use)
        expect_eq "$T: enclave: the slot is back after SHUTDOWN" "$n" 0
    else
        not_ok "$T: the enclave server starts"; sed 's/^/  | /' "$WORK/encl.err" >&2
    fi
fi
finish
