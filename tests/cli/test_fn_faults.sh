# 100 bad invocations against one teemate function enclave (issue 10, "Bad
# input and faults"): throws, endless loops killed at the 1 s timeout,
# unbounded allocation stopped at the 16 MiB cap, hostile host-service
# arguments, results that are not objects or cannot be serialised. Each gives
# its clear error result; afterwards fn-NAME's leases, slots and EPC pages and
# the daemon's fds are back at their starting values, the daemon lives, and a
# good invocation is still right. Then a script that drives Duktape into its
# fatal handler (in all three modes): that instance errors out clearly, one
# running beside it in the same enclave is unharmed.
. "$(dirname "$0")/lib.sh"
fn_setup test_fn_faults
start_daemon
trap 'kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null' EXIT

cat >"$WORK/faults.js" <<'JS'
function main(p) {
    var a = [], s = "x", k = p.kind;
    switch (k) {
    case "throw": throw new Error("boom " + p.i);
    case "loop": for (;;) s = s === "x" ? "y" : "x";
    case "alloc-buffers": for (;;) a.push(new Uint8Array(65536));
    case "alloc-objects": for (;;) a.push({ i: a.length, s: "v" + a.length });
    case "alloc-strings": for (;;) { s = s + s; a.push(s); }
    case "url-huge": return { body: teemate.httpGet("http://" + new Array(1 << 20).join("a")) };
    case "url-nul": return { body: teemate.httpGet("http://localhost/\u0000/x") };
    case "bucket-up": teemate.storePut("../../etc", "passwd", "x"); break;
    case "key-dots": return { v: teemate.storeGet("b", "..") };
    case "key-slash": teemate.storePut("b", "a/../../x", "x"); break;
    case "sleep-huge": teemate.sleep(1e300); break;
    case "sleep-negative": teemate.sleep(-1); break;
    case "sleep-nan": teemate.sleep(NaN); break;
    case "sleep-past-deadline": teemate.sleep(500); break;
    case "bucket-number": teemate.storePut(1, 2, 3); break;
    case "url-object": teemate.httpGet({ toString: function () { return "http://x/"; } }); break;
    case "sha-number": teemate.sha256(12); break;
    case "number": return 42;
    case "array": return [1, 2];
    case "return-null": return null;
    case "cyclic": var o = { a: 1 }; o.self = o; return o;
    case "good": return { ok: true, i: p.i, sum: p.i + 1 };
    }
    return { reached: k };
}
JS
expect_ok "fn create (teemate, 1 s, 16 MiB)" \
    "$TEEMATE" fn create faults "$WORK/faults.js" --mode teemate --timeout 1 --memory 16m
expect_ok "a good invocation" "$TEEMATE" fn invoke faults -p kind good -p i 1
expect_eq "a good invocation: result" "$(cat "$WORK/out")" '{"ok":true,"i":1,"sum":2}'

counts() {   # leases, slots in use, EPC pages, quarantined, attached, the daemon's fds
    "$TEEMATE" enclave inspect fn-faults --json |
        jq -r '"leases \(.tcs.leased) TCSs made \(.tcs.made) slots \(.slots.in_use) epc \(.epc_pages.total) quarantined \(.quarantined | length) attached \(.attached | length)"'
    echo "fds $(ls /proc/"$dpid"/fd | wc -l)"
}
before=$(counts)

# kind, the error result it must give (a regular expression)
kinds=(
    "throw|^\{\"error\":\"An error has occurred: Error: boom [0-9]+\"\}$"
    "loop|^\{\"error\":\"The action exceeded its time limits of 1000 milliseconds.\"\}$"
    "alloc-buffers|^\{\"error\":\"An error has occurred: Error: alloc failed\"\}$"
    "url-huge|^\{\"error\":\"An error has occurred: RangeError: url is longer than 2048 bytes\"\}$"
    "url-nul|^\{\"error\":\"An error has occurred: URIError: httpGet takes an http:// URL of printable characters\"\}$"
    "bucket-up|^\{\"error\":\"An error has occurred: RangeError: bucket must be 1 to 255 of A-Z a-z 0-9 . _ - \(not \\\\\".\\\\\" or \\\\\"..\\\\\"\)\"\}$"
    "key-dots|^\{\"error\":\"An error has occurred: RangeError: key must be 1 to 255 of"
    "alloc-objects|^\{\"error\":\"An error has occurred: Error: alloc failed\"\}$"
    "key-slash|^\{\"error\":\"An error has occurred: RangeError: key must be 1 to 255 of"
    "sleep-huge|^\{\"error\":\"An error has occurred: RangeError: sleep takes 0 to 600 seconds\"\}$"
    "sleep-negative|^\{\"error\":\"An error has occurred: RangeError: sleep takes 0 to 600 seconds\"\}$"
    "sleep-nan|^\{\"error\":\"An error has occurred: RangeError: sleep takes 0 to 600 seconds\"\}$"
    "sleep-past-deadline|^\{\"error\":\"The action exceeded its time limits of 1000 milliseconds.\"\}$"
    "alloc-strings|^\{\"error\":\"An error has occurred: Error: alloc failed\"\}$"
    "bucket-number|^\{\"error\":\"An error has occurred: TypeError: bucket must be a string\"\}$"
    "url-object|^\{\"error\":\"An error has occurred: TypeError: url must be a string\"\}$"
    "sha-number|^\{\"error\":\"An error has occurred: TypeError: sha256 takes a string\"\}$"
    "number|^\{\"error\":\"The action did not return a dictionary.\"\}$"
    "array|^\{\"error\":\"The action did not return a dictionary.\"\}$"
    "return-null|^\{\"error\":\"The action did not return a dictionary.\"\}$"
    "cyclic|^\{\"error\":\"An error has occurred: TypeError: cyclic input\"\}$"
)
start=$SECONDS
declare -A bad=()
for i in $(seq 0 99); do
    entry=${kinds[i % ${#kinds[@]}]}
    kind=${entry%%|*} want=${entry#*|}
    "$TEEMATE" fn invoke faults -p kind "$kind" -p i "$i" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    if [ $rc -ne 1 ] || ! grep -qE -- "$want" "$WORK/out" || [ -s "$WORK/err" ]; then
        bad[$kind]="rc $rc, out: $(head -c 300 "$WORK/out"), err: $(head -c 300 "$WORK/err")"
    fi
done
elapsed=$((SECONDS - start))
for entry in "${kinds[@]}"; do
    kind=${entry%%|*}
    if [ -n "${bad[$kind]:-}" ]; then not_ok "$kind: a clear error result"; echo "  ${bad[$kind]}" >&2
    else ok "$kind: a clear error result"; fi
done
echo "# 100 bad invocations in $elapsed s"
[ "$elapsed" -lt 90 ] && ok "100 bad invocations within 90 s ($elapsed s)" || not_ok "100 bad invocations within 90 s ($elapsed s)"
kill -0 "$dpid" 2>/dev/null && ok "the daemon is alive" || not_ok "the daemon is alive"
after=$(counts)
expect_eq "leases, slots, EPC pages, quarantine and daemon fds back at their starting values" "$after" "$before"
[ -e "$WORK/state/objects/b" ] || [ -e "$WORK/etc" ] || [ -e "$WORK/state/etc" ] \
    && not_ok "hostile names wrote nothing" || ok "hostile names wrote nothing"
expect_ok "a good invocation after them" "$TEEMATE" fn invoke faults -p kind good -p i 41
expect_eq "a good invocation after them: result" "$(cat "$WORK/out")" '{"ok":true,"i":41,"sum":42}'
expect_ok "fn rm" "$TEEMATE" fn rm faults

# ---- Duktape's fatal path, reached by a script ----
# The top level fills the instance's JS heap to its cap and gives one 64 KiB
# buffer back: main runs in what is left, but params larger than that cannot
# even be pushed onto Duktape's stack, which happens outside any catchpoint:
# Duktape calls its fatal handler (an uncaught error), inside the enclave.
cat >"$WORK/hog.js" <<'JS'
var hog = [];
[65536, 1024, 64].forEach(function (n) { try { for (;;) hog.push(new Uint8Array(n)); } catch (e) {} });
hog[0] = null;
function main(p) { if (p.sleep) teemate.sleep(p.sleep); return { ok: true, n: p.n }; }
JS
big=$(head -c 120000 /dev/zero | tr '\0' x)
fatal='^\{"error":"The function.s runtime failed: uncaught: .alloc failed."\}$'
for m in teemate native strawman; do
    expect_ok "fn create hog ($m)" "$TEEMATE" fn create "hog-$m" "$WORK/hog.js" --mode "$m" --timeout 5 --memory 16m
done
hog_counts() {
    "$TEEMATE" enclave inspect fn-hog-teemate --json |
        jq -c '[.tcs.leased, .tcs.made, .slots.in_use, .epc_pages.total, (.quarantined | length)]'
}
beside() {   # beside N SECONDS: an instance sleeping in the enclave, its pid in $other once attached
    "$TEEMATE" fn invoke hog-teemate -p n "$1" -p sleep "$2" >"$WORK/other.out" 2>"$WORK/other.err" &
    other=$!
    until "$TEEMATE" enclave inspect fn-hog-teemate --json | jq -e '.slots.in_use == 1' >/dev/null; do
        kill -0 "$other" 2>/dev/null || break
    done
}
# Two at once first, so that both their TCSs are made (made TCSs stay): the
# starting values.
beside 0 1
expect_ok "hog: a run in the room left" "$TEEMATE" fn invoke hog-teemate -p n 1
wait "$other"
before=$(hog_counts)
beside 2 2
for m in teemate native strawman; do
    "$TEEMATE" fn invoke "hog-$m" -p big "$big" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -qE "$fatal" "$WORK/out" && [ ! -s "$WORK/err" ]; then
        ok "fatal handler: the instance errors out clearly ($m)"
    else
        not_ok "fatal handler: the instance errors out clearly ($m)"; echo "  rc $rc: $(head -c 300 "$WORK/out") $(head -c 300 "$WORK/err")" >&2
    fi
done
wait "$other"; expect_eq "the instance running beside it is unharmed: exit 0" "$?" 0
expect_eq "the instance running beside it: result" "$(cat "$WORK/other.out")" '{"ok":true,"n":2}'
kill -0 "$dpid" 2>/dev/null && ok "the daemon is alive after the fatal error" || not_ok "the daemon is alive after the fatal error"
expect_eq "fn-hog: leases, TCSs, slots, EPC pages back after the fatal error" "$(hog_counts)" "$before"
expect_ok "fn-hog: the next instance runs" "$TEEMATE" fn invoke hog-teemate -p n 3
expect_eq "fn-hog: the next instance: result" "$(cat "$WORK/out")" '{"ok":true,"n":3}'
for m in teemate native strawman; do "$TEEMATE" fn rm "hog-$m"; done
kill "$dpid"; wait "$dpid"; expect_eq "daemon stops cleanly" "$?" 0
trap - EXIT
finish
