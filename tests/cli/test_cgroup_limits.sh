# The device cgroup, the cgroup view without a cgroup namespace, and the
# cpuset/blkio/hugetlb limits, each case run by teemate and, beside it, by
# Debian's runc on the same bundle (its result printed, and compared where
# both must agree). Root and busybox needed; everything lives in $WORK.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { skip "cgroup limits" "needs root"; finish; }
rootfs=$WORK/rootfs
scripts/make-rootfs.sh "$rootfs" >/dev/null 2>&1 || { not_ok "busybox root filesystem"; finish; }
have_runc=false
command -v runc >/dev/null && have_runc=true
sfx=$$-$RANDOM

# bundle NAME JQ-FILTER SCRIPT: $WORK/NAME/config.json, teemate spec's default
# with CAP_MKNOD, a writable root, and the filter applied.
bundle() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    "$TEEMATE" spec --bundle "$dir" >/dev/null || return 1
    jq --arg rootfs "$rootfs" --arg script "$3" '
        .root = {path: $rootfs, readonly: false} | .process.terminal = false |
        .process.args = ["sh", "-c", $script] |
        .process.capabilities |= with_entries(.value += ["CAP_MKNOD"]) | '"$2" \
        "$dir/config.json" >"$dir/c.json" && mv "$dir/c.json" "$dir/config.json"
}

# run_in RUNTIME NAME: run the bundle in the foreground; stdout and stderr, one stream.
run_in() {
    local rt=$1 name=$2
    if [ "$rt" = teemate ]; then
        "$TEEMATE" --root "$WORK/tm-root" run --bundle "$WORK/$name" "h1-$name-$sfx" 2>&1
    else
        runc --root "$WORK/runc-root" run --bundle "$WORK/$name" "h1r-$name-$sfx" 2>&1
    fi
}

# both NAME: teemate's output in $tm, runc's in $rc (runc's also printed).
both() {
    tm=$(run_in teemate "$1")
    rc="(runc not installed)"
    $have_runc && rc=$(run_in runc "$1")
    echo "# $1: teemate: $(echo "$tm" | tr '\n' '|')" >&2
    echo "# $1: runc:    $(echo "$rc" | tr '\n' '|')" >&2
}

# the same lines (a command's stdout and stderr reach us through two pipes:
# their order is the scheduler's, for runc as for us)
same_as_runc() {
    if $have_runc; then expect_eq "$1 (as runc)" "$(sort <<<"$tm")" "$(sort <<<"$rc")"
    else skip "$1 (as runc)" "runc not installed"; fi
}

# ---- devices ----
bundle denied '.' 'mknod /dev/vcs-x c 7 0 && head -c 1 /dev/vcs-x >/dev/null; echo rc=$?'
both denied
expect_eq "mknod of a device the spec does not allow, then open: EPERM" \
    "$tm" "head: /dev/vcs-x: Operation not permitted
rc=1"
same_as_runc "denied device"

bundle allowed '.linux.resources.devices += [{allow: true, type: "c", major: 7, minor: 0, access: "r"}]' \
    'mknod /dev/vcs-x c 7 0 && head -c 0 /dev/vcs-x; echo read=$?; echo x 2>/dev/null >/dev/vcs-x; echo write=$?'
both allowed
expect_eq "a device the spec allows for reading opens for reading, not for writing" \
    "$tm" "read=0
write=1"
same_as_runc "allowed device"

bundle defaults '.' 'echo x >/dev/null && head -c 1 /dev/zero | wc -c && head -c 1 /dev/urandom | wc -c && echo ok'
both defaults
expect_eq "the default devices stay usable" "$(echo "$tm" | tr '\n' ' ')" "1 1 ok "
same_as_runc "default devices"

# ---- the cgroup view without a cgroup namespace ----
nocgns='.linux.namespaces |= map(select(.type != "cgroup")) |
        .linux.resources.memory = {limit: 20971520} | .linux.resources.pids = {limit: 33}'
bundle view "$nocgns" 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max;
    for h in /sys/fs/cgroup/*; do find $h -mindepth 1 -type d; done | wc -l; ls /sys/fs/cgroup | tr "\n" " "'
both view
expect_eq "no cgroup namespace: own memory and pids limits, no other cgroup listed" \
    "$(echo "$tm" | head -3 | tr '\n' ' ')" "20971520 33 0 "
expect_eq "no cgroup namespace: every hierarchy mounted" \
    "$(echo "$tm" | tail -1)" "$(ls /sys/fs/cgroup | tr '\n' ' ')"
tm=$(echo "$tm" | head -3) rc=$(echo "$rc" | head -3)   # runc 1.1 leaves out a hybrid host's unified
same_as_runc "cgroup view"

# ---- cpuset, blkio, hugetlb ----
if [ "$(nproc)" -ge 2 ]; then
    bundle cpuset '.linux.resources.cpu = {cpus: "1"}' 'grep Cpus_allowed_list /proc/self/status'
    both cpuset
    expect_eq "cpu.cpus 1: Cpus_allowed_list 1" "$(echo "$tm" | tr -d '\t ')" "Cpus_allowed_list:1"
    same_as_runc "cpuset"
else
    skip "cpu.cpus 1" "one cpu"
fi

disk=$(awk 'NR > 2 && $4 !~ /[0-9]$/ && $1 != 253 {print $1 ":" $2; exit}' /proc/partitions)
maj=${disk%:*} min=${disk#*:}
bundle blkio "$nocgns | .linux.resources.blockIO = {throttleReadBpsDevice: [{major: $maj, minor: $min, rate: 1048576}],
                                                   throttleWriteIOPSDevice: [{major: $maj, minor: $min, rate: 100}]}" \
    'cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device'
both blkio
expect_eq "blockIO throttles land in their files" "$(echo "$tm" | tr '\n' ' ')" "$disk 1048576 $disk 100 "
same_as_runc "blkio throttle"

if [ -e /sys/fs/cgroup/blkio/blkio.weight ] || [ -e /sys/fs/cgroup/blkio/blkio.bfq.weight ]; then
    f=blkio.weight; [ -e /sys/fs/cgroup/blkio/blkio.bfq.weight ] && f=blkio.bfq.weight
    bundle weight "$nocgns | .linux.resources.blockIO = {weight: 300}" "cat /sys/fs/cgroup/blkio/$f"
    both weight
    expect_eq "blockIO weight lands in $f" "$tm" "300"
else
    # no CFQ or BFQ here: both runtimes must refuse, neither may ignore it
    bundle weight '.linux.resources.blockIO = {weight: 300}' 'echo ran'
    both weight
    case $tm in *"blkio.weight"*) ok "blockIO weight without a weight file: refused, naming the file";;
        *) not_ok "blockIO weight without a weight file: refused, naming the file";; esac
    $have_runc && case $rc in *ran*) not_ok "runc refuses it too";; *) ok "runc refuses it too";; esac
fi

v2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
if [ -e /sys/kernel/mm/hugepages/hugepages-2048kB ] && [ -n "$v2" ] && grep -qw hugetlb "$v2/cgroup.controllers"; then
    sub=$( [ "$v2" = /sys/fs/cgroup ] && echo . || echo "$(basename "$v2")")
    bundle huge "$nocgns | .linux.resources.hugepageLimits = [{pageSize: \"2MB\", limit: 4194304}]" \
        "cat /sys/fs/cgroup/$sub/hugetlb.2MB.max 2>/dev/null || cat /sys/fs/cgroup/hugetlb/hugetlb.2MB.limit_in_bytes"
    both huge   # runc 1.1 on a hybrid host: "cannot set hugetlb limit"
    expect_eq "a hugetlb limit lands in its file" "$tm" "4194304"
else
    skip "hugetlb limit" "no 2MB pages or no hugetlb controller"
fi

# ---- refusals, never accept and ignore ----
bundle kmem '.linux.resources.memory = {kernel: 1048576}' 'echo ran'
expect_fail "memory.kernel: refused naming the JSON path" "linux.resources.memory.kernel: not supported" \
    "$TEEMATE" --root "$WORK/tm-root" run --bundle "$WORK/kmem" "h1-kmem-$sfx"
bundle rdma '.linux.resources.rdma = {mlx5_0: {hcaHandles: 3}}' 'echo ran'
expect_fail "rdma: refused naming the JSON path" "linux.resources.rdma: not supported" \
    "$TEEMATE" --root "$WORK/tm-root" run --bundle "$WORK/rdma" "h1-rdma-$sfx"

# ---- nothing left behind ----
left=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "h1-*-$sfx" 2>/dev/null)
expect_eq "no cgroup of these containers is left in any hierarchy" "$left" ""
$have_runc && { for id in $(runc --root "$WORK/runc-root" list -q 2>/dev/null); do
    runc --root "$WORK/runc-root" delete -f "$id"; done; }
finish
