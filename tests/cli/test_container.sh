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
# On exit: the test's own teemated stopped, a changed host sysctl put back.
cleanup() {
    [ -n "${host_swappiness:-}" ] && echo "$host_swappiness" >/proc/sys/vm/swappiness
    pkill -f "teemate daemon --foreground --socket $TEEMATE_STATE_DIR" 2>/dev/null
}
trap cleanup EXIT

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
cpu=$("${T[@]}" run --rootfs "$rootfs" --name cpu1-$$ --cpus 0.5 -- cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>&1)
expect_eq "--cpus 0.5 is a 50 ms quota per 100 ms" "$cpu" "50000"

# OCI lifecycle and cleanup
bundle=$WORK/bundle
mkdir -p "$bundle" && ln -s "$rootfs" "$bundle/rootfs"
"$TEEMATE" spec --bundle "$bundle" >/dev/null
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sleep", "30"/' "$bundle/config.json"
expect_ok "create" "${T[@]}" create --bundle "$bundle" c1-$$
expect_eq "state: created" "$("${T[@]}" state c1-$$ | sed -n 's/.*"status": "\(.*\)".*/\1/p')" "created"
cg_dirs=$(ls -d /sys/fs/cgroup/*/teemate/c1-$$ 2>/dev/null | wc -l)
if [ "$cg_dirs" -ge 3 ]; then ok "create made the cgroup in $cg_dirs hierarchies"; else not_ok "create made the cgroup ($cg_dirs)"; fi
expect_ok "start" "${T[@]}" start c1-$$
expect_eq "the container's mounts are not in the host's mount table" \
    "$(grep -c " $rootfs/" /proc/self/mountinfo)" "0"
expect_eq "state: running" "$("${T[@]}" state c1-$$ | sed -n 's/.*"status": "\(.*\)".*/\1/p')" "running"
expect_fail "start twice" "cannot start an already running container" "${T[@]}" start c1-$$
expect_fail "delete a running container" "cannot delete container c1-$$ that is not stopped: running" "${T[@]}" delete c1-$$
expect_ok "kill" "${T[@]}" kill c1-$$ KILL
for _ in $(seq 500); do "${T[@]}" state c1-$$ | grep -q '"stopped"' && break; done
expect_eq "state: stopped" "$("${T[@]}" state c1-$$ | sed -n 's/.*"status": "\(.*\)".*/\1/p')" "stopped"
expect_ok "delete" "${T[@]}" delete c1-$$
expect_eq "delete removed the cgroups" "$(ls -d /sys/fs/cgroup/*/teemate/c1-$$ 2>/dev/null | wc -l)" "0"
expect_eq "delete removed the state" "$(ls "$root" | grep -c c1-$$)" "0"
expect_fail "state after delete" "container \"c1-$$\" does not exist" "${T[@]}" state c1-$$

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
    "${T[@]}" create --bundle "$bundle" e1-$$ >"$WORK/e1.out" 2>&1
    expect_eq "create with org.teemate.enclave (init attaches at create)" "$?" "0"
    stats=$("${T[@]}" events --stats e1-$$)
    expect_eq "events --stats reports the slot's cap with the cgroup's figures" \
        "$(echo "$stats" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d["enclave"]["epc_limit_pages"], "memory" in d, "pids" in d)')" \
        "256 True True"
    "${T[@]}" start e1-$$
    for _ in $(seq 500); do "${T[@]}" state e1-$$ | grep -q '"stopped"' && break; done
    expect_eq "start runs main inside the enclave with process.args" "$(cat "$WORK/e1.out")" "hello, bundle"
    expect_ok "delete the enclave container" "${T[@]}" delete e1-$$
    expect_eq "nothing left in the state root" "$(ls "$root" | wc -l)" "0"
else
    not_ok "enclave create for the container test"
fi

# ---- issue 15: a non-root process, late init errors, sysctls, killed runs ----
# Each beside Debian's runc where it has an equivalent (comparison lines start with '#').
runc=$(command -v runc)
ub=$WORK/ubundle
mkdir -p "$ub" && cp -a "$rootfs" "$ub/rootfs"   # runc refuses a symlinked rootfs
"$TEEMATE" spec --bundle "$ub" >/dev/null
# config KEY=JSON...: set process.args, process.user or linux.KEY in $ub's config.json.
config() {
    python3 - "$ub/config.json" "$@" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    (c["process"] if k in ("args", "user") else c["linux"])[k] = json.loads(v)
json.dump(c, open(sys.argv[1], "w"))
EOF
}
# runc_run ID: runc's run of $ub under its own root, stdout and stderr together.
runc_run() { "$runc" --root "$WORK/runc" run --bundle "$ub" "$1" </dev/null 2>&1; }

# A process that is not root, without CAP_DAC_OVERRIDE (the default spec's
# capabilities lack it): create, then start, as engines do.
config 'args=["sh", "-c", "id; echo through /dev/stdout >>/dev/stdout"]' 'user={"uid": 1000, "gid": 1000}' 'sysctl={}'
"${T[@]}" create --bundle "$ub" u-$$ >"$WORK/u.out" 2>&1 </dev/null
expect_eq "create of a uid 1000 container" "$?" 0
expect_ok "start of a uid 1000 container" "${T[@]}" start u-$$
for _ in $(seq 500); do "${T[@]}" state u-$$ | grep -q '"stopped"' && break; done
expect_eq "it runs as uid 1000 and can reopen its stdout" "$(cat "$WORK/u.out")" \
    "$(printf 'uid=1000 gid=1000\nthrough /dev/stdout')"
"${T[@]}" delete u-$$
[ -n "$runc" ] && echo "# runc, same bundle: $(runc_run ur-$$ | tr '\n' '|')"

# `runc spec`'s own config lists ambient capabilities that are not
# inheritable: the kernel will not raise them, and runc runs without them.
if [ -n "$runc" ]; then
    cp "$ub/config.json" "$WORK/config.teemate"
    (cd "$WORK" && mkdir -p rspec && cd rspec && "$runc" spec && python3 -c '
import json; c = json.load(open("config.json")); c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "grep -E \"^Cap(Prm|Amb)\" /proc/self/status"]
json.dump(c, open("'"$ub"'/config.json", "w"))')
    expect_eq "runc spec's config (ambient, not inheritable) runs as with runc" \
        "$("${T[@]}" run --bundle "$ub" amb-$$ </dev/null 2>&1)" "$(runc_run ambr-$$)"
    cp "$WORK/config.teemate" "$ub/config.json"
else
    skip "runc spec's config" "runc is not installed"
fi

# init fails after READY (an executable file that is no program): create
# succeeds, start fails with init's reason, on stderr and in --log.
printf 'not a program\n' >"$ub/rootfs/bin/junk" && chmod 755 "$ub/rootfs/bin/junk"
config 'args=["/bin/junk"]' 'user={"uid": 0, "gid": 0}'
junk='container init: exec /bin/junk: Exec format error'
expect_ok "create of a container whose exec will fail" "${T[@]}" create --bundle "$ub" late-$$
expect_fail "start reports init's failure after READY" "^teemate: $junk\$" \
    "${T[@]}" --log "$WORK/late.json" --log-format json start late-$$
expect_eq "--log json has it" "$(tail -1 "$WORK/late.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["level"], d["msg"])')" \
    "error $junk"
expect_fail "a second start says it again" "^teemate: $junk\$" "${T[@]}" --log "$WORK/late.txt" start late-$$
grep -qE "^time=\"[^\"]+\" level=error msg=\"$junk\"\$" "$WORK/late.txt" \
    && ok "--log text has it" || { not_ok "--log text has it"; cat "$WORK/late.txt" >&2; }
expect_ok "delete the failed container" "${T[@]}" delete late-$$
"${T[@]}" run --bundle "$ub" late2-$$ >/dev/null 2>"$WORK/err" </dev/null
expect_eq "run (OCI form): exit 127 and init's reason" "$? $(cat "$WORK/err")" "127 teemate: $junk"
expect_eq "run removed it" "$("${T[@]}" list -q | grep -c late)" 0
expect_fail "run --detach (create + start) reports it too" "^teemate: $junk\$" "${T[@]}" run --detach --bundle "$ub" late3-$$
expect_eq "and removed it" "$("${T[@]}" list -q | grep -c late)" 0
if [ -n "$runc" ]; then
    "$runc" --root "$WORK/runc" create --bundle "$ub" lr-$$ >"$WORK/lr.out" 2>&1 </dev/null
    "$runc" --root "$WORK/runc" start lr-$$ >"$WORK/lr.start" 2>&1; rc=$?
    for _ in $(seq 50); do "$runc" --root "$WORK/runc" state lr-$$ 2>/dev/null | grep -q '"stopped"' && break; sleep 0.02; done
    echo "# runc, same bundle: start rc=$rc '$(cat "$WORK/lr.start")'; container's stderr: '$(cat "$WORK/lr.out")'"
    "$runc" --root "$WORK/runc" delete --force lr-$$ >/dev/null 2>&1
fi

# sysctls: a host-wide one is refused before anything runs; a namespaced one
# is set inside only.
host=$(cat /proc/sys/vm/swappiness)
want=$((host == 100 ? 99 : host + 1))
host_swappiness=$host
config 'args=["true"]' "sysctl={\"vm.swappiness\": \"$want\"}"
expect_fail "a host-wide sysctl (vm.swappiness) is refused" \
    '^teemate: sysctl "vm.swappiness" is not in a separate kernel namespace$' "${T[@]}" run --bundle "$ub" sys-$$
expect_eq "the host's vm.swappiness is unchanged" "$(cat /proc/sys/vm/swappiness)" "$host"
expect_eq "nothing was made for it" "$(ls "$root" | grep -c sys-)" 0
if [ -n "$runc" ]; then
    expect_fail "runc refuses it with the same words" 'sysctl \\"vm.swappiness\\" is not in a separate kernel namespace' \
        "$runc" --root "$WORK/runc" run --bundle "$ub" sysr-$$
    expect_eq "the host's vm.swappiness is unchanged after runc" "$(cat /proc/sys/vm/swappiness)" "$host"
fi
config 'sysctl={"vm.drop_caches": "1"}'
expect_fail "vm.drop_caches is refused" 'sysctl "vm.drop_caches" is not in a separate kernel namespace' \
    "${T[@]}" run --bundle "$ub" sys-$$
config 'sysctl={"net.ipv4.conf.all/../../../../kernel/core_pattern": "|/bin/false"}'
expect_fail "a sysctl name with '/' and '..' is refused" 'is not a valid sysctl name' "${T[@]}" run --bundle "$ub" sys-$$
shm=$(cat /proc/sys/kernel/shmmni)
config 'args=["cat", "/proc/sys/kernel/shmmni"]' "sysctl={\"kernel.shmmni\": \"$((shm - 1))\"}"
expect_eq "kernel.shmmni is set in the container's IPC namespace" "$("${T[@]}" run --bundle "$ub" sys-$$ </dev/null)" "$((shm - 1))"
expect_eq "and the host's kernel.shmmni is unchanged" "$(cat /proc/sys/kernel/shmmni)" "$shm"

# teemate run killed at a random instant of its set-up, 20 times (the sleep
# only places the kill). Whatever is left, list shows it and delete --force
# removes it; the quick form's init dies with its runtime.
kr=$WORK/killroot
mark="sleep 4.$$"
# ours: processes of these runs (the runtime's clones carry --root $kr, the containers run $mark).
# (The last character in brackets: grep's own command line does not match.)
ours() { grep -lsaE -- "${kr%?}[${kr: -1}]|^sleep.4\.$$" /proc/[0-9]*/cmdline | grep -vc "^/proc/$$/"; }
kill_loop() {   # CMD: 20 runs of "CMD I", each SIGKILLed after 0-59 ms
    for i in $(seq 20); do
        "$1" "$i" </dev/null >/dev/null 2>&1 & p=$!
        sleep "0.0$((RANDOM % 6))$((RANDOM % 10))"
        kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
}
tm_killed() { exec "$TEEMATE" --root "$kr" run --rootfs "$rootfs" --name "kl-$$-$1" -- $mark; }
kill_loop tm_killed
dirs=$(ls "$kr" 2>/dev/null | wc -l)
listed=$("$TEEMATE" --root "$kr" list -q | wc -l)
expect_eq "killed runs: list shows every state directory left ($dirs)" "$listed" "$dirs"
for id in $("$TEEMATE" --root "$kr" list -q); do "$TEEMATE" --root "$kr" delete --force "$id"; done
for _ in $(seq 100); do [ "$(ours)" -eq 0 ] && break; sleep 0.02; done
expect_eq "killed runs: no process left after delete --force" "$(ours)" 0
expect_eq "killed runs: no state directory left" "$(ls "$kr" 2>/dev/null | wc -l)" 0
expect_eq "killed runs: no cgroup left" \
    "$(ls -d /sys/fs/cgroup/*/teemate/kl-$$-* /sys/fs/cgroup/teemate/kl-$$-* 2>/dev/null | wc -l)" 0
# Killed once its container runs: the container goes with it, and what is
# left is a stopped container that delete removes.
"$TEEMATE" --root "$kr" run --rootfs "$rootfs" --name pd-$$ -- sh -c "sleep 1 & exec $mark" </dev/null >/dev/null 2>&1 & p=$!
for _ in $(seq 250); do [ "$(pgrep -fx "$mark" | wc -l)" -eq 1 ] && break; sleep 0.02; done
expect_eq "a running quick-form container" "$("$TEEMATE" --root "$kr" state pd-$$ | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" running
kill -9 "$p"; wait "$p" 2>/dev/null
for _ in $(seq 100); do [ "$(ours)" -eq 0 ] && break; sleep 0.02; done
expect_eq "teemate run killed: its container's processes die with it" "$(ours)" 0
expect_eq "and list shows it stopped" "$("$TEEMATE" --root "$kr" list | awk 'NR > 1 {print $1, $3}')" "pd-$$ stopped"
expect_ok "delete removes it (no --force needed)" "$TEEMATE" --root "$kr" delete pd-$$
expect_eq "with its cgroup" "$(ls -d /sys/fs/cgroup/*/teemate/pd-$$ /sys/fs/cgroup/teemate/pd-$$ 2>/dev/null | wc -l)" 0
if [ -n "$runc" ]; then
    config "args=[\"sleep\", \"4.$$\"]" 'sysctl={}'
    runc_killed() { exec "$runc" --root "$WORK/rkill" run --bundle "$ub" "rkl-$$-$1"; }
    kill_loop runc_killed
    rdirs=$(ls "$WORK/rkill" 2>/dev/null | wc -l); rlisted=$("$runc" --root "$WORK/rkill" list -q 2>/dev/null | wc -l)
    for id in $("$runc" --root "$WORK/rkill" list -q 2>/dev/null); do "$runc" --root "$WORK/rkill" delete --force "$id" >/dev/null 2>&1; done
    left=$(pgrep -fx "$mark" | wc -l)
    cgs=$(ls -d /sys/fs/cgroup/*/rkl-$$-* 2>/dev/null | wc -l)
    echo "# runc, same loop: $rdirs state dirs, $rlisted listed; after delete --force: $left processes, $cgs cgroup dirs left"
    pkill -KILL -fx "$mark" 2>/dev/null   # the test's own processes (the unique $mark)
    for _ in $(seq 100); do [ -z "$(pgrep -fx "$mark")" ] && break; sleep 0.02; done
    rmdir /sys/fs/cgroup/*/rkl-$$-* 2>/dev/null
    rm -rf "$WORK/rkill"
fi
finish
