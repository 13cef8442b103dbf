#!/usr/bin/env bash
# action-image.sh [--tag NAME] [--mode MODE] [--build DIR] [--save TAR] [-- PODMAN-OPTIONS...]
# An OCI image of the action runtime (`teemate fn serve` on 0.0.0.0:8080, what
# OpenWhisk's invoker runs as a blackbox action), assembled from the built tree
# without network: busybox-static for a shell, build/teemate with the shared
# libraries ldd names, fn.elf, /etc basics; `podman import` gives it its
# entrypoint. MODE: native (default), teemate (needs the host's teemated
# socket bind-mounted at /run/teemate/teemated.sock), strawman, strawman-edmm.
# --save TAR: also `podman save` it as a docker-archive (for `ctr images import`).
# PODMAN-OPTIONS: podman's global options (--root, --storage-driver...).
set -euo pipefail
usage() { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
tag=localhost/teemate-action:latest mode=native build=$repo/build save=
while [ $# -gt 0 ]; do
    case $1 in
    --tag) tag=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --save) save=$2; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
    esac
done
case $mode in native|teemate|strawman|strawman-edmm) ;; *) echo "action-image: unknown mode '$mode'" >&2; exit 2 ;; esac
for f in "$build/teemate" "$build/apps/functions/fn.elf"; do
    [ -r "$f" ] || { echo "action-image: $f is not built (make)" >&2; exit 1; }
done
podman=(podman "$@")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/rootfs
"$repo/scripts/make-rootfs.sh" "$root"
install -D -m 755 "$build/teemate" "$root/usr/local/bin/teemate"
install -D -m 644 "$build/apps/functions/fn.elf" "$root/usr/local/lib/teemate/fn.elf"
# The libraries the dynamic binary loads, at the paths ldd resolves (the loader too).
for lib in $(ldd "$build/teemate" | grep -o '/[^ ]*'); do
    install -D -m 755 "$(readlink -f "$lib")" "$root$lib"
done
# /etc basics: users for getpwuid, name lookups through files only, no zone data.
echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >>"$root/etc/passwd"
echo "nogroup:x:65534:" >>"$root/etc/group"
echo "hosts: files" >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
mkdir -p "$root/var/lib/teemate" "$root/run/teemate"
tar -C "$root" -cf "$tmp/rootfs.tar" .

entry='["/usr/local/bin/teemate","fn","serve","--listen","0.0.0.0:8080","--mode","'$mode'"'
[ "$mode" = teemate ] && entry=$entry',"--socket","/run/teemate/teemated.sock"'
entry=$entry']'
"${podman[@]}" import --quiet \
    --change "ENTRYPOINT $entry" \
    --change "ENV TEEMATE_FN_IMAGE=/usr/local/lib/teemate/fn.elf" \
    --change "ENV PATH=/usr/local/bin:/bin" \
    --change "EXPOSE 8080" \
    --change "LABEL org.teemate.action.mode=$mode" \
    "$tmp/rootfs.tar" "$tag" >/dev/null
[ -z "$save" ] || "${podman[@]}" save --format docker-archive -o "$save" "$tag" >/dev/null
echo "$tag"
