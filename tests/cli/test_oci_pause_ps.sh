# pause, resume, ps and features, for teemate and Debian's runc side by side
# on the same busybox bundle: each runtime goes through the same steps and
# its transcript (exit codes, error texts, statuses) must equal the expected
# one, and teemate's must equal runc's. Then 100 pause/resume cycles (no
# leftovers); ctr task pause/resume/ps/kill through containerd's runc shim, and
# podman pause/unpause/top, both with teemate as the runtime.
# Needs root and busybox; runc and podman where installed.
. "$(dirname "$0")/lib.sh"
json_field() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# ---- without containers ----
expect_ok "features" "$TEEMATE" features
expect_eq "features: runc's document, the fields TeeMate supports" "$(json_field '
    d["ociVersionMin"], d["ociVersionMax"], d["hooks"], "bind" in d["mountOptions"],
    "rprivate" in d["mountOptions"], "tmpcopyup" in d["mountOptions"], d["linux"]["namespaces"],
    "CAP_SYS_ADMIN" in d["linux"]["capabilities"], d["linux"]["cgroup"],
    "SCMP_ACT_ERRNO" in d["linux"]["seccomp"]["actions"], "SCMP_ACT_NOTIFY" in d["linux"]["seccomp"]["actions"],
    "SCMP_CMP_MASKED_EQ" in d["linux"]["seccomp"]["operators"], "SCMP_ARCH_X86_64" in d["linux"]["seccomp"]["archs"],
    d["linux"]["apparmor"], d["linux"]["selinux"], sorted(d["annotations"])' <"$WORK/out" 2>&1)" \
    "1.0.0 1.0.2 ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] True True False ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'] True {'v1': True, 'v2': True, 'systemd': False, 'systemdUser': False} True False True True {'enabled': False} {'enabled': False} ['io.github.seccomp.libseccomp.version', 'org.teemate.version']"
if command -v runc >/dev/null; then
    runc features >"$WORK/runc-features.json"
    expect_eq "features: the same keys as runc's" \
        "$(json_field 'sorted(d), sorted(d["linux"]), sorted(d["linux"]["seccomp"])' <"$WORK/out")" \
        "$(json_field 'sorted(d), sorted(d["linux"]), sorted(d["linux"]["seccomp"])' <"$WORK/runc-features.json")"
fi
expect_fail "features with an argument" "takes no arguments" "$TEEMATE" features x
for verb in pause resume ps features; do expect_ok "$verb --help" "$TEEMATE" $verb --help; done
expect_fail "pause without an ID" "expects a container ID" "$TEEMATE" pause
expect_fail "resume with two IDs" "takes one container ID" "$TEEMATE" resume a b
expect_fail "ps --format xml" "--format takes table or json" "$TEEMATE" ps --format xml x

if [ "$(id -u)" -ne 0 ]; then skip "pause, resume, ps of containers" "needs root"; finish; fi
if ! command -v busybox >/dev/null; then skip "pause, resume, ps of containers" "needs busybox (busybox-static)"; finish; fi

b=$WORK/box
"$(dirname "$0")/../../scripts/make-rootfs.sh" "$b/rootfs"
"$TEEMATE" spec -b "$b"
# The process counts in /tmp/count (so a frozen one is seen to stop) beside a second process.
python3 - "$b/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["root"]["readonly"] = False
c["process"]["args"] = ["sh", "-c", "sleep 1000 & while :; do i=$((i+1)); echo $i >/tmp/count; usleep 2000; done"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF

oci_runtimes
cleanup() {
    oci_delete_all
    [ -n "${P:-}" ] && "${P[@]}" rm --force "pause-$$" >/dev/null 2>&1
    ctrd_stop localhost/teemate-busybox:pause
}
trap cleanup EXIT

# The error or status a command gave, without the runtime's framing:
# "teemate: MSG" or runc's `time=... level=error msg="MSG"`. runc says
# "container does not exist" where teemate (as for state, start, kill,
# delete) names it: 'container "ID" does not exist'.
said() {
    sed -E 's/^teemate: //; s/^time="[^"]*" level=error msg="(.*)"$/\1/; s/\\"/"/g
            s/container "[^"]*" does not exist/container does not exist/' "$1" | head -1
}
status() { "${rt[@]}" state "$1" 2>/dev/null | json_field 'd["status"]' 2>/dev/null || echo gone; }
wait_status() {
    for _ in $(seq 50); do [ "$(status "$1")" = "$2" ] && return 0; sleep 0.1; done
    return 1
}
# step LABEL CMD...: one transcript line, "LABEL: rc MSG".
step() {
    local label=$1; shift
    "${rt[@]}" "$@" >"$WORK/step.out" 2>"$WORK/step.err"; local rc=$?
    echo "$label: $rc $(said "$WORK/step.err")"
}
# "PID:STARTTIME ..." of the container's processes; alive: how many still run.
procs() { for p in $("${rt[@]}" ps -f json "$1" | json_field '" ".join(map(str, d or []))'); do
    echo "$p:$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f20)"; done; }
# (a zombie has been killed: only its parent has not reaped it)
alive() { local n=0 p st; for p in "$@"; do
    st=$(sed 's/.*) //' "/proc/${p%%:*}/stat" 2>/dev/null | cut -d' ' -f1,20)
    [ -n "$st" ] && [ "${st#* }" = "${p#*:}" ] && [ "${st% *}" != Z ] && n=$((n + 1)); done; echo $n; }
# gone PID:START...: wait (up to 5 s) for SIGKILLed processes to be torn down.
gone() { for _ in $(seq 50); do [ "$(alive "$@")" = 0 ] && return; sleep 0.1; done; }
# The freezer's word for the cgroup of PID: v1 freezer.state, else v2 cgroup.events.
freezer_of() {
    local v1 v2
    v1=$(sed -n 's/^[0-9]*:freezer:\(.*\)/\1/p' "/proc/$1/cgroup")
    if [ -n "$v1" ]; then cat "/sys/fs/cgroup/freezer$v1/freezer.state"; return; fi
    v2=$(sed -n 's/^0::\(.*\)/\1/p' "/proc/$1/cgroup")
    local mnt; mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
    grep '^frozen' "$mnt$v2/cgroup.events"
}
count() { cat "$b/rootfs/tmp/count" 2>/dev/null; }
# counting: whether the container's counter moves within 5 s (a busy host
# may not schedule it for a while).
counting() {
    local before after=
    before=$(count)
    for _ in $(seq 100); do   # an empty read: caught between truncation and write
        sleep 0.05; after=$(count); [ -n "$after" ] && [ "$after" != "$before" ] && break; after=
    done
    [ -n "$after" ] && echo moves || echo still
}

# scenario: the steps, for the runtime in rt, on ids of this run.
scenario() {
    local id=pp-$$ c2=pc-$$ c3=pf-$$
    "${rt[@]}" create -b "$b" "$id" </dev/null >/dev/null 2>&1 && "${rt[@]}" start "$id" || echo "create/start failed"
    wait_status "$id" running
    local pid; pid=$("${rt[@]}" state "$id" | json_field 'd["pid"]')
    for _ in $(seq 50); do [ -n "$(count)" ] && break; sleep 0.1; done
    echo "running, counter: $(counting)"
    step "resume a running container" resume "$id"
    step pause pause "$id"
    echo "status: $(status "$id"), list: $("${rt[@]}" list | awk -v id="$id" '$1 == id { print $3 }')"
    echo "freezer: $(freezer_of "$pid"), counter: $(counting)"
    echo "init in /proc: $(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)"
    step "pause a paused container" pause "$id"
    step "start a paused container" start "$id"
    step "delete a paused container" delete "$id"
    "${rt[@]}" ps -f json "$id" >"$WORK/ps.json"
    # (cgroup.procs order: sorted on v1, so init is not first once pids wrapped at pid_max)
    echo "ps json: $(json_field 'len(d) >= 2, '"$pid"' in d' <"$WORK/ps.json")"
    "${rt[@]}" ps "$id" >"$WORK/ps.table"
    echo "ps table: $(head -1 "$WORK/ps.table" | tr -s ' '), $(awk '$8 == "sleep" && $9 == 1000' "$WORK/ps.table" | wc -l) sleep, init's: $(awk -v p="$pid" '$2 == p { print $8, $9 }' "$WORK/ps.table")"
    echo "ps -o pid,stat: $("${rt[@]}" ps "$id" -o pid,stat | sed 1d | awk '{ print $2 }' | cut -c1 | sort -u | tr '\n' ' ')"
    step "ps -o pid= (no header)" ps "$id" -o pid=
    step resume resume "$id"
    echo "status: $(status "$id"), freezer: $(freezer_of "$pid"), counter: $(counting)"
    step "resume again" resume "$id"
    step "pause to kill" pause "$id"
    step "kill TERM while paused" kill "$id" TERM
    echo "status: $(status "$id")"
    step "kill KILL while paused" kill "$id" KILL
    wait_status "$id" stopped; echo "status: $(status "$id")"
    step "pause a stopped container" pause "$id"
    step "resume a stopped container" resume "$id"
    echo "ps of a stopped container: $("${rt[@]}" ps -f json "$id") / $("${rt[@]}" ps "$id" | wc -l) line"
    step "delete" delete "$id"
    step "pause a missing container" pause "$id"
    step "resume a missing container" resume "$id"
    step "ps of a missing container" ps "$id"
    # runc pauses a created container too; resume leaves it created.
    "${rt[@]}" create -b "$b" "$c2" </dev/null >/dev/null 2>&1
    step "pause a created container" pause "$c2"
    echo "status: $(status "$c2")"
    step "resume it" resume "$c2"
    echo "status: $(status "$c2")"
    step "delete it" delete "$c2"
    # kill --all KILL of a paused container: every process dies (thawed after).
    "${rt[@]}" create -b "$b" "$c2" </dev/null >/dev/null 2>&1 && "${rt[@]}" start "$c2"
    wait_status "$c2" running
    # kill --all of a paused container thaws it after the signal, whatever the signal.
    step "pause, then kill --all WINCH" pause "$c2"
    step "kill --all WINCH of a paused container" kill --all "$c2" WINCH
    echo "status: $(status "$c2")"
    step "pause, then kill --all KILL" pause "$c2"
    step "kill --all KILL of a paused container" kill --all "$c2" KILL
    wait_status "$c2" stopped; echo "status: $(status "$c2"), its pids: $("${rt[@]}" ps -f json "$c2")"
    step "delete it" delete "$c2"
    # delete --force of a paused container: thawed, killed, gone.
    "${rt[@]}" create -b "$b" "$c3" </dev/null >/dev/null 2>&1 && "${rt[@]}" start "$c3"
    wait_status "$c3" running
    local pids; pids=$(procs "$c3")
    step "pause, then delete --force" pause "$c3"
    step "delete --force of a paused container" delete --force "$c3"
    gone $pids; echo "its processes left: $(alive $pids), status: $(status "$c3")"
}

expected="running, counter: moves
resume a running container: 1 container not paused
pause: 0 
status: paused, list: paused
freezer: FROZEN, counter: still
init in /proc: D
pause a paused container: 1 container not running
start a paused container: 1 cannot start a container in the paused state
delete a paused container: 1 cannot delete container pp-$$ that is not stopped: paused
ps json: True True
ps table: UID PID PPID C STIME TTY TIME CMD, 1 sleep, init's: sh -c
ps -o pid,stat: D 
ps -o pid= (no header): 1 couldn't find PID field in ps output
resume: 0 
status: running, freezer: THAWED, counter: moves
resume again: 1 container not paused
pause to kill: 0 
kill TERM while paused: 0 
status: paused
kill KILL while paused: 0 
status: stopped
pause a stopped container: 1 container not running
resume a stopped container: 1 container not paused
ps of a stopped container: null / 1 line
delete: 0 
pause a missing container: 1 container does not exist
resume a missing container: 1 container does not exist
ps of a missing container: 1 container does not exist
pause a created container: 0 
status: paused
resume it: 0 
status: created
delete it: 0 
pause, then kill --all WINCH: 0 
kill --all WINCH of a paused container: 0 
status: running
pause, then kill --all KILL: 0 
kill --all KILL of a paused container: 0 
status: stopped, its pids: null
delete it: 0 
pause, then delete --force: 0 
delete --force of a paused container: 0 
its processes left: 0, status: gone"
# On a host without a v1 freezer, cgroup v2 says "frozen 1" and a frozen task sleeps.
if ! grep -q ' - cgroup cgroup [^ ]*freezer' /proc/self/mountinfo; then
    expected=$(echo "$expected" | sed 's/^freezer: FROZEN/freezer: frozen 1/; s/freezer: THAWED/freezer: frozen 0/
        s/^init in \/proc: D$/init in \/proc: S/; s/^ps -o pid,stat: D $/ps -o pid,stat: S /')
fi

for r in "${runtimes[@]}"; do
    name=$(basename "$r")
    rt=("$r" --root "$WORK/root-$name")
    scenario >"$WORK/transcript-$name" 2>&1
    if [ "$(cat "$WORK/transcript-$name")" = "$expected" ]; then ok "pause/resume/ps/kill/delete steps ($name)"
    else not_ok "pause/resume/ps/kill/delete steps ($name)"; diff <(echo "$expected") "$WORK/transcript-$name" | sed 's/^/  | /' >&2; fi
done
if [ ${#runtimes[@]} -eq 2 ]; then
    expect_eq "teemate's transcript is runc's" "$(cat "$WORK/transcript-teemate")" "$(cat "$WORK/transcript-runc")"
fi

# ---- 100 pause/resume cycles: nothing left behind ----
rt=("$TEEMATE" --root "$WORK/root-teemate")
id=cycle-$$
"${rt[@]}" create -b "$b" "$id" </dev/null >/dev/null 2>&1 && "${rt[@]}" start "$id"
wait_status "$id" running
pids=$(procs "$id")
failed=0
for i in $(seq 100); do
    "${rt[@]}" pause "$id" && [ "$(status "$id")" = paused ] && "${rt[@]}" resume "$id" \
        && [ "$(status "$id")" = running ] || { failed=$i; break; }
done
expect_eq "100 pause/resume cycles" "$failed" 0
expect_eq "still counting after them" "$(counting)" moves
expect_ok "delete --force" "${rt[@]}" delete --force "$id"
gone $pids; expect_eq "no process of the container left" "$(alive $pids)" 0
expect_eq "no cgroup left" "$(ls -d /sys/fs/cgroup/*/teemate/"$id" /sys/fs/cgroup/teemate/"$id" 2>/dev/null)" ""
expect_eq "no state left" "$(ls -A "$WORK/root-teemate")" ""

# ---- containerd's runc shim: ctr task pause / resume / ps / kill ----
ctr_section() {
    for tool in containerd ctr containerd-shim-runc-v2; do
        command -v $tool >/dev/null || { skip "ctr task pause/resume/ps" "$tool is not installed"; return; }
    done
    ctrd_start "pause-$$" || { skip "ctr task pause/resume/ps" "containerd did not start: $ctrd_error"; return; }
    tar -C "$b/rootfs" -cf "$D/layer.tar" --exclude ./tmp/count .
    docker_archive "$D/layer.tar" "$D/image.tar" localhost/teemate-busybox:pause '{"Env": ["PATH=/bin"], "Cmd": ["sleep", "1000"]}'
    "${C[@]}" images import "$D/image.tar" >/dev/null
    local t=ctr-pause-$$
    task() { "${C[@]}" task ls | awk -v t="$t" '$1 == t { print $3 }'; }
    expect_ok "ctr run -d --runc-binary teemate" "${C[@]}" run -d --runc-binary "$TEEMATE" \
        --runc-root "$D/runtime-root" localhost/teemate-busybox:pause "$t"
    expect_ok "ctr task pause" "${C[@]}" task pause "$t"
    expect_eq "ctr task ls: PAUSED" "$(task)" PAUSED
    expect_ok "ctr task ps" "${C[@]}" task ps "$t"
    expect_eq "ctr task ps: the task's pid" "$(sed -n '2p' "$WORK/out" | awk '{ print $1 }')" \
        "$("${C[@]}" task ls | awk -v t="$t" '$1 == t { print $2 }')"
    expect_ok "ctr task resume" "${C[@]}" task resume "$t"
    expect_eq "ctr task ls: RUNNING" "$(task)" RUNNING
    "${C[@]}" task pause "$t"
    expect_ok "ctr task kill -s KILL of a paused task" "${C[@]}" task kill -s KILL "$t"
    for _ in $(seq 50); do [ "$(task)" = STOPPED ] && break; sleep 0.1; done
    expect_eq "ctr task ls: STOPPED" "$(task)" STOPPED
    expect_ok "ctr task delete" "${C[@]}" task delete "$t"
    "${C[@]}" containers rm "$t" >/dev/null 2>&1
    ctrd_stop localhost/teemate-busybox:pause
}
ctr_section

# ---- podman pause / unpause / top with --runtime teemate ----
if ! command -v podman >/dev/null; then skip "podman pause/unpause/top" "podman is not installed"; finish; fi
podman_setup
repo=$PWD
cd "$WORK" || exit 1
"$repo/scripts/make-rootfs.sh" "$WORK/prootfs" "$WORK/prootfs.tar" >/dev/null
"${P[@]}" import "$WORK/prootfs.tar" localhost/teemate-busybox:pause >/dev/null 2>&1
name=pause-$$
if ! "${P[@]}" run -d --name "$name" --runtime "$TEEMATE" --network none localhost/teemate-busybox:pause sleep 1000 >/dev/null 2>"$WORK/err"; then
    not_ok "podman run -d --runtime teemate"; sed 's/^/  | /' "$WORK/err" >&2; finish
fi
pstatus() { "${P[@]}" inspect --format '{{.State.Status}}' "$name"; }
expect_ok "podman pause" "${P[@]}" pause "$name"
expect_eq "podman inspect: paused" "$(pstatus)" paused
expect_fail "podman pause twice" "is already paused|not running" "${P[@]}" pause "$name"
expect_ok "podman unpause" "${P[@]}" unpause "$name"
expect_eq "podman inspect: running" "$(pstatus)" running
expect_ok "podman top" "${P[@]}" top "$name" pid args
expect_eq "podman top: the container's process" "$(sed 1d "$WORK/out" | awk '{ $1 = ""; print }' | sed 's/^ //')" "sleep 1000"
expect_ok "podman pause, then rm --force" sh -c '"$@" pause '"$name"' && "$@" rm --force '"$name" sh "${P[@]}"
"${P[@]}" rmi localhost/teemate-busybox:pause >/dev/null 2>&1
finish
