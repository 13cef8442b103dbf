#!/usr/bin/env bash
# TeeMate's main job, from a fresh clone: set up, build, then take the example
# enclave through layout, measure, sign, verify, run it in a fresh enclave, and
# share it: teemated (started on demand) owns one enclave and two containers
# attach to it, each with its own slot (simulation backend unless
# /dev/sgx_enclave exists). Then a JavaScript function in each mode, an action
# through the OpenWhisk gateway (cold, then warm) and the Redis-compatible store.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
make -s -j"$(nproc)"
tm=build/teemate
image=build/examples/hello.elf
key=build/demo-signing-key.pem   # a demo key; production keys live elsewhere

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

[ -f "$key" ] || step $tm keygen -o "$key"
step $tm layout "$image"
step $tm measure "$image"
step $tm sign "$image" --key "$key" -o build/examples/hello.sig --debug
step $tm sigstruct build/examples/hello.sig --image "$image" >/dev/null && echo "signature: valid"
step $tm enclave run "$image" --sig build/examples/hello.sig --stats -- world

# Shared enclave: the first verb starts teemated (state in build/demo-state).
export TEEMATE_STATE_DIR=${TEEMATE_STATE_DIR:-$PWD/build/demo-state}
$tm enclave rm --force demo-hello >/dev/null 2>&1 || true
step $tm enclave create demo-hello --image "$image" --sig build/examples/hello.sig
step $tm attach demo-hello --stats -- --state
step $tm attach demo-hello --stats -- --state
step $tm enclave inspect demo-hello

# Containers (as root): a plain one on a busybox rootfs, then two whose init
# attaches to the shared enclave and runs its main, then the OCI verbs.
if [ "$(id -u)" -eq 0 ]; then
    [ -x build/demo-rootfs/bin/busybox ] || scripts/make-rootfs.sh build/demo-rootfs
    step $tm run --rootfs build/demo-rootfs --memory 64m --pids 32 --hostname demo --stats -- \
        sh -c 'set -- /proc/[0-9]*; echo "pid $$ on $(hostname), processes in sight: $*"'
    step $tm run --rootfs build/demo-rootfs --enclave demo-hello --enclave-memory 4m --stats -- hello container
    step $tm run --rootfs build/demo-rootfs --enclave demo-hello -- hello --state
    # The OCI verbs engines use (podman, containerd's runc shim): a detached
    # container, a process exec'd into it, pause and resume, delete.
    b=build/demo-bundle
    rm -rf "$b" && mkdir -p "$b" && ln -s ../demo-rootfs "$b/rootfs"
    $tm spec --bundle "$b"
    python3 - "$b/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "1000"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
    step $tm run --bundle "$b" --detach demo-oci </dev/null
    step $tm exec demo-oci ps
    step $tm pause demo-oci
    step $tm list
    step $tm resume demo-oci
    step $tm delete --force demo-oci
else
    echo "(containers skipped: they need root)"
fi
step $tm enclave rm demo-hello

# Confidential functions: one JavaScript function in each mode, a cold start
# each with its breakdown (teemate: a shared enclave fn-demo-md5-teemate), each
# instance in a container of its own (as root).
if [ "$(id -u)" -eq 0 ]; then
    for m in native teemate strawman strawman-edmm; do
        $tm fn rm "demo-md5-$m" >/dev/null 2>&1 || true
        step $tm fn create "demo-md5-$m" apps/functions/js/crypto-md5.js --mode "$m"
        step $tm fn invoke "demo-md5-$m" --stats
    done
    step $tm fn ls
    for m in native teemate strawman strawman-edmm; do $tm fn rm "demo-md5-$m"; done
else
    echo "(functions skipped: each instance runs in a container, which needs root)"
fi
# The function platform and the key-value store (as root: both run their
# work in containers). Free loopback ports, servers stopped at the end.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if [ "$(id -u)" -eq 0 ]; then
    # OpenWhisk's REST API: an action invoked twice (a cold start, then a warm
    # container), with curl as OpenWhisk users do.
    gw_port=$(free_port)
    $tm gateway --listen "127.0.0.1:$gw_port" --state-dir "$TEEMATE_STATE_DIR" >build/demo-gateway.log 2>&1 &
    gw_pid=$!
    key=$($tm gateway --show-key --state-dir "$TEEMATE_STATE_DIR")
    u=http://127.0.0.1:$gw_port/api/v1/namespaces/_
    for _ in $(seq 100); do curl -sf -u "$key" "$u/actions" >/dev/null && break; sleep 0.1; done
    step curl -s -u "$key" -X PUT "$u/actions/demo-hello?overwrite=true" -H 'Content-Type: application/json' \
        -d '{"exec":{"kind":"nodejs:default","code":"function main(p){return {greeting:\"Hello \"+p.name};}"}}'
    echo
    for who in ada bob; do
        step curl -s -u "$key" -X POST "$u/actions/demo-hello?blocking=true" -H 'Content-Type: application/json' -d "{\"name\":\"$who\"}"
        echo
    done | python3 -c 'import json,sys
for l in sys.stdin:
    if not l.startswith("{"): print(l, end=""); continue
    a = json.loads(l); ann = {x["key"]: x["value"] for x in a["annotations"]}
    print(json.dumps(a["response"]["result"]), "warm" if ann.get("teemate-warm") else "cold, initTime %s ms" % ann.get("initTime"))'
    kill -TERM "$gw_pid"; wait "$gw_pid" || true

    # The confidential key-value store: redis-cli and redis-benchmark, unmodified.
    kv_port=$(free_port)
    kv_dir=build/demo-kv
    rm -rf "$kv_dir"; mkdir -p "$kv_dir"
    $tm kv serve --port "$kv_port" --maxmemory 256mb --name demo --dir "$kv_dir" --save "" \
        >build/demo-kv.log 2>&1 &
    kv_pid=$!
    for _ in $(seq 100); do redis-cli -p "$kv_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    step redis-cli -p "$kv_port" set greeting "hello from the enclave"
    step redis-cli -p "$kv_port" get greeting
    step redis-cli -p "$kv_port" rpush queue a b c
    step redis-cli -p "$kv_port" lrange queue 0 -1
    step redis-cli -p "$kv_port" zadd board 3 carol 1 ada 2 bob
    step redis-cli -p "$kv_port" zrange board 0 -1 withscores
    printf '\n\033[1m$ redis-benchmark -p %s -q -n 20000 -c 20 -t set,get,lpush\033[0m\n' "$kv_port"
    redis-benchmark -p "$kv_port" -q -n 20000 -c 20 -t set,get,lpush | tr '\r' '\n' | grep 'requests per second'
    step redis-cli -p "$kv_port" info keyspace
    step $tm enclave inspect kv-demo
    # A snapshot: BGSAVE's child attaches to the same enclave and writes the
    # data set of this moment, sealed, while the server keeps serving.
    step redis-cli -p "$kv_port" bgsave
    for _ in $(seq 100); do
        redis-cli -p "$kv_port" info persistence | grep -q 'rdb_bgsave_in_progress:0' && break; sleep 0.1; done
    redis-cli -p "$kv_port" info persistence | grep -E 'rdb_last_bgsave_status|rdb_last_cow_size'
    redis-cli -p "$kv_port" info stats | grep latest_fork_usec
    step head -c 8 "$kv_dir/dump.rdb"; echo
    step $tm kv export --dir "$kv_dir" -o "$kv_dir/plain.rdb"
    step redis-check-rdb "$kv_dir/plain.rdb"
    kill -TERM "$kv_pid"; wait "$kv_pid" || true
else
    echo "(gateway and key-value store skipped: they need root)"
fi
echo
echo "teemated keeps running on $TEEMATE_STATE_DIR/teemated.sock (log: teemated.log there); SIGTERM stops it."
