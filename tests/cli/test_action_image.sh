# The action runtime as an OCI image (scripts/action-image.sh): podman runs it
# detached with a published port, under runc and under teemate as the OCI
# runtime, and curl speaks OpenWhisk's action protocol to it (a refusal before
# /init, /init, /run with its result, a second /init refused); the teemate-mode
# image reaches this test's teemated through a bind-mounted socket; containerd
# (ctr run --runc-binary, host network) runs the same image imported from
# `podman save`. Everything it makes (images, containers, the enclave, its own
# containerd and teemated) is named per run and removed.
. "$(dirname "$0")/lib.sh"

name=test_action_image
if [ "$(id -u)" -ne 0 ]; then skip "$name" "needs root"; finish; fi
for tool in podman curl python3; do
    command -v $tool >/dev/null || { skip "$name" "$tool is not installed"; finish; }
done
[ -r "$(dirname "$TEEMATE")/apps/functions/fn.elf" ] || { skip "$name" "fn.elf is not built"; finish; }
export TEEMATE_STATE_DIR=$WORK/state TEEMATE_SOCKET=$WORK/d/teemated.sock
mkdir -p "$WORK/d"
podman_setup
repo=$PWD
cd "$WORK" || exit 1
tag=localhost/teemate-action-$$
names=() cpid= dpid= enclave=
cleanup() {
    for n in "${names[@]}"; do "${P[@]}" rm -f -t 0 "$n" >/dev/null 2>&1; done
    "${P[@]}" rmi -f "$tag:native" "$tag:teemate" >/dev/null 2>&1
    ctrd_stop "$tag:native"
    [ -n "$enclave" ] && "$TEEMATE" enclave rm --force "$enclave" >/dev/null 2>&1
    [ -n "$dpid" ] && stop_daemon
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# post PORT PATH BODY: "CODE BODY".
post() {
    local code
    code=$(printf '%s' "$3" | curl -s --max-time 30 -o "$WORK/body" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$1$2")
    echo "$code $(cat "$WORK/body")"
}
# wait_http PORT: bounded wait until the server answers (any status).
wait_http() {
    for _ in $(seq 100); do
        curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1
    done
    return 1
}
CODE="function main(p) { if (p.boom) throw new Error('boom'); return { sum: p.a + p.b, pid: $$ }; }"
INIT="{\"value\":{\"name\":\"add\",\"main\":\"main\",\"code\":\"$CODE\"}}"
# protocol TAG PORT: OpenWhisk's action protocol against one running action.
protocol() {
    local tag=$1 port=$2
    if ! wait_http "$port"; then not_ok "the action answers HTTP ($tag)"; return; fi
    expect_eq "run before init refused ($tag)" "$(post "$port" /run '{"value":{}}')" \
        '403 {"error":"System not initialized."}'
    expect_eq "init ($tag)" "$(post "$port" /init "$INIT")" '200 {"OK":true}'
    expect_eq "run: the function's result ($tag)" "$(post "$port" /run '{"value":{"a":40,"b":2}}')" \
        "200 {\"sum\":42,\"pid\":$$}"
    expect_eq "run throws: OpenWhisk's error ($tag)" "$(post "$port" /run '{"value":{"boom":true}}')" \
        '502 {"error":"An error has occurred: Error: boom"}'
    expect_eq "second init refused ($tag)" "$(post "$port" /init "$INIT")" \
        '403 {"error":"Cannot initialize the action more than once."}'
}

# The images: the plain (native) one and the teemate-mode one.
if ! "$repo/scripts/action-image.sh" --tag "$tag:native" --build "$(dirname "$TEEMATE")" --save "$WORK/native.tar" \
        -- "${P[@]:1}" >"$WORK/out" 2>"$WORK/err"; then
    not_ok "action-image.sh builds the image"; sed 's/^/  | /' "$WORK/err" >&2; finish
fi
ok "action-image.sh builds the image"
expect_eq "the image's entrypoint is fn serve on 0.0.0.0:8080" \
    "$("${P[@]}" image inspect "$tag:native" --format '{{json .Config.Entrypoint}}')" \
    '["/usr/local/bin/teemate","fn","serve","--listen","0.0.0.0:8080","--mode","native"]'
expect_ok "action-image.sh --mode teemate" "$repo/scripts/action-image.sh" --tag "$tag:teemate" \
    --mode teemate --build "$(dirname "$TEEMATE")" -- "${P[@]:1}"

# podman_run TAG IMAGE RUNTIME [PODMAN-OPTIONS]: detached, port published on
# 127.0.0.1, the protocol, its logs end with the sentinel, stopped, gone.
podman_run() {
    local tag=$1 image=$2 runtime=$3; shift 3
    local n=action-$$-${#names[@]} port; port=$(free_port)
    names+=("$n")
    if ! "${P[@]}" run --rm -d --name "$n" --runtime "$runtime" -p "127.0.0.1:$port:8080" "$@" "$image" \
            >"$WORK/out" 2>"$WORK/err"; then
        not_ok "podman run -d -p ($tag)"; sed 's/^/  | /' "$WORK/err" >&2; return
    fi
    protocol "$tag" "$port"
    expect_eq "stdout ends with OpenWhisk's sentinel ($tag)" \
        "$("${P[@]}" logs "$n" 2>/dev/null | tail -1)" XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX
    expect_ok "podman stop ($tag)" "${P[@]}" stop -t 5 "$n"
    expect_eq "nothing left of the container ($tag)" "$("${P[@]}" ps -a -q --filter name="^$n\$")" ""
}
runtimes=("$TEEMATE")
[ -x /usr/sbin/runc ] && runtimes=(/usr/sbin/runc "${runtimes[@]}") || skip "podman run of the action (runc)" "runc is not installed"
for rt in "${runtimes[@]}"; do podman_run "native, $(basename "$rt")" "$tag:native" "$rt"; done

# The teemate mode in a container: the host's teemated (this test's) through
# its socket, bind-mounted where the image's entrypoint looks for it.
start_daemon
for rt in "${runtimes[@]}"; do
    podman_run "teemate mode, $(basename "$rt")" "$tag:teemate" "$rt" \
        -v "$TEEMATE_SOCKET:/run/teemate/teemated.sock"
done
enclave=$("$TEEMATE" enclave ls | awk '$1 ~ /^fn-code-/ { print $1 }')
expect_eq "one shared enclave served both containers" "$(echo "$enclave" | grep -c .)" 1
expect_ok "the enclave is removed" "$TEEMATE" enclave rm --force "$enclave"
enclave=
stop_daemon

# containerd: its own daemon (ctrd_start), the image from `podman save`.
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null || ! command -v containerd-shim-runc-v2 >/dev/null; then
    skip "ctr run of the action image" "containerd is not installed"; finish
fi
D=$WORK/ctrd
mkdir -p "$D"
# deploy/'s runtime handler, as containerd 1.6 reads it (typed fields it does
# not know would be missing from the dump; BinaryName is the shim's option).
printf 'version = 2\nroot = "%s"\nstate = "%s"\nimports = ["%s"]\n' "$D/dump-root" "$D/dump-state" \
    "$repo/deploy/containerd-teemate.toml" >"$D/dump.toml"
containerd --config "$D/dump.toml" config dump 2>&1 |
    sed -n '/runtimes\.teemate\]/,/^$/p; /runtimes\.teemate\.options\]/,/^$/p' |
    grep -E '^ *(runtime_type|pod_annotations|container_annotations|BinaryName|SystemdCgroup) =' | tr -s ' ' >"$D/dump"
expect_eq "containerd reads deploy/containerd-teemate.toml as a runc-shim runtime 'teemate'" "$(cat "$D/dump")" \
' container_annotations = ["org.teemate.*"]
 pod_annotations = ["org.teemate.*"]
 runtime_type = "io.containerd.runc.v2"
 BinaryName = "/usr/local/bin/teemate"
 SystemdCgroup = false'
ns=teemate-action-$$
if ! ctrd_start "$ns"; then skip "ctr run of the action image" "containerd did not start: $ctrd_error"; finish; fi
expect_ok "ctr images import of podman save's archive" "${C[@]}" images import "$WORK/native.tar"
# ctr has no port publishing (no CNI here): host network, and the command
# given again with a free loopback port (ctr's arguments replace the entrypoint).
for rt in "${runtimes[@]}"; do
    t="ctr, $(basename "$rt")" id=action-$(basename "$rt") port=$(free_port)
    if ! "${C[@]}" run -d --net-host --runc-binary "$rt" --runc-root "$D/runtime-root" "$tag:native" "$id" \
            /usr/local/bin/teemate fn serve --listen "127.0.0.1:$port" --mode native >"$WORK/out" 2>"$WORK/err"; then
        not_ok "ctr run -d ($t)"; sed 's/^/  | /' "$WORK/err" >&2; continue
    fi
    protocol "$t" "$port"
    [ -d "$D/runtime-root/$ns/$id" ] && ok "the runtime keeps its state under --runc-root ($t)" ||
        not_ok "the runtime keeps its state under --runc-root ($t)"
    expect_ok "ctr tasks kill ($t)" "${C[@]}" tasks kill "$id"
    for _ in $(seq 100); do
        [ "$("${C[@]}" tasks ls | awk -v id="$id" '$1 == id { print $3 }')" = STOPPED ] && break; sleep 0.1
    done
    expect_ok "ctr tasks delete ($t)" "${C[@]}" tasks delete "$id"
    expect_ok "ctr containers rm ($t)" "${C[@]}" containers rm "$id"
done
ctrd_stop "$tag:native"
expect_eq "nothing left in the runtime root" "$(ls "$D/runtime-root/$ns" 2>/dev/null)" ""
finish
