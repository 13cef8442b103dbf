#!/usr/bin/env bash
# Seeds for fuzz_image: the example enclave images, if built.
set -u
out=$1
for f in build-san/examples/*.elf build/examples/*.elf; do
    [ -f "$f" ] && cp "$f" "$out/$(basename "$f")"
done
exit 0
