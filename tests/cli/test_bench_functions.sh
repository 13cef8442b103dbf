# bench/functions --quick (3 functions, 2 runs, 1 and 8 instances): it runs to
# the end, and its JSON, Markdown and SVGs hold every field and row; never a
# timing. Facts that are not timings are checked: every invocation gave a
# result, the teemate enclave's pages are counted, an SGX1 strawman commits
# its 256 MB, native holds no EPC.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=$(dirname "$TEEMATE")/bench/functions
if [ ! -x "$bench" ]; then skip "test_bench_functions" "$bench is not built"; exit 0; fi
if [ ! -r "$(dirname "$TEEMATE")/apps/functions/fn.elf" ]; then skip "test_bench_functions" "fn.elf is not built"; exit 0; fi
if [ ! -r /usr/share/javascript/mustache/mustache.js ]; then
    skip "test_bench_functions" "mustache.js is missing (libjs-mustache)"; exit 0; fi

out=$WORK/results
cd "$root"
expect_ok "bench/functions --quick runs" timeout 900 "$bench" --quick --teemate "$TEEMATE" --out "$out"
cp "$WORK/out" "$WORK/stdout"
j=$out/functions.json
expect_eq "functions.json is JSON" "$(jq -e type "$j" 2>&1)" '"object"'

fields='container_ms enclave_build_ms alias_ms expand_ms heap_ms code_load_ms run_ms total_ms wall_ms epc_pages memory_peak_bytes'
modes=$(jq -r '.modes[]' "$j")
expect_eq "modes measured" "$(jq -r '.modes[:3] | join(",")' "$j")" "native,teemate,strawman"
edmm=$(jq -r '(.modes | index("strawman-edmm")) != null or .skipped["strawman-edmm"] == "skipped: not supported by this build"' "$j")
expect_eq "strawman-edmm measured or said skipped" "$edmm" true
stats=$(jq -r .stats "$j")
for f in dynamic-html sleep crypto-md5; do
    for m in $modes; do
        missing=
        for k in $fields; do
            jq -e ".cold[\"$f\"][\"$m\"] | has(\"$k\")" "$j" >/dev/null || missing="$missing $k"
            # with --stats=json every field is a figure; with the older line, what it has
            if [ "$stats" = json ] || [ "$k" = total_ms ] || [ "$k" = wall_ms ]; then
                jq -e ".cold[\"$f\"][\"$m\"][\"$k\"] | .median and .p95 and .n == 2" "$j" >/dev/null \
                    || missing="$missing $k(value)"
            fi
        done
        expect_eq "cold $f $m: every field" "${missing:-none}" none
        expect_eq "cold $f $m: no failed run" "$(jq ".cold[\"$f\"][\"$m\"].failed" "$j")" 0
    done
    expect_eq "ratios $f: the four targets and the two start-up ratios" \
        "$(jq -c ".ratios[\"$f\"] | [has(\"strawman_over_teemate\"), has(\"strawman_edmm_over_teemate\"), has(\"teemate_over_native\"), has(\"alias_expand_share\"), has(\"startup_strawman_over_teemate\"), has(\"startup_strawman_edmm_over_teemate\")]" "$j")" \
        "[true,true,true,true,true,true]"
    expect_eq "ratio strawman / teemate of $f computed" \
        "$(jq ".ratios[\"$f\"].strawman_over_teemate.value | type" "$j")" '"number"'
    expect_eq "warm $f: both modes measured" \
        "$(jq -c ".cold[\"$f\"].warm | [(.native_ms | type), (.teemate_ms | type), (.ratio | type)]" "$j")" \
        '["number","number","number"]'
done
expect_eq "sleep marked run dominates" "$(jq .ratios.sleep.run_dominates "$j")" true

nmodes=$(jq '.modes | length' "$j")
expect_eq "memory rows: 2 counts x modes" "$(jq '.memory | length' "$j")" $((2 * nmodes))
for k in 1 8; do
    for m in $modes; do
        row=".memory[] | select(.instances == $k and .mode == \"$m\")"
        expect_eq "memory $k $m: measured or why not" \
            "$(jq -r "$row | if .measured then (.all_alive | type == \"boolean\" | tostring) else (.not_run | startswith(\"not run: needs\") | tostring) end" "$j")" true
    done
    expect_eq "memory $k native: no EPC" \
        "$(jq -r ".memory[] | select(.instances == $k and .mode == \"native\") | .epc_pages" "$j")" 0
    expect_eq "memory $k teemate: the shared enclave's pages" \
        "$(jq -r ".memory[] | select(.instances == $k and .mode == \"teemate\") | (.epc_pages > 0 and .daemon_rss_bytes > 0)" "$j")" true
    expect_eq "memory $k strawman: each commits its 256 MB" \
        "$(jq -r ".memory[] | select(.instances == $k and .mode == \"strawman\") | (.measured | not) or .epc_pages >= $k * 65536" "$j")" true
done

md=$out/functions.md
for h in "### Cold start" "### Ratios" "### Warm path" "### Memory"; do
    grep -q "^$h" "$md" && ok "functions.md has $h" || not_ok "functions.md has $h"
done
grep -q "^### Cold start" "$WORK/stdout" && ok "tables printed" || not_ok "tables printed"
for s in functions-latency.svg functions-memory.svg; do
    expect_eq "$s is SVG" \
        "$(python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().tag)' "$out/$s" 2>&1)" \
        "{http://www.w3.org/2000/svg}svg"
done
expect_eq "latency plot has a bar per function and mode" \
    "$(grep -c '<text[^>]*font-size="9"' "$out/functions-latency.svg")" $((3 * nmodes))
finish
