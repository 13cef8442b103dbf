# teemate gateway against bad input, each answer with OpenWhisk's status and
# error body ({"error", "code"}): malformed JSON, a body that is not JSON
# (415), a body past --max-body (413), unknown actions (404), hostile entity
# names, huge headers, bad query values, bad Authorization encodings; the
# gateway keeps serving and holds no more fds than before.
# Everything lives in $WORK (state, containers, teemated, a port of its own).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway/gw_lib.sh"
fn_setup "test_gateway_input"
if [ "$(id -u)" -ne 0 ]; then skip "test_gateway_input" "needs root (an invocation runs in a container)"; exit 0; fi
if ! command -v curl >/dev/null; then skip "test_gateway_input" "curl is not installed"; exit 0; fi
dpid= gpid=
start_daemon   # its own, should anything ask for one (a teemate-mode action)
trap 'kill "$gpid" "$dpid" 2>/dev/null; wait 2>/dev/null' EXIT
start_gw --workers 2 --max-body 4k
owerr() {   # owerr NAME STATUS [TEXT]: OpenWhisk's error body, the status, the text
    local t="j.error.length>0 && /^[0-9a-f]{32}$/.test(j.code)"
    [ $# -ge 3 ] && t="j.error===$(node -e 'console.log(JSON.stringify(process.argv[1]))' "$3") && /^[0-9a-f]{32}$/.test(j.code)"
    check "$1" "$2" "$t" true
}
put ok native 'function main(p) { return { got: p.x }; }'
req POST "/actions/ok?blocking=true" -d '{}'   # its warm container (and its log memfd) made before the count
fds0=$(ls /proc/$gpid/fd | wc -l)

# malformed bodies
req PUT /actions/x -d '{"exec": {"kind":'
owerr "PUT malformed JSON: 400" 400
req POST "/actions/ok?blocking=true" -d '{"x": 1,,}'
owerr "invoke malformed JSON: 400" 400
req POST "/actions/ok?blocking=true" -d '[1,2]'
owerr "invoke with a non-object body: 400" 400 "The request content was malformed:
expected an object"
req PUT /actions/x -d '{"exec":{"kind":"nodejs:default","code":"x"},"a":1,"a":2}'
owerr "duplicate keys: 400" 400
req PUT /actions/x -d $'{"exec":{"kind":"nodejs:default","code":"\xff\xfe"}}'
owerr "invalid UTF-8: 400" 400
code=$(curl -s -u "$KEY" -X POST -o "$WORK/body" -w '%{http_code}' -H 'Content-Type: text/plain' -d '{"x":1}' "$U/actions/ok?blocking=true")
owerr "a text/plain body: 415" 415 "The request's Content-Type is not supported. Expected:
application/json"
code=$(curl -s -u "$KEY" -X PUT -o "$WORK/body" -w '%{http_code}' -d '{"x":1}' "$U/actions/y")
owerr "a form-encoded body (curl's default): 415" 415
req POST "/actions/ok?blocking=true&result=true" -H 'Content-Type: application/json; charset=utf-8' -d '{"x":7}'
check "application/json with a charset is JSON" 200 .got 7
head -c 5000 /dev/zero | tr '\0' ' ' >"$WORK/big"
req POST "/actions/ok?blocking=true" --data-binary @"$WORK/big"
owerr "a body past --max-body: 413" 413 "Request larger than allowed: 5000 > 4096 bytes."

# unknown things
req GET /actions/nope
owerr "unknown action: 404" 404 "The requested resource does not exist."
req POST "/actions/nope?blocking=true" -d '{}'
owerr "invoke an unknown action: 404" 404 "The requested resource does not exist."
req GET /triggers
owerr "an unknown collection: 404" 404 "The requested resource does not exist."
req GET /actions/ok/extra
owerr "a path below an action: 404" 404

# hostile names (OpenWhisk's EntityName: [\w] then [\w@ .&-], at most 256, not ending in a space)
for n in '..' '.hidden' '-a' 'a%00b' 'a%0Ab' 'a%09b' 'a%20' '%C3%A9t%C3%A9' 'a%3Cscript%3E' 'a%22b' "a'b" 'a%5Cb' '%2E%2E'; do
    req PUT "/actions/$n" --path-as-is -d '{"exec":{"kind":"nodejs:default","code":"x"}}'
    owerr "hostile name '$n': 400" 400 "The name of the entity contains illegal characters."
done
req PUT "/actions/a%2F..%2F..%2Fetc" -d '{}'
expect_eq "an encoded slash is a path separator, not a name: 404" "$code" 404
req GET "/actions/$(head -c 300 /dev/zero | tr '\0' a)"
owerr "a 300-character name: 400" 400 "The name of the entity contains illegal characters."
expect_eq "no action record made by the hostile names" "$(req GET /actions; jget 'j.map(a=>a.name).join()')" ok

# huge headers: libmicrohttpd's per-connection memory bounds them
code=$(curl -s -u "$KEY" -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$U/actions")
expect_eq "a 100 KB header: 431 (or the connection closed)" "$(case $code in 431|000) echo refused;; *) echo $code;; esac)" refused
code=$(curl -s -u "$KEY" -o /dev/null -w '%{http_code}' $(for i in $(seq 1 400); do printf -- '-H X-H%d:%s ' "$i" "$(head -c 100 /dev/zero | tr '\0' b)"; done) "$U/actions")
expect_eq "400 headers of 100 bytes: refused" "$(case $code in 431|413|000) echo refused;; *) echo $code;; esac)" refused

# bad query values
req POST "/actions/ok?blocking=maybe" -d '{}'
owerr "blocking=maybe: 400" 400 "The query parameter 'blocking' was malformed:
'maybe' is not a valid Boolean value"
req POST "/actions/ok?blocking=true&result=2" -d '{}'
owerr "result=2: 400" 400 "The query parameter 'result' was malformed:
'2' is not a valid Boolean value"
req PUT "/actions/ok?overwrite=" -d '{}'
owerr "overwrite= (empty): 400" 400
req GET "/actions/ok?code=nope"
owerr "code=nope: 400" 400
req GET "/actions?limit=abc"
owerr "limit=abc: 400" 400 "The value 'abc' is not an integer for actions."
req GET "/activations?skip=-3"
owerr "skip=-3: 400" 400 "The value '-3' is not greater than or equal to 0 for activations."
req GET "/activations?limit=99999999999999999999999"
owerr "a limit past long: 400" 400
req GET "/activations?limit=%00"
owerr "limit=%00: 400" 400

# bad Authorization encodings: 401 with OpenWhisk's body, never a crash
for h in 'Basic !!!!' "Basic $(printf nocolon | base64)" 'Bearer abc' 'Basic' 'Digest x=y' "Basic $(head -c 3000 /dev/zero | tr '\0' A)" \
         "Basic $(printf '%s' "$KEY" | base64 -w0)==" "basic$(printf ' %s' "$KEY" | base64 -w0)"; do
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "Authorization: $h" "$U/actions")
    owerr "Authorization '${h:0:24}': 401" 401
done
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "Authorization: basic $(printf '%s' "$KEY" | base64 -w0)" "$U/actions")
check "the scheme is case-insensitive (RFC 7235)" 200

# still serving, nothing held
req POST "/actions/ok?blocking=true&result=true" -d '{"x":"after"}'
check "the gateway serves after all of it" 200 .got after
for _ in $(seq 1 30); do [ "$(ls /proc/$gpid/fd | wc -l)" = "$fds0" ] && break; sleep 0.1; done
expect_eq "no fd held by the refused requests" "$(ls /proc/$gpid/fd | wc -l)" "$fds0"
stop_gw
expect_eq "SIGTERM stops the gateway cleanly" "$rc" 0
finish
