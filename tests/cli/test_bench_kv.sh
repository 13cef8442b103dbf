# bench/kv --quick: runs redis-benchmark against redis-server (and teemate kv
# serve where it is built) and writes kv.json, kv.md and kv.svg that are
# well-formed: the JSON parses with a result per test and pipeline, the
# table has its header and rows, the SVG is one <svg> element.
. "$(dirname "$0")/lib.sh"
bin=$BUILD/bench/kv
if [ ! -x "$bin" ]; then skip "test_bench_kv" "$bin is not built"; exit 0; fi
for t in redis-server redis-benchmark redis-cli jq python3; do
    command -v $t >/dev/null || { skip "test_bench_kv" "no $t"; exit 0; }; done
export TEEMATE_STATE_DIR=$WORK/state
expect_ok "bench/kv --quick runs" timeout 300 "$bin" --quick --out "$WORK/results" --teemate "$TEEMATE"
j=$WORK/results/kv.json
expect_eq "kv.json: 3 tests x 2 pipelines" "$(jq '.results | length' "$j" 2>/dev/null)" "6"
expect_eq "kv.json: redis-server figures" "$(jq '[.results[] | select(.redis.rps > 0 and .redis.p99_ms > 0)] | length' "$j" 2>/dev/null)" "6"
expect_eq "kv.json: a verdict each" "$(jq -r '[.results[].verdict | select(. == "PASS" or . == "MISS" or . == "not run")] | length' "$j" 2>/dev/null)" "6"
grep -q '^| -P | test | redis-server rps' "$WORK/results/kv.md" && [ "$(grep -c '^| 1[6]* | ' "$WORK/results/kv.md")" -eq 6 ] \
    && ok "kv.md: the table" || not_ok "kv.md: the table"
python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); sys.exit(d.documentElement.tagName != "svg")' \
    "$WORK/results/kv.svg" && ok "kv.svg: well-formed SVG" || not_ok "kv.svg: well-formed SVG"
finish
