# Shared helpers for the CLI tests. Each check prints one line the runner counts.
# TEEMATE, BUILD and WORK are set by tests/run.sh.
set -u
failures=0

ok()      { echo "ok - $1"; }
not_ok()  { echo "not ok - $1"; failures=$((failures + 1)); }
skip()    { echo "skip - $1: $2"; }

# expect_ok NAME CMD...: the command exits 0.
expect_ok() {
    local name=$1; shift
    if "$@" >"$WORK/out" 2>"$WORK/err"; then ok "$name"; else
        not_ok "$name"; echo "  command: $*" >&2; sed 's/^/  | /' "$WORK/err" >&2; fi
}

# expect_fail NAME PATTERN CMD...: exits non-zero with one error line matching PATTERN,
# and was not killed by a signal (no crash).
expect_fail() {
    local name=$1 pattern=$2; shift 2
    "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?
    if [ $rc -eq 0 ]; then not_ok "$name"; echo "  unexpected success: $*" >&2; return; fi
    if [ $rc -ge 128 ]; then not_ok "$name"; echo "  crashed (rc=$rc): $*" >&2; sed 's/^/  | /' "$WORK/err" >&2; return; fi
    if ! grep -qE -- "$pattern" "$WORK/err"; then
        not_ok "$name"; echo "  stderr does not match /$pattern/:" >&2; sed 's/^/  | /' "$WORK/err" >&2; return; fi
    if [ "$(wc -l <"$WORK/err")" -ne 1 ]; then
        not_ok "$name"; echo "  expected a one-line error, got:" >&2; sed 's/^/  | /' "$WORK/err" >&2; return; fi
    ok "$name"
}

# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "  got '$2', expected '$3'" >&2; fi
}

# fn_setup NAME: a function test's state and socket under $WORK (exported);
# skips NAME and exits when the functions image is not built.
fn_setup() {
    export TEEMATE_STATE_DIR=$WORK/state
    export TEEMATE_SOCKET=$WORK/run/teemated.sock
    image=$(dirname "$TEEMATE")/apps/functions/fn.elf
    if [ ! -r "$image" ]; then skip "$1" "$image is not built"; exit 0; fi
}

# podman_setup: the README's podman recipe for this machine (vfs storage,
# cgroupfs, ulimits within the hard limits), storage and state under $WORK;
# sets P (the podman command). conmon leaves files (an "oom" marker) in its
# working directory, so the caller cds into $WORK after it.
podman_setup() {
    cat >"$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    export CONTAINERS_CONF=$WORK/containers.conf
    P=(podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs --cgroup-manager cgroupfs)
}

# start_daemon [OPTIONS]: teemated (TEEMATE_SOCKET, TEEMATE_STATE_DIR) in the
# foreground as a job, its pid in dpid; returns once it listens (it reports
# on a FIFO: no polling). stop_daemon: stop it, its exit status.
start_daemon() {
    rm -f "$WORK/ready"; mkfifo "$WORK/ready"
    "$TEEMATE" daemon --foreground --ready-fd 3 "$@" 3>"$WORK/ready" 2>>"$WORK/daemon.log" &
    dpid=$!
    local report; read -r report <"$WORK/ready"
    case $report in R*) ;; *) echo "  daemon did not start: $report" >&2 ;; esac
}
stop_daemon() { kill "$dpid" 2>/dev/null; wait "$dpid"; local rc=$?; dpid=; return $rc; }

# ctrd_start NS: a containerd (Debian's 1.6) of its own for ctr run, root,
# state and socket in D=$WORK/ctrd; sets sock, cpid and C (ctr in namespace
# NS). Only what ctr run needs: no CRI, no /opt plugin dir, no snapshotters of
# other filesystems. Returns 1 when it does not answer (its log's last line
# in ctrd_error). ctrd_stop [IMAGE...]: remove NS's containers and IMAGEs, stop it.
ctrd_start() {
    D=$WORK/ctrd sock=$WORK/ctrd/c.sock
    mkdir -p "$D"
    cat >"$D/config.toml" <<CONF
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
CONF
    containerd --config "$D/config.toml" >"$D/containerd.log" 2>&1 &
    cpid=$!
    C=(ctr --address "$sock" --namespace "$1")
    for _ in $(seq 100); do "${C[@]}" version >/dev/null 2>&1 && return 0; sleep 0.1; done
    ctrd_error=$(tail -1 "$D/containerd.log")
    return 1
}
ctrd_stop() {
    [ -n "${cpid:-}" ] || return 0
    for id in $("${C[@]}" containers ls -q 2>/dev/null); do
        "${C[@]}" tasks kill --signal SIGKILL "$id" >/dev/null 2>&1
        "${C[@]}" tasks delete --force "$id" >/dev/null 2>&1
        "${C[@]}" containers rm "$id" >/dev/null 2>&1
    done
    for image in "$@"; do "${C[@]}" images rm "$image" >/dev/null 2>&1; done
    kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null; cpid=
}

finish() { [ "$failures" -eq 0 ]; exit $?; }

# oci_runtimes: runtimes=(teemate [runc]) for a test that runs each step with
# both, each under --root $WORK/root-NAME; oci_delete_all: force-delete what
# either left there.
oci_runtimes() {
    runtimes=("$TEEMATE")
    if command -v runc >/dev/null; then runtimes+=("$(command -v runc)")
    else skip "runc beside teemate" "runc is not installed"; fi
}
oci_delete_all() {
    local rt id
    for rt in "${runtimes[@]}"; do
        for id in $("$rt" --root "$WORK/root-$(basename "$rt")" list -q 2>/dev/null); do
            "$rt" --root "$WORK/root-$(basename "$rt")" delete --force "$id"; done
    done
}

# docker_archive LAYER_TAR OUT TAG CONFIG: a docker-archive image for `ctr
# images import` (manifest.json, the image config whose "config" is the JSON
# CONFIG, one layer), so nothing is pulled.
docker_archive() {
    python3 - "$@" <<'PYEOF'
import hashlib, io, json, sys, tarfile
layer_path, out, tag, cfg = sys.argv[1:5]
layer = open(layer_path, "rb").read()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": json.loads(cfg),
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": name, "RepoTags": [tag], "Layers": ["layer/layer.tar"]}]).encode()
with tarfile.open(out, "w") as t:
    for n, data in ((name, config), ("layer/layer.tar", layer), ("manifest.json", manifest)):
        info = tarfile.TarInfo(n)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PYEOF
}
