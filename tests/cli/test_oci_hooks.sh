# OCI hooks (config.json "hooks"): each kind runs at its moment, in its
# namespace, with the container's state on stdin; a failing or hanging
# create-time hook fails create and leaves no container, cgroup or state;
# poststart/poststop failures are only warnings. Root and busybox needed.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { skip "OCI hooks" "needs root"; finish; }
command -v jq >/dev/null || { skip "OCI hooks" "needs jq"; finish; }
root=$WORK/root
rootfs=$WORK/rootfs
log=$WORK/hooks.log
sfx=$$-$RANDOM
tm() { "$TEEMATE" --root "$root" "$@"; }
"$(dirname "$0")/../../scripts/make-rootfs.sh" "$rootfs" >/dev/null 2>&1 || { not_ok "busybox root filesystem"; finish; }
trap 'for id in $(tm list -q 2>/dev/null); do tm delete --force "$id"; done' EXIT

# The hook on the host: "KIND MOUNT-NS STATUS ID PID-ALIVE" per call, and the state as it came.
cat >"$WORK/hook.sh" <<'EOS'
#!/bin/sh
state=$(cat)
pid=$(printf '%s' "$state" | jq -r .pid)
alive=dead; [ -d "/proc/$pid" ] && alive=alive
echo "$1 $(readlink /proc/self/ns/mnt) $(printf '%s' "$state" | jq -r '.status + " " + .id') $alive $HOOK_ENV" >>"$2"
printf '%s\n' "$state" >"$2.$1.json"
EOS
# The hook inside the container (startContainer's path resolves there): busybox only.
cat >"$rootfs/hook.sh" <<'EOS'
#!/bin/sh
echo "$1" >>/hooks.log
cat >"/hooks.$1.json"
EOS
chmod +x "$WORK/hook.sh" "$rootfs/hook.sh"
host_mnt=$(readlink /proc/self/ns/mnt)

# bundle NAME JQ-HOOKS: $WORK/NAME/config.json running sh -c 'echo ran >/ran; sleep 30', with .hooks = JQ-HOOKS.
bundle() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    "$TEEMATE" spec --bundle "$dir" >/dev/null || return 1
    jq --arg rootfs "$rootfs" --arg cg "/tmhooks-$1-$sfx" --arg hook "$WORK/hook.sh" --arg log "$log" '
        .root = {path: $rootfs, readonly: false} | .process.terminal = false |
        .process.args = ["sh", "-c", "echo ran >/ran; exec sleep 30"] | .linux.cgroupsPath = $cg |
        .hooks = ('"$2"')' "$dir/config.json" >"$dir/c.json" && mv "$dir/c.json" "$dir/config.json" ||
        { not_ok "bundle $1"; return 1; }
}
# h KIND: a host hook entry recording into $log.
H='{path: $hook, args: ["hook.sh", KIND, $log], env: ["HOOK_ENV=env-ok"]}'
h() { echo "${H/KIND/\"$1\"}"; }

no_trace() {   # no_trace NAME ID: no state directory, no cgroup left
    local left
    left=$( (ls "$root" 2>/dev/null | grep -x -- "$2"; find /sys/fs/cgroup -maxdepth 2 -name "tmhooks-*-$sfx") 2>/dev/null)
    expect_eq "$1: no state or cgroup left" "$left" ""
}

# ---- every kind, in order ----
bundle all "{prestart: [$(h prestart)], createRuntime: [$(h createRuntime)], createContainer: [$(h createContainer)],
             startContainer: [{path: \"/hook.sh\", args: [\"hook.sh\", \"startContainer\"]}],
             poststart: [$(h poststart)], poststop: [$(h poststop)]}"
id=all-$sfx
rm -f "$log" "$rootfs/hooks.log" "$rootfs/hooks.startContainer.json" "$rootfs/ran"
expect_ok "create with every kind of hook" tm create -b "$WORK/all" "$id"
expect_eq "create ran prestart, createRuntime, createContainer in that order" \
    "$(cut -d' ' -f1 "$log" 2>/dev/null | tr '\n' ' ')" "prestart createRuntime createContainer "
expect_eq "prestart and createRuntime: runtime mount namespace, state creating, init alive, env" \
    "$(grep -E '^(prestart|createRuntime) ' "$log" | cut -d' ' -f2- | sort -u)" "$host_mnt creating $id alive env-ok"
cc=$(grep '^createContainer ' "$log")
[ -n "$cc" ] && [ "$(echo "$cc" | cut -d' ' -f2)" != "$host_mnt" ] \
    && ok "createContainer: in the container's mount namespace" || { not_ok "createContainer: in the container's mount namespace"; echo "  $cc" >&2; }
expect_eq "createContainer: state on stdin" "$(echo "$cc" | cut -d' ' -f3-)" "creating $id alive env-ok"
expect_eq "the state on stdin: pid is init's, bundle" \
    "$(jq -r '.pid, .bundle, .ociVersion' "$log.createRuntime.json" | tr '\n' ' ')" \
    "$(tm state "$id" | jq -r .pid) $WORK/all 1.0.2 "
[ -e "$rootfs/hooks.log" ] && not_ok "startContainer waits for start" || ok "startContainer waits for start"
expect_ok "start" tm start "$id"
expect_eq "start ran poststart after the process" "$(tail -1 "$log" | cut -d' ' -f1,3-)" "poststart running $id alive env-ok"
expect_eq "startContainer ran in the container (path resolved there), state on stdin" \
    "$(cat "$rootfs/hooks.log" 2>/dev/null) $(jq -r '.id + " " + .status' "$rootfs/hooks.startContainer.json" 2>/dev/null)" \
    "startContainer $id created"
[ -e "$rootfs/ran" ] && ok "the process ran" || not_ok "the process ran"
grep -q poststop "$log" && not_ok "poststop waits for delete" || ok "poststop waits for delete"
tm kill "$id" KILL; sleep 0.3
expect_ok "delete" tm delete "$id"
expect_eq "delete ran poststop, status stopped" "$(tail -1 "$log" | cut -d' ' -f1,3,4,6)" "poststop stopped $id env-ok"
no_trace "after delete" "$id"

# ---- run (create, start, wait, delete in one) ----
bundle run "{prestart: [$(h prestart)], createRuntime: [$(h createRuntime)], createContainer: [$(h createContainer)],
             startContainer: [{path: \"/hook.sh\", args: [\"hook.sh\", \"startContainer\"]}],
             poststart: [$(h poststart)], poststop: [$(h poststop)]}"
jq '.process.args = ["true"]' "$WORK/run/config.json" >"$WORK/run/c.json" && mv "$WORK/run/c.json" "$WORK/run/config.json"
rm -f "$log" "$rootfs/hooks.log"
expect_ok "run with every kind of hook" timeout 20 "$TEEMATE" --root "$root" run -b "$WORK/run" run-$sfx
expect_eq "run: every hook once, in the spec's order" \
    "$(cut -d' ' -f1 "$log" 2>/dev/null | tr '\n' ' ')$(cat "$rootfs/hooks.log" 2>/dev/null)" \
    "prestart createRuntime createContainer poststart poststop startContainer"
no_trace "after run" run-$sfx

# ---- create-time failures: create fails, nothing left ----
for kind in prestart createRuntime createContainer; do
    bundle "fail-$kind" "{$kind: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"cat >/dev/null; echo no luck; echo bad >&2; exit 3\"]}],
                         poststop: [$(h poststop)]}"
    id=fail-$kind-$sfx
    rm -f "$log"
    expect_fail "a failing $kind hook fails create" "error running $kind hook #0: error running hook: exit status 3, stdout: no luck, stderr: bad$" \
        tm create -b "$WORK/fail-$kind" "$id"
    no_trace "failed $kind" "$id"
    expect_eq "failed $kind: poststop still runs (the spec's lifecycle goes on at destroy)" \
        "$(cut -d' ' -f1,3,4 "$log" 2>/dev/null)" "poststop stopped $id"
done
bundle missing "{createRuntime: [{path: \"$WORK/no-such-hook\"}]}"
expect_fail "a hook that does not exist fails create" "error running createRuntime hook #0: error running hook: exit status 127, stdout: , stderr: exec $WORK/no-such-hook: No such file" \
    tm create -b "$WORK/missing" missing-$sfx
no_trace "missing hook" missing-$sfx

# A hook that hangs is killed at its timeout (the hook itself: it execs sleep).
for kind in createRuntime createContainer; do
    bundle "hang-$kind" "{$kind: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"exec sleep 9$$\"], timeout: 1}]}"
    id=hang-$kind-$sfx
    t0=$(date +%s%N)
    expect_fail "a hanging $kind hook: create fails at its timeout" "error running $kind hook #0: hook ran past specified timeout of 1.0s$" \
        tm create -b "$WORK/hang-$kind" "$id"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ] && ok "$kind timeout: create failed after ${ms} ms" \
        || not_ok "$kind timeout: create failed after ${ms} ms (wanted about 1 s)"
    expect_eq "$kind timeout: the hook was killed" "$(pgrep -fx "sleep 9$$")" ""
    no_trace "hung $kind" "$id"
done

# A hook without env gets the runtime's environment (as runc); with env, only that.
bundle inherit "{createRuntime: [{path: \"/bin/sh\", args: [\"sh\", \"-c\", \"echo \\\"\$TM_HOOK_PARENT\\\" >$WORK/inherit.out\"]},
                                 {path: \"/bin/sh\", args: [\"sh\", \"-c\", \"echo \\\"[\$TM_HOOK_PARENT]\\\" >>$WORK/inherit.out\"], env: [\"X=1\"]}]}"
TM_HOOK_PARENT=from-runtime "$TEEMATE" --root "$root" create -b "$WORK/inherit" inherit-$sfx
expect_eq "a hook without env has the runtime's environment; one with env only its own" \
    "$(tr '\n' ' ' <"$WORK/inherit.out" 2>/dev/null)" "from-runtime [] "
tm delete inherit-$sfx

# ---- start-time and post hooks ----
bundle fail-start '{startContainer: [{path: "/bin/sh", args: ["sh", "-c", "exit 4"]}]}'
id=fail-start-$sfx
rm -f "$rootfs/ran"
expect_ok "create with a failing startContainer hook" tm create -b "$WORK/fail-start" "$id"
expect_fail "a failing startContainer hook fails start" "error running startContainer hook #0: error running hook: exit status 4" tm start "$id"
[ -e "$rootfs/ran" ] && not_ok "the process did not run" || ok "the process did not run"
expect_eq "the container is stopped" "$(tm state "$id" | jq -r .status)" "stopped"
expect_ok "delete it" tm delete "$id"

bundle warn "{poststart: [{path: \"/bin/false\"}, $(h poststart)], poststop: [{path: \"/bin/false\"}, $(h poststop)]}"
id=warn-$sfx
rm -f "$log"
tm create -b "$WORK/warn" "$id" && tm start "$id" 2>"$WORK/start.err"
expect_eq "a failing poststart hook: start succeeds" "$?" 0
grep -q "warning: error running poststart hook #0: error running hook: exit status 1" "$WORK/start.err" \
    && ok "a failing poststart hook: a warning" || { not_ok "a failing poststart hook: a warning"; cat "$WORK/start.err" >&2; }
expect_eq "the next poststart hook still runs" "$(cut -d' ' -f1 "$log")" "poststart"
tm delete --force "$id" 2>"$WORK/delete.err"
expect_eq "a failing poststop hook: delete succeeds" "$?" 0
grep -q "warning: error running poststop hook #0: error running hook: exit status 1" "$WORK/delete.err" \
    && ok "a failing poststop hook: a warning" || { not_ok "a failing poststop hook: a warning"; cat "$WORK/delete.err" >&2; }
expect_eq "the next poststop hook still runs" "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" "poststart poststop "
no_trace "after delete --force" "$id"

# ---- podman --hooks-dir: the hooks podman writes into config.json, runc beside teemate ----
if command -v podman >/dev/null; then
    podman_setup
    mkdir -p "$WORK/hooks.d"
    for stage in prestart createRuntime createContainer poststart poststop; do
        jq -n --arg hook "$WORK/hook.sh" --arg stage "$stage" --arg log "$WORK/podman.log" '
            {version: "1.0.0", hook: {path: $hook, args: ["hook.sh", $stage, $log], env: ["HOOK_ENV=podman"]},
             when: {always: true}, stages: [$stage]}' >"$WORK/hooks.d/$stage.json"
    done
    (cd "$WORK" && tar -C "$rootfs" -cf "$WORK/rootfs.tar" . && "${P[@]}" import "$WORK/rootfs.tar" localhost/teemate-hooks:test >/dev/null 2>&1) \
        || not_ok "podman import"
    for runtime in /usr/sbin/runc "$TEEMATE"; do
        [ -x "$runtime" ] || { skip "podman --hooks-dir with $runtime" "not installed"; continue; }
        rm -f "$WORK/podman.log"
        out=$(cd "$WORK" && "${P[@]}" --hooks-dir "$WORK/hooks.d" run --rm --runtime "$runtime" --network none \
              localhost/teemate-hooks:test echo hi 2>&1)
        expect_eq "podman --hooks-dir, $(basename "$runtime"): the container ran, every stage's hook in order" \
            "$out $(cut -d' ' -f1 "$WORK/podman.log" 2>/dev/null | tr '\n' ' ')" \
            "hi prestart createRuntime createContainer poststart poststop "
    done
    (cd "$WORK" && "${P[@]}" rmi -f localhost/teemate-hooks:test >/dev/null 2>&1)
else
    skip "podman --hooks-dir" "podman is not installed"
fi

# ---- bad hooks in config.json ----
bundle relative '{prestart: [{path: "hook.sh"}]}'
expect_fail "a relative hook path is refused" "hooks.prestart\[0\].path: hook.sh is not an absolute path" \
    tm create -b "$WORK/relative" rel-$sfx
bundle zero '{poststop: [{path: "/bin/true", timeout: 0}]}'
expect_fail "a zero timeout is refused" "hooks.poststop\[0\].timeout: 0: must be a number of seconds greater than zero" \
    tm create -b "$WORK/zero" zero-$sfx
no_trace "refused configs" rel-$sfx
finish
