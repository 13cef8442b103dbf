# podman (Debian's) driving teemate as its OCI runtime: a rootfs imported
# with `podman import`, run as a plain container (as root and as uid 1000)
# and inside a shared enclave.
# Needs root and podman (scripts/setup.sh installs it).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then skip "podman --runtime teemate" "needs root"; finish; fi
if ! command -v podman >/dev/null; then skip "podman --runtime teemate" "podman is not installed"; finish; fi
# conmon starts the runtime with a clean environment, so the enclave lives in
# the machine's default teemated (a unique name, removed at the end).
unset TEEMATE_STATE_DIR TEEMATE_SOCKET
enclave=podman-hello-$$
# The default teemated is stopped at the end if this test started it.
default_daemon="teemate daemon --foreground --socket /var/lib/teemate/teemated.sock"
pgrep -f "$default_daemon" >/dev/null && had_daemon=1 || had_daemon=0
cleanup() {
    "$TEEMATE" enclave rm --force "$enclave" >/dev/null 2>&1
    [ "$had_daemon" = 1 ] || pkill -f "$default_daemon" 2>/dev/null
}
trap cleanup EXIT
# The recipe the README gives (podman_setup in lib.sh).
podman_setup
R=(--runtime "$TEEMATE" --network none)

# conmon leaves files (an "oom" marker) in its working directory: keep it in $WORK.
repo=$PWD
cd "$WORK" || exit 1
"$repo/scripts/make-rootfs.sh" "$WORK/rootfs" "$WORK/rootfs.tar" || { not_ok "busybox rootfs"; finish; }
expect_ok "podman import" "${P[@]}" import "$WORK/rootfs.tar" localhost/teemate-busybox:test
out=$("${P[@]}" run --rm "${R[@]}" localhost/teemate-busybox:test sh -c 'echo "hello from pid $$"' 2>&1)
expect_eq "podman run --runtime teemate: a plain container prints its output" "$out" "hello from pid 1"
out=$("${P[@]}" run --rm "${R[@]}" --memory 16m localhost/teemate-busybox:test \
    dd if=/dev/zero of=/dev/null bs=64M count=1 2>&1); rc=$?
expect_eq "podman --memory 16m: the container's 64 MiB allocation is killed" "$rc" "137"
# A process that is not root (issue 15): runc beside teemate.
for runtime in /usr/sbin/runc "$TEEMATE"; do
    [ -x "$runtime" ] || { skip "podman --user 1000 with $runtime" "not installed"; continue; }
    out=$("${P[@]}" run --rm --runtime "$runtime" --network none --user 1000 localhost/teemate-busybox:test id 2>&1)
    expect_eq "podman run --user 1000 --runtime $(basename "$runtime"): id says uid 1000" \
        "$out" "uid=1000(1000) gid=0(root) groups=0(root)"
done
name=ctr-$$
"${P[@]}" run -d --name "$name" "${R[@]}" localhost/teemate-busybox:test sleep 30 >/dev/null 2>"$WORK/err"
expect_eq "podman ps shows the detached container running" \
    "$("${P[@]}" ps --filter name="$name" --format '{{.Status}}' | cut -d' ' -f1)" "Up"
expect_ok "podman stop (SIGTERM, then SIGKILL)" "${P[@]}" stop -t 1 "$name"
expect_ok "podman rm" "${P[@]}" rm "$name"

if "$TEEMATE" enclave create "$enclave" --image "$repo/$BUILD/examples/hello.elf" >/dev/null 2>&1; then
    out=$("${P[@]}" run --rm "${R[@]}" --annotation org.teemate.enclave="$enclave" \
        localhost/teemate-busybox:test hello podman 2>&1)
    expect_eq "podman --annotation org.teemate.enclave: main runs inside the shared enclave" "$out" "hello, podman"
    out=$("${P[@]}" run --rm "${R[@]}" --annotation org.teemate.enclave="$enclave" \
        localhost/teemate-busybox:test x --state 2>&1)
    expect_eq "a second podman container shares the enclave's global heap" "${out%%,*}" "shared runs 2"
    out=$("${P[@]}" run --rm "${R[@]}" --annotation org.teemate.enclave=nope localhost/teemate-busybox:test x 2>&1)
    if echo "$out" | grep -q "no enclave named 'nope'"; then ok "podman shows teemate's error for an unknown enclave"
    else not_ok "podman shows teemate's error for an unknown enclave"; echo "$out" >&2; fi
else
    not_ok "enclave create for the podman test"
fi
"${P[@]}" rmi -f localhost/teemate-busybox:test >/dev/null 2>&1
finish
