# The containerd drive and the Kubernetes recipe of issue 14. deploy/'s
# manifests parse and agree with its containerd config (and the README's
# copies), which containerd's config dump reads. Then containerd (Debian's
# 1.6) of the test's own (private root, state and socket) runs an image that
# podman built from the tree's busybox rootfs (`podman import`, `podman
# save`, `ctr images import`), through its runc v2 shim with Debian's runc
# and with teemate as the runtime binary, the same cases for both, each line
# naming the runtime: run, exit codes, a --memory-limit OOM, task exec with
# and without a tty, pause/resume, ps, kill, delete. For teemate, the pod of
# deploy/pod-shared-enclave.yaml as containerd's CRI would hand it over: its
# sandbox stays plain, its two containers share an enclave of the test's own
# teemated. At the end nothing is left: containers, tasks, snapshots,
# images, runtime state, cgroups, shims.
# Needs root, containerd, ctr, the runc shim, podman and busybox.
. "$(dirname "$0")/lib.sh"

# ---- deploy/: the manifests parse and agree with the containerd config ----
if python3 -c 'import yaml' 2>/dev/null; then
    out=$(python3 - deploy <<'EOF' 2>&1
import fnmatch, glob, sys, tomllib, yaml
d = sys.argv[1]
docs = {}
for path in sorted(glob.glob(d + "/*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        docs[doc["kind"]] = doc
toml = tomllib.load(open(d + "/containerd-teemate.toml", "rb"))
runtimes = toml["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
rc, pod = docs["RuntimeClass"], docs["Pod"]
handler = runtimes[rc["handler"]]
annotations = pod["metadata"]["annotations"]
print(rc["apiVersion"], rc["handler"], handler["runtime_type"], handler["options"]["BinaryName"],
      pod["apiVersion"], pod["spec"]["runtimeClassName"] == rc["metadata"]["name"],
      "org.teemate.enclave" in annotations,
      all(any(fnmatch.fnmatch(k, p) for p in handler["pod_annotations"]) for k in annotations),
      len(pod["spec"]["containers"]))
EOF
)
    expect_eq "deploy/*.yaml parse; the class names the toml's handler, the pod the class; its annotations pass pod_annotations" \
        "$out" "node.k8s.io/v1 teemate io.containerd.runc.v2 /usr/local/bin/teemate v1 True True True 2"
    # The README's Kubernetes section shows the same config, class and pod.
    out=$(python3 - README.md deploy <<'EOF' 2>&1
import re, sys, tomllib, yaml
s = open(sys.argv[1]).read()
sec = s[s.index("## Kubernetes (issue 14)"):]
sec = sec[:sec.index("\n## ", 5)]
blocks = dict(re.findall(r"```(toml|yaml)\n(.*?)```", sec, re.S))
d = sys.argv[2]
print(tomllib.loads(blocks["toml"]) == tomllib.load(open(d + "/containerd-teemate.toml", "rb")),
      list(yaml.safe_load_all(blocks["yaml"])) ==
      [yaml.safe_load(open(d + f)) for f in ("/runtimeclass.yaml", "/pod-shared-enclave.yaml")])
EOF
)
    expect_eq "README's Kubernetes section: deploy/'s config, RuntimeClass and pod" "$out" "True True"
else
    skip "deploy/*.yaml parse" "python3-yaml is not installed"
fi
if command -v containerd >/dev/null; then
    # containerd 1.6 reads the toml: typed fields it did not know would be
    # missing from the dump (BinaryName is the runc shim's option).
    mkdir -p "$WORK/dump"
    printf 'version = 2\nroot = "%s"\nstate = "%s"\nimports = ["%s"]\n' "$WORK/dump/root" "$WORK/dump/state" \
        "$PWD/deploy/containerd-teemate.toml" >"$WORK/dump/config.toml"
    containerd --config "$WORK/dump/config.toml" config dump 2>&1 |
        sed -n '/runtimes\.teemate\]/,/^$/p; /runtimes\.teemate\.options\]/,/^$/p' |
        grep -E '^ *(runtime_type|pod_annotations|container_annotations|BinaryName|SystemdCgroup) =' |
        tr -s ' ' >"$WORK/dump/dump"
    expect_eq "containerd config dump, deploy/containerd-teemate.toml imported: the teemate runtime" \
        "$(cat "$WORK/dump/dump")" ' container_annotations = ["org.teemate.*"]
 pod_annotations = ["org.teemate.*"]
 runtime_type = "io.containerd.runc.v2"
 BinaryName = "/usr/local/bin/teemate"
 SystemdCgroup = false'
fi

name="ctr drive"
if [ "$(id -u)" -ne 0 ]; then skip "$name" "needs root"; finish; fi
for tool in containerd ctr containerd-shim-runc-v2 podman busybox script; do
    command -v $tool >/dev/null || { skip "$name" "$tool is not installed"; finish; }
done
repo=$PWD
hello=$repo/$BUILD/examples/hello.elf
ns=teemate-k-$$ img=localhost/teemate-k-busybox:drive-$$ enclave=
# teemate, started by the shim that containerd starts, inherits these: the
# enclave container's init finds the test's teemated through them.
export TEEMATE_STATE_DIR=$WORK/teemate-state TEEMATE_SOCKET=$WORK/teemated/teemated.sock
dpid= evpid=
cleanup() {
    [ -n "$evpid" ] && kill "$evpid" 2>/dev/null && wait "$evpid" 2>/dev/null
    [ -n "$enclave" ] && "$TEEMATE" enclave rm --force "$enclave" >/dev/null 2>&1
    ctrd_stop "$img"
    [ -n "$dpid" ] && stop_daemon
    [ -n "${P:-}" ] && "${P[@]}" rmi -f "$img" >/dev/null 2>&1
    rmdir /sys/fs/cgroup/*/"$ns" 2>/dev/null
}
trap cleanup EXIT
start_daemon
if ! ctrd_start "$ns"; then skip "$name" "containerd did not start: $ctrd_error"; finish; fi

# ---- the image: podman from the busybox rootfs, saved, imported by ctr ----
podman_setup
cd "$WORK" || exit 1          # conmon's leftovers, were it run
"$repo/scripts/make-rootfs.sh" "$WORK/rootfs" "$WORK/rootfs.tar" || { not_ok "busybox rootfs"; finish; }
expect_ok "podman import of the busybox rootfs" "${P[@]}" import \
    --change 'ENV PATH=/bin' --change 'CMD ["sh"]' "$WORK/rootfs.tar" "$img"
expect_ok "podman save --format docker-archive" "${P[@]}" save --format docker-archive -o "$WORK/image.tar" "$img"
expect_ok "ctr images import" "${C[@]}" images import "$WORK/image.tar"
expect_eq "ctr images ls: the podman-built image" "$("${C[@]}" images ls -q)" "$img"

# Every event of the namespace, to see the shim's OOM notification.
"${C[@]}" events >"$WORK/events" 2>&1 &
evpid=$!

# ctr_run ARGS...: ctr run with the runtime under test (rt), its own state
# root and FIFO directory.
ctr_run() { "${C[@]}" run --runc-binary "$rt" --runc-root "$D/runtime-root" --fifo-dir "$D/fifo" "$@"; }
# ctr_exec [-t] ID EXEC-ID ARGS...: ctr task exec; with -t under script(1),
# which gives ctr the terminal it needs for --tty.
ctr_exec() {
    if [ "$1" = -t ]; then
        shift
        local cmd; cmd=$(printf '%q ' "${C[@]}" task exec --fifo-dir "$D/fifo" --tty --exec-id "$2" "$1" "${@:3}")
        script -qec "$cmd" /dev/null </dev/null
    else
        "${C[@]}" task exec --fifo-dir "$D/fifo" --exec-id "$2" "$1" "${@:3}"
    fi
}
task_status() { "${C[@]}" task ls | awk -v t="$1" '$1 == t { print $3 }'; }
task_pid() { "${C[@]}" task ls | awk -v t="$1" '$1 == t { print $2 }'; }
# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() { local n=$(($1 * 10)); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done; return 1; }
status_is() { [ "$(task_status "$1")" = "$2" ]; }

# drive: every case for the runtime in rt, "(NAME)" in every line.
drive() {
    local n=$1 id=k-$1-$$
    local out rc

    # run, exit codes
    out=$(ctr_run --rm "$img" "$id-run" echo hello from ctr 2>&1)
    expect_eq "ctr run: the container's output ($n)" "$out" "hello from ctr"
    ctr_run --rm "$img" "$id-exit" sh -c 'exit 3' >/dev/null 2>&1
    expect_eq "ctr run: sh -c 'exit 3' exits 3 ($n)" "$?" 3

    # --memory-limit: an allocation past it is OOM-killed; one below it runs.
    ctr_run --rm --memory-limit $((16 << 20)) "$img" "$id-oom" \
        dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null 2>&1
    expect_eq "ctr run --memory-limit 16 MiB: a 64 MiB allocation is killed, 137 ($n)" "$?" 137
    ctr_run --rm --memory-limit $((16 << 20)) "$img" "$id-fits" \
        dd if=/dev/zero of=/dev/null bs=4M count=1 >/dev/null 2>&1
    expect_eq "ctr run --memory-limit 16 MiB: a 4 MiB allocation runs ($n)" "$?" 0
    # The shim reports the OOM: it watches the cgroup from the task's start
    # on (before `ctr run -d` returns), so the allocation waits for /shared/go.
    local shared=$WORK/shared-$n o=$id-oomd
    mkdir -p "$shared"
    ctr_run -d --memory-limit $((16 << 20)) --mount "type=bind,src=$shared,dst=/shared,options=rbind:rw" \
        "$img" "$o" sh -c 'until [ -e /shared/go ]; do usleep 10000; done
                           exec dd if=/dev/zero of=/dev/null bs=64M count=1' >/dev/null 2>&1
    touch "$shared/go"
    wait_for 10 status_is "$o" STOPPED
    out=$("${C[@]}" task delete "$o" 2>&1)
    if echo "$out" | grep -q "task $o exit with non-zero exit code 137"; then
        ok "ctr run -d --memory-limit: the allocation is killed, 137 ($n)"
    else not_ok "ctr run -d --memory-limit: the allocation is killed, 137 ($n)"; echo "  $out" >&2; fi
    "${C[@]}" containers rm "$o"
    if wait_for 5 grep -q "/tasks/oom {\"container_id\":\"$o\"}" "$WORK/events"; then
        ok "ctr events: the shim's /tasks/oom for it ($n)"
    else not_ok "ctr events: the shim's /tasks/oom for it ($n)"; grep "$o" "$WORK/events" | cut -c1-200 | sed 's/^/  | /' >&2; fi

    # A detached task: sh (which notes each SIGUSR1 in the bind-mounted
    # /shared) waiting for a sleep.
    local t=$id-task
    if ! ctr_run -d --mount "type=bind,src=$shared,dst=/shared,options=rbind:rw" "$img" "$t" \
            sh -c 'trap "echo USR1 >>/shared/signals" USR1; sleep 1000 & while :; do wait; done' \
            >"$WORK/out" 2>"$WORK/err"; then
        not_ok "ctr run -d ($n)"; sed 's/^/  | /' "$WORK/err" >&2; return
    fi
    ok "ctr run -d ($n)"
    wait_for 5 status_is "$t" RUNNING
    expect_eq "ctr task ls: RUNNING ($n)" "$(task_status "$t")" RUNNING
    local pid; pid=$(task_pid "$t")

    # task exec, without and with a terminal: output and exit code
    out=$(ctr_exec "$t" e1-$$ sh -c 'echo "exec sees pid 1: $(head -c 2 /proc/1/cmdline)"; exit 5' 2>&1); rc=$?
    expect_eq "ctr task exec: output ($n)" "$out" "exec sees pid 1: sh"
    expect_eq "ctr task exec: exit code 5 ($n)" "$rc" 5
    out=$(ctr_exec -t "$t" e2-$$ sh -c 'tty; [ -t 0 ] && echo stdin is a terminal; exit 4' 2>&1); rc=$?
    if echo "$out" | grep -aq '/dev/pts/[0-9]' && echo "$out" | grep -aq 'stdin is a terminal'; then
        ok "ctr task exec --tty: the process has a terminal ($n)"
    else not_ok "ctr task exec --tty: the process has a terminal ($n)"; echo "$out" | sed 's/^/  | /' >&2; fi
    expect_eq "ctr task exec --tty: exit code 4 ($n)" "$rc" 4

    # task ps: the init and its sleep
    "${C[@]}" task ps "$t" >"$WORK/ps" 2>&1
    local pids; pids=$(sed 1d "$WORK/ps" | awk '{ print $1 }' | tr '\n' ' ')
    local cmds; cmds=$(for p in $pids; do tr '\0' ' ' <"/proc/$p/cmdline" | cut -d' ' -f1-2; done | sort | tr '\n' ,)
    # (in cgroup.procs order: sorted on v1, so init is not first once pids wrapped)
    expect_eq "ctr task ps: the task's pid among them ($n)" "$(echo " $pids" | grep -c " $pid ")" 1
    expect_eq "ctr task ps: its processes are sh and sleep 1000 ($n)" "$cmds" "sh -c,sleep 1000,"

    # pause / resume
    expect_ok "ctr task pause ($n)" "${C[@]}" task pause "$t"
    expect_eq "ctr task ls: PAUSED ($n)" "$(task_status "$t")" PAUSED
    expect_ok "ctr task resume ($n)" "${C[@]}" task resume "$t"
    expect_eq "ctr task ls: RUNNING again ($n)" "$(task_status "$t")" RUNNING

    # kill: a signal the process handles reaches it; KILL stops the task
    expect_ok "ctr task kill -s SIGUSR1 ($n)" "${C[@]}" task kill -s SIGUSR1 "$t"
    wait_for 5 grep -q USR1 "$shared/signals" 2>/dev/null
    expect_eq "the container's sh caught SIGUSR1 ($n)" "$(cat "$shared/signals" 2>/dev/null)" USR1
    expect_eq "ctr task ls: still RUNNING after it ($n)" "$(task_status "$t")" RUNNING
    expect_ok "ctr task kill -s SIGKILL ($n)" "${C[@]}" task kill -s SIGKILL "$t"
    wait_for 10 status_is "$t" STOPPED
    expect_eq "ctr task ls: STOPPED ($n)" "$(task_status "$t")" STOPPED

    # task delete: the exit status reported, the task gone, then the container
    out=$("${C[@]}" task delete "$t" 2>&1); rc=$?
    if [ $rc -eq 0 ] && echo "$out" | grep -q "task $t exit with non-zero exit code 137"; then
        ok "ctr task delete: exit code 137 ($n)"
    else not_ok "ctr task delete: exit code 137 ($n)"; echo "  rc=$rc: $out" >&2; fi
    expect_eq "ctr task ls: the task is gone ($n)" "$("${C[@]}" task ls -q | grep -cx "$t")" 0
    expect_ok "ctr containers rm ($n)" "${C[@]}" containers rm "$t"
    expect_eq "no runtime state of it ($n)" "$(ls "$D/runtime-root/$ns" 2>/dev/null)" ""
}

for rt in /usr/sbin/runc "$TEEMATE"; do
    if [ ! -x "$rt" ]; then skip "ctr drive with $rt" "not installed"; continue; fi
    drive "$(basename "$rt")"
done

# ---- teemate: deploy/pod-shared-enclave.yaml's pod as containerd's CRI would
# run it: the pod's annotations on its sandbox and on each container, which the
# CRI marks with io.kubernetes.cri.container-type ----
rt=$TEEMATE
if [ ! -r "$hello" ]; then skip "the pod's shared enclave under ctr" "$hello is not built"
elif ! python3 -c 'import yaml' 2>/dev/null; then skip "the pod's shared enclave under ctr" "python3-yaml is not installed"
else
    python3 - "$repo/deploy/pod-shared-enclave.yaml" >"$WORK/pod.sh" <<'EOF'
import shlex, sys, yaml
pod = yaml.safe_load(open(sys.argv[1]))
a = pod["metadata"]["annotations"]
q = lambda xs: " ".join(shlex.quote(x) for x in xs)
print("pod_enclave=" + shlex.quote(a["org.teemate.enclave"]))
print("pod_annotations=(" + q(x for k, v in a.items() for x in ("--annotation", f"{k}={v}")) + ")")
print("pod_containers=" + str(len(pod["spec"]["containers"])))
for i, c in enumerate(pod["spec"]["containers"]):
    print(f"pod_args_{i}=(" + q(c.get("command", []) + c.get("args", [])) + ")")
EOF
    . "$WORK/pod.sh"
    enclave=$pod_enclave       # in the test's own teemated only
    if ! "$TEEMATE" enclave create "$enclave" --image "$hello" >"$WORK/out" 2>"$WORK/err"; then
        not_ok "teemate enclave create $enclave (the pod's)"; sed 's/^/  | /' "$WORK/err" >&2
    else
        # The sandbox, a sleep in the pause process's place: a plain container.
        sb=k-sandbox-$$
        expect_ok "the pod's sandbox: ctr run -d with the pod's annotations (teemate)" ctr_run -d \
            "${pod_annotations[@]}" --annotation io.kubernetes.cri.container-type=sandbox "$img" "$sb" sleep 1000
        wait_for 5 status_is "$sb" RUNNING
        expect_eq "the sandbox runs its own process, not the enclave's main (teemate)" \
            "$(tr '\0' ' ' 2>/dev/null <"/proc/$(task_pid "$sb")/cmdline")" "sleep 1000 "
        for i in $(seq 0 $((pod_containers - 1))); do
            declare -n args=pod_args_$i
            out[i]=$(ctr_run --rm "${pod_annotations[@]}" --annotation io.kubernetes.cri.container-type=container \
                "$img" "k-pod$i-$$" "${args[@]}" 2>&1)
        done
        expect_eq "the pod's first container: main runs in the shared enclave (teemate)" "${out[0]}" "hello, first"
        expect_eq "the second shares the enclave's global heap, its slot its own (teemate)" \
            "${out[1]%, slot *}" "shared runs 2, slot runs 1"
        "${C[@]}" task kill -s SIGKILL "$sb" >/dev/null 2>&1; wait_for 10 status_is "$sb" STOPPED
        "${C[@]}" task delete "$sb" >/dev/null 2>&1
        expect_ok "ctr containers rm of the sandbox (teemate)" "${C[@]}" containers rm "$sb"
        out=$(ctr_run --rm --annotation org.teemate.enclave=nope-$$ "$img" k-enc-$$ x 2>&1); rc=$?
        if [ $rc -ne 0 ] && echo "$out" | grep -q "no enclave named 'nope-$$'"; then
            ok "ctr shows teemate's error for an unknown enclave (teemate)"
        else not_ok "ctr shows teemate's error for an unknown enclave (teemate)"; echo "  rc=$rc: $out" >&2; fi
        expect_ok "teemate enclave rm" "$TEEMATE" enclave rm "$enclave"
    fi
fi

# ---- nothing left behind ----
kill "$evpid"; wait "$evpid" 2>/dev/null; evpid=
expect_eq "ctr containers ls: none" "$("${C[@]}" containers ls -q)" ""
expect_eq "ctr task ls: none" "$("${C[@]}" task ls -q)" ""
expect_ok "ctr images rm --sync (its content and snapshots collected)" "${C[@]}" images rm --sync "$img"
expect_eq "ctr images ls: none" "$("${C[@]}" images ls -q)" ""
expect_eq "ctr snapshots ls: none" "$("${C[@]}" snapshots ls | sed 1d)" ""
expect_eq "no runtime state left" "$(ls -A "$D/runtime-root/$ns" 2>/dev/null)" ""
expect_eq "no container cgroup left under /$ns" \
    "$(find /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns" -mindepth 1 -type d 2>/dev/null)" ""
wait_for 5 sh -c '! pgrep -f -- "-namespace $0 " >/dev/null' "$ns"
expect_eq "no shim of the namespace left" "$(pgrep -f -- "-namespace $ns " | tr '\n' ' ')" ""
finish
