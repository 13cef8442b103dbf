#!/usr/bin/env bash
# TeeMate's main job, from a fresh clone: set up, build, then take the example
# enclave through what TeeMate does today (layout, measure, sign, verify).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
make -s -j"$(nproc)"
tm=build/teemate
image=build/examples/hello.elf
state=${TEEMATE_STATE_DIR:-$HOME/.local/share/teemate}
mkdir -p "$state"
key=$state/dev-key.pem

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

[ -f "$key" ] || step $tm keygen -o "$key"
step $tm layout "$image"
step $tm measure "$image"
step $tm sign "$image" --key "$key" -o build/examples/hello.sig --debug
step $tm sigstruct build/examples/hello.sig --image "$image"
