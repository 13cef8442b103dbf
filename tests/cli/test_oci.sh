# The runc-convention verbs (create, start, state, kill, delete, run, list,
# spec, events) and the global options engines pass (--root, --log,
# --log-format, --systemd-cgroup, --rootless, --version). Everything lives in
# $WORK; the parts that make real containers need root and busybox.
. "$(dirname "$0")/lib.sh"
root=$WORK/root
tm() { "$TEEMATE" --root "$root" "$@"; }
json_field() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# expect_usage NAME ARGS...: exit 2 with a one-line error.
expect_usage() {
    local name=$1; shift
    "$TEEMATE" "$@" >/dev/null 2>"$WORK/err"; local rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$WORK/err")" -eq 1 ] && ok "usage error: $name" \
        || { not_ok "usage error: $name"; echo "  rc=$rc" >&2; sed 's/^/  | /' "$WORK/err" >&2; }
}

# ---- usage and global options ----
for verb in create start state kill delete run list spec events; do
    expect_ok "$verb --help" "$TEEMATE" $verb --help
done
"$TEEMATE" --version >"$WORK/out"; rc=$?
expect_eq "--version" "$rc $(sed -n '1s/^teemate version [0-9][0-9.]*$/ok/p; 2p' "$WORK/out" | tr '\n' ' ')" "0 ok spec: 1.0.2 "
expect_eq "-v is --version" "$("$TEEMATE" -v)" "$(cat "$WORK/out")"
expect_ok "--help lists the global options" "$TEEMATE" --help
grep -q -- "--log-format" "$WORK/out" && ok "--help shows --log-format" || not_ok "--help shows --log-format"
expect_usage "create without an ID" create
expect_usage "state with two IDs" state a b
expect_usage "kill with a bogus signal" kill x BOGUS
expect_usage "kill signal 0" kill x 0
expect_usage "list --format xml" list --format xml
expect_usage "events --interval 5 (no unit)" events --interval 5 x
expect_usage "run: a quick-form option in the OCI form" run --memory 64m x
expect_usage "run: an OCI option in the quick form" run --detach -- true
expect_usage "run: nothing after --" run --
expect_usage "run: arguments before --" run x -- true
expect_usage "run --cpus 1e3" run --cpus 1e3 -- true
expect_usage "run --net bridge" run --net bridge -- true
expect_usage "unknown global option" --bogus list
expect_usage "--root without a value" --root
expect_usage "--log-format xml" --log-format xml list
expect_fail "--rootless true" "rootless=true is not supported" "$TEEMATE" --rootless true list
expect_ok "--rootless false, --debug, --systemd-cgroup=false are accepted" \
    "$TEEMATE" --rootless=false --debug --systemd-cgroup=false -root "$root" list
expect_fail "--systemd-cgroup create" "^teemate: systemd cgroup manager is not supported; use cgroupfs$" \
    "$TEEMATE" --root "$root" --systemd-cgroup create -b "$WORK" x

# ---- containers that do not exist ----
for verb in state start kill delete; do
    expect_fail "$verb of an unknown id" '^teemate: container "nope" does not exist$' tm $verb nope
done
expect_fail "events of an unknown id" 'container "nope" does not exist' tm events --stats nope
expect_ok "delete --force of an unknown id succeeds (as runc)" tm delete --force nope
expect_fail "an invalid id" 'invalid container id' tm state ../etc

# ---- the runtime log ----
tm --log "$WORK/log.json" --log-format json state nope 2>/dev/null
expect_eq "--log json: one line" "$(wc -l <"$WORK/log.json")" 1
expect_eq "--log json: level and msg" "$(json_field 'd["level"], d["msg"]' <"$WORK/log.json")" \
    'error container "nope" does not exist'
json_field 'd["time"]' <"$WORK/log.json" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z$' \
    && ok "--log json: RFC 3339 time" || not_ok "--log json: RFC 3339 time"
tm --log-format=json --log="$WORK/log.json" kill nope 2>/dev/null
expect_eq "--log appends" "$(wc -l <"$WORK/log.json")" 2
"$TEEMATE" --log "$WORK/log.json" --log-format json list --format xml 2>/dev/null
expect_eq "--log gets usage errors too" "$(tail -1 "$WORK/log.json" | json_field 'd["msg"]')" "--format takes table or json"
tm --log "$WORK/log.txt" start nope 2>/dev/null
grep -qE '^time="[^"]+" level=error msg="container \\"nope\\" does not exist"$' "$WORK/log.txt" \
    && ok "--log text: logrus format" || { not_ok "--log text: logrus format"; cat "$WORK/log.txt" >&2; }

# ---- spec ----
mkdir -p "$WORK/bundle"
expect_ok "spec writes config.json" "$TEEMATE" spec --bundle "$WORK/bundle"
expect_eq "config.json is the default spec" "$(json_field 'd["root"]["path"], d["process"]["args"]' <"$WORK/bundle/config.json")" \
    "rootfs ['sh']"
expect_fail "spec refuses to overwrite" "^teemate: File config.json exists. Remove it first$" \
    "$TEEMATE" spec -b "$WORK/bundle"
(cd "$WORK" && "$TEEMATE" spec) && [ -s "$WORK/config.json" ] && ok "spec defaults to the current directory" \
    || not_ok "spec defaults to the current directory"

# ---- list and state under --root, with a hand-made container ----
expect_eq "list on an empty root: the header only" "$(tm list | tr -s ' ')" "ID PID STATUS BUNDLE CREATED OWNER"
expect_eq "list --format json on an empty root" "$(tm list -f json)" "[]"
# A stand-in init: a sleep of this shell, recorded as `create` would.
sleep 60 & fake=$!
start_time=$(sed 's/.*) //' "/proc/$fake/stat" | cut -d' ' -f20)
mkdir -p "$root/fake"; : >"$root/fake/lock"
printf '{"id":"fake","pid":%d,"pid_start":%s,"bundle":"%s","rootfs":"%s/rootfs","cgroup_path":"","created":"2026-01-01T00:00:00Z","enclave":"","owner":0,"annotations":{"a":"b"}}' \
    "$fake" "$start_time" "$WORK/bundle" "$WORK/bundle" >"$root/fake/state.json"
expect_eq "state honours --root" "$(tm state fake | json_field 'd["id"], d["status"], d["pid"] == '"$fake"', d["annotations"]["a"]')" \
    "fake running True b"
expect_eq "state without --root does not see it" "$("$TEEMATE" state fake 2>&1)" 'teemate: container "fake" does not exist'
expect_eq "list shows it" "$(tm list | sed 1d | tr -s ' ' | cut -d' ' -f1-4)" "fake $fake running $WORK/bundle"
expect_eq "list -q" "$(tm list -q)" "fake"
expect_eq "list --format json" "$(tm list --format json | json_field 'd[0]["id"], d[0]["status"], d[0]["owner"]')" \
    "fake running root"
expect_fail "delete refuses a running container" "^teemate: cannot delete container fake that is not stopped: running$" \
    tm delete fake
expect_fail "start refuses a running container" "^teemate: cannot start an already running container$" tm start fake
expect_ok "kill fake TERM" tm kill fake TERM
wait "$fake" 2>/dev/null
expect_eq "state: stopped, pid 0" "$(tm state fake | json_field 'd["status"], d["pid"]')" "stopped 0"
expect_fail "kill of a stopped container" "^teemate: container not running$" tm kill fake KILL
expect_fail "start of a stopped container" "^teemate: cannot start a container that has stopped$" tm start fake
expect_ok "delete a stopped container" tm delete fake
[ -e "$root/fake" ] && not_ok "delete removes the state" || ok "delete removes the state"

# ---- real containers: root and busybox ----
need=
[ "$(id -u)" -eq 0 ] || need="needs root"
[ -n "$need" ] || command -v busybox >/dev/null || need="needs busybox (Debian busybox-static)"
real() { [ -z "$need" ] || { skip "$1" "$need"; return 1; }; }

if [ -z "$need" ]; then
    b=$WORK/box
    "$(dirname "$0")/../../scripts/make-rootfs.sh" "$b/rootfs"
    "$TEEMATE" spec -b "$b"
    # bundle CMD: the box's config.json, running sh -c CMD without a terminal.
    bundle() {
        python3 - "$b/config.json" "$1" <<'EOF'
import json, sys
path, cmd = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", cmd]
json.dump(c, open(path, "w"), indent=2)
EOF
    }
    trap 'for id in $(tm list -q 2>/dev/null); do tm delete --force "$id"; done' EXIT
fi
# wait_status ID STATUS: poll state (up to 5 s) until it says STATUS.
wait_status() {
    for _ in $(seq 50); do
        [ "$(tm state "$1" 2>/dev/null | json_field 'd["status"]' 2>/dev/null)" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

if real "create, start, state, kill, delete"; then
    bundle 'echo started; exec sleep 60'
    tm create -b "$b" --pid-file "$WORK/c1-$$.pid" c1-$$ >"$WORK/c1-$$.out" 2>&1 </dev/null
    expect_eq "create" "$?" 0
    expect_eq "state after create" "$(tm state c1-$$ | json_field 'd["status"], d["bundle"], d["rootfs"]')" \
        "created $b $b/rootfs"
    expect_eq "--pid-file holds init's pid" "$(cat "$WORK/c1-$$.pid" 2>/dev/null)" "$(tm state c1-$$ | json_field 'd["pid"]')"
    expect_fail "create the same id twice" "^teemate: container \"c1-$$\" already exists\$" \
        tm create -b "$b" c1-$$
    [ -s "$WORK/c1-$$.out" ] && not_ok "the process waits for start" || ok "the process waits for start"
    expect_ok "start" timeout 10 "$TEEMATE" --root "$root" start c1-$$
    wait_status c1-$$ running && ok "state after start: running" || not_ok "state after start: running"
    sleep 0.2
    expect_eq "the process ran" "$(cat "$WORK/c1-$$.out")" "started"
    expect_fail "start twice" "cannot start an already running container" tm start c1-$$
    expect_fail "delete a running container" "^teemate: cannot delete container c1-$$ that is not stopped: running\$" \
        tm delete c1-$$
    expect_ok "events --stats" tm events --stats c1-$$
    expect_eq "events --stats: pids.current" "$(json_field 'd["type"], d["id"], d["data"]["pids"]["current"]' <"$WORK/out")" \
        "stats c1-$$ 1"
    expect_ok "kill KILL" tm kill c1-$$ KILL
    wait_status c1-$$ stopped && ok "state after kill: stopped" || not_ok "state after kill: stopped"
    expect_eq "stopped: pid 0" "$(tm state c1-$$ | json_field 'd["pid"]')" 0
    expect_fail "kill of a stopped container" "^teemate: container not running$" tm kill c1-$$
    expect_ok "kill --all of a stopped container (as runc)" tm kill --all c1-$$ KILL
    expect_ok "delete a stopped container" tm delete c1-$$
    expect_fail "state after delete" "container \"c1-$$\" does not exist" tm state c1-$$
    ls -d /sys/fs/cgroup/*/teemate/c1-$$ >/dev/null 2>&1 && not_ok "delete removes the cgroup" || ok "delete removes the cgroup"
fi

if real "delete a created container, kill --all, delete --force"; then
    bundle 'sleep 60 & sleep 60 & exec sleep 60'
    tm create -b "$b" c2-$$ >/dev/null 2>&1 </dev/null
    expect_ok "delete a created container (as runc)" tm delete c2-$$
    tm create -b "$b" c2-$$ >/dev/null 2>&1 </dev/null
    tm start c2-$$
    for _ in $(seq 50); do [ "$(tm events --stats c2-$$ | json_field 'd["data"]["pids"]["current"]')" = 3 ] && break; sleep 0.1; done
    expect_eq "three processes" "$(tm events --stats c2-$$ | json_field 'd["data"]["pids"]["current"]')" 3
    expect_ok "kill --all" tm kill --all c2-$$ KILL
    wait_status c2-$$ stopped && ok "kill --all stops it" || not_ok "kill --all stops it"
    tm delete c2-$$
    tm create -b "$b" c3-$$ >/dev/null 2>&1 </dev/null
    tm start c3-$$
    expect_ok "delete --force a running container" tm delete --force c3-$$
    expect_fail "it is gone" 'does not exist' tm state c3-$$
fi

if real "run (OCI form)"; then
    bundle 'echo in-bundle; exit 3'
    tm run -b "$b" r1-$$ >"$WORK/out" 2>"$WORK/err" </dev/null
    expect_eq "run: the process's exit code" "$?" 3
    expect_eq "run: its output" "$(cat "$WORK/out")" "in-bundle"
    expect_fail "run removes the container" 'does not exist' tm state r1-$$
    bundle 'exec sleep 60'
    expect_ok "run --detach" tm run -d -b "$b" r2-$$
    expect_eq "run --detach leaves it running" "$(tm state r2-$$ | json_field 'd["status"]')" "running"
    tm delete -f r2-$$
fi

if real "run (quick form)"; then
    tm run -- sh -c 'exit 5' </dev/null >/dev/null 2>&1
    expect_eq "run --: the exit code" "$?" 5
    expect_eq "run --: default hostname, own pid namespace" \
        "$(tm run -- sh -c 'echo $(hostname) $$' </dev/null 2>/dev/null)" "teemate 1"
    expect_eq "run --rootfs --hostname" \
        "$(tm run --rootfs "$b/rootfs" --hostname box -- sh -c 'hostname; ls /bin/busybox' </dev/null 2>/dev/null | tr '\n' ' ')" \
        "box /bin/busybox "
    tm run --name sig-$$ -- sleep 60 </dev/null >/dev/null 2>&1 & runner=$!
    for _ in $(seq 50); do tm state sig-$$ >/dev/null 2>&1 && break; sleep 0.1; done
    tm kill sig-$$ KILL; wait "$runner"
    expect_eq "run --: killed by signal N (teemate kill) is 128+N" "$?" 137
    tm run --stats -- true </dev/null >/dev/null 2>"$WORK/err"
    grep -qE '^teemate: container created in [0-9.]+ ms \(cgroup [0-9.]+, clone [0-9.]+, setup [0-9.]+\)$' "$WORK/err" \
        && ok "run --stats" || { not_ok "run --stats"; cat "$WORK/err" >&2; }
    tm run --name lim-$$ --memory 64m --pids 20 --cpus 0.5 -- sleep 3 </dev/null >/dev/null 2>&1 & runner=$!
    for _ in $(seq 50); do tm state lim-$$ >/dev/null 2>&1 && break; sleep 0.1; done
    expect_eq "run --name --memory --pids: the limits" \
        "$(tm events --stats lim-$$ | json_field 'd["data"]["memory"]["usage"]["limit"], d["data"]["pids"]["limit"]')" "67108864 20"
    cat /sys/fs/cgroup/cpu/teemate/lim-$$/cpu.cfs_quota_us /sys/fs/cgroup/unified/teemate/lim-$$/cpu.max 2>/dev/null \
        | grep -qE '^(50000|50000 100000)$' && ok "run --cpus 0.5: quota 50000 of 100000" || not_ok "run --cpus 0.5: quota 50000 of 100000"
    wait "$runner"
    expect_eq "run --name: removed after" "$(tm list -q | grep -c lim-$$)" 0
    expect_fail "run --enclave of a missing enclave" "enclave" \
        env TEEMATE_STATE_DIR="$WORK/state" TEEMATE_SOCKET="$WORK/run/teemated.sock" \
        "$TEEMATE" --root "$root" run --enclave nope -- hello
    for s in "$WORK/run/teemated.sock"; do pid=$(cat "$s.lock" 2>/dev/null) && [ -n "$pid" ] && kill "$pid"; done
fi
expect_eq "nothing left under --root" "$(tm list -q)" ""
finish
