#!/usr/bin/env bash
# TeeMate's main job, from a fresh clone: set up, build, then take the example
# enclave through what TeeMate does today: layout, measure, sign, verify, and
# run it in a fresh enclave (simulation backend unless /dev/sgx_enclave exists).
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
