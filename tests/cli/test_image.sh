# teemate measure / sgxs / layout on real and broken images.
. "$(dirname "$0")/lib.sh"

synthetic=fuzz/corpus/fuzz_image/synthetic.elf
hello=$BUILD/examples/hello.elf

for img in "$synthetic" "$hello"; do
    name=$(basename "$img")
    if [ ! -f "$img" ]; then skip "image $name" "not built ($img missing)"; continue; fi
    mr=$("$TEEMATE" measure "$img" 2>"$WORK/err")
    if [[ "$mr" =~ ^[0-9a-f]{64}$ ]]; then ok "measure $name prints 64 hex characters"; else
        not_ok "measure $name prints 64 hex characters"; cat "$WORK/err" >&2; fi
    expect_ok "sgxs $name" "$TEEMATE" sgxs "$img" -o "$WORK/$name.sgxs"
    expect_eq "sha256(sgxs $name) = MRENCLAVE" "$(sha256sum <"$WORK/$name.sgxs" | cut -d' ' -f1)" "$mr"
    expect_eq "sgxs to stdout is the same stream" "$("$TEEMATE" sgxs "$img" -o - | sha256sum | cut -d' ' -f1)" "$mr"
    expect_ok "layout $name" "$TEEMATE" layout "$img"
    if grep -q "MRENCLAVE:    $mr" "$WORK/out" && grep -qE ' tcs +0 +tcs +measured' "$WORK/out" \
        && grep -q 'heap' "$WORK/out" && grep -q 'on demand' "$WORK/out"; then
        ok "layout $name shows MRENCLAVE, TCS, heap and slots"
    else not_ok "layout $name shows MRENCLAVE, TCS, heap and slots"; cat "$WORK/out" >&2; fi
done

# Reproducible: the same sources built at another path measure the same (no
# build path may reach a loaded page).
if [ -f "$hello" ]; then
    other="$WORK/another/source/path"
    mkdir -p "$other"
    tar cf - --exclude='./build*' . | tar xf - -C "$other"
    if make -s -C "$other" BUILD=out examples >"$WORK/make.log" 2>&1; then
        expect_eq "hello.elf built elsewhere has the same MRENCLAVE" \
            "$("$TEEMATE" measure "$other/out/examples/hello.elf")" "$("$TEEMATE" measure "$hello")"
    else not_ok "hello.elf builds at another path"; cat "$WORK/make.log" >&2; fi
fi

# Broken inputs: one clear line on stderr, non-zero exit, no crash.
: >"$WORK/empty"
echo "just text" >"$WORK/text"
head -c 3000 "$synthetic" >"$WORK/truncated.elf"
cp "$synthetic" "$WORK/arm.elf"; printf '\xb7' | dd of="$WORK/arm.elf" bs=1 seek=18 conv=notrunc status=none
printf 'void _start(void){for(;;);}\n' >"$WORK/nopie.c"
expect_fail "missing file" "cannot open .*No such file" "$TEEMATE" measure "$WORK/nope.elf"
expect_fail "directory" "not a regular file" "$TEEMATE" measure "$WORK"
expect_fail "empty file" "not an ELF file" "$TEEMATE" measure "$WORK/empty"
expect_fail "text file" "not an ELF file" "$TEEMATE" layout "$WORK/text"
expect_fail "truncated image" "past the end of the file|truncated" "$TEEMATE" measure "$WORK/truncated.elf"
expect_fail "wrong machine" "wrong machine 183" "$TEEMATE" measure "$WORK/arm.elf"
expect_fail "dynamic executable" "interpreter|shared libraries" "$TEEMATE" measure /bin/true
if gcc -static -no-pie -nostdlib -o "$WORK/nopie" "$WORK/nopie.c" 2>/dev/null; then
    expect_fail "static non-PIE executable" "ET_EXEC.*-static-pie" "$TEEMATE" measure "$WORK/nopie"
else skip "static non-PIE executable" "gcc cannot link a static non-PIE program here"; fi
if gcc -static-pie -nostdlib -fPIE -o "$WORK/nonote" "$WORK/nopie.c" 2>/dev/null; then
    expect_fail "static-pie without the SDK" "no TeeMate layout note|page aligned" "$TEEMATE" measure "$WORK/nonote"
else skip "static-pie without the SDK" "gcc cannot link a static-pie program here"; fi
expect_fail "sgxs into a missing directory" "cannot create" "$TEEMATE" sgxs "$synthetic" -o "$WORK/no/such/dir"

# Usage errors: one line, exit 2.
expect_fail "measure without IMAGE" "expects exactly one IMAGE" "$TEEMATE" measure
expect_fail "sgxs without -o" "missing -o FILE" "$TEEMATE" sgxs "$synthetic"
expect_fail "unknown option" "unknown option" "$TEEMATE" layout --frobnicate "$synthetic"
expect_fail "unknown command" "unknown command 'frobnicate'" "$TEEMATE" frobnicate
"$TEEMATE" measure >/dev/null 2>&1; expect_eq "usage errors exit 2" "$?" "2"
for verb in measure sgxs layout; do
    expect_ok "$verb --help" "$TEEMATE" "$verb" --help
done
finish
