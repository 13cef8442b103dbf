#!/bin/bash
# Sets and sorted sets against the real thing: the same script of commands
# (tests/cli/kv/sets_vs_redis.txt: edge cases, errors, inf/-inf, exclusive
# and lex ranges, LIMIT offsets, NaN results, binary members; random replies
# compared sorted or by length only) plus a generated part (big sets and
# zsets) replayed against Debian's redis-server 7 (its own port, no
# persistence, stopped at the end) and against our store natively
# (test_kv_zset_replay --native), replies diffed byte for byte.
. "$(dirname "$0")/lib.sh"
replay=$BUILD/tests/test_kv_zset_replay
script=$(dirname "$0")/kv/sets_vs_redis.txt
if ! command -v redis-server >/dev/null; then skip "sets vs redis" "redis-server is not installed"; exit 0; fi
if [ ! -x "$replay" ]; then skip "sets vs redis" "$replay is not built"; exit 0; fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
    >"$WORK/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait $rpid 2>/dev/null' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# generated: big sets and zsets (past Redis's listpack/intset limits), then
# ranges, ranks and algebra over them
{
    cat "$script"
    for i in $(seq 0 299); do echo "SADD big m$i"; echo "ZADD bigz $((i * 7 % 300)).5 m$i"; done
    for i in $(seq 0 3 299); do echo "SADD big3 m$i"; done
    echo "SCARD big"; echo "!sort SMEMBERS big"; echo "!sort SINTER big big3"
    echo "!sort SDIFF big big3"; echo "SINTERCARD 2 big big3 LIMIT 50"
    echo "SDIFFSTORE bd big big3"; echo "SCARD bd"
    echo "ZCARD bigz"; echo "ZRANGE bigz 0 -1 WITHSCORES"; echo "ZREVRANGE bigz 10 30"
    for i in 0 1 37 150 299; do echo "ZRANK bigz m$i"; echo "ZREVRANK bigz m$i"; done
    echo "ZRANGEBYSCORE bigz (100 200.5 LIMIT 5 20 WITHSCORES"; echo "ZCOUNT bigz (10 250"
    echo "ZUNIONSTORE bu 2 bigz big WEIGHTS 2 0.5"; echo "ZRANGE bu 100 120 WITHSCORES"
    echo "ZINTERSTORE bi 2 bigz big3 AGGREGATE MIN"; echo "ZRANGE bi 0 -1 WITHSCORES"
    echo "ZREMRANGEBYRANK bigz 10 19"; echo "ZREMRANGEBYSCORE bigz 100 (150"
    echo "ZRANGE bigz 0 -1 WITHSCORES"; echo "ZPOPMAX bigz 5"; echo "ZPOPMIN bigz 5"
    echo "!len SPOP big 290"; echo "SCARD big"
} >"$WORK/script.txt"
ncmd=$(grep -cv '^#' "$WORK/script.txt")

"$replay" --tcp "$port" "$WORK/script.txt" >"$WORK/redis.out" 2>"$WORK/redis.err"
rc_redis=$?
"$replay" --native "$WORK/script.txt" >"$WORK/ours.out" 2>"$WORK/ours.err"
rc_ours=$?
if [ $rc_redis -ne 0 ]; then
    not_ok "sets vs redis: redis-server answered the script"; sed 's/^/  | /' "$WORK/redis.err" >&2
elif [ $rc_ours -ne 0 ]; then
    not_ok "sets vs redis: our store answered the script (rc $rc_ours)"
    sed 's/^/  | /' "$WORK/ours.err" | head -20 >&2
elif diff -u "$WORK/redis.out" "$WORK/ours.out" >"$WORK/diff"; then
    ok "sets vs redis: $ncmd commands, the same replies"
else
    not_ok "sets vs redis: replies differ"; head -80 "$WORK/diff" | sed 's/^/  | /' >&2
fi
exit $((failures > 0))
