# Every `teemate fn invoke` instance runs in a container of its own, in each
# mode: while a napping function runs, fn-NAME-PID is listed under --root,
# its init has its own pid namespace, the host's network, its cgroup with the
# function's memory + 256 MiB as limit; once it answers, container and cgroup
# are gone. --stats=json is one JSON object with every field of the contract.
# A teemate-mode container SIGKILLed mid-run: OpenWhisk's error result, exit
# 1, what happened on stderr, container gone, its lease and slot back in the
# enclave, and the next invoke works; a SIGTERM to the invoker is passed on,
# with the same ending. Needs root.
. "$(dirname "$0")/lib.sh"
image=$(dirname "$TEEMATE")/apps/functions/fn.elf
if [ ! -r "$image" ]; then skip "test_fn_container" "$image is not built"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then skip "test_fn_container" "needs root (namespaces, cgroups)"; exit 0; fi
export TEEMATE_STATE_DIR=$WORK/state
export TEEMATE_SOCKET=$WORK/run/teemated.sock
T=("$TEEMATE" --root "$WORK/root")
dpid= ipid=
cleanup() {
    [ -n "$ipid" ] && kill "$ipid" 2>/dev/null && wait "$ipid" 2>/dev/null
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
}
trap cleanup EXIT
start_daemon

# wait_running ID: up to 30 s for the container to be running; its init's pid.
wait_running() {
    for _ in $(seq 300); do
        local s; s=$("${T[@]}" state "$1" 2>/dev/null)
        if [ "$(jq -r .status <<<"$s" 2>/dev/null)" = running ]; then jq -r .pid <<<"$s"; return 0; fi
        sleep 0.1
    done
    return 1
}

# check_stats MODE FILE: the contract's fields, their types, the mode's own.
check_stats() {
    python3 - "$1" "$2" <<'PY'
import json, sys
mode, path = sys.argv[1], sys.argv[2]
lines = [l for l in open(path) if l.startswith("{")]
assert len(lines) == 1, lines
s = json.loads(lines[0])
ms = ["container_ms", "enclave_build_ms", "alias_ms", "expand_ms", "heap_ms", "code_load_ms",
      "run_ms", "total_ms"]
for k in ms:
    assert isinstance(s[k], float) and s[k] >= 0, (k, s[k])
for k in ["epc_pages", "memory_peak_bytes"]:
    assert isinstance(s[k], int) and not isinstance(s[k], bool), (k, s[k])
assert s["function"] == "nap-" + mode and s["mode"] == mode and s["ok"] is True, s
assert s["container_ms"] > 0 and s["heap_ms"] > 0 and s["code_load_ms"] > 0, s
assert s["run_ms"] >= 1000, s                    # it napped 1 s
assert s["memory_peak_bytes"] > 0, s
parts = s["container_ms"] + s["enclave_build_ms"] + s["alias_ms"] + s["heap_ms"] + s["code_load_ms"] + s["run_ms"]
assert parts <= s["total_ms"] * 1.001, (parts, s["total_ms"])
if mode == "native":
    assert s["epc_pages"] == 0 and s["enclave_build_ms"] == 0 and s["alias_ms"] == 0, s
if mode == "strawman":
    assert s["enclave_build_ms"] > 0 and s["alias_ms"] == 0, s
    assert s["epc_pages"] * 4096 > 256 << 20, s    # the whole enclave, its 256 MiB heap committed
if mode == "teemate":
    assert s["alias_ms"] > 0 and s["enclave_build_ms"] == 0 and s["expand_ms"] > 0, s
    assert 0 < s["epc_pages"] < 65536, s          # its slot and thread, not the enclave
PY
}

echo 'function main(p) { teemate.sleep(p.s); return { slept: p.s }; }' >"$WORK/nap.js"
for m in native teemate strawman; do
    expect_ok "create nap ($m)" "$TEEMATE" fn create "nap-$m" "$WORK/nap.js" --mode "$m" --timeout 30
    "${T[@]}" fn invoke "nap-$m" -p s 1 --stats=json >"$WORK/nap.out" 2>"$WORK/nap.err" &
    ipid=$!
    id=fn-nap-$m-$ipid
    pid=$(wait_running "$id") && ok "a container $id runs the instance ($m)" \
        || not_ok "a container $id runs the instance ($m)"
    "${T[@]}" list --quiet | grep -qx "$id" && ok "listed under --root ($m)" || not_ok "listed under --root ($m)"
    [ -n "$pid" ] && [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] \
        && ok "its own pid namespace ($m)" || not_ok "its own pid namespace ($m)"
    [ -n "$pid" ] && [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ] \
        && ok "the host's network ($m)" || not_ok "the host's network ($m)"
    [ -n "$pid" ] && grep -q ":/teemate/$id$" "/proc/$pid/cgroup" \
        && ok "its own cgroup ($m)" || not_ok "its own cgroup ($m)"
    limit=/sys/fs/cgroup/memory/teemate/$id/memory.limit_in_bytes
    [ -e /sys/fs/cgroup/memory.max ] && limit=/sys/fs/cgroup/teemate/$id/memory.max
    expect_eq "memory limit: 256 MiB + 256 MiB ($m)" "$(cat "$limit" 2>&1)" $((512 << 20))
    wait "$ipid"; rc=$?; ipid=
    expect_eq "invoke exits 0 ($m)" "$rc" 0
    expect_eq "its result ($m)" "$(cat "$WORK/nap.out")" '{"slept":1}'
    "${T[@]}" state "$id" >/dev/null 2>&1 && not_ok "container deleted after ($m)" || ok "container deleted after ($m)"
    [ -e "$(dirname "$limit")" ] && not_ok "cgroup removed after ($m)" || ok "cgroup removed after ($m)"
    err=$(check_stats "$m" "$WORK/nap.err" 2>&1) && ok "--stats=json has every field ($m)" \
        || { not_ok "--stats=json has every field ($m)"; echo "$err" | tail -3 >&2; cat "$WORK/nap.err" >&2; }
    expect_ok "rm nap ($m)" "$TEEMATE" fn rm "nap-$m"
done

# SIGKILL of a teemate-mode instance's container mid-run.
echo 'function main(p) { if (p.spin) for (;;) {} return { fine: true }; }' >"$WORK/spin.js"
expect_ok "create spin (teemate)" "$TEEMATE" fn create spin "$WORK/spin.js" --mode teemate --timeout 60
leases() { "$TEEMATE" enclave inspect fn-spin --json | jq -c '[.tcs.leased, .slots.in_use, (.attached | length), (.quarantined | length)]'; }
expect_eq "no lease before" "$(leases)" "[0,0,0,0]"
"${T[@]}" fn invoke spin -p spin true --stats=json >"$WORK/spin.out" 2>"$WORK/spin.err" &
ipid=$!
id=fn-spin-$ipid
pid=$(wait_running "$id") && ok "the spinning instance runs in $id" || not_ok "the spinning instance runs in $id"
expect_eq "it holds a lease" "$(leases)" "[1,1,1,0]"
# in main's loop: its CPU time grows
t0=$(awk '{print $14}' "/proc/$pid/stat" 2>/dev/null)
sleep 0.5
t1=$(awk '{print $14}' "/proc/$pid/stat" 2>/dev/null)
[ -n "$t0" ] && [ "${t1:-0}" -gt "$t0" ] && ok "it is spinning" || not_ok "it is spinning"
[ "${pid:-0}" -gt 1 ] && kill -KILL "$pid"   # never 0: that is this process group
wait "$ipid"; rc=$?; ipid=
expect_eq "killed: invoke exits 1" "$rc" 1
expect_eq "killed: OpenWhisk's error result" "$(cat "$WORK/spin.out")" \
    '{"error":"The action did not produce a valid response and exited unexpectedly."}'
grep -q "^teemate: the instance's container was killed by signal 9 (Killed)$" "$WORK/spin.err" \
    && ok "killed: stderr says how" || { not_ok "killed: stderr says how"; cat "$WORK/spin.err" >&2; }
python3 -c 'import json,sys; s=json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][0]); assert s["ok"] is False and "signal 9" in s["died"]' \
    "$WORK/spin.err" && ok "killed: --stats=json says ok false" || not_ok "killed: --stats=json says ok false"
"${T[@]}" state "$id" >/dev/null 2>&1 && not_ok "killed: container deleted" || ok "killed: container deleted"
for _ in $(seq 50); do [ "$(leases)" = "[0,0,0,0]" ] && break; sleep 0.1; done
expect_eq "killed: lease and slot back, nothing quarantined" "$(leases)" "[0,0,0,0]"
expect_ok "the next invoke works" "${T[@]}" fn invoke spin
expect_eq "the next invoke's result" "$(cat "$WORK/out")" '{"fine":true}'

# SIGTERM to the invoker: passed on to the instance, the container deleted.
"${T[@]}" fn invoke spin -p spin true >"$WORK/term.out" 2>"$WORK/term.err" &
ipid=$!
id=fn-spin-$ipid
pid=$(wait_running "$id") && ok "a second spinning instance in $id" || not_ok "a second spinning instance in $id"
kill -TERM "$ipid"
wait "$ipid"; rc=$?; ipid=
expect_eq "SIGTERM to invoke: exits 1" "$rc" 1
grep -q "killed by signal 15" "$WORK/term.err" && ok "SIGTERM to invoke: passed to the instance" \
    || { not_ok "SIGTERM to invoke: passed to the instance"; cat "$WORK/term.err" >&2; }
"${T[@]}" state "$id" >/dev/null 2>&1 && not_ok "SIGTERM to invoke: container deleted" || ok "SIGTERM to invoke: container deleted"
for _ in $(seq 50); do [ "$(leases)" = "[0,0,0,0]" ] && break; sleep 0.1; done
expect_eq "SIGTERM to invoke: lease and slot back" "$(leases)" "[0,0,0,0]"
expect_ok "rm spin" "$TEEMATE" fn rm spin

# The watchdog outside the instance: a stopped container (a hung runtime)
# is killed past its time limit plus the start's room (5 s + 2 ms per MiB);
# the instance naps 0.9 s of its 1 s, long enough to be stopped first.
echo 'function main(p) { teemate.sleep(0.9); return { fine: true }; }' >"$WORK/fine.js"
expect_ok "create fine (native, 1 s, 16m)" "$TEEMATE" fn create fine "$WORK/fine.js" --mode native \
    --timeout 1 --memory 16m
"${T[@]}" fn invoke fine >"$WORK/stop.out" 2>"$WORK/stop.err" &
ipid=$!
id=fn-fine-$ipid
if pid=$(wait_running "$id"); then
    kill -STOP "$pid"
    wait "$ipid"; rc=$?; ipid=
    expect_eq "stopped instance: exits 1 with OpenWhisk's time-limit error" \
        "$rc $(cat "$WORK/stop.out")" \
        '1 {"error":"The action exceeded its time limits of 1000 milliseconds."}'
    grep -q "did not answer within 6032 ms" "$WORK/stop.err" && ok "stopped instance: stderr says the watchdog killed it" \
        || { not_ok "stopped instance: stderr says the watchdog killed it"; cat "$WORK/stop.err" >&2; }
    "${T[@]}" state "$id" >/dev/null 2>&1 && not_ok "stopped instance: container deleted" \
        || ok "stopped instance: container deleted"
else
    # the instance answered before it could be stopped: nothing to test
    wait "$ipid"; ipid=
    skip "stopped instance" "it answered before the test could stop it"
fi
expect_ok "rm fine" "$TEEMATE" fn rm fine
expect_eq "no container left under --root" "$("${T[@]}" list --quiet | wc -l)" 0

trap - EXIT
cleanup
finish
