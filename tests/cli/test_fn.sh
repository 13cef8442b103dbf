# teemate fn create/invoke/ls/rm, in the native, teemate, strawman and strawman-edmm modes,
# end to end through the CLI: the same function gives the same result in each, a
# script that does not compile is refused with Duktape's message and line and
# leaves nothing behind, error results exit 1, rm takes the enclave away.
# Everything lives in $WORK; teemated runs as a job of this shell.
. "$(dirname "$0")/lib.sh"
export TEEMATE_STATE_DIR=$WORK/state
export TEEMATE_SOCKET=$WORK/run/teemated.sock
image=$(dirname "$TEEMATE")/apps/functions/fn.elf
if [ ! -r "$image" ]; then skip "test_fn" "$image is not built"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then skip "test_fn" "needs root (every instance runs in a container)"; exit 0; fi
dpid=
start_daemon
trap 'kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null' EXIT

cat >"$WORK/add.js" <<'JS'
var calls = 0;
function main(params) {
    calls++;
    console.log("adding", params.a, params.b);
    teemate.storePut("sums", "last", String(params.a + params.b));
    return { sum: params.a + params.b, calls: calls, who: params.who, stored: teemate.storeGet("sums", "last") };
}
JS
printf 'function main(p) {\n  var x = 1;\n  return { x: x;\n}\n' >"$WORK/bad.js"
printf 'function main(p) { if (p.fail) throw new Error("asked to fail"); if (p.n) return 7; return {}; }\n' >"$WORK/err.js"

expect_ok "fn --help" "$TEEMATE" fn --help
for m in native teemate strawman strawman-edmm; do
    expect_ok "fn create ($m)" "$TEEMATE" fn create "add-$m" "$WORK/add.js" --mode "$m" --timeout 5
    expect_ok "fn invoke ($m)" "$TEEMATE" fn invoke "add-$m" -p a 40 -p b 2 --params '{"who":"ada"}'
    expect_eq "fn invoke result ($m)" "$(cat "$WORK/out")" '{"sum":42,"calls":1,"who":"ada","stored":"42"}'
    grep -q "^adding 40 2$" "$WORK/err" && ok "console.log on stderr ($m)" || not_ok "console.log on stderr ($m)"
    expect_ok "fn invoke --stats ($m)" "$TEEMATE" fn invoke "add-$m" -p a 1 -p b 1 --stats
    grep -qE "total [0-9.]+ ms" "$WORK/err" && ok "stats printed ($m)" || not_ok "stats printed ($m)"
    cp "$WORK/err" "$WORK/$m-stats"
    expect_fail "syntax error refused ($m)" "^teemate: bad.js: SyntaxError: .*\(line 3" \
        "$TEEMATE" fn create "bad-$m" "$WORK/bad.js" --mode "$m"
    expect_ok "fn create err ($m)" "$TEEMATE" fn create "err-$m" "$WORK/err.js" --mode "$m"
    "$TEEMATE" fn invoke "err-$m" -p fail true >"$WORK/out" 2>"$WORK/err"
    expect_eq "exception: exit 1 ($m)" "$?" 1
    expect_eq "exception: error result ($m)" "$(cat "$WORK/out")" '{"error":"An error has occurred: Error: asked to fail"}'
    "$TEEMATE" fn invoke "err-$m" -p n 1 >"$WORK/out" 2>"$WORK/err"
    expect_eq "non-object: error result ($m)" "$(cat "$WORK/out")" '{"error":"The action did not return a dictionary."}'
done
expect_eq "object store shared by the modes" "$(cat "$WORK/state/objects/sums/last")" 2
"$TEEMATE" fn ls >"$WORK/out"
expect_eq "fn ls" "$(awk 'NR>1 {print $1, $2}' "$WORK/out" | tr '\n' ' ')" \
    "add-native native add-strawman strawman add-strawman-edmm strawman-edmm add-teemate teemate err-native native err-strawman strawman err-strawman-edmm strawman-edmm err-teemate teemate "
"$TEEMATE" enclave ls >"$WORK/out"
grep -q "^fn-add-teemate " "$WORK/out" && ok "teemate mode: a shared enclave per function" || not_ok "teemate mode: a shared enclave per function"
grep -q "^fn-bad" "$WORK/out" && not_ok "refused create leaves no enclave" || ok "refused create leaves no enclave"
[ -e "$WORK/state/functions/bad-native" ] && not_ok "refused create leaves no record" || ok "refused create leaves no record"
[ -e "$WORK/state/functions/add-teemate/0-add.js" ] && not_ok "teemate mode keeps no code on disk" || ok "teemate mode keeps no code on disk"
expect_fail "create twice refused" "exists" "$TEEMATE" fn create add-native "$WORK/add.js" --mode native
expect_fail "unknown mode refused" "unknown mode 'sgx1'" "$TEEMATE" fn create s "$WORK/add.js" --mode sgx1
grep -qE "^strawman: container create [0-9.]+ ms .*, enclave build [0-9.]+ ms .* of [0-9]+ pages.*512MiB ELRANGE.*heap create [0-9.]+ ms, run [0-9.]+ ms, total" "$WORK/strawman-stats" \
    && ok "strawman stats: a 512 MiB enclave for 256 MiB" || not_ok "strawman stats: a 512 MiB enclave for 256 MiB"
expect_fail "bad name refused" "function name" "$TEEMATE" fn create "../x" "$WORK/add.js"
expect_fail "invoke of an unknown function" "no function 'nope'" "$TEEMATE" fn invoke nope
# The EDMM strawman: the same 512 MiB ELRANGE, but only the image and its TCS
# added before EINIT (a few hundred pages against ~74000), the heap added as
# it grows (expand > 0 pages), and far fewer EPC pages in all.
sw=$(grep -oE "of [0-9]+ pages" "$WORK/strawman-stats" | grep -oE "[0-9]+")
re="^strawman-edmm: .*enclave build [0-9.]+ ms .* of ([0-9]+) pages.*512MiB ELRANGE\), expand ([0-9]+) pages in [0-9.]+ ms.*total [0-9.]+ ms, ([0-9]+) EPC pages"
if [[ "$(grep "^strawman-edmm:" "$WORK/strawman-edmm-stats")" =~ $re ]] && [ "${BASH_REMATCH[1]}" -lt 1024 ] &&
   [ "${BASH_REMATCH[2]}" -gt 0 ] && [ "${BASH_REMATCH[3]}" -eq $((BASH_REMATCH[1] + BASH_REMATCH[2])) ] &&
   [ "${BASH_REMATCH[3]}" -lt $((sw / 10)) ]; then
    ok "strawman-edmm stats: image + TCS built, heap expanded on demand (${BASH_REMATCH[1]} + ${BASH_REMATCH[2]} pages, strawman $sw)"
else
    not_ok "strawman-edmm stats: image + TCS built, heap expanded on demand"; cat "$WORK/strawman-edmm-stats" >&2
fi
for f in add-native add-teemate add-strawman add-strawman-edmm err-native err-teemate err-strawman err-strawman-edmm; do
    expect_ok "fn rm $f" "$TEEMATE" fn rm "$f"
done
expect_eq "fn ls empty" "$("$TEEMATE" fn ls | wc -l)" 1
expect_eq "enclaves removed" "$("$TEEMATE" enclave ls | grep -c '^fn-')" 0
kill "$dpid"; wait "$dpid"; expect_eq "daemon stops cleanly" "$?" 0
trap - EXIT
finish
