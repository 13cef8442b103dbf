# bench/snapshot --quick: data sets of 4 and 8 MB in redis-server and teemate
# kv serve --fork attach and strawman, one BGSAVE each per size, then the
# write load at 8 MB without and with BGSAVEs back to back. Checks that
# snapshot.json, snapshot.md and the SVGs are well-formed and hold every
# figure, not the timings (the machine is shared). TeeMate's rows are checked
# wherever the bench ran them; they may only be missing with the reason the
# bench prints when the server has no BGSAVE yet.
. "$(dirname "$0")/lib.sh"
bin=$BUILD/bench/snapshot
if [ ! -x "$bin" ]; then skip "test_bench_snapshot" "$bin is not built"; exit 0; fi
for t in redis-server redis-benchmark redis-cli jq python3; do
    command -v $t >/dev/null || { skip "test_bench_snapshot" "no $t"; exit 0; }; done
export TEEMATE_STATE_DIR=$WORK/state

expect_fail "bench/snapshot: a bad --sizes is refused" "--sizes takes" "$bin" --sizes 8,abc --out "$WORK/none"
expect_fail "bench/snapshot: sizes must ascend" "--sizes" "$bin" --sizes 8,4 --out "$WORK/none"
expect_fail "bench/snapshot: a bad --reps is refused" "--reps takes" "$bin" --reps 0 --out "$WORK/none"
expect_fail "bench/snapshot: a bad --tests is refused" "--tests takes" "$bin" --tests 'set;rm' --out "$WORK/none"
expect_fail "bench/snapshot: an unknown flag is refused" "unknown option.*--frobnicate" "$bin" --frobnicate
[ ! -e "$WORK/none" ] && ok "bench/snapshot: nothing written on a usage error" \
    || not_ok "bench/snapshot: nothing written on a usage error"

out=$WORK/results
expect_ok "bench/snapshot --quick runs" timeout 600 "$bin" --quick --out "$out" --teemate "$TEEMATE"
j=$out/snapshot.json
expect_eq "snapshot.json: the sizes and settings" \
    "$(jq -c '[.sizes_mb, .sizes_done, .reps, .load_mb, .quick]' "$j" 2>/dev/null)" "[[4,8],2,1,8,true]"
expect_eq "snapshot.json: a fork row per size" "$(jq '.fork | length' "$j" 2>/dev/null)" "2"
# redis-server always runs: its used_memory reached the size, a fork time,
# a BGSAVE time no shorter than the fork, a dump on disk, its COW figure.
expect_eq "snapshot.json: redis-server's fork figures at each size" \
    "$(jq '[.fork[] | .size_mb as $mb | .redis | select(.ran and .keys > 0 and .used_memory >= 0.99 * $mb * 1048576
        and .fork_ms > 0 and .bgsave_ms >= .fork_ms and .dump_bytes > 0.5 * $mb * 1048576 and .cow_bytes >= 0
        and (.saves | length) == 1 and .saves[0].ok)] | length' "$j" 2>/dev/null)" "2"
# The values are incompressible: the dump is about the data, not LZF's view of 'xxx'.
expect_eq "snapshot.json: redis-server's dump holds the values (not compressed away)" \
    "$(jq '[.fork[] | .redis | select(.dump_bytes > 0.8 * .keys * 1000)] | length' "$j" 2>/dev/null)" "2"
expect_eq "snapshot.json: redis-server ran the write load alone and with BGSAVEs" \
    "$(jq '.workload.redis | [.alone.ran, .bgsave.ran, (.alone.results | length), (.bgsave.results | length),
        (.used_memory >= 0.99 * 8 * 1048576)] | all' "$j" 2>/dev/null)" "true"
expect_eq "snapshot.json: the write load's tests have rps and p99" \
    "$(jq '[.workload.redis.alone.results[], .workload.redis.bgsave.results[] | select(.rps > 0 and .p99_ms > 0
        and (.test | test("^(SET|INCR|LPUSH|HSET)$")))] | length' "$j" 2>/dev/null)" "8"
expect_eq "snapshot.json: BGSAVEs counted during redis-server's load" \
    "$(jq '.workload.redis.bgsave | (.bgsaves >= 0 and .bgsaves_failed == 0)' "$j" 2>/dev/null)" "true"
expect_eq "snapshot.json: the verdicts" \
    "$(jq -r '[.fork_summary.verdict, .fork_summary.strawman_verdict, .workload.throughput_verdict,
        .workload.cow_verdict] | map(test("^(PASS|MISS|not run: )")) | all' "$j" 2>/dev/null)" "true"

# TeeMate: checked where the bench ran it; skipped only for "no BGSAVE yet".
for t in attach strawman; do
    why=$(jq -r ".skipped.\"$t\" // empty" "$j" 2>/dev/null)
    if [ -n "$why" ]; then
        case $why in "no BGSAVE yet: "*) skip "snapshot.json: teemate --fork $t's figures" "$why" ;;
            *) not_ok "snapshot.json: teemate --fork $t skipped for another reason: $why" ;; esac
    elif [ "$(id -u)" != 0 ] || [ ! -r "$(dirname "$TEEMATE")/apps/kv/kv.elf" ]; then
        skip "snapshot.json: teemate --fork $t's figures" "needs root and kv.elf"
    else
        expect_eq "snapshot.json: teemate --fork $t's fork figures at each size" \
            "$(jq "[.fork[] | .size_mb as \$mb | .\"$t\" | select(.ran and .used_memory >= 0.99 * \$mb * 1048576
                and .fork_ms > 0 and .bgsave_ms >= .fork_ms and .dump_bytes > 0.5 * \$mb * 1048576)] | length" "$j" 2>/dev/null)" "2"
    fi
done
if [ -z "$(jq -r '.skipped.attach // empty' "$j" 2>/dev/null)" ] && [ "$(id -u)" = 0 ] \
    && [ -r "$(dirname "$TEEMATE")/apps/kv/kv.elf" ]; then
    expect_eq "snapshot.json: attach / redis-server fork ratios with verdicts" \
        "$(jq '[.fork[] | select(.attach_over_redis > 0 and (.verdict | test("^(PASS|MISS)$")))] | length' "$j" 2>/dev/null)" "2"
    if [ -z "$(jq -r '.skipped.strawman // empty' "$j" 2>/dev/null)" ]; then
        expect_eq "snapshot.json: strawman / attach fork ratios" \
            "$(jq '[.fork[] | select(.strawman_over_attach > 0)] | length' "$j" 2>/dev/null)" "2"
        expect_eq "snapshot.json: strawman judged at the largest size" \
            "$(jq -r '.fork_summary | (.strawman_over_attach > 0 and (.strawman_verdict | test("^(PASS|MISS)$")))' "$j" 2>/dev/null)" "true"
    fi
    expect_eq "snapshot.json: attach's throughput and COW verdicts" \
        "$(jq -r '.workload | [.throughput_verdict, .cow_verdict] | map(test("^(PASS|MISS)")) | all' "$j" 2>/dev/null)" "true"
    expect_eq "snapshot.json: attach ran the write load with BGSAVEs and reported COW" \
        "$(jq '.workload.attach | [.alone.ran, .bgsave.ran, .bgsave.bgsaves_failed == 0, (.bgsave.bgsaves == 0 or .bgsave.cow_mean_bytes >= 0)] | all' "$j" 2>/dev/null)" "true"
fi

md=$out/snapshot.md
grep -q '^| size MB | server | keys | used_memory MB | load s | fork ms | BGSAVE ms' "$md" \
    && [ "$(grep -cE '^\| (4|8) \| (redis-server|teemate --fork (attach|strawman)) \| ' "$md")" -eq 6 ] \
    && ok "snapshot.md: the fork table, a row per size and server" || not_ok "snapshot.md: the fork table, a row per size and server"
grep -q '^| size MB | attach / redis-server fork | verdict' "$md" && grep -q '^attach fork <= redis-server' "$md" \
    && ok "snapshot.md: the fork ratios and verdict" || not_ok "snapshot.md: the fork ratios and verdict"
[ "$(grep -cE '^\| redis-server \| (SET|INCR|LPUSH|HSET) \| [0-9]+ \| ' "$md")" -eq 4 ] \
    && grep -q '^Throughput with / without BGSAVEs' "$md" \
    && ok "snapshot.md: the write load table and verdicts" || not_ok "snapshot.md: the write load table and verdicts"
for svg in snapshot-fork.svg snapshot-bgsave.svg; do
    python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); sys.exit(d.documentElement.tagName != "svg" or not d.getElementsByTagName("polyline"))' \
        "$out/$svg" && ok "$svg: well-formed SVG with lines" || not_ok "$svg: well-formed SVG with lines"
done
python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); sys.exit(d.documentElement.tagName != "svg" or not d.getElementsByTagName("rect"))' \
    "$out/snapshot-throughput.svg" && ok "snapshot-throughput.svg: well-formed SVG with bars" \
    || not_ok "snapshot-throughput.svg: well-formed SVG with bars"
# nothing left behind: the dump dir (the scratch dir goes with it)
expect_eq "bench/snapshot: its scratch and dump dirs removed" "$(ls -d "$(jq -r .dump_dir "$j")" 2>/dev/null)" ""
finish
