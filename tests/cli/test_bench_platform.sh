# bench/platform --quick (both functions, three modes, cold and warm, 1 and 2
# clients, half a second each): it runs to the end and stops all it
# started, and its JSON, Markdown and SVGs hold every configuration and
# ratio; never a timing. Facts that are not timings are checked: every
# configuration answered, native holds no enclave pages, teemate's are the
# daemon's count, a strawman instance its whole enclave, errors by kind.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=$(dirname "$TEEMATE")/bench/platform
if [ ! -x "$bench" ]; then skip "test_bench_platform" "$bench is not built"; exit 0; fi
if [ ! -r "$(dirname "$TEEMATE")/apps/functions/fn.elf" ]; then skip "test_bench_platform" "fn.elf is not built"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then skip "test_bench_platform" "needs root (containers, enclaves)"; exit 0; fi
if ! command -v jq >/dev/null; then skip "test_bench_platform" "jq is not installed"; exit 0; fi

expect_fail "bad --clients refused" "--clients takes" "$bench" --clients 0
expect_fail "unknown mode refused" "unknown name 'nope'" "$bench" --modes nope

out=$WORK/results
cd "$root"
before=$(ls -d /dev/shm/teemate-bench-platform.* /tmp/teemate-bench-platform.* 2>/dev/null | wc -l)
expect_ok "bench/platform --quick runs" timeout 300 "$bench" --quick --teemate "$TEEMATE" --out "$out"
cp "$WORK/out" "$WORK/stdout"
after=$(ls -d /dev/shm/teemate-bench-platform.* /tmp/teemate-bench-platform.* 2>/dev/null | wc -l)
expect_eq "its state directory removed" "$after" "$before"
dir=$(sed -n 's/^platform: state, socket and containers in \([^ ]*\) .*/\1/p' "$WORK/err")
expect_eq "no gateway or daemon of its own left" "${dir:+$(pgrep -f "$dir" | wc -l)}" 0

j=$out/platform.json
expect_eq "platform.json is JSON" "$(jq -e type "$j" 2>&1)" '"object"'
expect_eq "12 configurations a function: 3 modes x 2 settings x 2 client counts" \
    "$(jq '[.configs[] | select(.function == "empty")] | length' "$j"),$(jq '[.configs[] | select(.function == "crypto-md5")] | length' "$j")" "12,12"
expect_eq "every configuration measured, with numbers" \
    "$(jq '[.configs[] | select(.measured and (.requests_per_s | type) == "number" and (.p50_ms | type) == "number"
            and (.p99_ms | type) == "number" and .ok > 0 and (.host_peak_bytes | type) == "number"
            and (.epc_peak_pages | type) == "number")] | length' "$j")" 24
# errors are the platform's, not the bench's: counted by kind, never dropped
expect_eq "errors are the sum of their kinds, in every configuration" \
    "$(jq '[.configs[] | .errors == ([.error_kinds[]] | add)] | all' "$j")" true
echo "  (errors in this run: $(jq '[.configs[].errors] | add' "$j"))" >&2
expect_eq "native holds no enclave pages" \
    "$(jq '[.configs[] | select(.mode == "native") | .epc_peak_pages] | unique' "$j" | tr -d ' \n')" "[0]"
expect_eq "teemate: the shared enclave's pages counted" \
    "$(jq '[.configs[] | select(.mode == "teemate") | .epc_peak_pages > 0] | all' "$j")" true
expect_eq "strawman: at least one whole enclave (from a cold record)" \
    "$(jq '[.configs[] | select(.mode == "strawman") | .epc_peak_pages >= $p] | all' \
        --argjson p "$(jq '.strawman_epc_pages.empty' "$j")" "$j"),$(jq '.strawman_epc_pages.empty > 0' "$j")" "true,true"
expect_eq "ratios: 2 functions x 2 counts, three targets each with a value" \
    "$(jq '[.ratios[] | .cold_teemate_over_strawman.value, .cold_teemate_over_native.value, .warm_teemate_over_native.value | numbers] | length' "$j")" 12
expect_eq "gateway overhead measured in native and teemate" \
    "$(jq -c '[.gateway_overhead.native.p50_ms, .gateway_overhead.teemate.p50_ms] | map(type)' "$j")" '["number","number"]'
expect_eq "where the state lived is said" "$(jq -r '.state_dir | length > 0' "$j")" true

md=$out/platform.md
expect_eq "platform.md: a row per configuration" \
    "$(grep -cE '^\| (empty|crypto-md5) \| (cold|warm) \| (native|strawman|teemate) \| [0-9]+ \| [0-9.]+ \|' "$md")" 24
for h in "### Closed-loop clients" "### Throughput ratios" "### Gateway overhead"; do
    grep -q "^$h" "$md" && ok "platform.md has $h" || not_ok "platform.md has $h"
done
expect_eq "ratios marked PASS or MISS" "$(grep -cE '^\| (empty|crypto-md5) \| [0-9]+ \|.*(PASS|MISS)' "$md")" 4
grep -q "^### Closed-loop clients" "$WORK/stdout" && ok "tables printed" || not_ok "tables printed"
for s in platform-cold.svg platform-warm.svg; do
    expect_eq "$s is SVG" \
        "$(python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().tag)' "$out/$s" 2>&1)" \
        "{http://www.w3.org/2000/svg}svg"
    expect_eq "$s: a line per function and mode" "$(grep -c '<polyline' "$out/$s")" 6
done
finish
