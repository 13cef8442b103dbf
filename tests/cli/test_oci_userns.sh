# User namespaces (issue 14, point 4): config.json's `user` namespace with
# linux.uidMappings/gidMappings 0 -> 100000 (65536 ids), teemate and Debian's
# runc side by side on the same bundles (busybox rootfs, `teemate spec`):
# the container's view (id, uid_map, gid_map), the host's view of its process
# and of a file it makes, a host root-only file it cannot read, exec.fifo
# given to the mapped root, joining a user namespace by path; the bad
# inputs with runc's errors and nothing left behind; `podman run --uidmap`.
# Needs root, busybox and runc.
. "$(dirname "$0")/lib.sh"

need=
[ "$(id -u)" -eq 0 ] || need="needs root"
[ -n "$need" ] || command -v busybox >/dev/null || need="needs busybox (Debian busybox-static)"
[ -n "$need" ] || command -v runc >/dev/null || need="needs Debian's runc for the comparison"
[ -n "$need" ] || [ -e /proc/self/ns/user ] || need="the kernel has no user namespaces"
if [ -n "$need" ]; then skip "user namespaces" "$need"; finish; fi

json_field() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
tag=U-$$
cgparent=/teemate-$tag
b=$WORK/box
"$(dirname "$0")/../../scripts/make-rootfs.sh" "$b/rootfs"
mkdir -p "$WORK/spec" && "$TEEMATE" spec -b "$WORK/spec"
# The mapped root must get to the rootfs and the bind sources: mktemp's 0700 is not for it.
chmod 0755 "$WORK"
# Nor can it make mount points in the host-owned rootfs (neither runtime does).
mkdir "$b/rootfs/shared" && touch "$b/rootfs/secret"
mkdir -p "$WORK/shared" "$WORK/secret"
chown 100000:100000 "$WORK/shared"
echo "host secret" >"$WORK/secret/file"
chmod 0600 "$WORK/secret/file"

# bundle DIR MODE CGROUP CMD: DIR/config.json from teemate's default spec,
# running sh -c CMD in cgroup CGROUP, with MODE's namespaces and mappings:
#   map       user namespace, 0 -> 100000 (65536) for uids and gids
#   join:P    join the user and pid namespaces of pid P, mappings as map
#   join-newpid:P   join P's user namespace with a new pid namespace
#   hostnet   map, in the host's network namespace (sysfs then bound)
#   nouser    mappings without a user namespace
#   nomap     a user namespace without mappings
#   nogid     no gidMappings      noroot   uid 0 not mapped (size 0)
#   overlap   two uid ranges that overlap inside (the kernel refuses)
#   badsize   "size": "x"        neghost  "hostID": -1
bundle() {
    mkdir -p "$1"
    python3 - "$WORK/spec/config.json" "$@" <<'EOF'
import json, sys
src, out, mode, cgroup, cmd = sys.argv[1:6]
c = json.load(open(src))
c["root"] = {"path": sys.argv[6], "readonly": False}
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", cmd]
c["linux"]["cgroupsPath"] = cgroup
ns = c["linux"]["namespaces"]
m = [{"containerID": 0, "hostID": 100000, "size": 65536}]
kind, _, pid = mode.partition(":")
if kind not in ("nouser",):
    ns.append({"type": "user"})
if kind == "hostnet":
    ns[:] = [n for n in ns if n["type"] != "network"]
if kind.startswith("join"):
    ns[-1]["path"] = "/proc/%s/ns/user" % pid
    if kind == "join":
        for n in ns:
            if n["type"] == "pid":
                n["path"] = "/proc/%s/ns/pid" % pid
if kind != "nomap":
    c["linux"]["uidMappings"] = m
    c["linux"]["gidMappings"] = list(m)
l = c["linux"]
if kind == "nogid": del l["gidMappings"]
if kind == "noroot": l["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 0}]
if kind == "overlap": l["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 10},
                                          {"containerID": 5, "hostID": 200000, "size": 10}]
if kind == "badsize": l["uidMappings"][0]["size"] = "x"
if kind == "neghost": l["uidMappings"][0]["hostID"] = -1
c["mounts"] += [
    {"destination": "/shared", "type": "bind", "source": sys.argv[7], "options": ["rbind", "rw"]},
    {"destination": "/secret", "type": "bind", "source": sys.argv[8], "options": ["rbind", "ro"]},
]
json.dump(c, open(out + "/config.json", "w"), indent=2)
EOF
}
mkb() { bundle "$1" "$2" "$3" "$4" "$b/rootfs" "$WORK/shared" "$WORK/secret/file"; }

# rt NAME ARGS...: teemate or runc, each with a state root of its own.
rt() {
    local name=$1; shift
    case $name in
        teemate) "$TEEMATE" --root "$WORK/root-teemate" "$@" ;;
        runc) runc --root "$WORK/root-runc" "$@" ;;
    esac
}
# cgroup_gone PATH: no hierarchy has PATH any more.
cgroup_gone() {
    local d
    for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do [ -d "$d${1#/}" ] && return 1; done
    return 0
}
cleanup() {
    for r in teemate runc; do
        for id in $(rt $r list -q 2>/dev/null); do rt $r delete --force "$id" >/dev/null 2>&1; done
    done
    for d in /sys/fs/cgroup/*/teemate-$tag /sys/fs/cgroup/teemate-$tag; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
}
trap cleanup EXIT

# ---- the container's view and the host's ----
for r in teemate runc; do
    id=view-$tag
    mkb "$WORK/b-$r" map "$cgparent/$r-$id" \
        "id; cat /proc/self/uid_map /proc/self/gid_map; touch /shared/by-$r; cat /secret >/dev/null 2>&1 && echo read || echo denied"
    out=$(rt $r run -b "$WORK/b-$r" "$id" </dev/null 2>"$WORK/err"); rc=$?
    expect_eq "$r: run in a user namespace exits 0" "$rc" 0
    [ $rc -eq 0 ] || sed 's/^/  | /' "$WORK/err" >&2
    expect_eq "$r: id in the container says root" "$(echo "$out" | sed -n 1p)" "uid=0(root) gid=0(root)"
    expect_eq "$r: /proc/self/uid_map and gid_map show 0 100000 65536" \
        "$(echo "$out" | sed -n '2,3p' | tr -s ' ' | sed 's/^ //' | tr '\n' ';')" "0 100000 65536;0 100000 65536;"
    expect_eq "$r: a file made in a bind-mounted host dir is 100000's on the host" \
        "$(stat -c %u:%g "$WORK/shared/by-$r" 2>&1)" "100000:100000"
    expect_eq "$r: a host root-only 0600 file bound in cannot be read" "$(echo "$out" | sed -n 4p)" "denied"
    rt $r delete "$id" >/dev/null 2>&1
    cgroup_gone "$cgparent/$r-$id" && ok "$r: the cgroup is gone after delete" \
        || not_ok "$r: the cgroup is gone after delete"

    # No network namespace of its own: sysfs cannot be mounted there. teemate
    # binds the host's /sys; Debian's runc fails (podman writes that bind
    # into config.json itself, as the podman case below shows).
    mkb "$WORK/b-$r" hostnet "$cgparent/$r-$id" \
        "id -u; awk '\$5 == \"/sys\" {print \$(NF - 2)}' /proc/self/mountinfo; test -d /sys/class/net/lo && echo lo"
    out=$(rt $r run -b "$WORK/b-$r" "$id" </dev/null 2>"$WORK/err"); rc=$?
    if [ $r = teemate ]; then
        expect_eq "teemate: in the host's network namespace, /sys is the host's sysfs, bound" \
            "$rc $(echo "$out" | tr '\n' ' ')" "0 0 sysfs lo "
        [ $rc -eq 0 ] || sed 's/^/  | /' "$WORK/err" >&2
    else
        grep -q 'mount sysfs.*operation not permitted' "$WORK/err" \
            && ok "runc: in the host's network namespace, a sysfs mount is refused (EPERM)" \
            || { not_ok "runc: in the host's network namespace, a sysfs mount is refused (EPERM)"; sed 's/^/  | /' "$WORK/err" >&2; }
    fi
    rt $r delete --force "$id" >/dev/null 2>&1
    cgroup_gone "$cgparent/$r-$id" || not_ok "$r: the host-network container's cgroup is left"

    # create, then the host's view of init (waiting for start), then start.
    id=life-$tag
    mkb "$WORK/b-$r" map "$cgparent/$r-$id" "sleep 60"
    expect_ok "$r: create in a user namespace" rt $r create -b "$WORK/b-$r" "$id"
    pid=$(rt $r state "$id" | json_field 'd["pid"]')
    expect_eq "$r: exec.fifo is given to the mapped root" \
        "$(stat -c %u:%g "$WORK/root-$r/$id/exec.fifo" 2>&1)" "100000:100000"
    # runc 1.1 chowns no cgroup (only 1.2, on v2 with systemd): root's here too
    d=$(ls -d /sys/fs/cgroup/pids"$cgparent/$r-$id" /sys/fs/cgroup"$cgparent/$r-$id" 2>/dev/null | head -1)
    expect_eq "$r: the cgroup stays the host root's" "$(stat -c %u "${d:-/nonexistent}" 2>&1)" "0"
    expect_ok "$r: start" rt $r start "$id"
    for _ in $(seq 50); do grep -q sleep "/proc/$pid/cmdline" 2>/dev/null && break; sleep 0.1; done
    expect_eq "$r: the host sees the container's process as uid and gid 100000" \
        "$(grep -E '^(Uid|Gid):' "/proc/$pid/status" | awk '{print $2, $3, $4, $5}' | tr '\n' ';')" \
        "100000 100000 100000 100000;100000 100000 100000 100000;"

    # a second container joins the first one's user and pid namespaces
    id2=join-$tag
    mkb "$WORK/b-$r-join" "join:$pid" "$cgparent/$r-$id2" \
        "id -u; cat /proc/self/uid_map; touch /shared/join-$r"
    out=$(rt $r run -b "$WORK/b-$r-join" "$id2" </dev/null 2>"$WORK/err"); rc=$?
    expect_eq "$r: a container joining that user namespace by path runs as its root" \
        "$rc $(echo "$out" | tr -s ' \n' ' ')" "0 0 0 100000 65536 "
    [ $rc -eq 0 ] || sed 's/^/  | /' "$WORK/err" >&2
    expect_eq "$r: and its files are 100000's on the host" "$(stat -c %u "$WORK/shared/join-$r" 2>&1)" "100000"
    rt $r delete --force "$id2" >/dev/null 2>&1
    expect_ok "$r: kill" rt $r kill "$id" KILL
    for _ in $(seq 50); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
    expect_ok "$r: delete" rt $r delete --force "$id"
    cgroup_gone "$cgparent/$r-$id" && ok "$r: no cgroup left" || not_ok "$r: no cgroup left"
done

# ---- bad input: runc's errors, and nothing left behind ----
# bad MODE PATTERN [RUNC_PATTERN]: create fails with PATTERN (both runtimes,
# or runc with its own RUNC_PATTERN; "-": runc accepts it), leaving no state,
# cgroup or process.
bad() {
    local mode=$1 pattern=$2 runc_pattern=${3:-$2} r p
    for r in teemate runc; do
        local id=bad-$tag cg=$cgparent/$r-bad
        mkb "$WORK/bad-$r" "$mode" "$cg" "sleep 60"
        p=$pattern; [ $r = runc ] && p=$runc_pattern
        if [ "$p" = - ]; then
            rt $r create -b "$WORK/bad-$r" "$id" >/dev/null 2>&1 && ok "$r: $mode is accepted (Debian's runc 1.1.5)" \
                || not_ok "$r: $mode is accepted (Debian's runc 1.1.5)"
            rt $r delete --force "$id" >/dev/null 2>&1
            continue
        fi
        rt $r create -b "$WORK/bad-$r" "$id" >"$WORK/out" 2>"$WORK/err" </dev/null; local rc=$?
        if [ $rc -ne 0 ] && grep -qE -- "$p" "$WORK/err"; then ok "$r: $mode: $(sed 's/.*msg="//; s/"$//' "$WORK/err" | tail -1)"
        else not_ok "$r: $mode fails with /$p/"; echo "  rc=$rc" >&2; sed 's/^/  | /' "$WORK/err" >&2; fi
        local left=
        [ -z "$(rt $r list -q 2>/dev/null)" ] || left="state "
        [ -e "$WORK/root-$r/$id" ] && left="${left}state-dir "
        cgroup_gone "$cg" || left="${left}cgroup "
        # nothing of ours runs as the mapped root any more
        [ -z "$(ps -o pid= -u 100000 2>/dev/null)" ] || left="${left}process "
        expect_eq "$r: $mode leaves nothing behind" "$left" ""
        rt $r delete --force "$id" >/dev/null 2>&1
    done
}
bad nomap "User namespaces enabled, but no uid mappings found\.(\"|$)"
bad nogid "User namespaces enabled, but no gid mappings found\.(\"|$)"
bad noroot "User namespaces enabled, but no user mapping found\.(\"|$)"
bad overlap "failed to update /proc/[0-9]+/uid_map: Invalid argument"
# Debian's runc drops mappings without a user namespace and runs the
# container as the host's root; teemate refuses with runc 1.1's validator text.
bad nouser "^teemate: .*User namespace mappings specified, but USER namespace isn't enabled in the config$" -
# JSON of the wrong type: each runtime's own wording of the field.
bad badsize "linux\.uidMappings\[0\]\.size: expected an integer$" \
    "cannot unmarshal string into Go struct field LinuxIDMapping.linux.uidMappings.size of type uint32"
bad neghost "linux\.uidMappings\[0\]\.hostID: -1 is out of range" \
    "cannot unmarshal number -1 into Go struct field LinuxIDMapping.linux.uidMappings.hostID of type uint32"

# teemate only: a new pid namespace in a joined user namespace is refused
# before anything is made (runc can make one there; teemate clones init once).
mkb "$WORK/b-newpid" "join-newpid:$$" "$cgparent/teemate-newpid" "true"
expect_fail "teemate: a new pid namespace in a joined user namespace is refused" \
    "a new pid namespace inside a joined user namespace \(/proc/$$/ns/user\) is not supported" \
    rt teemate create -b "$WORK/b-newpid" newpid-$tag
[ -z "$(rt teemate list -q)" ] && cgroup_gone "$cgparent/teemate-newpid" \
    && ok "teemate: that refusal leaves nothing behind" || not_ok "teemate: that refusal leaves nothing behind"

# ---- a container of a shared enclave in a user namespace (teemate only) ----
# init attaches while still the host's root (teemated's socket is root's),
# then becomes the namespace's root; main runs there.
image=$(dirname "$TEEMATE")/examples/hello.elf
if [ -r "$image" ]; then
    export TEEMATE_STATE_DIR=$WORK/state TEEMATE_SOCKET=$WORK/run/teemated.sock
    mkdir -p "$WORK/run"
    start_daemon
    if "$TEEMATE" enclave create "hello-$tag" --image "$image" >/dev/null 2>"$WORK/err"; then
        mkb "$WORK/b-enclave" map "$cgparent/teemate-enclave" "unused"
        python3 - "$WORK/b-enclave/config.json" "hello-$tag" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["hello", "userns"]
c["annotations"] = {"org.teemate.enclave": sys.argv[2]}
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
        out=$(rt teemate run -b "$WORK/b-enclave" enclave-$tag </dev/null 2>"$WORK/err"); rc=$?
        expect_eq "teemate: an enclave container in a user namespace runs main in the shared enclave" "$rc $out" \
            "0 hello, userns"
        [ $rc -eq 0 ] || sed 's/^/  | /' "$WORK/err" >&2
        rt teemate delete --force enclave-$tag >/dev/null 2>&1
        "$TEEMATE" enclave rm --force "hello-$tag" >/dev/null 2>&1
    else
        not_ok "enclave create for the user namespace case"; sed 's/^/  | /' "$WORK/err" >&2
    fi
    stop_daemon
    unset TEEMATE_STATE_DIR TEEMATE_SOCKET
else
    skip "an enclave container in a user namespace" "$image is not built"
fi

# ---- features ----
"$TEEMATE" features | json_field '"user" in d["linux"]["namespaces"]' | grep -qx True \
    && ok "features lists the user namespace" || not_ok "features lists the user namespace"

# ---- podman run --uidmap / --userns ----
if ! command -v podman >/dev/null; then skip "podman run --uidmap" "podman is not installed"; finish; fi
podman_setup
cd "$WORK" || exit 1
tar -C "$b/rootfs" -cf "$WORK/rootfs.tar" .
"${P[@]}" import "$WORK/rootfs.tar" localhost/teemate-userns:$tag >/dev/null 2>"$WORK/err" \
    || { not_ok "podman import"; sed 's/^/  | /' "$WORK/err" >&2; finish; }
for runtime in /usr/sbin/runc "$TEEMATE"; do
    r=$(basename "$runtime")
    out=$("${P[@]}" run --rm --runtime "$runtime" --network none --uidmap 0:100000:65536 --gidmap 0:100000:65536 \
        localhost/teemate-userns:$tag sh -c 'id; cat /proc/self/uid_map; stat -c %u:%g /bin/busybox' 2>&1)
    expect_eq "podman run --uidmap 0:100000:65536 --runtime $r: root inside, 100000 outside, image files root's" \
        "$(echo "$out" | tr -s ' \n' ' ')" "uid=0(root) gid=0(root) 0 100000 65536 0:0 "
    out=$("${P[@]}" run --rm -t --runtime "$runtime" --network host --uidmap 0:100000:65536 --gidmap 0:100000:65536 \
        localhost/teemate-userns:$tag sh -c 'tty; id -u; test -d /sys/class && echo sys' </dev/null 2>&1)
    expect_eq "podman run -t --network host --uidmap --runtime $r: a terminal, and the host's /sys bound" \
        "$(echo "$out" | tr -d '\r' | tr '\n' ' ')" "/dev/pts/0 0 sys "
    name=userns-$r-$tag
    "${P[@]}" run -d --name "$name" --runtime "$runtime" --network none --uidmap 0:100000:65536 \
        --gidmap 0:100000:65536 localhost/teemate-userns:$tag sleep 30 >/dev/null 2>"$WORK/err"
    pid=$("${P[@]}" inspect -f '{{.State.Pid}}' "$name" 2>/dev/null)
    expect_eq "podman --uidmap --runtime $r: the host sees uid 100000" \
        "$(awk '/^Uid:/ {print $2}' "/proc/${pid:-0}/status" 2>&1)" "100000"
    expect_ok "podman rm -f ($r)" "${P[@]}" rm -f -t 0 "$name"
done
# --userns=auto takes ranges for the user "containers" from /etc/subuid.
if grep -q '^containers:' /etc/subuid 2>/dev/null; then
    for runtime in /usr/sbin/runc "$TEEMATE"; do
        out=$("${P[@]}" run --rm --runtime "$runtime" --network none --userns=auto localhost/teemate-userns:$tag \
            sh -c 'id -u; awk "{print (\$2 > 0)}" /proc/self/uid_map' 2>&1)
        expect_eq "podman run --userns=auto --runtime $(basename "$runtime")" "$(echo "$out" | tr '\n' ' ')" "0 1 "
    done
else
    skip "podman run --userns=auto" "/etc/subuid has no range for the user \"containers\" (podman needs one)"
fi
"${P[@]}" rmi -f localhost/teemate-userns:$tag >/dev/null 2>&1
finish
