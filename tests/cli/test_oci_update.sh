# teemate update: a running container's memory, swap, pids and cpu limits
# changed and read back from its cgroup files; the same update with Debian's
# runc on the same bundle beside it (its files printed and compared). Root
# and busybox needed; everything lives in $WORK.
. "$(dirname "$0")/lib.sh"
expect_ok "update --help" "$TEEMATE" update --help
grep -q -- "--pids-limit" "$WORK/out" && ok "update --help lists --pids-limit" || not_ok "update --help lists --pids-limit"
for args in "" "--memory" "--bogus 1 x" "a b"; do
    "$TEEMATE" update $args >/dev/null 2>&1
    expect_eq "update $args: a usage error" "$?" 2
done
[ "$(id -u)" = 0 ] || { skip "OCI update" "needs root"; finish; }
command -v jq >/dev/null || { skip "OCI update" "needs jq"; finish; }
rootfs=$WORK/rootfs
"$(dirname "$0")/../../scripts/make-rootfs.sh" "$rootfs" >/dev/null 2>&1 || { not_ok "busybox root filesystem"; finish; }
have_runc=false
command -v runc >/dev/null && have_runc=true
sfx=$$-$RANDOM
tm() { "$TEEMATE" --root "$WORK/tm-root" "$@"; }
rc() { runc --root "$WORK/runc-root" "$@"; }
trap 'for id in $(tm list -q 2>/dev/null); do tm delete --force "$id"; done
      $have_runc && for id in $(rc list -q 2>/dev/null); do rc delete --force "$id"; done' EXIT

# bundle NAME: a container that sleeps, in cgroup /tmupdate-NAME-$sfx.
bundle() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    "$TEEMATE" spec --bundle "$dir" >/dev/null || return 1
    jq --arg rootfs "$rootfs" --arg cg "/tmupdate-$1-$sfx" '
        .root = {path: $rootfs, readonly: true} | .process.terminal = false |
        .process.args = ["sleep", "300"] | .linux.cgroupsPath = $cg' \
        "$dir/config.json" >"$dir/c.json" && mv "$dir/c.json" "$dir/config.json"
}

# cg NAME V1-FILE V2-FILE: the file of the container's cgroup, wherever this host has the controller.
cg() {
    local ctrl=${2%%.*} dir
    for dir in "/sys/fs/cgroup/$ctrl" /sys/fs/cgroup/unified /sys/fs/cgroup; do
        [ -d "$dir/tmupdate-$1-$sfx" ] || continue
        if [ -e "$dir/tmupdate-$1-$sfx/$2" ]; then cat "$dir/tmupdate-$1-$sfx/$2"; return; fi
        if [ -e "$dir/tmupdate-$1-$sfx/$3" ]; then cat "$dir/tmupdate-$1-$sfx/$3"; return; fi
    done
    echo "(no $2 / $3)"
}
# limits NAME: memory, memory+swap, pids, cpu quota and period, shares as the cgroup files have them
limits() {
    echo "memory=$(cg "$1" memory.limit_in_bytes memory.max) swap=$(cg "$1" memory.memsw.limit_in_bytes memory.swap.max)" \
         "pids=$(cg "$1" pids.max pids.max) quota=$(cg "$1" cpu.cfs_quota_us cpu.max)" \
         "period=$(cg "$1" cpu.cfs_period_us cpu.max) shares=$(cg "$1" cpu.shares cpu.weight)"
}
v2_cpu=false
[ -e "$(dirname "$(find /sys/fs/cgroup -maxdepth 2 -name cgroup.controllers | head -1)")/cgroup.controllers" ] &&
    grep -qw cpu "$(find /sys/fs/cgroup -maxdepth 2 -name cgroup.controllers | head -1)" && v2_cpu=true

start_both() {   # start_both NAME: teemate's container NAME-tm, runc's NAME-runc (bundle NAME-runc: own cgroup)
    bundle "$1" && bundle "$1-runc" || return 1
    tm run -d -b "$WORK/$1" "$1-tm" </dev/null >/dev/null 2>&1 || { not_ok "$1: teemate run -d"; return 1; }
    $have_runc && { rc run -d -b "$WORK/$1-runc" "$1-runc" </dev/null >/dev/null 2>&1 || echo "# runc run -d failed" >&2; }
    return 0
}
# both NAME ARGS...: update NAME-tm and NAME-runc with ARGS; $tm and $rc the limits after (runc's printed).
both() {
    local name=$1; shift
    tm update "$@" "$name-tm" >/dev/null 2>"$WORK/tm.err" || echo "# teemate update failed: $(cat "$WORK/tm.err")" >&2
    tm=$(limits "$name")
    rc="(runc not installed)"
    if $have_runc; then
        rc update "$@" "$name-runc" >/dev/null 2>"$WORK/rc.err" || echo "# runc update failed: $(cat "$WORK/rc.err")" >&2
        rc=$(limits "$name-runc")
    fi
    echo "# update $*: teemate: $tm" >&2
    echo "# update $*: runc:    $rc" >&2
}
same_as_runc() {
    if $have_runc; then expect_eq "$1 (as runc)" "$tm" "$rc"; else skip "$1 (as runc)" "runc not installed"; fi
}

# ---- flags ----
start_both u1 || finish
both u1 --memory 64m --memory-swap 128m --pids-limit 50 --cpu-quota 50000 --cpu-period 100000 --cpu-share 512
if $v2_cpu; then want_cpu="quota=50000 100000 period=50000 100000 shares=20"; else want_cpu="quota=50000 period=100000 shares=512"; fi
swap_want=134217728; [ "$(cg u1 memory.memsw.limit_in_bytes memory.swap.max)" = 67108864 ] && swap_want=67108864   # v2: swap alone
expect_eq "update: memory, swap, pids, cpu read back from the cgroup" "$tm" \
    "memory=67108864 swap=$swap_want pids=50 $want_cpu"
same_as_runc "update: memory, swap, pids, cpu"

both u1 --cpu-period 50000
both u1 --cpu-quota 20000
expect_eq "update --cpu-quota alone keeps the period" "$(echo "$tm" | grep -o 'quota=[^ ]* [^p]*period=[^ ]*')" \
    "$($v2_cpu && echo 'quota=20000 50000 period=20000 50000' || echo 'quota=20000 period=50000')"
same_as_runc "update --cpu-quota alone"

both u1 --memory 32m
expect_eq "lowering memory below memory+swap" "$(echo "$tm" | cut -d' ' -f1,2)" "memory=33554432 swap=$swap_want"
same_as_runc "lowering memory"
both u1 --memory 256m --memory-swap 512m
expect_eq "raising memory above the old memory+swap (swap first)" "$(echo "$tm" | cut -d' ' -f1)" "memory=268435456"
same_as_runc "raising memory and swap"

both u1 --pids-limit -1 --cpu-quota -1 --memory -1 --memory-swap -1
expect_eq "-1 lifts pids, cpu quota" "$(echo "$tm" | grep -o 'pids=[^ ]*') $(echo "$tm" | grep -o 'quota=[^ ]*')" \
    "pids=max $($v2_cpu && echo 'quota=max' || echo 'quota=-1')"
same_as_runc "-1 lifts the limits"

# ---- --resources ----
echo '{"memory": {"limit": 100663296}, "pids": {"limit": 20}, "cpu": {"shares": 256}}' >"$WORK/res.json"
both u1 --resources "$WORK/res.json"
expect_eq "update --resources FILE" "$(echo "$tm" | grep -oE '(memory|pids|shares)=[^ ]*' | tr '\n' ' ')" \
    "memory=100663296 pids=20 shares=$($v2_cpu && echo 10 || echo 256) "
same_as_runc "update --resources FILE"
tm update -r - u1-tm <<<'{"pids": {"limit": 30}}' && expect_eq "update -r - (standard input)" "$(cg u1 pids.max pids.max)" 30 \
    || not_ok "update -r - (standard input)"
tm update -r "$WORK/res.json" --pids-limit 7 u1-tm
expect_eq "with --resources the other options are ignored (as runc)" "$(cg u1 pids.max pids.max)" 20
expect_eq "the limits are recorded in the container's state" \
    "$(jq -c '[.memory.limit, .memory.swap, .pids.limit, .cpu.shares, .cpu.period]' "$WORK/tm-root/u1-tm/resources.json")" \
    "[100663296,-1,20,256,50000]"

# ---- errors ----
expect_fail "update of an unknown container" 'container "nope" does not exist' tm update --memory 1m nope
expect_fail "a bad memory value" "invalid value for memory" tm update --memory lots u1-tm
expect_fail "a bad pids value" "invalid value for pids-limit" tm update --pids-limit x u1-tm
expect_fail "memory+swap below memory" "memory\+swap limit 33554432 is below memory limit 67108864" \
    tm update --memory 64m --memory-swap 32m u1-tm
expect_fail "cpu period out of range" "cpu period 10 us is outside 1000..1000000" tm update --cpu-period 10 u1-tm
echo '{"memory": {"limit": "big"}}' >"$WORK/bad.json"
expect_fail "--resources with a wrong type" "bad.json: memory.limit: expected an integer" tm update -r "$WORK/bad.json" u1-tm
expect_fail "--resources that is no JSON" "invalid JSON" tm update -r - u1-tm <<<'{'
pids_before=$(cg u1 pids.max pids.max)
if ! ls /sys/fs/cgroup/blkio/tmupdate-u1-$sfx/blkio.weight /sys/fs/cgroup/blkio/tmupdate-u1-$sfx/blkio.bfq.weight \
        "$(find /sys/fs/cgroup -maxdepth 2 -type d -name "tmupdate-u1-$sfx" | head -1)"/io.weight >/dev/null 2>&1; then
    expect_fail "a limit the host lacks: an error naming it" "a blkio weight: this host has no (blkio|io).weight" \
        tm update --blkio-weight 500 --pids-limit 9 u1-tm
    expect_eq "a limit the host lacks: nothing else changed" "$(cg u1 pids.max pids.max)" "$pids_before"
    $have_runc && echo "# runc update --blkio-weight 500: $(rc update --blkio-weight 500 u1-runc 2>&1; echo "rc=$?")" >&2
else
    skip "a limit the host lacks" "this host has a blkio weight file"
fi
# ---- podman update (it hands the runtime --resources FILE), runc beside teemate ----
# pod_limit RUNTIME: podman run -d, podman update, then memory and cpu quota from the cgroup of its pid.
pod_limits() {
    local name=upd-$(basename "$1")-$sfx pid mem cpu
    "${P[@]}" run -d --name "$name" --runtime "$1" --network none localhost/teemate-update:test sleep 300 >/dev/null 2>&1 ||
        { echo "run failed"; return; }
    "${P[@]}" update --memory 48m --cpu-quota 30000 --cpu-period 100000 "$name" >/dev/null 2>"$WORK/pod.err" ||
        echo "update failed: $(cat "$WORK/pod.err")"
    pid=$("${P[@]}" inspect -f '{{.State.Pid}}' "$name")
    mem=$(awk -F: '$2 == "memory" || $2 == "" {print $3; exit}' "/proc/$pid/cgroup")
    cpu=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ || $2 == "" {print $3; exit}' "/proc/$pid/cgroup")
    echo "memory=$(cat /sys/fs/cgroup/memory$mem/memory.limit_in_bytes 2>/dev/null || cat "/sys/fs/cgroup$mem/memory.max")" \
         "quota=$(cat /sys/fs/cgroup/cpu$cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct$cpu/cpu.cfs_quota_us 2>/dev/null || cat "/sys/fs/cgroup$cpu/cpu.max")"
    "${P[@]}" rm -f -t 0 "$name" >/dev/null 2>&1
}
if command -v podman >/dev/null; then
    podman_setup
    (cd "$WORK" && tar -C "$rootfs" -cf "$WORK/rootfs.tar" . && "${P[@]}" import "$WORK/rootfs.tar" localhost/teemate-update:test >/dev/null 2>&1) \
        || not_ok "podman import"
    tm_pod=$(cd "$WORK" && pod_limits "$TEEMATE")
    $v2_cpu && want="memory=50331648 quota=30000 100000" || want="memory=50331648 quota=30000"
    expect_eq "podman update --runtime teemate: memory and cpu quota in the cgroup" "$tm_pod" "$want"
    if $have_runc; then
        expect_eq "podman update (as runc)" "$tm_pod" "$(cd "$WORK" && pod_limits /usr/sbin/runc)"
    else
        skip "podman update (as runc)" "runc not installed"
    fi
    (cd "$WORK" && "${P[@]}" rmi -f localhost/teemate-update:test >/dev/null 2>&1)
else
    skip "podman update" "podman is not installed"
fi

tm kill u1-tm KILL; sleep 0.3
expect_fail "update of a stopped container" "container not running" tm update --memory 64m u1-tm
$have_runc && { rc kill u1-runc KILL; sleep 0.3; echo "# runc update of a stopped container: $(rc update --memory 64m u1-runc 2>&1; echo "rc=$?")" >&2; }
tm delete u1-tm
finish
