#!/bin/bash
# Our RDB codec against Debian's redis-server 7.0: one fill (every type in
# small and big encodings, LZF-compressible values, int edges, binary keys,
# TTLs, several dbs: tests/cli/kv/rdb_vs_redis.py) goes into a redis-server
# and into our store natively (kv_rdb_tool write). Redis's SAVE loads into
# our store with the same canonical dump as Redis's own contents; our file
# passes redis-check-rdb and a redis-server started on it holds the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kv/kv_lib.sh"
tool=$BUILD/tests/kv_rdb_tool
py=$(dirname "$0")/kv/rdb_vs_redis.py
if ! command -v redis-server >/dev/null || ! command -v redis-check-rdb >/dev/null; then
    skip "rdb vs redis" "redis-server or redis-check-rdb is not installed"; exit 0
fi
if [ ! -x "$tool" ]; then skip "rdb vs redis" "$tool is not built"; exit 0; fi

# redis_start NAME [ARGS...]: a redis-server on a free port in $WORK/NAME; sets port
redis_start() {
    local name=$1; shift
    mkdir -p "$WORK/$name"
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

python3 "$py" commands "$WORK/fill.resp"

# Redis -> us (elements over 1000 bytes in plain quicklist nodes, as Redis
# keeps elements over 1 GB: the fill's list:fat)
if ! redis_start a --enable-debug-command yes; then
    not_ok "rdb vs redis: redis-server starts"; sed 's/^/  | /' "$WORK/a.log" >&2; exit 1
fi
[ "$(redis-cli -p "$port" debug quicklist-packed-threshold 1000)" = OK ] ||
    echo "# no DEBUG QUICKLIST-PACKED-THRESHOLD: no plain quicklist nodes in Redis's file"
python3 "$py" send "$port" "$WORK/fill.resp" && redis-cli -p "$port" save >/dev/null
python3 "$py" dump "$port" >"$WORK/redis.dump"
keys=$(wc -l <"$WORK/redis.dump")
if [ "$keys" -lt 30 ]; then
    not_ok "rdb vs redis: redis holds the fill ($keys keys)"
elif ! "$tool" dump "$WORK/a/dump.rdb" >"$WORK/ours-from-redis.dump" 2>"$WORK/tool.err"; then
    not_ok "rdb vs redis: Redis's SAVE loads"; sed 's/^/  | /' "$WORK/tool.err" >&2
elif diff -u "$WORK/redis.dump" "$WORK/ours-from-redis.dump" >"$WORK/diff1"; then
    ok "rdb vs redis: Redis 7.0's SAVE ($keys keys, $(stat -c %s "$WORK/a/dump.rdb") bytes) loads with the same contents"
else
    not_ok "rdb vs redis: Redis's SAVE loads with other contents"; head -40 "$WORK/diff1" | sed 's/^/  | /' >&2
fi

# us -> Redis
mkdir -p "$WORK/b"
if ! "$tool" write "$WORK/b/ours.rdb" <"$WORK/fill.resp" 2>"$WORK/write.err"; then
    not_ok "rdb vs redis: our store writes an RDB"; sed 's/^/  | /' "$WORK/write.err" >&2; exit 1
fi
if redis-check-rdb "$WORK/b/ours.rdb" >"$WORK/check.log" 2>&1 && grep -q 'RDB looks OK' "$WORK/check.log"; then
    ok "rdb vs redis: redis-check-rdb accepts our RDB ($(grep -o '[0-9]* keys read' "$WORK/check.log"))"
else
    not_ok "rdb vs redis: redis-check-rdb accepts our RDB"; tail -20 "$WORK/check.log" | sed 's/^/  | /' >&2
fi
"$tool" dump "$WORK/b/ours.rdb" >"$WORK/ours.dump" 2>>"$WORK/tool.err"
if diff -u "$WORK/redis.dump" "$WORK/ours.dump" >"$WORK/diff2"; then
    ok "rdb vs redis: our store, saved and loaded back, holds what Redis holds"
else
    not_ok "rdb vs redis: our round trip differs from Redis"; head -40 "$WORK/diff2" | sed 's/^/  | /' >&2
fi
if ! redis_start b --dbfilename ours.rdb; then
    not_ok "rdb vs redis: redis-server starts on our RDB"; tail -20 "$WORK/b.log" | sed 's/^/  | /' >&2
else
    python3 "$py" dump "$port" >"$WORK/redis-from-ours.dump"
    if diff -u "$WORK/redis.dump" "$WORK/redis-from-ours.dump" >"$WORK/diff3"; then
        ok "rdb vs redis: a redis-server started on our RDB holds the same contents"
    else
        not_ok "rdb vs redis: redis-server loads our RDB with other contents"
        head -40 "$WORK/diff3" | sed 's/^/  | /' >&2
    fi
fi
finish
