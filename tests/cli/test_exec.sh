# teemate exec: a fresh enclave per run, in the simulation backend.
. "$(dirname "$0")/lib.sh"
export TEEMATE_STATE_DIR=$WORK/state
hello=$BUILD/examples/hello.elf
tests=$BUILD/examples/tests

expect_eq "exec hello -- world" "$("$TEEMATE" exec "$hello" -- world 2>/dev/null)" "hello, world"
expect_eq "exec hello (no args)" "$("$TEEMATE" exec --backend sim "$hello" 2>/dev/null)" "hello, world"
"$TEEMATE" exec "$hello" -- world >/dev/null 2>"$WORK/err"
grep -q "development key" "$WORK/err" && ok "exec without --sig says it used the development key" \
    || not_ok "exec without --sig says it used the development key"
[ "$(stat -c %a "$TEEMATE_STATE_DIR/dev-signing-key.pem")" = 600 ] && ok "development key is 0600" \
    || not_ok "development key is 0600"

expect_ok "exec --stats" "$TEEMATE" exec --stats "$hello" -- x
for phase in create add+measure init "first entry" run "EPC pages"; do
    grep -q "teemate:   $phase" "$WORK/err" && ok "--stats shows $phase" || not_ok "--stats shows $phase"
done

# Signed images: the right SIGSTRUCT runs; another image's is refused by EINIT.
"$TEEMATE" keygen -o "$WORK/key.pem" >/dev/null 2>&1
"$TEEMATE" sign "$hello" --key "$WORK/key.pem" -o "$WORK/hello.sig" >/dev/null
"$TEEMATE" sign "$tests/fault.elf" --key "$WORK/key.pem" -o "$WORK/fault.sig" >/dev/null
expect_eq "exec --sig" "$("$TEEMATE" exec --sig "$WORK/hello.sig" "$hello" -- signed 2>/dev/null)" "hello, signed"
expect_fail "exec with another image's SIGSTRUCT" "EINIT.*MRENCLAVE" \
    "$TEEMATE" exec --sig "$WORK/fault.sig" "$hello"
head -c 100 "$WORK/hello.sig" >"$WORK/short.sig"
expect_fail "exec with a truncated SIGSTRUCT" "1808 bytes" "$TEEMATE" exec --sig "$WORK/short.sig" "$hello"

# Faults inside end the run with a report, never take the host down.
"$TEEMATE" sign "$tests/syscall.elf" --key "$WORK/key.pem" -o "$WORK/syscall.sig" >/dev/null
expect_fail "enclave NULL dereference" "enclave fault: #PF" \
    "$TEEMATE" exec --sig "$WORK/fault.sig" "$tests/fault.elf"
expect_fail "system call inside the enclave" "enclave made a system call" \
    "$TEEMATE" exec --sig "$WORK/syscall.sig" "$tests/syscall.elf"
grep -q LEAK "$WORK/out" && not_ok "the system call was never executed" || ok "the system call was never executed"

# Backends and usage.
if [ -e /dev/sgx_enclave ]; then skip "exec --backend sgx without SGX" "this machine has /dev/sgx_enclave"
else expect_fail "exec --backend sgx without SGX" "/dev/sgx_enclave does not exist" \
    "$TEEMATE" exec --backend sgx "$hello"; fi
expect_fail "exec --backend bogus" "unknown backend 'bogus'" "$TEEMATE" exec --backend bogus "$hello"
expect_fail "exec without IMAGE" "expects an IMAGE" "$TEEMATE" exec
expect_fail "exec args without --" "after '--'" "$TEEMATE" exec "$hello" world
expect_fail "exec a missing image" "cannot open" "$TEEMATE" exec "$WORK/none.elf"
expect_ok "exec --help" "$TEEMATE" exec --help
finish
