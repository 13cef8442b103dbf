# Helpers of the gateway's CLI tests (sourced after lib.sh and fn_setup):
# a gateway on a free port of its own, curl against it, JSON out of the
# replies. Everything under $WORK; the caller's trap stops $gpid.

# start_gw [OPTIONS]: the gateway as a job (pid in gpid), containers under
# $WORK/oci; returns once it listens (its first stdout line, on a FIFO).
# Sets PORT, U (the namespace's URL) and KEY.
start_gw() {
    rm -f "$WORK/gw.fifo"; mkfifo "$WORK/gw.fifo"
    "$TEEMATE" --root "$WORK/oci" gateway --listen 127.0.0.1:0 "$@" \
        >"$WORK/gw.fifo" 2>>"$WORK/gw.log" &
    gpid=$!
    local line; read -r line <"$WORK/gw.fifo"
    PORT=${line##*127.0.0.1:}; PORT=${PORT%% *}
    U=http://127.0.0.1:$PORT/api/v1/namespaces/_
    KEY=$("$TEEMATE" gateway --show-key)
}
# stop_gw [SIGNAL]: the gateway stopped (SIGTERM by default); its status in rc.
stop_gw() { kill -"${1:-TERM}" "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null; rc=$?; gpid=; }

# req METHOD PATH [CURL ARGS]: the status in $code, the body in $WORK/body,
# the headers in $WORK/hdr.
req() {
    local m=$1 p=$2; shift 2
    code=$(curl -s --max-time 120 -u "$KEY" -X "$m" -D "$WORK/hdr" -o "$WORK/body" -w '%{http_code}' \
           -H 'Content-Type: application/json' "$@" "$U$p")
}
# jget EXPR [FILE]: a JavaScript expression over the JSON j (".x" is "j.x").
jget() {
    node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8")); let e=process.argv[1];
             if (e[0]===".") e="j"+e; const v=eval(e); console.log(v===undefined?"":typeof v==="object"?JSON.stringify(v):v)' \
        "$1" <"${2:-$WORK/body}" 2>/dev/null
}
# ann KEY [FILE]: an annotation's value of the activation in FILE.
ann() { jget "(j.annotations.find(a=>a.key===\"$1\")||{}).value" "${2:-$WORK/body}"; }
# check NAME WANT_CODE [EXPR WANT]: the last reply's status (and a value of its body).
check() {
    local name=$1 want=$2
    if [ "$code" != "$want" ]; then not_ok "$name"; echo "  status $code, expected $want: $(head -c 400 "$WORK/body")" >&2; return; fi
    if [ $# -ge 4 ] && [ "$(jget "$3")" != "$4" ]; then
        not_ok "$name"; echo "  $3 = '$(jget "$3")', expected '$4'" >&2; return; fi
    ok "$name"
}
# put NAME MODE CODE [EXTRA JSON FIELDS]: create or replace an action.
put() {
    req PUT "/actions/$1?overwrite=true" -d "$(node -e 'const [c,m,x]=process.argv.slice(1);
        console.log(JSON.stringify(Object.assign({exec:{kind:"nodejs:default",code:c},
        annotations:[{key:"teemate-mode",value:m}]}, JSON.parse(x||"{}"))))' "$3" "$2" "${4:-}")"
    [ "$code" = 200 ] || { not_ok "create $1"; echo "  $code $(head -c 300 "$WORK/body")" >&2; }
}
# wait_activation ID: polls until the record exists (10 s); the body holds it.
wait_activation() {
    for _ in $(seq 1 100); do req GET "/activations/$1"; [ "$code" = 200 ] && return 0; sleep 0.1; done
    return 1
}
# gw_containers: the gateway's containers in $WORK/oci.
gw_containers() { ls "$WORK/oci" 2>/dev/null | grep -c '^gw-'; }
