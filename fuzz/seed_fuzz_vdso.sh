#!/usr/bin/env bash
# Seeds for fuzz_vdso: this machine's vDSO, read out of a perl process's memory
# (the [vdso] line of /proc/self/maps), and the same with DT_HASH hidden so the
# GNU hash path is seeded too.
set -u
out=$(cd "$1" && pwd) || exit 1
perl -e '
    open(my $maps, "<", "/proc/self/maps") or exit 0;
    my ($lo, $hi);
    while (<$maps>) { ($lo, $hi) = map { hex } /^([0-9a-f]+)-([0-9a-f]+) .*\[vdso\]/ and last }
    exit 0 unless defined $hi;
    open(my $mem, "<:raw", "/proc/self/mem") or exit 0;
    sysseek($mem, $lo, 0) or exit 0;
    sysread($mem, my $img, $hi - $lo) == $hi - $lo or exit 0;
    open(my $o, ">:raw", "$ARGV[0]/vdso.so") or exit 1; print $o $img; close $o;
    # ELF64: e_phoff at 32, e_phnum at 56; PT_DYNAMIC = 2; DT_HASH = 4 -> DT_DEBUG = 21.
    my ($phoff, $phnum) = (unpack("Q<", substr($img, 32, 8)), unpack("S<", substr($img, 56, 2)));
    for my $i (0 .. $phnum - 1) {
        my $ph = substr($img, $phoff + 56 * $i, 56);
        next unless unpack("L<", $ph) == 2;
        my ($off, $sz) = (unpack("Q<", substr($ph, 8, 8)), unpack("Q<", substr($ph, 32, 8)));
        for (my $d = $off; $d + 16 <= $off + $sz; $d += 16) {
            substr($img, $d, 8) = pack("Q<", 21) if unpack("Q<", substr($img, $d, 8)) == 4;
        }
    }
    open($o, ">:raw", "$ARGV[0]/vdso-gnu-hash-only.so") or exit 1; print $o $img; close $o;
' "$out"
exit 0
