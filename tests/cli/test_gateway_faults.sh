# teemate gateway under faults: SIGKILLed mid-run and restarted (actions kept,
# the old run's containers removed, the activations in flight recorded as
# failed, a new invoke works), an instance container SIGKILLed mid-run on
# the cold path, the shared enclave gone under idle warm containers (teemated
# restarted), clients that disconnect mid-request.
# Everything lives in $WORK (state, containers, teemated, a port of its own).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway/gw_lib.sh"
fn_setup "test_gateway_faults"
if [ "$(id -u)" -ne 0 ]; then skip "test_gateway_faults" "needs root (every invocation runs in a container)"; exit 0; fi
if ! command -v curl >/dev/null; then skip "test_gateway_faults" "curl is not installed"; exit 0; fi
dpid= gpid=
start_daemon
trap 'kill "$gpid" "$dpid" 2>/dev/null; wait 2>/dev/null' EXIT
sleepjs=$(cat "$(dirname "$0")/../../apps/functions/js/sleep.js")
lost="The gateway stopped while the activation was in flight (found at its restart): the action's result is lost."
cold='{"annotations":[{"key":"teemate-mode","value":"MODE"},{"key":"teemate-reuse","value":false}]}'

# 1. SIGKILL mid-run, then a restart
start_gw --workers 4
put nap teemate "$sleepjs"
put nap-cold native "$sleepjs" "${cold/MODE/native}"
req POST /actions/nap -d '{"sleep":30}'; a1=$(jget .activationId)
req POST /actions/nap-cold -d '{"sleep":30}'; a2=$(jget .activationId)
for _ in $(seq 1 300); do [ "$(gw_containers)" -ge 2 ] && break; sleep 0.1; done
old=$(ls "$WORK/oci" | grep '^gw-' | tr '\n' ' ')
pids=$(for c in $old; do jget .pid <("$TEEMATE" --root "$WORK/oci" state "$c"); done | tr '\n' ' ')
expect_eq "two runs in flight, in two containers" "$(echo $old | wc -w),$(echo $pids | wc -w)" "2,2"
stop_gw KILL
start_gw --workers 4
for a in "$a1 warm" "$a2 cold"; do
    set -- $a
    req GET "/activations/$1"
    check "killed mid-run ($2): whisk internal error at the restart" 200 \
        'j.response.status+"|"+j.response.statusCode+"|"+j.response.success+"|"+j.response.result.error' \
        "whisk internal error|3|false|$lost"
done
left=0
alive() {   # a process, not a zombie waiting for its reaper
    [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# the old helpers' PDEATHSIG take their containers' inits; a cold helper
# (SIGTERM) then deletes its container itself, racing the restart's cleanup
for _ in $(seq 1 100); do
    n=0; for p in $pids; do alive "$p" && n=$((n + 1)); done
    for c in $old; do [ -e "$WORK/oci/$c" ] && n=$((n + 1)); done
    [ "$n" = 0 ] && break; sleep 0.1; done
for c in $old; do [ -e "$WORK/oci/$c" ] && { left=$((left + 1)); echo "  state of $c left" >&2; }; done
for p in $pids; do alive "$p" && { left=$((left + 1)); echo "  pid $p alive: $(cat /proc/$p/cmdline | tr '\0' ' ')" >&2; }; done
expect_eq "no container (state or init) of the old run survives" "$left" 0
expect_eq "the restart removed the warm container the killed gateway left" \
    "$(grep -c "removed container $(echo "$old" | grep -o 'gw-warm-[0-9a-f]*'), left by the previous run" "$WORK/gw.log")" 1
expect_eq "the journal is empty after the restart" \
    "$(ls "$TEEMATE_STATE_DIR/gateway/journal/containers" "$TEEMATE_STATE_DIR/gateway/journal/inflight" | grep -vc ':$\|^$')" 0
req GET /actions/nap
check "actions persist across the SIGKILL" 200 .name nap
req POST "/actions/nap?blocking=true&result=true" -d '{"sleep":0}'
check "a new invoke works after the restart" 200 .check true
enc=$(jget '.annotations["org.teemate.enclave"]' <("$TEEMATE" --root "$WORK/oci" state "$(ls "$WORK/oci" | grep '^gw-warm-' | head -1)"))
expect_eq "the enclave lists only the new container" "$("$TEEMATE" enclave inspect "$enc" | grep -cwE "$(echo $pids | tr ' ' '|' | sed 's/|$//')")" 0

# 2. the cold path's container SIGKILLed mid-run: a clean failure, the next run works
for m in native teemate; do
    put "nap-$m" "$m" "$sleepjs" "${cold/MODE/$m}"
    curl -s --max-time 60 -u "$KEY" -X POST -H 'Content-Type: application/json' -d '{"sleep":20}' \
        "$U/actions/nap-$m?blocking=true" >"$WORK/k" & cj=$!
    # the container's init once it runs (a container still being made has
    # pid 0 in its state: kill -9 0 would kill this whole process group)
    c= pid=0
    for _ in $(seq 1 300); do
        c=$(ls "$WORK/oci" | grep -E '^gw-[0-9a-f]{32}$' | head -1)
        [ -n "$c" ] && pid=$(jget .pid <("$TEEMATE" --root "$WORK/oci" state "$c" 2>/dev/null))
        [ "${pid:-0}" -gt 1 ] 2>/dev/null && break; pid=0; sleep 0.1; done
    sleep 0.5
    if [ "$pid" -gt 1 ]; then kill -9 "$pid"; else not_ok "no running cold container of nap-$m to kill"; fi
    wait "$cj"
    expect_eq "cold container killed mid-run: the activation fails cleanly ($m)" \
        "$(jget .response.statusCode "$WORK/k"),$(jget .response.result.error "$WORK/k")" \
        "2,The action did not produce a valid response and exited unexpectedly."
    req POST "/actions/nap-$m?blocking=true&result=true" -d '{"sleep":0}'
    check "after the kill, the next run works ($m)" 200 .check true
    expect_eq "the killed container is deleted ($m)" "$([ -e "$WORK/oci/$c" ] && echo left)" ""
done

# 3. teemated restarted under idle warm containers: they are not reused, the
# enclave is rebuilt from the sealed code, a fresh container runs
counter='var n = 0; function main() { n++; return { n: n }; }'
put count teemate "$counter"
req POST "/actions/count?blocking=true" -d '{}'
req POST "/actions/count?blocking=true" -d '{}'; c=$(ann teemate-container)
expect_eq "warm before the daemon restart" "$(jget .response.result.n),$(ann teemate-warm)" "2,true"
stop_daemon
start_daemon
expect_eq "the restarted daemon has no enclave of the action" "$("$TEEMATE" enclave ls | grep -c '^fn-gw-')" 0
req POST "/actions/count?blocking=true" -d '{}'
expect_eq "enclave gone: a fresh container, not the idle one" \
    "$(jget .response.result.n),$(ann teemate-warm),$([ "$(ann teemate-container)" != "$c" ] && echo new)" "1,false,new"
expect_eq "the enclave is rebuilt from the sealed code" "$("$TEEMATE" enclave ls | grep -c '^fn-gw-')" 1
expect_eq "the stale container is deleted" "$([ -e "$WORK/oci/$c" ] && echo left)" ""
req POST "/actions/count?blocking=true" -d '{}'
expect_eq "then warm again in the new enclave" "$(jget .response.result.n),$(ann teemate-warm)" "2,true"

# 4. clients that go away mid-request
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'PUT /api/v1/namespaces/_/actions/half HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"exec":{"ki' \
    "$(printf %s "$KEY" | base64 -w0)" >&3
exec 3>&-
req GET /actions/half
check "half a body, then close: nothing created" 404
req GET /actions
check "half a body, then close: the gateway serves" 200
# (libmicrohttpd keeps a connection closed mid-body until its connection
# timeout, 120 s: the fd count below starts after it)
req POST "/actions/nap?blocking=true" -d '{"sleep":0}'
fds0=$(ls /proc/$gpid/fd | wc -l); ls -l /proc/$gpid/fd | awk '{print $NF}' | sort >"$WORK/fds0"
n0=$(req GET "/activations?name=nap&limit=200"; jget .length)
curl -s --max-time 1 -u "$KEY" -X POST -H 'Content-Type: application/json' -d '{"sleep":2}' \
    "$U/actions/nap?blocking=true" >/dev/null; rc=$?
expect_eq "the client gave up on its blocking invoke (curl timeout)" "$rc" 28
for _ in $(seq 1 100); do req GET "/activations?name=nap&limit=200"; [ "$(jget .length)" -gt "$n0" ] && break; sleep 0.1; done
check "the abandoned invoke still completes and is recorded" 200 'j[0].response.success+","+(j[0].response.result.slept>=2)' "true,true"
req POST "/actions/nap?blocking=true&result=true" -d '{"sleep":0}'
check "and the gateway goes on serving" 200 .check true
for _ in $(seq 1 100); do [ "$(ls /proc/$gpid/fd | wc -l)" -le "$fds0" ] && break; sleep 0.1; done
fds1=$(ls /proc/$gpid/fd | wc -l)   # fewer when libmicrohttpd let the half-body one go meanwhile
expect_eq "no fd left by the client that went away mid-invoke ($fds0 before, $fds1 after)" \
    "$([ "$fds1" -le "$fds0" ] && echo none)" none
if [ "$fds1" -gt "$fds0" ]; then
    ls -l /proc/$gpid/fd | awk '{print $NF}' | sort | diff "$WORK/fds0" - >&2
    for i in $(ls -l /proc/$gpid/fd | awk '{print $NF}' | sort | diff "$WORK/fds0" - | grep -o 'socket:\[[0-9]*' | tr -dc '0-9\n'); do
        grep -h " $i " /proc/net/tcp /proc/net/unix >&2; done
fi

# 5. OpenWhisk's times (ContainerProxy): initTime only on a cold start, the
# record's duration includes it, waitTime ends where the init starts
put timing native 'function main() { var t = Date.now(); while (Date.now() - t < 50) {} return {}; }'
times='[(j.annotations.find(a=>a.key==="initTime")||{value:"none"}).value, j.end-j.start===j.duration,
        j.duration>=50+((j.annotations.find(a=>a.key==="initTime")||{}).value||0),
        (j.annotations.find(a=>a.key==="waitTime")||{}).value>=0].join()'
req POST "/actions/timing?blocking=true" -d '{}'
expect_eq "warm pool, cold start: initTime, duration = init + run" "$(jget "$times" | sed 's/^[0-9][0-9]*,/N,/')" "N,true,true,true"
req POST "/actions/timing?blocking=true" -d '{}'
expect_eq "warm run: no initTime, a waitTime" "$(jget "$times")" "none,true,true,true"
req POST "/actions/nap-native?blocking=true" -d '{"sleep":0.05}'
expect_eq "fn_invoke's cold start: initTime, duration = init + run" "$(jget "$times" | sed 's/^[0-9][0-9]*,/N,/')" "N,true,true,true"

stop_gw
expect_eq "SIGTERM stops the gateway cleanly" "$rc" 0
expect_eq "no container left" "$(gw_containers)" 0
finish
