# teemate fn serve: OpenWhisk's action protocol through the real HTTP shapes
# (curl) in each mode: init, the refusals with OpenWhisk's exact texts, runs,
# error results, the body limit, binary code, a non-default main, env as
# process.env, the sentinel on both streams, a unix socket, a client gone
# mid-request, and two teemate-mode servers with the same code sharing one
# enclave (the second neither builds nor compiles). Servers listen on
# 127.0.0.1 with a port the kernel picks; everything lives in $WORK.
. "$(dirname "$0")/lib.sh"
fn_setup "test_fn_serve"
if ! command -v curl >/dev/null; then skip "test_fn_serve" "no curl"; exit 0; fi
SENTINEL=XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX
dpid=
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "$dpid" ] && { kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; }
}
trap cleanup EXIT
if [ "$(id -u)" -eq 0 ]; then start_daemon; have_daemon=1; else have_daemon=0; fi

# serve TAG MODE [ARGS]: a server, its stdout/stderr in $WORK/TAG.{out,err};
# sets port (or, with --unix, waits for the socket). Bounded wait for its
# "listening" line.
serve() {
    local tag=$1 mode=$2; shift 2
    "$TEEMATE" fn serve --mode "$mode" --timeout 5 "$@" >"$WORK/$tag.out" 2>"$WORK/$tag.err" &
    pids+=($!)
    for _ in $(seq 200); do grep -qs "listening on" "$WORK/$tag.err" && break; sleep 0.05; done
    port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/$tag.err")
}
# post PATH BODY: the status in $code, the body in $body.
post() {
    code=$(printf '%s' "$2" | curl -s --max-time 30 -o "$WORK/body" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$port$1")
    body=$(cat "$WORK/body")
}
# check NAME PATH BODY CODE EXPECTED-BODY
check() {
    post "$2" "$3"
    expect_eq "$1" "$code $body" "$4 $5"
}
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'; }

# The action: main is "handler"; env from /init and from /run as process.env.
read -r -d '' ACTION <<'JS'
var booted = (typeof process === "object") ? process.env.INIT_K : "none";
function handler(p) {
    console.log("log line", p.n);
    if (p.boom) throw new Error("boom");
    if (p.scalar) return 7;
    if (p.spin) { while (true) {} }
    if (p.nap) teemate.sleep(p.nap);
    return { n: p.n, booted: booted, act: process.env.__OW_ACTION_NAME,
             aid: process.env.__OW_ACTIVATION_ID, k: process.env.INIT_K };
}
JS

modes="native strawman strawman-edmm"
[ "$have_daemon" = 1 ] && modes="$modes teemate" || skip "fn serve (teemate)" "needs root for teemated"
for m in $modes; do
    serve "$m" "$m" --listen 127.0.0.1:0
    if [ -z "$port" ]; then not_ok "fn serve listens ($m)"; sed 's/^/  | /' "$WORK/$m.err" >&2; continue; fi
    code_json=$(printf '%s// %s %s\n' "$ACTION" "$m" "$$" | json_str)
    check "run before init 403 ($m)" /run '{"value":{}}' 403 '{"error":"System not initialized."}'
    check "init without code 403 ($m)" /init '{"value":{"main":"main"}}' 403 '{"error":"Missing main/no code to execute."}'
    check "init malformed JSON 400 ($m)" /init '{"value":' 400 '{"error":"Bad request."}'
    check "init ok ($m)" /init "{\"value\":{\"name\":\"a\",\"main\":\"handler\",\"code\":$code_json,\"env\":{\"INIT_K\":\"v1\"}}}" 200 '{"OK":true}'
    check "second init 403 ($m)" /init "{\"value\":{\"main\":\"handler\",\"code\":$code_json}}" 403 '{"error":"Cannot initialize the action more than once."}'
    check "run ok, env in process.env ($m)" /run '{"value":{"n":1},"action_name":"/ns/a","activation_id":"abc","deadline":"99999999999999"}' 200 '{"n":1,"booted":"v1","act":"/ns/a","aid":"abc","k":"v1"}'
    check "run throws 502 ($m)" /run '{"value":{"boom":true}}' 502 '{"error":"An error has occurred: Error: boom"}'
    check "run not a dictionary 502 ($m)" /run '{"value":{"scalar":true}}' 502 '{"error":"The action did not return a dictionary."}'
    check "run malformed JSON 400 ($m)" /run '{"value":{"n":' 400 '{"error":"Bad request."}'
    post /run "{\"value\":{\"spin\":true},\"deadline\":\"$(( $(date +%s%3N) + 300 ))\"}"
    expect_eq "deadline enforced 502 ($m)" "$code" 502
    case $body in *'"error":"The action exceeded its time limits of '*' milliseconds."}') ok "deadline message ($m)" ;;
        *) not_ok "deadline message ($m)"; echo "  got $body" >&2 ;; esac
    code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/run")
    expect_eq "GET /run 405 ($m)" "$code" 405
    code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X POST -d '{}' "http://127.0.0.1:$port/nope")
    expect_eq "unknown path 404 ($m)" "$code" 404
    # a client that goes away mid-body, and one that goes away mid-run
    (exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"va' >&3)
    curl -s --max-time 0.3 -o /dev/null -d '{"value":{"nap":0.6}}' "http://127.0.0.1:$port/run"
    # two runs at once: the second waits for the first (one run at a time), neither is refused
    [ "$m" = native ] && {
        cpids=(); t0=$(date +%s%3N)
        for i in 1 2; do curl -s --max-time 20 -o "$WORK/par$i" -w '%{http_code}' -d "{\"value\":{\"n\":$i,\"nap\":0.3}}" \
            "http://127.0.0.1:$port/run" >"$WORK/parcode$i" & cpids+=($!); done
        wait "${cpids[@]}"; took=$(( $(date +%s%3N) - t0 ))
        [ "$took" -ge 580 ] && ok "the second run waited for the first ($m)" ||
            not_ok "the second run waited for the first ($m): both done in $took ms"
        expect_eq "two runs at once both answered ($m)" "$(cat "$WORK/parcode1") $(cat "$WORK/parcode2")" "200 200"
    }
    check "served after clients left ($m)" /run '{"value":{"n":2}}' 200 '{"n":2,"booted":"v1","act":"/ns/a","aid":"abc","k":"v1"}'
    kill "${pids[-1]}"; wait "${pids[-1]}"
    expect_eq "exits 0 on SIGTERM ($m)" "$?" 0
    # every init and run answered closes with the sentinel on both streams
    want=$(grep -c "^$SENTINEL$" "$WORK/$m.err")
    expect_eq "sentinel on stdout and stderr alike ($m)" "$(grep -c "^$SENTINEL$" "$WORK/$m.out")" "$want"
    [ "$want" -ge 12 ] && ok "a sentinel per init and run ($m)" || not_ok "a sentinel per init and run ($m): $want"
    if awk -v s="$SENTINEL" '/^log line 1$/ && !l { l = NR } $0 == s && l && !after { after = NR } END { exit !(l && after > l) }' "$WORK/$m.out"; then
        ok "console.log on stdout before the sentinel ($m)"; else not_ok "console.log on stdout before the sentinel ($m)"; fi

    # the init failures: a script that does not compile, a top level that throws
    serve "$m-bad" "$m" --listen 127.0.0.1:0
    post /init '{"value":{"main":"main","code":"function main(p) { return { x: 1;\n}"}}'
    case "$code $body" in '502 {"error":"Initialization has failed due to: '*SyntaxError*) ok "syntax error 502 ($m)" ;;
        *) not_ok "syntax error 502 ($m)"; echo "  got $code $body" >&2 ;; esac
    serve "$m-throw" "$m" --listen 127.0.0.1:0
    post /init "{\"value\":{\"main\":\"main\",\"code\":\"throw new Error('top $m $$');\"}}"
    expect_eq "top level throws 502 ($m)" "$code $body" "502 {\"error\":\"Initialization has failed due to: Error: top $m $$\"}"
done

# binary (base64) code with the default main, on a unix socket; huge bodies
b64=$(printf 'function main(p) { return { hello: p.who, bin: true }; }\n' | base64 -w0)
serve bin native --unix "$WORK/action.sock"
for _ in $(seq 200); do [ -S "$WORK/action.sock" ] && break; sleep 0.05; done
u() { curl -s --max-time 30 --unix-socket "$WORK/action.sock" -o "$WORK/body" -w '%{http_code}' -d "$2" "http://localhost$1"; }
expect_eq "unix socket: binary init" "$(u /init "{\"value\":{\"main\":\"main\",\"binary\":true,\"code\":\"$b64\"}}") $(cat "$WORK/body")" '200 {"OK":true}'
expect_eq "unix socket: run" "$(u /run '{"value":{"who":"ada"}}') $(cat "$WORK/body")" '200 {"hello":"ada","bin":true}'
head -c $((49 << 20)) /dev/zero | tr '\0' ' ' >"$WORK/huge"
code=$(curl -s --max-time 30 --unix-socket "$WORK/action.sock" -o "$WORK/body" -w '%{http_code}' --data-binary @"$WORK/huge" http://localhost/run)
expect_eq "49 MiB body 413" "$code" 413
code=$(head -c $((49 << 20)) "$WORK/huge" | curl -s --max-time 30 --unix-socket "$WORK/action.sock" -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @- http://localhost/run)
expect_eq "49 MiB chunked body 413" "$code" 413
expect_eq "served after the huge bodies" "$(u /run '{"value":{"who":"bo"}}') $(cat "$WORK/body")" '200 {"hello":"bo","bin":true}'
serve bad64 native --listen 127.0.0.1:0
post /init '{"value":{"main":"main","binary":true,"code":"!!not base64"}}'
expect_eq "binary code that is not base64 502" "$code" 502

# teemate: two servers with the same code share one enclave; the second
# attaches only (no build, no compile) and keeps its own instance
if [ "$have_daemon" = 1 ]; then
    shared=$(printf 'var runs = 0;\nfunction main(p) { runs++; return { runs: runs, who: p.who }; } // %s\n' "$$-$RANDOM" | json_str)
    serve t1 teemate --listen 127.0.0.1:0; p1=$port
    serve t2 teemate --listen 127.0.0.1:0; p2=$port
    port=$p1; check "teemate first init" /init "{\"value\":{\"main\":\"main\",\"code\":$shared}}" 200 '{"OK":true}'
    port=$p2; check "teemate second init" /init "{\"value\":{\"main\":\"main\",\"code\":$shared}}" 200 '{"OK":true}'
    name=$(sed -n 's/.*built enclave \(fn-code-[0-9a-f]*\) and compiled.*/\1/p' "$WORK/t1.err")
    [ -n "$name" ] && ok "first server built and compiled" || not_ok "first server built and compiled"
    grep -q "attached to enclave $name (its code compiled already)" "$WORK/t2.err" &&
        ok "second server attached only" || not_ok "second server attached only"
    "$TEEMATE" enclave ls >"$WORK/ls" 2>&1
    expect_eq "one enclave for the code" "$(grep -c "^$name " "$WORK/ls")" 1
    port=$p1; check "teemate run (first)" /run '{"value":{"who":"a"}}' 200 '{"runs":1,"who":"a"}'
    port=$p1; check "teemate run again (first)" /run '{"value":{"who":"a"}}' 200 '{"runs":2,"who":"a"}'
    port=$p2; check "teemate run (second: its own instance)" /run '{"value":{"who":"b"}}' 200 '{"runs":1,"who":"b"}'
fi
finish
