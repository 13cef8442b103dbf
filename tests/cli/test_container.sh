# Containers through `teemate run` and the OCI verbs: namespaces, cgroup
# limits, cleanup, and a container of a shared enclave. Needs root.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    skip "containers" "needs root (namespaces, cgroups, pivot_root)"; finish
fi
rootfs=$WORK/rootfs
scripts/make-rootfs.sh "$rootfs" || { not_ok "busybox root filesystem"; finish; }
root=$WORK/state
export TEEMATE_STATE_DIR=$WORK/teemate-state   # the test's own teemated
T=("$TEEMATE" --root "$root")
trap '"$TEEMATE" daemon --stop >/dev/null 2>&1; pkill -f "teemate daemon --foreground --socket $TEEMATE_STATE_DIR" 2>/dev/null' EXIT

# namespaces
expect_eq "the container's process is PID 1" \
    "$("${T[@]}" run --rootfs "$rootfs" -- sh -c 'echo $$')" "1"
expect_eq "it sees only its own processes" \
    "$("${T[@]}" run --rootfs "$rootfs" -- sh -c 'echo /proc/[0-9]*')" "/proc/1"
expect_eq "private hostname" "$("${T[@]}" run --rootfs "$rootfs" --hostname box7 -- hostname)" "box7"
expect_eq "the host's hostname is untouched" "$(hostname)" "$(uname -n)"
inside=$("${T[@]}" run --rootfs "$rootfs" -- cat /proc/self/mountinfo)
expect_eq "private mount table: the root is the rootfs" \
    "$(echo "$inside" | awk '$5 == "/" {print $4}' | head -1)" "$rootfs"
expect_eq "private mount table: the host's mounts are not inside" \
    "$(echo "$inside" | grep -c " $(dirname "$PWD") ")" "0"
expect_fail "no CAP_SYS_ADMIN inside: mount is refused" "denied" \
    "${T[@]}" run --rootfs "$rootfs" -- mount -t tmpfs none /tmp
expect_eq "no rootfs: the host's root with a new /proc" \
    "$("${T[@]}" run -- sh -c 'echo $$; test -d /work && echo host-root')" "$(printf '1\nhost-root')"
expect_eq "--net none: only loopback" \
    "$("${T[@]}" run --rootfs "$rootfs" -- sh -c 'ls /sys/class/net')" "lo"

# cgroup limits
"${T[@]}" run --rootfs "$rootfs" --memory 16m -- dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null
expect_eq "a 64 MiB allocation under --memory 16m is killed (SIGKILL)" "$?" "137"
"${T[@]}" run --rootfs "$rootfs" --memory 16m -- dd if=/dev/zero of=/dev/null bs=4M count=1 2>/dev/null
expect_eq "a 4 MiB allocation under --memory 16m runs" "$?" "0"
# busybox sh gives up at the first refused fork (exit 2); the sleeps started
# before it count against the limit too.
out=$("${T[@]}" run --rootfs "$rootfs" --pids 8 -- sh -c \
    'i=0; while [ $i -lt 64 ]; do sleep 5 & i=$((i + 1)); echo "forked $i"; done; echo unbounded' 2>&1)
n=$(echo "$out" | grep -c '^forked')
if echo "$out" | grep -q "can't fork: Resource temporarily unavailable" && [ "$n" -le 8 ] &&
    ! echo "$out" | grep -q unbounded; then ok "--pids 8 stops a fork bomb after $n forks"; else
    not_ok "--pids 8 stops a fork bomb"; echo "$out" | tail -3 >&2; fi
cpu=$("${T[@]}" run --rootfs "$rootfs" --name cpu1 --cpus 0.5 -- cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>&1)
expect_eq "--cpus 0.5 is a 50 ms quota per 100 ms" "$cpu" "50000"

# OCI lifecycle and cleanup
bundle=$WORK/bundle
mkdir -p "$bundle" && ln -s "$rootfs" "$bundle/rootfs"
"$TEEMATE" spec --bundle "$bundle" >/dev/null
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sleep", "30"/' "$bundle/config.json"
expect_ok "create" "${T[@]}" create --bundle "$bundle" c1
expect_eq "state: created" "$("${T[@]}" state c1 | sed -n 's/.*"status": "\(.*\)".*/\1/p')" "created"
cg_dirs=$(ls -d /sys/fs/cgroup/*/teemate/c1 2>/dev/null | wc -l)
if [ "$cg_dirs" -ge 3 ]; then ok "create made the cgroup in $cg_dirs hierarchies"; else not_ok "create made the cgroup ($cg_dirs)"; fi
expect_ok "start" "${T[@]}" start c1
expect_eq "the container's mounts are not in the host's mount table" \
    "$(grep -c " $rootfs/" /proc/self/mountinfo)" "0"
expect_eq "state: running" "$("${T[@]}" state c1 | sed -n 's/.*"status": "\(.*\)".*/\1/p')" "running"
expect_fail "start twice" "cannot start an already running container" "${T[@]}" start c1
expect_fail "delete a running container" "cannot delete container c1 that is not stopped: running" "${T[@]}" delete c1
expect_ok "kill" "${T[@]}" kill c1 KILL
for _ in $(seq 500); do "${T[@]}" state c1 | grep -q '"stopped"' && break; done
expect_eq "state: stopped" "$("${T[@]}" state c1 | sed -n 's/.*"status": "\(.*\)".*/\1/p')" "stopped"
expect_ok "delete" "${T[@]}" delete c1
expect_eq "delete removed the cgroups" "$(ls -d /sys/fs/cgroup/*/teemate/c1 2>/dev/null | wc -l)" "0"
expect_eq "delete removed the state" "$(ls "$root" | grep -c c1)" "0"
expect_fail "state after delete" 'container "c1" does not exist' "${T[@]}" state c1

# a container of a shared enclave
if "$TEEMATE" enclave create ctr-hello --image "$BUILD/examples/hello.elf" >/dev/null 2>&1; then
    expect_eq "run --enclave runs the image's main" \
        "$("${T[@]}" run --rootfs "$rootfs" --enclave ctr-hello -- hello container)" "hello, container"
    "${T[@]}" run --rootfs "$rootfs" --enclave ctr-hello --stats -- x >/dev/null 2>"$WORK/stats"
    if grep -q "container created in" "$WORK/stats" && grep -q "alias" "$WORK/stats"; then
        ok "--stats: container creation, then the enclave phases"; else not_ok "--stats"; cat "$WORK/stats" >&2; fi
    # the third container of this enclave (two ran above)
    expect_eq "containers share the enclave's global heap" \
        "$("${T[@]}" run --enclave ctr-hello -- x --state | cut -d, -f1)" "shared runs 3"
    expect_fail "unknown enclave" "no enclave named 'nope'" "${T[@]}" run --enclave nope -- x
    # an OCI bundle whose annotations attach it, with its slot capped at 1 MiB
    python3 - "$bundle/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["hello", "bundle"]
c["annotations"] = {"org.teemate.enclave": "ctr-hello", "org.teemate.enclave.memory": "1m"}
json.dump(c, open(sys.argv[1], "w"))
EOF
    # init keeps create's stdout: main's output lands in e1.out
    "${T[@]}" create --bundle "$bundle" e1 >"$WORK/e1.out" 2>&1
    expect_eq "create with org.teemate.enclave (init attaches at create)" "$?" "0"
    stats=$("${T[@]}" events --stats e1)
    expect_eq "events --stats reports the slot's cap with the cgroup's figures" \
        "$(echo "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["enclave"]["epc_limit_pages"], "memory" in d, "pids" in d)')" \
        "256 True True"
    "${T[@]}" start e1
    for _ in $(seq 500); do "${T[@]}" state e1 | grep -q '"stopped"' && break; done
    expect_eq "start runs main inside the enclave with process.args" "$(cat "$WORK/e1.out")" "hello, bundle"
    expect_ok "delete the enclave container" "${T[@]}" delete e1
    expect_eq "nothing left in the state root" "$(ls "$root" | wc -l)" "0"
else
    not_ok "enclave create for the container test"
fi
finish
