# The committed MRENCLAVE vectors are what the Python reference computes now,
# so the constants the C test checks cannot drift from the reference.
root=$(cd "${0%/*}/../.." && pwd)
. "$root/tests/cli/lib.sh"

header=$root/tests/vectors/measure_vectors.h
if ! command -v python3 >/dev/null 2>&1; then
    skip "measure vectors match the reference" "python3 not installed"
else
    if python3 "$root/tests/vectors/sgx_measure_ref.py" --c-header >"$WORK/vectors.h" 2>"$WORK/err"; then
        ok "reference runs and its self-checks hold"
        if cmp -s "$WORK/vectors.h" "$header"; then
            ok "committed measure_vectors.h equals the reference output"
        else
            not_ok "committed measure_vectors.h equals the reference output"
            diff -u "$header" "$WORK/vectors.h" | head -40 >&2
        fi
    else
        not_ok "reference runs and its self-checks hold"
        sed 's/^/  | /' "$WORK/err" >&2
    fi
fi
finish
