# bench/kv --quick: loads the data set (10000 keys at 3 and 1000 bytes) into
# redis-server and teemate kv serve (--no-enclave; the enclave where root and
# kv.elf allow), runs redis-benchmark, and writes kv.json, kv.md, kv.svg and
# kv-memory.svg that are well-formed: every field present, a row per test,
# pipeline and size, a memory row per size with DBSIZE's count, SVGs that
# parse. No timing is asserted (the machine is shared).
. "$(dirname "$0")/lib.sh"
bin=$BUILD/bench/kv
if [ ! -x "$bin" ]; then skip "test_bench_kv" "$bin is not built"; exit 0; fi
for t in redis-server redis-benchmark redis-cli jq python3; do
    command -v $t >/dev/null || { skip "test_bench_kv" "no $t"; exit 0; }; done
export TEEMATE_STATE_DIR=$WORK/state

expect_fail "bench/kv: a bad --sizes is refused" "--sizes takes" "$bin" --sizes 3,abc --out "$WORK/none"
expect_fail "bench/kv: a bad -n is refused" "-n takes" "$bin" -n 12x --out "$WORK/none"
expect_fail "bench/kv: a bad --tests is refused" "--tests takes" "$bin" --tests 'set;rm' --out "$WORK/none"
expect_fail "bench/kv: an unknown flag is refused" "unknown option.*--frobnicate" "$bin" --frobnicate
[ ! -e "$WORK/none" ] && ok "bench/kv: nothing written on a usage error" \
    || not_ok "bench/kv: nothing written on a usage error"

expect_ok "bench/kv --quick runs" timeout 300 "$bin" --quick --out "$WORK/results" --teemate "$TEEMATE"
j=$WORK/results/kv.json
expect_eq "kv.json: 3 tests x 2 pipelines x 2 sizes" "$(jq '.results | length' "$j" 2>/dev/null)" "12"
expect_eq "kv.json: the sizes" "$(jq -c '.value_sizes' "$j" 2>/dev/null)" "[3,1000]"
expect_eq "kv.json: redis-server figures" \
    "$(jq '[.results[] | select(.redis.rps > 0 and .redis.p50_ms >= 0 and .redis.p99_ms > 0 and .requests >= 100)] | length' "$j" 2>/dev/null)" "12"
expect_eq "kv.json: a verdict each" \
    "$(jq -r '[.results[] | select(.verdict | test("^(PASS|MISS|not run)"))] | length' "$j" 2>/dev/null)" "12"
expect_eq "kv.json: teemate --no-enclave ran every test" \
    "$(jq '[.results[] | select(.no_enclave.rps > 0 and .throughput_ratio > 0)] | length' "$j" 2>/dev/null)" "12"
expect_eq "kv.json: a memory row per size" "$(jq '.memory | length' "$j" 2>/dev/null)" "2"
expect_eq "kv.json: redis-server and --no-enclave hold exactly the 10000 keys" \
    "$(jq '[.memory[] | .redis, .no_enclave | select(.ran and .keys == 10000 and .used_per_key > 0 and .rss_per_key != null)] | length' "$j" 2>/dev/null)" "4"
expect_eq "kv.json: a memory verdict each" \
    "$(jq '[.memory[] | select((.verdict | test("^(PASS|MISS)")) and .used_ratio > 0 and .held_ratio > 0)] | length' "$j" 2>/dev/null)" "2"
expect_eq "kv.json: summary and load average" \
    "$(jq '(.summary.throughput_judged == 12) and (.summary.memory_judged == 2) and (.loadavg_start | length > 0) and (.keys == 10000)' "$j" 2>/dev/null)" "true"
# INFO used_memory_rss is what the process holds (its RSS; the enclave: the
# slot's committed pages), as Redis's is: within 25% of what /proc says.
expect_eq "kv.json: --no-enclave's INFO used_memory_rss is its RSS" \
    "$(jq '[.memory[].no_enclave | select(.info_used_memory_rss_after > 0.75 * .rss_after and .info_used_memory_rss_after < 1.25 * .rss_after)] | length' "$j" 2>/dev/null)" "2"
if [ "$(id -u)" = 0 ] && [ -r "$(dirname "$TEEMATE")/apps/kv/kv.elf" ]; then
    expect_eq "kv.json: the enclave's slot EPC pages, before and after" \
        "$(jq '[.memory[] | .enclave | select(.ran and .keys == 10000 and .epc_pages_after > .epc_pages_before and .epc_per_key > 0)] | length' "$j" 2>/dev/null)" "2"
    expect_eq "kv.json: the enclave's INFO used_memory_rss is its slot's committed pages" \
        "$(jq '[.memory[].enclave | select(.info_used_memory_rss_after > 0.9 * 4096 * .epc_pages_after and .info_used_memory_rss_after <= 1.1 * 4096 * .epc_pages_after)] | length' "$j" 2>/dev/null)" "2"
    expect_eq "kv.json: the enclave ran every test" \
        "$(jq '[.results[] | select(.enclave.rps > 0 and .enclave.p99_ms > 0)] | length' "$j" 2>/dev/null)" "12"
else
    skip "kv.json: the enclave's figures" "needs root and kv.elf"
fi
md=$WORK/results/kv.md
grep -q '^| -d | -P | test | -n | redis-server rps' "$md" && [ "$(grep -cE '^\| (3|1000) \| (1|16) \| ' "$md")" -eq 12 ] \
    && ok "kv.md: the throughput table" || not_ok "kv.md: the throughput table"
grep -q '^| value B | server | load s | used_memory B/key' "$md" && [ "$(grep -cE '^\| (3|1000) \| (redis-server|teemate)' "$md")" -eq 6 ] \
    && ok "kv.md: the memory table" || not_ok "kv.md: the memory table"
grep -q '^PASS: throughput and p99 [0-9]* of 12, memory [0-9]* of 2' "$md" \
    && ok "kv.md: the PASS count" || not_ok "kv.md: the PASS count"
for svg in kv.svg kv-memory.svg; do
    python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); sys.exit(d.documentElement.tagName != "svg" or not d.getElementsByTagName("rect"))' \
        "$WORK/results/$svg" && ok "$svg: well-formed SVG with bars" || not_ok "$svg: well-formed SVG with bars"
done
finish
