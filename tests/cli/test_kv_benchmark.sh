# The unmodified redis-benchmark (Debian's redis-tools) against teemate kv
# serve: -q -n 2000 over the issue's tests, without and with -P 16, ends
# without an error and reports every test. --no-enclave always; the enclave
# too as root when kv.elf is built.
. "$(dirname "$0")/lib.sh"
if ! command -v redis-benchmark >/dev/null; then skip "test_kv_benchmark" "no redis-benchmark (redis-tools)"; exit 0; fi
. "$(dirname "$0")/kv/kv_lib.sh"
TESTS=set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset
NTESTS=14   # the 13, plus "LPUSH (needed to benchmark LRANGE)" that lrange_100 runs first
bench() {   # TAG PORT: both pipelines
    local tag=$1 port=$2
    for p in 1 16; do
        timeout 120 redis-benchmark -p "$port" -q -n 2000 -c 50 -P "$p" -t "$TESTS" >"$WORK/$tag-$p.out" 2>&1
        local rc=$? n
        n=$(tr '\r' '\n' <"$WORK/$tag-$p.out" | grep -c 'requests per second')
        if [ $rc -eq 0 ] && [ "$n" -eq "$NTESTS" ] && ! grep -qiE 'error|ERR ' "$WORK/$tag-$p.out"; then
            ok "$tag: redis-benchmark -P $p, $n tests"
        else
            not_ok "$tag: redis-benchmark -P $p (rc $rc, $n of $NTESTS tests)"
            tr '\r' '\n' <"$WORK/$tag-$p.out" | grep -v '^$' | tail -5 | sed 's/^/  | /' >&2
        fi
    done
}
P=$(free_port)
if serve native --port "$P" --no-enclave; then bench "--no-enclave" "$P"; kill -TERM "$spid"; wait "$spid"
else not_ok "--no-enclave server starts"; fi
image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ "$(id -u)" -ne 0 ]; then skip "enclave" "needs root (a TeeMate container)"
elif [ ! -r "$image" ]; then skip "enclave" "$image is not built"
else
    start_daemon
    P=$(free_port)
    if serve encl --port "$P" --name b1 --socket "$TEEMATE_SOCKET"; then bench "enclave" "$P"
        kill -TERM "$spid"; wait "$spid"
    else not_ok "enclave server starts"; sed 's/^/  | /' "$WORK/encl.log" >&2; fi
fi
finish
