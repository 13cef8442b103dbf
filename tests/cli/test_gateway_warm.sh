# teemate gateway's warm containers (OpenWhisk's invoker): reuse, one
# container per concurrent run, idle removal, teemate-reuse false, a
# container killed mid-run, a run past its limit, update, the stop.
# Everything lives in $WORK (state, containers, teemated, a port of its own).
. "$(dirname "$0")/lib.sh"
fn_setup "test_gateway_warm"
if [ "$(id -u)" -ne 0 ]; then skip "test_gateway_warm" "needs root (warm instances are containers)"; exit 0; fi
if ! command -v curl >/dev/null; then skip "test_gateway_warm" "curl is not installed"; exit 0; fi
dpid= gpid=
start_daemon
trap 'kill "$gpid" "$dpid" 2>/dev/null; wait 2>/dev/null' EXIT

start_gw() {   # start_gw [OPTIONS]: on any free port, returns once it listens
    rm -f "$WORK/gw.fifo"; mkfifo "$WORK/gw.fifo"
    "$TEEMATE" --root "$WORK/oci" gateway --listen 127.0.0.1:0 --workers 4 "$@" \
        >"$WORK/gw.fifo" 2>>"$WORK/gw.log" &
    gpid=$!
    local line; read -r line <"$WORK/gw.fifo"
    PORT=${line##*127.0.0.1:}; PORT=${PORT%% *}
    U=http://127.0.0.1:$PORT/api/v1/namespaces/_
}
start_gw --idle 8   # long enough for the strawman cold starts between runs under load
KEY=$("$TEEMATE" gateway --show-key)
req() {   # req METHOD PATH [CURL ARGS]: $code, the body in $WORK/body
    local m=$1 p=$2; shift 2
    code=$(curl -s --max-time 120 -u "$KEY" -X "$m" -o "$WORK/body" -w '%{http_code}' \
           -H 'Content-Type: application/json' "$@" "$U$p")
}
jget() {   # jget EXPR [FILE]: a JavaScript expression over the JSON j (".x": "j.x")
    node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8")); let e=process.argv[1];
             if (e[0]===".") e="j"+e; const v=eval(e); console.log(v===undefined?"":typeof v==="object"?JSON.stringify(v):v)' \
        "$1" <"${2:-$WORK/body}" 2>/dev/null
}
ann() { jget "(j.annotations.find(a=>a.key===\"$1\")||{}).value" "${2:-$WORK/body}"; }
containers() { ls "$WORK/oci" 2>/dev/null | grep -c '^gw-warm-'; }
put() {   # put NAME MODE CODE [EXTRA JSON FIELDS]
    req PUT "/actions/$1?overwrite=true" -d "$(node -e 'const [c,m,x]=process.argv.slice(1);
        console.log(JSON.stringify(Object.assign({exec:{kind:"nodejs:default",code:c},
        annotations:[{key:"teemate-mode",value:m}]}, JSON.parse(x||"{}"))))' "$3" "$2" "${4:-}")"
    [ "$code" = 200 ] || { not_ok "create $1"; echo "  $code $(head -c 300 "$WORK/body")" >&2; }
}
counter='var n = 0; function main(p) { n++; var t = Date.now(); while (Date.now() - t < (p.ms || 0)) {} return { n: n }; }'

for m in native teemate strawman; do
    put "count-$m" "$m" "$counter"
    req POST "/actions/count-$m?blocking=true" -d '{}'; cp "$WORK/body" "$WORK/a1"
    req POST "/actions/count-$m?blocking=true" -d '{}'; cp "$WORK/body" "$WORK/a2"
    c1=$(ann teemate-container "$WORK/a1") c2=$(ann teemate-container "$WORK/a2")
    expect_eq "first run cold: initTime, not warm ($m)" \
        "$(jget '.response.result.n' "$WORK/a1"),$(ann teemate-warm "$WORK/a1"),$(ann initTime "$WORK/a1" | grep -c '^[0-9]')" "1,false,1"
    expect_eq "second run warm: same container, no initTime, globals kept ($m)" \
        "$(jget '.response.result.n' "$WORK/a2"),$(ann teemate-warm "$WORK/a2"),$(ann initTime "$WORK/a2"),$([ "$c1" = "$c2" ] && echo same)" \
        "2,true,,same"
done

# concurrency 3: three containers; each its own globals. The warm one is
# touched first (the strawman's cold starts above can be slow under load).
req POST "/actions/count-teemate?blocking=true" -d '{}'
n0=$(jget '.response.result.n')
cj=
for i in 1 2 3; do
    curl -s --max-time 60 -u "$KEY" -X POST -H 'Content-Type: application/json' -d '{"ms":1500}' \
        "$U/actions/count-teemate?blocking=true" >"$WORK/c$i" & cj="$cj $!"
done
wait $cj
ids=$(for i in 1 2 3; do ann teemate-container "$WORK/c$i"; done | sort -u | wc -l)
expect_eq "three runs at once: three containers" "$ids" 3
expect_eq "two containers of one action do not share globals (n per run)" \
    "$(for i in 1 2 3; do jget .response.result.n "$WORK/c$i"; done | sort -n | tr '\n' ' ')" "1 1 $((n0 + 1)) "

# idle removal (--idle 8)
before=$(containers)
for _ in $(seq 1 200); do [ "$(containers)" = 0 ] && break; sleep 0.1; done
expect_eq "idle containers removed after --idle ($before before)" "$(containers)" 0
req POST "/actions/count-native?blocking=true" -d '{}'
expect_eq "after the idle removal: cold again" "$(ann teemate-warm)" false

# teemate-reuse false: cold every time (fn_invoke)
put once native "$counter" '{"annotations":[{"key":"teemate-mode","value":"native"},{"key":"teemate-reuse","value":false}]}'
req POST "/actions/once?blocking=true" -d '{}'; cp "$WORK/body" "$WORK/o1"
req POST "/actions/once?blocking=true" -d '{}'
expect_eq "teemate-reuse false: cold each time" \
    "$(jget .response.result.n "$WORK/o1"),$(ann initTime "$WORK/o1" | grep -c '^[0-9]'),$(jget .response.result.n),$(ann initTime | grep -c '^[0-9]'),$(ann teemate-warm)" "1,1,1,1,"

# SIGKILL of a warm container's init mid-run: that run fails cleanly, the next works
for m in native teemate; do
    req POST "/actions/count-$m?blocking=true" -d '{}'
    c=$(ann teemate-container)
    pid=$(jget .pid <("$TEEMATE" --root "$WORK/oci" state "$c"))
    curl -s --max-time 60 -u "$KEY" -X POST -H 'Content-Type: application/json' -d '{"ms":4000}' \
        "$U/actions/count-$m?blocking=true" >"$WORK/k" & cj=$!
    sleep 1
    [ "${pid:-0}" -gt 1 ] && kill -9 "$pid"   # never 0: that is this process group
    wait "$cj"
    expect_eq "killed mid-run: the activation fails cleanly ($m)" \
        "$(jget .response.statusCode "$WORK/k"),$(jget .response.result.error "$WORK/k")" \
        "2,The action did not produce a valid response and exited unexpectedly."
    req POST "/actions/count-$m?blocking=true" -d '{}'
    expect_eq "the next run: a new container ($m)" \
        "$(jget .response.result.n),$(ann teemate-warm),$([ "$(ann teemate-container)" != "$c" ] && echo new)" "1,false,new"
    expect_eq "the killed container is deleted ($m)" "$(ls "$WORK/oci" | grep -c "^$c\$")" 0
done

# a run past its limit: 502 with OpenWhisk's text, the container removed
put spin native 'function main() { while (true) {} }' '{"limits":{"timeout":1000}}'
req POST "/actions/spin?blocking=true&result=true" -d '{}'
expect_eq "past its time limit: 502 and OpenWhisk's text" "$code,$(jget .error)" \
    "502,The action exceeded its time limits of 1000 milliseconds."
req GET "/activations?name=spin&limit=1"
sid=$(jget '(j[0].annotations.find(a=>a.key==="teemate-container")||{}).value')
for _ in $(seq 1 50); do [ "$(ls "$WORK/oci" | grep -c "^$sid\$")" = 0 ] && break; sleep 0.1; done
expect_eq "the timed-out container is removed" "$(ls "$WORK/oci" | grep -c "^$sid\$")" 0

# an update removes the action's warm containers; the next run sees the new code
req POST "/actions/count-native?blocking=true" -d '{}'; c=$(ann teemate-container)
put count-native native 'function main() { return { v: 2 }; }'
expect_eq "update: the old container removed" "$(ls "$WORK/oci" | grep -c "^$c\$")" 0
req POST "/actions/count-native?blocking=true&result=true" -d '{}'
expect_eq "update: the new code runs" "$(jget .v)" 2

# the stop: every warm container, its cgroup and its lease gone
req POST "/actions/count-teemate?blocking=true" -d '{}'; c=$(ann teemate-container)
pid=$(jget .pid <("$TEEMATE" --root "$WORK/oci" state "$c"))
enc=$(jget '.annotations["org.teemate.enclave"]' <("$TEEMATE" --root "$WORK/oci" state "$c"))
expect_eq "a warm container holds a lease of its action's enclave" \
    "$("$TEEMATE" enclave inspect "$enc" | grep -cw "$pid" | awk '{print ($1 > 0)}')" 1
kill "$gpid"; wait "$gpid"; rc=$?; gpid=
expect_eq "SIGTERM stops the gateway cleanly" "$rc" 0
expect_eq "no warm container left" "$(containers)" 0
expect_eq "no warm container's cgroup left" "$(find /sys/fs/cgroup -maxdepth 4 -name "$c*" 2>/dev/null | wc -l)" 0
expect_eq "no lease left in teemated" "$("$TEEMATE" enclave inspect "$enc" | grep -cw "$pid")" 0
expect_eq "no socket left" "$(ls "$TEEMATE_STATE_DIR/gateway/sock" | wc -l)" 0

# --memory-budget for one 256 MB container: a second run at once waits for it
start_gw --memory-budget 256m
put budget native "$counter"
cj=
for i in 1 2; do
    curl -s --max-time 60 -u "$KEY" -X POST -H 'Content-Type: application/json' -d '{"ms":800}' \
        "$U/actions/budget?blocking=true" >"$WORK/b$i" & cj="$cj $!"
done
wait $cj
expect_eq "past the memory budget: the run waits for the one container" \
    "$(for i in 1 2; do ann teemate-container "$WORK/b$i"; done | sort -u | wc -l),$(for i in 1 2; do jget .response.result.n "$WORK/b$i"; done | sort -n | tr '\n' ' ')" "1,1 2 "
expect_eq "the waiting run's waitTime covers the other's run" \
    "$(for i in 1 2; do ann waitTime "$WORK/b$i"; done | sort -n | tail -1 | awk '{print ($1 >= 700)}')" 1
kill "$gpid"; wait "$gpid"; gpid=
expect_eq "no warm container left (second gateway)" "$(containers)" 0
finish
