# fn create --instances N and SGX2 growth, through the CLI: fn-NAME has N
# slots and N TCSs made as instances come (one built: the daemon's), its
# global heap added as the code needs it. Four concurrent instances make
# their TCSs once; four more reuse them; the EPC comes back to where it was.
# A large script grows the global heap past its built part (none).
. "$(dirname "$0")/lib.sh"
export TEEMATE_STATE_DIR=$WORK/state
export TEEMATE_SOCKET=$WORK/run/teemated.sock
image=$(dirname "$TEEMATE")/apps/functions/fn.elf
if [ ! -r "$image" ]; then skip "test_fn_instances" "$image is not built"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then skip "test_fn_instances" "python3 not installed"; exit 0; fi
rm -f "$WORK/ready"; mkfifo "$WORK/ready"
"$TEEMATE" daemon --foreground --ready-fd 3 3>"$WORK/ready" 2>>"$WORK/daemon.log" &
dpid=$!
read -r report <"$WORK/ready"
trap 'kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null' EXIT

inspect() {   # inspect NAME PYTHON-EXPR over d
    "$TEEMATE" enclave inspect "$1" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print('"$2"')'
}

printf 'function main(p) { if (p.sleep) teemate.sleep(p.sleep); return { ok: true }; }\n' >"$WORK/nap.js"
expect_fail "--instances 0 refused" "--instances takes 1 to 255" \
    "$TEEMATE" fn create nap0 "$WORK/nap.js" --instances 0
expect_fail "--instances 256 refused" "--instances takes 1 to 255" \
    "$TEEMATE" fn create nap0 "$WORK/nap.js" --instances 256
expect_ok "fn create --instances 4" "$TEEMATE" fn create nap "$WORK/nap.js" --instances 4
# TCS 0 is the daemon's; the load's attach made TCS 1
expect_eq "5 TCSs, 2 made, 4 slots" "$(inspect fn-nap 'd["tcs"]["total"], d["tcs"]["made"], d["slots"]["total"]')" "5 2 4"
idle=$(inspect fn-nap 'd["epc_pages"]["total"]')

round() {   # four instances at once, each sleeping $1 s; prints leased/made seen meanwhile
    local pids="" i seen=""
    for i in 1 2 3 4; do
        "$TEEMATE" fn invoke nap -p sleep "$1" >"$WORK/out$i" 2>"$WORK/err$i" & pids="$pids $!"
    done
    for i in $(seq 1 200); do
        seen=$(inspect fn-nap 'd["tcs"]["leased"], d["tcs"]["made"]')
        [ "$seen" = "4 5" ] && break
        sleep 0.05
    done
    echo "$seen"
    for i in $pids; do wait "$i"; done
}
expect_eq "four at once: 4 leased, 5 made" "$(round 3)" "4 5"   # 3 s: the four overlap even when starts are slow
expect_eq "each printed its result" "$(cat "$WORK"/out1 "$WORK"/out2 "$WORK"/out3 "$WORK"/out4 | sort -u)" '{"ok":true}'
after=$(inspect fn-nap 'd["tcs"]["leased"], d["tcs"]["made"], d["epc_pages"]["total"] - d["epc_pages"]["shared"]')
expect_eq "after: none leased, 5 made, nothing left in slots" "$after" "0 5 0"
made=$(inspect fn-nap 'd["epc_pages"]["total"]')
# three more threads' pages (stack, TCS, SSA, thread data each)
per=$(( (made - idle) / 3 ))
[ $((made - idle)) -eq $((per * 3)) ] && [ "$per" -ge 130 ] && ok "EPC grew by 3 threads' pages ($per each)" \
    || not_ok "EPC grew by 3 threads' pages (idle $idle, after $made)"
expect_eq "four more: the same TCSs" "$(round 3)" "4 5"
expect_eq "no TCS made twice, EPC back where it was" "$(inspect fn-nap 'd["tcs"]["made"], d["epc_pages"]["total"]')" "5 $made"
grep -c "fn-nap: TCS [0-9]* made" "$WORK/daemon.log" >"$WORK/n"
expect_eq "the daemon made 4 TCSs in all" "$(cat "$WORK/n")" 4

# The global heap: 14 MiB of string constants kept with the code.
python3 - "$WORK" <<'PY'
import sys
for i in (1, 2):
    open(f"{sys.argv[1]}/big{i}.js", "w").write(f'var big{i} = "' + "ab" * (7 << 19) + '";\n')
open(f"{sys.argv[1]}/bigmain.js", "w").write("function main(p) { return { n: big1.length + big2.length }; }\n")
PY
expect_ok "fn create of 14 MiB of scripts" "$TEEMATE" fn create big "$WORK/bigmain.js" \
    --lib "$WORK/big1.js" --lib "$WORK/big2.js" --instances 1
heap=$(( $(inspect fn-big 'd["epc_pages"]["shared"]') - idle ))
[ "$heap" -ge 3400 ] && ok "the global heap grew by $heap pages past its built part" \
    || not_ok "the global heap grew past its built part (only $heap pages more than a small function)"
expect_ok "fn invoke big" "$TEEMATE" fn invoke big
expect_eq "big's result" "$(cat "$WORK/out")" '{"n":14680064}'
expect_ok "fn rm" "$TEEMATE" fn rm big

# A slot holds the function's memory limit: 330 MiB of buffers under
# --memory 400m (fn.elf's own slots hold 256 MiB of heap); past it, malloc
# fails inside.
printf 'function main(p) { var a = []; for (var i = 0; i < p.n; i++) a.push(new Uint8Array(10 << 20)); return { n: a.length }; }\n' >"$WORK/hog.js"
expect_ok "fn create --memory 400m" "$TEEMATE" fn create hog "$WORK/hog.js" --memory 400m --instances 2
expect_ok "330 MiB in a 400m instance" "$TEEMATE" fn invoke hog -p n 33
expect_eq "its result" "$(cat "$WORK/out")" '{"n":33}'
"$TEEMATE" fn invoke hog -p n 45 >"$WORK/out" 2>&1
expect_eq "past the limit: an error result" "$?:$(cat "$WORK/out")" \
    '1:{"error":"An error has occurred: Error: alloc failed"}'
expect_ok "fn rm" "$TEEMATE" fn rm hog
expect_fail "255 instances of 256m do not fit" "about 203 do" \
    "$TEEMATE" fn create many "$WORK/nap.js" --instances 255
expect_ok "fn rm" "$TEEMATE" fn rm nap
finish
