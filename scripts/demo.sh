#!/usr/bin/env bash
# TeeMate's main job, from a fresh clone: set up, build, then take the example
# enclave through layout, measure, sign, verify, run it in a fresh enclave, and
# share it: teemated (started on demand) owns one enclave and two containers
# attach to it, each with its own slot (simulation backend unless
# /dev/sgx_enclave exists). Last, a JavaScript function in the three modes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
make -s -j"$(nproc)"
tm=build/teemate
image=build/examples/hello.elf
key=build/demo-signing-key.pem   # a demo key; production keys live elsewhere

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

[ -f "$key" ] || step $tm keygen -o "$key"
step $tm layout "$image"
step $tm measure "$image"
step $tm sign "$image" --key "$key" -o build/examples/hello.sig --debug
step $tm sigstruct build/examples/hello.sig --image "$image" >/dev/null && echo "signature: valid"
step $tm exec --sig build/examples/hello.sig --stats "$image" -- world

# Shared enclave: the first verb starts teemated (state in build/demo-state).
export TEEMATE_STATE_DIR=${TEEMATE_STATE_DIR:-$PWD/build/demo-state}
$tm enclave rm --force demo-hello >/dev/null 2>&1 || true
step $tm enclave create demo-hello --image "$image" --sig build/examples/hello.sig
step $tm attach demo-hello --stats -- --state
step $tm attach demo-hello --stats -- --state
step $tm enclave inspect demo-hello

# Containers (as root): a plain one on a busybox rootfs, then two whose init
# attaches to the shared enclave and runs its main.
if [ "$(id -u)" -eq 0 ]; then
    [ -x build/demo-rootfs/bin/busybox ] || scripts/make-rootfs.sh build/demo-rootfs
    step $tm run --rootfs build/demo-rootfs --memory 64m --pids 32 --hostname demo --stats -- \
        sh -c 'set -- /proc/[0-9]*; echo "pid $$ on $(hostname), processes in sight: $*"'
    step $tm run --rootfs build/demo-rootfs --enclave demo-hello --enclave-memory 4m --stats -- hello container
    step $tm run --rootfs build/demo-rootfs --enclave demo-hello -- hello --state
else
    echo "(containers skipped: they need root)"
fi
step $tm enclave rm demo-hello

# Confidential functions: one JavaScript function in each mode, a cold start
# each with its breakdown (teemate: a shared enclave fn-demo-md5-teemate), each
# instance in a container of its own (as root).
if [ "$(id -u)" -eq 0 ]; then
    for m in native teemate strawman strawman-edmm; do
        $tm fn rm "demo-md5-$m" >/dev/null 2>&1 || true
        step $tm fn create "demo-md5-$m" apps/functions/js/crypto-md5.js --mode "$m"
        step $tm fn invoke "demo-md5-$m" --stats
    done
    step $tm fn ls
    for m in native teemate strawman strawman-edmm; do $tm fn rm "demo-md5-$m"; done
else
    echo "(functions skipped: each instance runs in a container, which needs root)"
fi
echo
echo "teemated keeps running on $TEEMATE_STATE_DIR/teemated.sock (log: teemated.log there); SIGTERM stops it."
