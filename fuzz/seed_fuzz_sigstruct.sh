#!/usr/bin/env bash
# Seeds for fuzz_sigstruct: real signed SIGSTRUCTs when the CLI ($TEEMATE, else
# build-san/ or build/) and an image are there, and always a 1808-byte file with
# just the fixed headers and e = 3.
set -u
out=$(cd "$1" && pwd) || exit 1
[ -n "${TEEMATE:-}" ] && TEEMATE=$(realpath "$TEEMATE")
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for teemate in "${TEEMATE:-}" build-san/teemate build/teemate; do
    [ -n "$teemate" ] && [ -x "$teemate" ] || continue
    "$teemate" keygen -o "$tmp/key.pem" >/dev/null 2>&1 || break
    for img in build-san/examples/*.elf build/examples/*.elf fuzz/corpus/fuzz_image/*.elf; do
        [ -f "$img" ] || continue
        "$teemate" sign "$img" --key "$tmp/key.pem" -o "$out/signed-$(basename "$img" .elf).sig" \
            >/dev/null 2>&1
        "$teemate" sign "$img" --key "$tmp/key.pem" --debug --isvprodid 1 --isvsvn 2 \
            -o "$out/signed-debug-$(basename "$img" .elf).sig" >/dev/null 2>&1
        break
    done
    break
done
# HEADER, zeros, HEADER2 at 24, exponent 3 at 512, zeros to 1808 bytes.
perl -e 'my $s = "\0" x 1808;
    substr($s, 0, 16) = pack("H*", "06000000e10000000000010000000000");
    substr($s, 24, 16) = pack("H*", "01010000600000006000000001000000");
    substr($s, 512, 4) = pack("V", 3);
    binmode STDOUT; print $s' >"$out/headers-only.sig"
exit 0
