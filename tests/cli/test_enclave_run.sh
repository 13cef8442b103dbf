# teemate enclave run: a fresh enclave per run, in the simulation backend.
. "$(dirname "$0")/lib.sh"
export TEEMATE_STATE_DIR=$WORK/state
hello=$BUILD/examples/hello.elf
tests=$BUILD/examples/tests

expect_eq "enclave run hello -- world" "$("$TEEMATE" enclave run "$hello" -- world 2>/dev/null)" "hello, world"
expect_eq "enclave run hello (no args)" "$("$TEEMATE" enclave run --backend sim "$hello" 2>/dev/null)" "hello, world"
"$TEEMATE" enclave run "$hello" -- world >/dev/null 2>"$WORK/err"
grep -q "development key" "$WORK/err" && ok "enclave run without --sig says it used the development key" \
    || not_ok "enclave run without --sig says it used the development key"
[ "$(stat -c %a "$TEEMATE_STATE_DIR/dev-signing-key.pem")" = 600 ] && ok "development key is 0600" \
    || not_ok "development key is 0600"

expect_ok "enclave run --stats" "$TEEMATE" enclave run --stats "$hello" -- x
for phase in create add+measure init "first entry" run "EPC pages"; do
    grep -q "teemate:   $phase" "$WORK/err" && ok "--stats shows $phase" || not_ok "--stats shows $phase"
done

# Signed images: the right SIGSTRUCT runs; another image's is refused by EINIT.
"$TEEMATE" keygen -o "$WORK/key.pem" >/dev/null 2>&1
"$TEEMATE" sign "$hello" --key "$WORK/key.pem" -o "$WORK/hello.sig" >/dev/null
"$TEEMATE" sign "$tests/fault.elf" --key "$WORK/key.pem" -o "$WORK/fault.sig" >/dev/null
expect_eq "enclave run --sig" "$("$TEEMATE" enclave run --sig "$WORK/hello.sig" "$hello" -- signed 2>/dev/null)" "hello, signed"
expect_fail "enclave run with another image's SIGSTRUCT" "EINIT.*MRENCLAVE" \
    "$TEEMATE" enclave run --sig "$WORK/fault.sig" "$hello"
head -c 100 "$WORK/hello.sig" >"$WORK/short.sig"
expect_fail "enclave run with a truncated SIGSTRUCT" "1808 bytes" "$TEEMATE" enclave run --sig "$WORK/short.sig" "$hello"

# Faults inside end the run with a report, never take the host down.
"$TEEMATE" sign "$tests/syscall.elf" --key "$WORK/key.pem" -o "$WORK/syscall.sig" >/dev/null
expect_fail "enclave NULL dereference" "enclave fault: #PF" \
    "$TEEMATE" enclave run --sig "$WORK/fault.sig" "$tests/fault.elf"
expect_fail "system call inside the enclave" "enclave made a system call" \
    "$TEEMATE" enclave run --sig "$WORK/syscall.sig" "$tests/syscall.elf"
grep -q LEAK "$WORK/out" && not_ok "the system call was never executed" || ok "the system call was never executed"

# Backends and usage.
if [ -e /dev/sgx_enclave ]; then skip "enclave run --backend sgx without SGX" "this machine has /dev/sgx_enclave"
else expect_fail "enclave run --backend sgx without SGX" "/dev/sgx_enclave does not exist" \
    "$TEEMATE" enclave run --backend sgx "$hello"; fi
expect_fail "enclave run --backend bogus" "unknown backend 'bogus'" "$TEEMATE" enclave run --backend bogus "$hello"
expect_fail "enclave run without IMAGE" "expects an IMAGE" "$TEEMATE" enclave run
expect_fail "enclave run args without --" "after '--'" "$TEEMATE" enclave run "$hello" world
expect_fail "enclave run a missing image" "cannot open" "$TEEMATE" enclave run "$WORK/none.elf"
expect_ok "enclave run --help" "$TEEMATE" enclave run --help
# Options after the image, as the synopsis writes them; after '--' they are the program's.
expect_eq "enclave run IMAGE --sig FILE -- x (the synopsis's order)" \
    "$("$TEEMATE" enclave run "$hello" --sig "$WORK/hello.sig" -- x 2>/dev/null)" "hello, x"
expect_eq "enclave run IMAGE --backend sim --stats (no ARGS)" \
    "$("$TEEMATE" enclave run "$hello" --backend sim --stats 2>/dev/null)" "hello, world"
expect_eq "enclave run IMAGE -- --stats: an argument after '--' is the program's" \
    "$("$TEEMATE" enclave run "$hello" -- --stats 2>/dev/null)" "hello, --stats"
expect_fail "enclave run IMAGE --bogus" "unknown option" "$TEEMATE" enclave run "$hello" --bogus
finish
