# podman (Debian's) with teemate as its runtime, and beside it with runc:
# the device cgroup under --cap-add MKNOD, the container's own limits read
# inside without a cgroup namespace (podman's default on cgroup v1), and
# --cpuset-cpus and --device-read-bps landing. Needs root and podman.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then skip "podman limits" "needs root"; finish; fi
if ! command -v podman >/dev/null; then skip "podman limits" "podman is not installed"; finish; fi
podman_setup
parent=/teemate-h1-test-$$
image=localhost/teemate-busybox:limits
repo=$PWD
cd "$WORK" || exit 1   # conmon leaves an oom marker in its working directory
"$repo/scripts/make-rootfs.sh" "$WORK/rootfs" "$WORK/rootfs.tar" >/dev/null 2>&1 || { not_ok "busybox rootfs"; finish; }
expect_ok "podman import" "${P[@]}" import "$WORK/rootfs.tar" "$image"
runtimes=("$TEEMATE")
command -v runc >/dev/null && runtimes+=(runc)

# run_both NAME PODMAN-OPTIONS... -- ARGS: $tm and $rc hold each runtime's output.
run_both() {
    local name=$1; shift
    local opts=() rt
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    rc="(runc not installed)"
    for rt in "${runtimes[@]}"; do
        local out
        out=$("${P[@]}" run --rm --runtime "$rt" --network none --cgroup-parent "$parent" "${opts[@]}" \
              "$image" "$@" 2>&1)
        if [ "$rt" = runc ]; then rc=$out; else tm=$out; fi
    done
    echo "# $name: teemate: $(echo "$tm" | tr '\n' '|')" >&2
    echo "# $name: runc:    $(echo "$rc" | tr '\n' '|')" >&2
}
same_as_runc() {
    if [ ${#runtimes[@]} -gt 1 ]; then expect_eq "$1 (as runc)" "$tm" "$rc"; else skip "$1 (as runc)" "runc not installed"; fi
}

run_both mknod --cap-add MKNOD -- sh -c 'mknod /tmp/tty1 c 4 1 && : >/tmp/tty1; echo rc=$?'
expect_eq "podman --cap-add MKNOD: a made /dev/tty1 node cannot be opened" \
    "$tm" "sh: can't create /tmp/tty1: Operation not permitted"
same_as_runc "mknod tty1"

run_both view --memory 20m --pids-limit 33 -- sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes \
    /sys/fs/cgroup/pids/pids.max; for h in /sys/fs/cgroup/*; do find $h -mindepth 1 -type d; done | wc -l'
if [ -d /sys/fs/cgroup/memory ]; then
    expect_eq "podman --memory 20m --pids-limit 33: the container reads its own limits, no other cgroup" \
        "$(echo "$tm" | tr '\n' ' ')" "20971520 33 0 "
    same_as_runc "cgroup view"
else
    skip "own limits under podman" "no v1 memory hierarchy"
fi

if [ "$(nproc)" -ge 2 ]; then
    run_both cpuset --cpuset-cpus 1 -- grep Cpus_allowed_list /proc/self/status
    expect_eq "podman --cpuset-cpus 1: Cpus_allowed_list 1" "$(echo "$tm" | tr -d '\t ')" "Cpus_allowed_list:1"
    same_as_runc "cpuset"
else
    skip "podman --cpuset-cpus 1" "one cpu"
fi

disk=$(awk 'NR > 2 && $4 !~ /[0-9]$/ && $1 != 253 {print $4; exit}' /proc/partitions)
if [ -n "$disk" ] && [ -e /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ]; then
    run_both bps --device-read-bps "/dev/$disk:1mb" -- cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device
    expect_eq "podman --device-read-bps: the throttle lands" "${tm#* }" "1048576"
    same_as_runc "device-read-bps"
else
    skip "podman --device-read-bps" "no disk or no v1 blkio"
fi

# podman keeps conmon's cgroup beside the containers' libpod-ID ones
left=$(find /sys/fs/cgroup -path "*$parent/libpod-*" -type d 2>/dev/null)
expect_eq "no container cgroup left in any hierarchy" "$left" ""
"${P[@]}" rmi -f "$image" >/dev/null 2>&1
# runc leaves the parent itself (teemate removes empty parents): ours to clean
find /sys/fs/cgroup -depth -path "*$parent*" -type d -exec rmdir {} + 2>/dev/null
finish
