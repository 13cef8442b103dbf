# teemate gateway: OpenWhisk's REST API with curl, every route and refusal
# (401, 403, 404, 409, 413, 400, 429, 502 with the activation), each mode,
# actions kept across a restart, the containers gone afterwards. Every
# invocation cold here (--no-reuse: fn_invoke's path, the benchmark's);
# warm containers are test_gateway_warm.sh's.
# Everything lives in $WORK (state, containers, teemated, a port of its own).
. "$(dirname "$0")/lib.sh"
fn_setup "test_gateway"
if [ "$(id -u)" -ne 0 ]; then skip "test_gateway" "needs root (every invocation runs in a container)"; exit 0; fi
if ! command -v curl >/dev/null; then skip "test_gateway" "curl is not installed"; exit 0; fi
dpid= gpid=
start_daemon
trap 'kill "$gpid" "$dpid" 2>/dev/null; wait 2>/dev/null' EXIT

# start_gw: the gateway as a job on any free port; returns once it listens.
start_gw() {
    rm -f "$WORK/gw.fifo"; mkfifo "$WORK/gw.fifo"
    "$TEEMATE" --root "$WORK/oci" gateway --listen 127.0.0.1:0 --workers 1 --queue 1 --no-reuse \
        --max-body 64k --blocking-wait 3 >"$WORK/gw.fifo" 2>>"$WORK/gw.log" &
    gpid=$!
    local line; read -r line <"$WORK/gw.fifo"
    PORT=${line##*127.0.0.1:}; PORT=${PORT%% *}
    U=http://127.0.0.1:$PORT/api/v1/namespaces/_
}
start_gw
KEY=$("$TEEMATE" gateway --show-key)
expect_eq "key is OpenWhisk's uuid:secret" \
    "$(echo "$KEY" | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}:[A-Za-z0-9]{64}$')" 1
expect_eq "key file mode 0600" "$(stat -c %a "$TEEMATE_STATE_DIR/gateway/auth.key")" 600

# req METHOD PATH [BODY]: the status in $code, the body in $WORK/body, headers in $WORK/hdr.
req() {
    local m=$1 p=$2; shift 2
    code=$(curl -s --max-time 120 -u "$KEY" -X "$m" -D "$WORK/hdr" -o "$WORK/body" -w '%{http_code}' \
           -H 'Content-Type: application/json' "$@" "$U$p")
}
# jget EXPR: a JavaScript expression over the body j (".x" is short for "j.x").
jget() {
    node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8")); let e=process.argv[1];
             if (e[0]===".") e="j"+e; const v=eval(e); console.log(typeof v==="object"?JSON.stringify(v):v)' \
        "$1" <"$WORK/body" 2>/dev/null
}
check() {   # check NAME WANT_CODE [JS-PATH WANT-VALUE]
    local name=$1 want=$2
    if [ "$code" != "$want" ]; then not_ok "$name"; echo "  status $code, expected $want: $(head -c 400 "$WORK/body")" >&2; return; fi
    if [ $# -ge 4 ] && [ "$(jget "$3")" != "$4" ]; then
        not_ok "$name"; echo "  $3 = '$(jget "$3")', expected '$4'" >&2; return; fi
    ok "$name"
}

hello='function main(p) { console.log("hello", p.name); return { greeting: "Hello " + p.name + p.suffix }; }'
for m in native teemate strawman; do
    req PUT "/actions/hello-$m" -d "$(node -e 'console.log(JSON.stringify({exec:{kind:"nodejs:default",code:process.argv[1]},
        parameters:[{key:"suffix",value:"!"}],annotations:[{key:"teemate-mode",value:process.argv[2]}],limits:{timeout:5000}}))' "$hello" "$m")"
    check "create ($m)" 200 .version 0.0.1
    req POST "/actions/hello-$m?blocking=true&result=true" -d '{"name":"ada"}'
    check "invoke blocking result ($m)" 200 .greeting 'Hello ada!'
    grep -qi '^x-openwhisk-activation-id: [0-9a-f]\{32\}' "$WORK/hdr" && ok "activation id header ($m)" || not_ok "activation id header ($m)"
    req POST "/actions/hello-$m?blocking=true" -d '{"name":"bob"}'
    check "invoke blocking: the activation ($m)" 200 .response.result.greeting 'Hello bob!'
    expect_eq "activation status ($m)" "$(jget .response.status),$(jget .response.statusCode),$(jget .response.success)" "success,0,true"
    expect_eq "activation annotations ($m)" "$(jget '.annotations.map(a=>a.key).join()')" \
        "path,waitTime,kind,timeout,limits,initTime,teemate-mode,teemate-coldStart"
    expect_eq "cold-start breakdown ($m)" "$(jget 'j.annotations[7].value.total_ms>0 && j.annotations[6].value')" "$m"
    expect_eq "logs ($m)" "$(jget '.logs[0].replace(/^\d{4}-\d\d-\d\dT[0-9:.]+Z /,"")')" "stdout: hello bob"
done

req GET /actions/hello-native
check "get action" 200 .exec.code "$hello"
req GET "/actions/hello-native?code=false"
check "get action code=false" 200 '.exec.code===undefined' true
req GET /actions
check "list actions" 200 'j.map(a=>a.name).sort().join()' "hello-native,hello-strawman,hello-teemate"
req GET "/actions?limit=1&skip=1"
check "list actions limit/skip" 200 .length 1
req PUT /actions/hello-native -d '{"exec":{"kind":"nodejs:default","code":"function main(){return {}}"}}'
check "409 without overwrite" 409 .error "resource already exists"
req PUT "/actions/hello-native?overwrite=true" -d "{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(p){return {v:2}}\"},\"annotations\":[{\"key\":\"teemate-mode\",\"value\":\"native\"}]}"
check "update with overwrite=true" 200 .version 0.0.2
req POST "/actions/hello-native?blocking=true&result=true"
check "the update runs" 200 .v 2

# non-blocking, then the activation, its result and logs
req POST /actions/hello-teemate -d '{"name":"cy"}'
check "invoke non-blocking: 202" 202 '.activationId.length' 32
aid=$(jget .activationId)
grep -qi "^x-openwhisk-activation-id: $aid" "$WORK/hdr" && ok "non-blocking header" || not_ok "non-blocking header"
for _ in $(seq 1 600); do req GET "/activations/$aid"; [ "$code" = 200 ] && break; sleep 0.1; done
check "activation by id" 200 .response.result.greeting 'Hello cy!'
expect_eq "activation fields" "$(jget '["activationId","namespace","name","version","publish","subject","start","end","duration","response","logs","annotations"].every(k=>k in j)')" true
req GET "/activations/$aid/result"
check "activation result" 200 'j.status+","+j.success+","+j.result.greeting' 'success,true,Hello cy!'
req GET "/activations/$aid/logs"
check "activation logs" 200 '.logs.length' 1
req GET "/activations?limit=1"
check "activations newest first" 200 'j[0].activationId' "$aid"
req GET "/activations?limit=2&skip=1"
check "activations skip" 200 'j.length+","+(j[0].activationId!=="'"$aid"'")' 2,true
req GET "/activations?limit=201"
check "activations limit range" 400 .error "The value '201' is not in the range of 0 to 200 for activations."

# errors: a function that throws (502 + activation), one that returns an error
req PUT /actions/fails -d '{"exec":{"kind":"nodejs:default","code":"function main(p){ if (p.app) return {error: \"no luck\"}; throw new Error(\"asked to fail\"); }"},"annotations":[{"key":"teemate-mode","value":"teemate"}]}'
check "create throwing action" 200
req POST "/actions/fails?blocking=true"
check "throw: 502 with the activation" 502 'j.response.status+"|"+j.response.result.error' "action developer error|An error has occurred: Error: asked to fail"
req POST "/actions/fails?blocking=true&result=true" -d '{"app":true}'
check "application error: 502 with the result" 502 .error "no luck"
req GET "/activations?limit=1&name=fails"
check "application error recorded" 200 'j[0].response.status+","+j[0].response.statusCode' "application error,1"

# 50 throwing runs: the gateway keeps serving; its fds and threads, the containers come back to where they were
fds0=$(ls /proc/$gpid/fd | wc -l); thr0=$(ls /proc/$gpid/task | wc -l)
bad=0
for i in $(seq 1 50); do req POST "/actions/fails?blocking=true"; [ "$code" = 502 ] || bad=$((bad + 1)); done
expect_eq "50 throwing runs, each 502" "$bad" 0
expect_eq "no fd leaked" "$(ls /proc/$gpid/fd | wc -l)" "$fds0"
expect_eq "no thread leaked" "$(ls /proc/$gpid/task | wc -l)" "$thr0"
expect_eq "no container left behind" "$(ls "$WORK/oci" 2>/dev/null | grep -c '^gw-')" 0

# refusals
code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$U/actions")
check "401 without auth" 401 .error "The resource requires authentication, which was not supplied with the request"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -u "${KEY%%:*}:wrong" "$U/actions")
check "401 wrong key" 401 .error "The supplied authentication is invalid"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -u "$KEY" "http://127.0.0.1:$PORT/api/v1/namespaces/other/actions")
check "403 another namespace" 403
req GET /actions/nope
check "404 unknown action" 404 .error "The requested resource does not exist."
req POST "/actions/nope?blocking=true"
check "404 invoke unknown" 404 .error "The requested resource does not exist."
req DELETE /actions/nope
check "404 delete unknown" 404
req GET /activations/0123456789abcdef0123456789abcdef
check "404 unknown activation" 404 .error "The requested resource does not exist."
req GET /activations/xyz
check "400 bad activation id" 400 .error "The activation id is not valid."
req PUT /actions/x -d '{"exec": {"kind":'
check "400 malformed JSON" 400 '.error.startsWith("The request content was malformed")' true
req PUT "/actions/bad%3Bname" -d '{}'
check "400 illegal entity name" 400 .error "The name of the entity contains illegal characters."
req PUT "/actions/$(printf 'a%.0s' $(seq 1 257))" -d '{}'
check "400 name too long" 400 .error "The name of the entity contains illegal characters."
req PUT "/actions/ok%20name.v1@x" -d '{"exec":{"kind":"nodejs:default","code":"function main(){return {}}"},"annotations":[{"key":"teemate-mode","value":"native"}]}'
check "a legal name with space . @" 200 .name "ok name.v1@x"
req PUT /actions/py -d '{"exec":{"kind":"python:3","code":"def main(a): return a"}}'
check "400 unsupported kind" 400
req PUT /actions/syntax -d '{"exec":{"kind":"nodejs:default","code":"function main( {"}}'
check "400 code that does not compile" 400 '.error.includes("SyntaxError")' true
head -c 70000 /dev/zero | tr '\0' 'x' >"$WORK/big"
req PUT /actions/big --data-binary @"$WORK/big"
check "413 past --max-body" 413 .error "Request larger than allowed: 70000 > 65536 bytes."

# 429: one worker and a queue of one are busy with two slow runs
req PUT /actions/slow -d '{"exec":{"kind":"nodejs:default","code":"function main(){ var t = Date.now(); while (Date.now() - t < 1500) {} return {}; }"},"annotations":[{"key":"teemate-mode","value":"native"}]}'
check "create slow action" 200
req POST /actions/slow; a1=$(jget .activationId)
req POST /actions/slow; a2=$(jget .activationId)
req POST /actions/slow
check "429 past workers + queue" 429 .error "Too many concurrent requests in flight (count: 2, allowed: 2)."
t=$(curl -s -o /dev/null -w '%{time_total}' -u "$KEY" "$U/actions")
expect_eq "the HTTP thread serves while runs go on (GET in $t s)" "$(awk -v t="$t" 'BEGIN { print (t < 0.5) }')" 1
for _ in $(seq 1 600); do req GET "/activations/$a2"; [ "$code" = 200 ] && break; sleep 0.1; done
check "the queued run ran" 200 .response.success true

# a blocking invoke past --blocking-wait: 202 with the id, the run goes on
req PUT /actions/slower -d '{"exec":{"kind":"nodejs:default","code":"function main(){ var t = Date.now(); while (Date.now() - t < 5000) {} return {done: true}; }"},"annotations":[{"key":"teemate-mode","value":"native"}]}'
check "create slower action" 200
req POST "/actions/slower?blocking=true&result=true"
check "blocking past the wait: 202" 202 '.activationId.length' 32
a5=$(jget .activationId)
grep -qi "^x-openwhisk-activation-id: $a5" "$WORK/hdr" && ok "202 header" || not_ok "202 header"
for _ in $(seq 1 600); do req GET "/activations/$a5"; [ "$code" = 200 ] && break; sleep 0.1; done
check "the run went on after the 202" 200 .response.result.done true

# persistence: a restart keeps actions and activations; runs in flight and
# queued at the stop are reported failed
req POST /actions/slow; a3=$(jget .activationId)
req POST /actions/slow; a4=$(jget .activationId)
kill "$gpid"; wait "$gpid"; rc=$?
expect_eq "SIGTERM stops the gateway cleanly" "$rc" 0
start_gw
req GET /actions/hello-teemate
check "actions persist across a restart" 200 .name hello-teemate
req POST "/actions/hello-teemate?blocking=true&result=true" -d '{"name":"dee"}'
check "invoke after restart" 200 .greeting 'Hello dee!'
req GET "/activations/$aid"
check "activations persist across a restart" 200 .activationId "$aid"
req GET "/activations/$a3"
check "the run in flight at the stop: failed" 200 .response.success false
req GET "/activations/$a4"
check "the queued run at the stop: whisk internal error" 200 .response.status "whisk internal error"

for a in hello-native hello-teemate hello-strawman fails "ok%20name.v1@x" slow slower; do
    req DELETE "/actions/$a"; [ "$code" = 200 ] || not_ok "delete $a"
done
req DELETE /actions/hello-teemate
check "delete removed it" 404
expect_eq "teemate actions' enclaves removed" "$("$TEEMATE" enclave ls 2>/dev/null | grep -c '^fn-gw-')" 0
kill "$gpid"; wait "$gpid"; gpid=
expect_eq "no container left" "$(ls "$WORK/oci" 2>/dev/null | grep -c '^gw-')" 0
finish
