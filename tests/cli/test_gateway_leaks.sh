# teemate gateway under 1000 invocations of a function that throws (warm,
# four at a time) and 40 cold ones (teemate-reuse false): every one answered
# 502 with OpenWhisk's developer error (cold: two at a time), and once the warm containers have
# gone idle (--idle 2) nothing is left over: the gateway's containers, its
# open fds and threads, the enclave's TCS leases, slots and attached
# processes are what they were before. Everything lives in $WORK.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gateway/gw_lib.sh"
fn_setup "test_gateway_leaks"
if [ "$(id -u)" -ne 0 ]; then skip "test_gateway_leaks" "needs root (every invocation runs in a container)"; exit 0; fi
if ! command -v curl >/dev/null; then skip "test_gateway_leaks" "curl is not installed"; exit 0; fi
dpid= gpid=
start_daemon
trap 'kill "$gpid" "$dpid" 2>/dev/null; wait 2>/dev/null' EXIT
start_gw --workers 4 --idle 2
throws='function main(p) { throw new Error("thrown " + (p.i || 0)); }'
put throws teemate "$throws"
put throws-cold teemate "$throws" '{"annotations":[{"key":"teemate-mode","value":"teemate"},{"key":"teemate-reuse","value":false}]}'
req POST "/actions/throws?blocking=true" -d '{"i":0}'
check "a throw: 502, action developer error" 502 'j.response.status+"|"+j.response.result.error' \
    "action developer error|An error has occurred: Error: thrown 0"
enc=$(jget '.annotations["org.teemate.enclave"]' <("$TEEMATE" --root "$WORK/oci" state "$(ann teemate-container)"))
# counts: the gateway's containers, fds, threads; the enclave's leases, slots, attached
counts() {
    "$TEEMATE" enclave inspect "$enc" --json >"$WORK/enc.json" 2>/dev/null
    echo "containers=$(gw_containers) fds=$(ls /proc/$gpid/fd | wc -l) threads=$(ls /proc/$gpid/task | wc -l)" \
         "$(jget '"leases="+j.tcs.leased+" slots="+j.slots.in_use+" attached="+j.attached.length' "$WORK/enc.json")"
}
idle() {   # until the warm containers are gone (--idle 2, the reaper's second)
    for _ in $(seq 1 100); do [ "$(gw_containers)" = 0 ] && break; sleep 0.1; done; }
idle
before=$(counts)
expect_eq "baseline: no container, nothing attached" "$(echo "$before" | grep -o 'containers=0 .*attached=0' | sed 's/ fds.*leases/ leases/')" \
    "containers=0 leases=0 slots=0 attached=0"
t0=$(date +%s)
seq 1 1000 | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -u "$KEY" -X POST \
    -H 'Content-Type: application/json' -d '{"i":{}}' "$U/actions/throws?blocking=true" >"$WORK/warm.codes"
t1=$(date +%s)
expect_eq "1000 warm throws, each 502 ($((t1 - t0)) s)" "$(sort "$WORK/warm.codes" | uniq -c | awk '{print $2":"$1}' | tr '\n' ' ')" "502:1000 "
req GET "/activations?name=throws&limit=200"
expect_eq "their records: developer errors, in at most 4 containers" \
    "$(jget 'j.every(a=>a.response.statusCode===2)+","+(new Set(j.map(a=>a.annotations.find(x=>x.key==="teemate-container").value)).size<=4)')" "true,true"
seq 1 40 | xargs -P 2 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -u "$KEY" -X POST \
    -H 'Content-Type: application/json' -d '{"i":{}}' "$U/actions/throws-cold?blocking=true" >"$WORK/cold.codes"
t2=$(date +%s)
expect_eq "40 cold throws, each 502 ($((t2 - t1)) s)" "$(sort "$WORK/cold.codes" | uniq -c | awk '{print $2":"$1}' | tr '\n' ' ')" "502:40 "
req GET "/actions"
check "the gateway keeps serving" 200
idle
sleep 0.3   # the reaper's removal reaches teemated's lease reclaim (pidfd) a moment later
for _ in $(seq 1 30); do [ "$(counts)" = "$before" ] && break; sleep 0.1; done
expect_eq "after the idle time: containers, fds, threads, leases, slots, attached as before" "$(counts)" "$before"
stop_gw
expect_eq "SIGTERM stops the gateway cleanly" "$rc" 0
expect_eq "no container left" "$(gw_containers)" 0
finish
