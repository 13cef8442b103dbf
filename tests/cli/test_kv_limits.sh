# teemate kv serve at its limits, against Debian's redis-server 7 where Redis
# has the same limit: hostile RESP (kv/proto_vs_redis.py: huge, negative and
# malformed lengths, too big inline/count strings, unbalanced quotes, the
# unauthenticated limits; every reply and close byte for byte as Redis's),
# 10 000 connections opened and dropped (kv/crowd.py), a client that never
# reads its replies closed at the output buffer limit while another is
# served, maxclients (the extra connections refused), maxmemory reached,
# values near the enclave slot's size (refused, the store goes on) (-OOM, reads and DEL still work). Counted before
# and after: the server's fds (/proc/PID/fd), connected_clients, used_memory,
# and in the enclave (as root) the slot lease and the pages of the server's
# attachment. --no-enclave needs no root.
. "$(dirname "$0")/lib.sh"
T=test_kv_limits
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in redis-server redis-cli python3 jq; do
    if ! command -v $tool >/dev/null; then skip "$T" "no $tool"; exit 0; fi
done
. "$(dirname "$0")/kv/kv_lib.sh"
info() { redis-cli -p "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }
# counts PORT PID [ENCLAVE]: "fds clients used_memory [lease pages]" of the
# process serving (in the enclave: the container's init, the server's child)
counts() {
    local pid=$2 fds
    [ -n "${3:-}" ] && pid=$(cat /proc/"$2"/task/*/children | awk '{print $1}')
    # a connection the test just closed may still be open on the server's
    # side for a loop iteration: the count, once it holds for 100 ms (2 s at most)
    local prev=-1
    for _ in $(seq 20); do
        fds=$(ls /proc/"$pid"/fd | wc -l)
        [ "$fds" = "$prev" ] && break
        prev=$fds; sleep 0.1
    done
    echo -n "fds=$fds clients=$(info "$1" clients connected_clients) used=$(info "$1" memory used_memory)"
    [ -n "${3:-}" ] && "$TEEMATE" enclave inspect "$3" --json | jq -j '" slots=\(.slots.in_use) tcs=\(.tcs.leased) pages=\(.attached[0].epc_pages)"'
    echo
}
# settle PORT N: connected_clients back to N (the asking one counts; bounded wait)
settle() { for _ in $(seq 100); do [ "$(info "$1" clients connected_clients)" = "$2" ] && return; sleep 0.05; done; }

# --- the reference: redis-server with the output limit ours has (normal
# clients have none by default in Redis 7)
rport=$(free_port)
mkdir -p "$WORK/redis"
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
    --client-output-buffer-limit "normal 256mb 0 0" >"$WORK/redis.log" 2>&1 &
rpid=$!; pids+=($rpid)
if ! wait_ping "$rport" "$rpid"; then skip "$T" "redis-server did not start"; exit 0; fi
python3 "$HERE/kv/proto_vs_redis.py" 127.0.0.1 "$rport" >"$WORK/proto.redis"
python3 "$HERE/kv/limits.py" obuf "$rport" >"$WORK/obuf.redis"
python3 "$HERE/kv/limits.py" oom "$rport" 4mb 0 >"$WORK/oom.redis"
kill "$rpid"; wait "$rpid" 2>/dev/null
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis" \
    --maxclients 3 >"$WORK/redis3.log" 2>&1 &
rpid=$!; pids+=($rpid)
wait_ping "$rport" "$rpid" && python3 "$HERE/kv/limits.py" maxclients "$rport" 3 >"$WORK/maxclients.redis"
kill "$rpid"; wait "$rpid" 2>/dev/null
echo "# the reference from redis-server: ${SECONDS}s"

# suite TAG PORT PID [ENCLAVE] [MAXMEMORY]
suite() {
    local tag=$1 port=$2 pid=$3 enclave=${4:-} restore=${5:-0}
    python3 "$HERE/kv/proto_vs_redis.py" 127.0.0.1 "$port" >"$WORK/proto.$tag"
    if cmp -s "$WORK/proto.redis" "$WORK/proto.$tag"; then
        ok "$T: $tag: $(wc -l <"$WORK/proto.redis") hostile inputs, replies and closes as Redis's"
    else
        not_ok "$T: $tag: hostile inputs, replies and closes as Redis's"
        diff "$WORK/proto.redis" "$WORK/proto.$tag" | sed 's/^/  | /' >&2
    fi
    settle "$port" 1
    local before after again
    before=$(counts "$port" "$pid" $enclave)
    expect_eq "$T: $tag: 10 000 connections opened and dropped, every PING answered" \
        "$(python3 "$HERE/kv/crowd.py" "$port" 10000)" 3340
    python3 "$HERE/kv/limits.py" obuf "$port" >"$WORK/obuf.$tag"
    expect_eq "$T: $tag: a client that never reads is closed at the output limit, others served" \
        "$(cat "$WORK/obuf.$tag")" "$(cat "$WORK/obuf.redis")"
    settle "$port" 1
    after=$(counts "$port" "$pid" $enclave)
    expect_eq "$T: $tag: fds and clients as before$([ -n "$enclave" ] && echo ", the slot and TCS leased")" \
        "$(echo "$after" | sed 's/ used=[0-9]*//; s/ pages=[0-9]*//')" "$(echo "$before" | sed 's/ used=[0-9]*//; s/ pages=[0-9]*//')"
    # the same again: tables grown once (the clients' dict at the peak) are
    # grown, the allocator holds its slabs; anything more now is a leak
    python3 "$HERE/kv/crowd.py" "$port" 3000 >/dev/null
    python3 "$HERE/kv/limits.py" obuf "$port" >/dev/null
    settle "$port" 1
    again=$(counts "$port" "$pid" $enclave)
    expect_eq "$T: $tag: a second round: fds, clients, used_memory$([ -n "$enclave" ] && echo ", slot pages") the same" \
        "$again" "$after"
    echo "# $tag: before $before; after one round $after; after two $again (${SECONDS}s in)"
    if [ -n "$enclave" ]; then
        expect_eq "$T: $tag: values near the slot's size refused, the store goes on" \
            "$(python3 "$HERE/kv/limits.py" bigvalues "$port" 2>&1)" "SET of 30 MB: b'+OK\r\n'
SET of 60 MB: refused
SET of 100 MB: refused
SETRANGE 130 MB out: b\"-OOM command not allowed when used memory > 'maxmemory'.\"
twelve that never read, then: b'+PONG'
still serving: b'+PONG' b':31457280'
DEL: b':1'"
    fi
    expect_eq "$T: $tag: maxmemory reached: Redis's -OOM, reads and DEL still work" \
        "$(python3 "$HERE/kv/limits.py" oom "$port" 4mb "$restore")" "$(cat "$WORK/oom.redis")"
    expect_eq "$T: $tag: still serving" "$(redis-cli -p "$port" set after ok)" OK
}

# maxclients (from a config file, as redis.conf): the extra ones refused
P=$(free_port)
printf 'maxclients 3\n' >"$WORK/max3.conf"
"$TEEMATE" kv serve --no-enclave --save "" --dir "$WORK" --port "$P" --config "$WORK/max3.conf" 2>"$WORK/max3.log" &
spid=$!; pids+=($spid)
if wait_ping "$P" "$spid"; then
    expect_eq "$T: maxclients 3: the 4th and 5th refused and closed as by Redis" \
        "$(python3 "$HERE/kv/limits.py" maxclients "$P" 3)" "$(cat "$WORK/maxclients.redis")"
    kill "$spid"; wait "$spid" 2>/dev/null
else not_ok "$T: a server with maxclients 3 starts"; sed 's/^/  | /' "$WORK/max3.log" >&2; fi

P=$(free_port)
"$TEEMATE" kv serve --no-enclave --save "" --dir "$WORK" --port "$P" 2>"$WORK/native.log" &
spid=$!; pids+=($spid)
if wait_ping "$P" "$spid"; then suite no-enclave "$P" "$spid"
else not_ok "$T: --no-enclave server starts"; sed 's/^/  | /' "$WORK/native.log" >&2; fi

image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ "$(id -u)" -ne 0 ]; then skip "$T: enclave mode" "needs root (a TeeMate container)"
elif [ ! -r "$image" ]; then skip "$T: enclave mode" "$image is not built"
else
    start_daemon
    P=$(free_port)
    "$TEEMATE" kv serve --save "" --dir "$WORK" --port "$P" --name limits --socket "$TEEMATE_SOCKET" --maxmemory 64mb \
        2>"$WORK/encl.log" &
    spid=$!; pids+=($spid)
    if wait_ping "$P" "$spid"; then suite enclave "$P" "$spid" kv-limits 64mb
    else not_ok "$T: the enclave server starts"; sed 's/^/  | /' "$WORK/encl.log" >&2; fi
fi
finish
