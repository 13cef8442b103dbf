# Lists and hashes against the real thing: the same ~340 commands
# (listhash_vs_redis.py: every list and hash command, negative and
# out-of-range indexes, wrong types, wrong arity, empty results, big counts,
# elements longer than a list node, binary members, HINCRBYFLOAT's
# formatting) go to Debian's redis-server 7 and to `teemate kv serve
# --no-enclave`, each started here on 127.0.0.1 with a free port and stopped
# at the end; the replies must be the same bytes (HGETALL, HKEYS, HVALS and a
# whole HSCAN, whose order Redis leaves open, compared sorted).
. "$(dirname "$0")/lib.sh"
T=test_listhash_vs_redis
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in redis-server redis-cli python3; do
    if ! command -v $tool >/dev/null; then skip "$T" "no $tool"; exit 0; fi
done
. "$(dirname "$0")/kv/kv_lib.sh"

rport=$(free_port)
mkdir -p "$WORK/redis" "$WORK/kv"
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
    >"$WORK/redis.log" 2>&1 &
pids+=($!)
kport=$(free_port)
"$TEEMATE" kv serve --no-enclave --save "" --port "$kport" --dir "$WORK/kv" >"$WORK/kv.out" 2>"$WORK/kv.err" &
pids+=($!)
if ! wait_ping "$rport"; then skip "$T" "redis-server did not start"; exit 0; fi
if wait_ping "$kport"; then ok "$T: teemate kv serve --no-enclave answers PING"; else
    not_ok "$T: teemate kv serve --no-enclave answers PING"; sed 's/^/  | /' "$WORK/kv.err" >&2; finish; fi

python3 "$HERE/listhash_vs_redis.py" 127.0.0.1 "$rport" >"$WORK/redis.replies" 2>"$WORK/redis.py.err"
rrc=$?
python3 "$HERE/listhash_vs_redis.py" 127.0.0.1 "$kport" >"$WORK/kv.replies" 2>"$WORK/kv.py.err"
krc=$?
n=$(wc -l <"$WORK/redis.replies")
if [ $rrc -eq 0 ] && [ "$n" -gt 300 ]; then ok "$T: the script runs against redis-server ($n replies)"
else not_ok "$T: the script runs against redis-server"; cat "$WORK/redis.py.err" >&2; fi
if [ $krc -eq 0 ]; then ok "$T: the script runs against teemate kv serve"
else not_ok "$T: the script runs against teemate kv serve"; cat "$WORK/kv.py.err" >&2; fi
if cmp -s "$WORK/redis.replies" "$WORK/kv.replies"; then
    ok "$T: every reply the same bytes as Redis 7's"
else
    not_ok "$T: every reply the same bytes as Redis 7's"
    diff "$WORK/redis.replies" "$WORK/kv.replies" | head -40 | sed 's/^/  | /' >&2
fi
# the server is still whole after it all
expect_eq "$T: the server still serves" "$(redis-cli -h 127.0.0.1 -p "$kport" rpush after-all x)" 1
finish
