#!/usr/bin/env bash
# Seeds for fuzz_protocol: one well-formed message of each request type (the
# first byte is the fd count the fuzzer pretends came with it), and a reply.
set -u
out=$1
# seed FILE NFDS TYPE PAYLOAD-PERL-EXPR: header (magic, version 2, type, length, 0) + payload.
seed() {
    perl -e 'my ($nfds, $type, $payload) = @ARGV; $payload = eval $payload;
        binmode STDOUT;
        print chr($nfds), pack("VvvVV", 0x504d4454, 2, $type, 16 + length($payload), 0), $payload;' \
        "$2" "$3" "$4" >"$out/$1"
}
name='pack("a64", "hello")'
seed create 2 1 "pack('a64 a8 a256 V V', 'hello', 'sim', 'hello.elf', 1, 0)"
seed create-nosig 1 1 "pack('a64 a8 a256 V V', 'svc.v1', 'auto', '', 0, 0)"
seed list 0 2 "''"
seed inspect 0 3 "$name"
seed remove 0 4 "$name . pack('V V', 1, 0)"
seed attach 0 5 "$name . pack('V V', 2, 0)"
seed fork 0 6 "$name . pack('V V Q<', 1, 0, 7) . ('t' x 16)"
seed detach 0 7 "pack('Q<', 9) . ('t' x 16)"
seed status 0 8 "''"
# A refusal, as a client reads it: status -2 with a message.
seed reply-enoent 0 $((0x8005)) "pack('l< V a256', -2, 0, q(no enclave named 'x' (teemate enclave ls)))"
# A notice (the daemon's last word before it closes): status -EUSERS.
seed notice-full 0 $((0x8000)) "pack('l< V a256', -87, 0, q(teemated is full: 64 connections from pid 7 (limit 64 per process)))"
printf '\000R1234\n' >"$out/ready"
exit 0
