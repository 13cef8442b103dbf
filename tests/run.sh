#!/usr/bin/env bash
# Runs every built test against build-san/ (ASan + UBSan): unit tests, CLI tests
# and short fuzz runs. Each test prints "ok - ", "not ok - " or "skip - NAME: why";
# this script counts them and ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build-san}
export TEEMATE=$PWD/$BUILD/teemate
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
log=$(mktemp -d /tmp/teemate-tests.XXXXXX)
chmod 755 "$log"   # a user namespace's mapped root must reach the bundles in tests' WORK dirs
passed=0 failed=0 skipped=0

# run NAME CMD...: run one test program, count its result lines; a program that
# exits non-zero without reporting a failure counts as one failure.
run() {
    local name=$1; shift
    local out=$log/$(echo "$name" | tr '/ ' '__').out
    echo "== $name"
    local start=$SECONDS
    # a session of its own: a test's stray kill of its process group
    # (kill 0) fails that test, not this runner
    setsid -w "$@" >"$out" 2>&1; local rc=$?
    cat "$out"
    local p f s
    p=$(grep -c '^ok - ' "$out"); f=$(grep -c '^not ok - ' "$out"); s=$(grep -c '^skip - ' "$out")
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $name exited with status $rc"; f=1
    fi
    if [ $((p + f + s)) -eq 0 ]; then echo "not ok - $name reported no result"; f=1; fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    echo "   ($((SECONDS - start)) s)"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] && run "unit/$(basename "$t")" "$t"
done
for t in tests/cli/test_*.sh; do
    [ -f "$t" ] || continue
    work=$(mktemp -d "$log/cli.XXXXXX")
    run "cli/$(basename "$t" .sh)" env WORK="$work" bash "$t"
done
for f in build-fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=$log/corpus-$name; mkdir -p "$corpus"
    [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
    [ -x "fuzz/seed_$name.sh" ] && "fuzz/seed_$name.sh" "$corpus" >/dev/null 2>&1
    run "fuzz/$name" bash -c "'$f' -max_total_time=$FUZZ_SECONDS -rss_limit_mb=2048 -timeout=10 '$corpus' >'$log/$name.log' 2>&1 \
        && echo 'ok - $name: $FUZZ_SECONDS s of fuzzing, no crash' \
        || { tail -40 '$log/$name.log'; echo 'not ok - $name found a crash'; }"
done

echo
echo "logs: $log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
