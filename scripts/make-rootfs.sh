#!/usr/bin/env bash
# make-rootfs.sh DIR [TARBALL]: a minimal root filesystem from Debian's
# busybox-static (one static binary plus its applet links), for the container
# tests, bench/container and `podman import` (TARBALL: also pack it as a tar).
set -euo pipefail
dir=$1
bb=$(command -v busybox) || { echo "make-rootfs: busybox not found (scripts/setup.sh installs busybox-static)" >&2; exit 1; }
mkdir -p "$dir"/{bin,dev,proc,sys,tmp,etc,root}
cp "$bb" "$dir/bin/busybox"
for applet in $("$bb" --list); do
    [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
echo "root:x:0:" >"$dir/etc/group"
chmod 1777 "$dir/tmp"
if [ $# -ge 2 ]; then tar -C "$dir" -cf "$2" .; fi
