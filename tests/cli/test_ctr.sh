# containerd (Debian's 1.6) driving teemate through ctr and the runc v2 shim
# (ctr run --runc-binary): an image whose config says USER 1000, run without
# CAP_DAC_OVERRIDE, prints uid 1000; an exec that fails after create shows
# its reason in ctr's error. Debian's runc runs the same beside it. The test
# starts its own containerd (root, state and socket in $WORK, its own ctr
# namespace) and stops it; the image is built here: nothing is pulled.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then skip "ctr --runc-binary teemate" "needs root"; finish; fi
for tool in containerd ctr containerd-shim-runc-v2; do
    command -v $tool >/dev/null || { skip "ctr --runc-binary teemate" "$tool is not installed (Debian containerd)"; finish; }
done
ns=teemate-test-$$
cleanup() { ctrd_stop localhost/teemate-busybox:user; }
trap cleanup EXIT
if ! ctrd_start "$ns"; then skip "ctr --runc-binary teemate" "containerd did not start: $ctrd_error"; finish; fi

# A docker-archive image (manifest.json, config, one layer) of the busybox rootfs,
# whose config runs as uid 1000, plus a file that is executable but no program.
repo=$PWD
"$repo/scripts/make-rootfs.sh" "$D/rootfs" || { not_ok "busybox rootfs"; finish; }
printf 'not a program\n' >"$D/rootfs/bin/junk" && chmod 755 "$D/rootfs/bin/junk"
tar -C "$D/rootfs" -cf "$D/layer.tar" .
docker_archive "$D/layer.tar" "$D/image.tar" localhost/teemate-busybox:user '{"User": "1000", "Env": ["PATH=/bin"], "Cmd": ["id"]}'
expect_ok "ctr images import of a USER 1000 image" "${C[@]}" images import "$D/image.tar"

# run RUNTIME ID ARGS...: ctr run --rm of the image with RUNTIME as the runc binary.
run() {
    local runtime=$1 id=$2; shift 2
    "${C[@]}" run --rm --runc-binary "$runtime" --runc-root "$D/runtime-root" \
        --cap-drop CAP_DAC_OVERRIDE localhost/teemate-busybox:user "$id" "$@"
}
for runtime in /usr/sbin/runc "$TEEMATE"; do
    name=$(basename "$runtime")
    [ -x "$runtime" ] || { skip "ctr with $name" "$runtime is not installed"; continue; }
    out=$(run "$runtime" "$name-id-$$" id 2>&1)
    expect_eq "ctr run --runc-binary $name: USER 1000 without CAP_DAC_OVERRIDE runs as uid 1000" \
        "$out" "uid=1000 gid=0(root) groups=0(root)"
done
out=$(run "$TEEMATE" "teemate-junk-$$" /bin/junk 2>&1); rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "container init: exec /bin/junk: Exec format error"; then
    ok "ctr shows teemate start's error for an exec that fails after create"
else
    not_ok "ctr shows teemate start's error for an exec that fails after create"; echo "  rc=$rc: $out" >&2
fi
expect_eq "ctr removed every container" "$("${C[@]}" containers ls -q)" ""
expect_eq "no teemate state left" "$(ls "$D/runtime-root/$ns" 2>/dev/null)" ""
finish
