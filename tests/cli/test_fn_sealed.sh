# A teemate-mode function outlives its daemon: fn create keeps only the code
# sealed by fn-NAME (MRENCLAVE policy) in the record; after a daemon crash and
# restart, fn invoke rebuilds fn-NAME from the image and the sealed code. The
# code is never on disk in the clear; a tampered, truncated or foreign blob is
# refused with a clear error and leaves no enclave behind.
. "$(dirname "$0")/lib.sh"
fn_setup test_fn_sealed
start_daemon
trap 'kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null' EXIT

# A marker no other file holds: found on disk means the code leaked.
marker="sealmark$$x$RANDOM$RANDOM"
cat >"$WORK/keep.js" <<JS
var marker = "$marker", runs = 0;
function main(params) { runs++; return { marker: marker, runs: runs, n: params.n }; }
JS
blob=$WORK/state/functions/keep/code.sealed
no_marker_on_disk() {
    if grep -rqa "$marker" "$WORK/state"; then not_ok "$1"; grep -rla "$marker" "$WORK/state" >&2
    else ok "$1"; fi
}
expected() { printf '{"marker":"%s","runs":1,"n":%s}' "$marker" "$1"; }

expect_ok "fn create (teemate, 5 instances)" "$TEEMATE" fn create keep "$WORK/keep.js" --mode teemate --timeout 5 --instances 5
[ -s "$blob" ] && ok "the sealed code is in the record" || not_ok "the sealed code is in the record"
expect_eq "sealed code: mode 0600" "$(stat -c %a "$blob")" 600
expect_eq "sealed code: the scripts + a 104-byte header" \
    "$(( $(stat -c %s "$blob") > $(stat -c %s "$WORK/keep.js") + 104 ))" 1
no_marker_on_disk "the code is not on disk in the clear after create"
expect_ok "invoke" "$TEEMATE" fn invoke keep -p n 1
expect_eq "invoke result" "$(cat "$WORK/out")" "$(expected 1)"

# ---- the daemon crashes; a new one (same state dir) starts empty ----
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
start_daemon
grep -q "^fn-keep " <("$TEEMATE" enclave ls) && not_ok "a new daemon starts without fn-keep" \
    || ok "a new daemon starts without fn-keep"
expect_ok "invoke after the restart" "$TEEMATE" fn invoke keep -p n 2 --stats
expect_eq "invoke after the restart: the same code" "$(cat "$WORK/out")" "$(expected 2)"
grep -qE "^teemate: rebuilt fn-keep from its sealed code: enclave build [0-9.]+ ms" "$WORK/err" \
    && ok "--stats says it rebuilt" || { not_ok "--stats says it rebuilt"; cat "$WORK/err" >&2; }
grep -q "^fn-keep " <("$TEEMATE" enclave ls) && ok "fn-keep is back" || not_ok "fn-keep is back"
expect_eq "fn-keep is back as it was made: 5 slots" \
    "$("$TEEMATE" enclave inspect fn-keep --json | jq .slots.total)" 5
expect_ok "the next invoke attaches" "$TEEMATE" fn invoke keep -p n 3 --stats
expect_eq "the next invoke: result" "$(cat "$WORK/out")" "$(expected 3)"
grep -q "rebuilt" "$WORK/err" && not_ok "the next invoke does not rebuild" || ok "the next invoke does not rebuild"
no_marker_on_disk "the code is not on disk in the clear after the rebuild"

# ---- four invokes at once find the enclave gone ----
restart() { kill "$dpid"; wait "$dpid" 2>/dev/null; start_daemon; }
restart
pids=()
for i in 1 2 3 4; do
    "$TEEMATE" fn invoke keep -p n "$i" >"$WORK/c$i.out" 2>"$WORK/c$i.err" & pids+=($!)
done
good=0
for i in 1 2 3 4; do
    wait "${pids[i - 1]}"
    if [ "$(cat "$WORK/c$i.out")" = "$(expected "$i")" ]; then good=$((good + 1))
    else sed 's/^/  | /' "$WORK/c$i.out" "$WORK/c$i.err" >&2; fi
done
expect_eq "concurrent rebuilds: all four ran" "$good" 4
expect_eq "concurrent rebuilds: one fn-keep" "$("$TEEMATE" enclave ls | grep -c '^fn-keep ')" 1
expect_ok "concurrent rebuilds: the next invoke" "$TEEMATE" fn invoke keep -p n 1
expect_eq "concurrent rebuilds: the next invoke's result" "$(cat "$WORK/out")" "$(expected 1)"

# ---- a blob that does not authenticate: refused, nothing half-loaded ----
cp "$blob" "$WORK/blob.good"
flip() {   # flip one bit of byte $1
    python3 -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 1; open(p, "wb").write(b)' "$blob" "$1"
}
size=$(stat -c %s "$blob")
for where in "payload:$((size - 3))" "tag:$((104 - 5))" "key id:10" "iv:$((104 - 30))"; do
    restart
    cp "$WORK/blob.good" "$blob"; flip "${where#*:}"
    expect_fail "a flipped byte (${where%%:*}) is refused" \
        "function 'keep': its enclave is gone and could not be rebuilt from its sealed code: the sealed code does not authenticate" \
        "$TEEMATE" fn invoke keep -p n 4
    grep -q "^fn-keep " <("$TEEMATE" enclave ls) && not_ok "no enclave left after the refusal (${where%%:*})" \
        || ok "no enclave left after the refusal (${where%%:*})"
done
head -c 50 "$WORK/blob.good" >"$blob"
expect_fail "a truncated blob is refused" "does not authenticate" "$TEEMATE" fn invoke keep
# Another image (one byte of a string changed: another MRENCLAVE) cannot unseal it.
cp "$WORK/blob.good" "$blob"
python3 - "$image" "$WORK/other.elf" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
old = b"usage: NAME SOURCE [PARAMS]"
assert b.count(old) == 1
open(sys.argv[2], "wb").write(b.replace(old, b"usage: NAME SOURCE [PARAMZ]"))
PY
[ "$("$TEEMATE" measure "$image")" != "$("$TEEMATE" measure "$WORK/other.elf")" ] \
    && ok "the other image has another MRENCLAVE" || not_ok "the other image has another MRENCLAVE"
TEEMATE_FN_IMAGE=$WORK/other.elf expect_fail "code sealed by another image is refused" \
    "does not authenticate" "$TEEMATE" fn invoke keep
grep -q "^fn-keep " <("$TEEMATE" enclave ls) && not_ok "no enclave left (other image)" \
    || ok "no enclave left (other image)"
expect_ok "the intact blob still works" "$TEEMATE" fn invoke keep -p n 5
expect_eq "the intact blob: result" "$(cat "$WORK/out")" "$(expected 5)"
rm -f "$blob"
restart
expect_fail "a missing blob: a clear error" "could not be rebuilt from its sealed code: .*code.sealed" \
    "$TEEMATE" fn invoke keep
expect_ok "fn rm" "$TEEMATE" fn rm keep
kill "$dpid"; wait "$dpid"; expect_eq "daemon stops cleanly" "$?" 0
trap - EXIT
finish
