# teemated against a hostile client of the same user, through the CLI: the
# issue's reproductions (1100 idle connections, a CREATE of gigabytes, the
# log and the development key planted in the state directory).
. "$(dirname "$0")/lib.sh"
export TEEMATE_STATE_DIR=$WORK/state
export TEEMATE_SOCKET=$WORK/run/teemated.sock
hello=$BUILD/examples/hello.elf
mkdir -p "$TEEMATE_STATE_DIR"
dpid=

if ! command -v python3 >/dev/null 2>&1; then skip "daemon hostile clients" "python3 not installed"; finish; fi

# ---- 1100 idle connections from one process ----
start_daemon
mkfifo "$WORK/crowd.in" "$WORK/crowd.out"
python3 - "$TEEMATE_SOCKET" <"$WORK/crowd.in" >"$WORK/crowd.out" <<'EOF' &
import socket, struct, sys
path = sys.argv[1]
conns = []
for _ in range(1100):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    conns.append(s)
# STATUS on each: served, or a notice (type 0x8000) saying why not
status = struct.pack("<IHHII", 0x504d4454, 2, 8, 16, 0)   # magic, version 2, STATUS
served = full = 0
for s in conns:
    try:
        s.send(status)
    except OSError:
        pass   # closed already: its notice is still there to read
    try:
        r = s.recv(65536)
    except OSError:
        r = b""
    if len(r) >= 24 and struct.unpack_from("<H", r, 6)[0] == 0x8000:
        full += b"teemated is full" in r
    elif len(r) >= 24 and struct.unpack_from("<i", r, 16)[0] == 0:
        served += 1
print(served, full, flush=True)
sys.stdin.read()   # hold every connection until told
EOF
crowd=$!
exec 8>"$WORK/crowd.in"
read -r served full <"$WORK/crowd.out"
expect_eq "one process gets 64 connections served" "$served" 64
expect_eq "its 1036 others are told the daemon is full" "$full" 1036
expect_ok "enclave ls answers while 1100 connections are held" "$TEEMATE" enclave ls
exec 8>&-
wait "$crowd"
grep -q "teemated is full: 64 connections from pid $crowd (limit 64 per process)" "$WORK/daemon.log" \
    && ok "the log names the crowd's pid and the limit" || not_ok "the log names the crowd's pid and the limit"

# ---- a large CREATE: ls answers and shows progress; attach waits; rm cancels ----
# hello with a 2 GiB ELRANGE and a 1 GiB heap: the layout note patched.
python3 - "$hello" "$WORK/big.elf" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
head = struct.pack("<III", 8, 72, 1) + b"TeeMate\0"
at = data.find(head) + len(head)
assert at >= len(head)
struct.pack_into("<Q", data, at + 8, 2 << 30)     # enclave_size
struct.pack_into("<Q", data, at + 40, 1 << 30)    # heap_size
open(sys.argv[2], "wb").write(data)
EOF
"$TEEMATE" enclave create big --image "$WORK/big.elf" --backend sim >"$WORK/create.out" 2>"$WORK/create.err" &
creator=$!
seen=0 ls_ok=1 inspected=0 attach_told=0
while kill -0 "$creator" 2>/dev/null; do
    "$TEEMATE" enclave ls >"$WORK/ls" 2>&1 || ls_ok=0
    if grep -q "^big .*building [0-9]*%" "$WORK/ls"; then
        seen=$((seen + 1))
        if [ $inspected -eq 0 ] && "$TEEMATE" enclave inspect big >"$WORK/inspect" 2>&1 \
            && grep -q "^state:       building, [0-9]* of [0-9]* pages added" "$WORK/inspect"; then
            inspected=1
        fi
        if [ $attach_told -eq 0 ]; then
            "$TEEMATE" attach big >/dev/null 2>"$WORK/attach.err"
            grep -q "enclave 'big' is still being built" "$WORK/attach.err" && attach_told=1
        fi
    fi
done
wait "$creator"; rc=$?
expect_eq "the large CREATE succeeds" "$rc" 0
expect_eq "enclave ls answers during the build" "$ls_ok" 1
[ "$seen" -ge 1 ] && ok "enclave ls shows the build's progress ($seen times)" \
    || not_ok "enclave ls shows the build's progress"
expect_eq "enclave inspect shows the build's state" "$inspected" 1
expect_eq "attach to an enclave being built is told to wait" "$attach_told" 1
expect_eq "built: inspect says ready" "$("$TEEMATE" enclave inspect big | sed -n 's/^state: *//p')" ready
expect_ok "rm the large enclave" "$TEEMATE" enclave rm big
"$TEEMATE" enclave create doomed --image "$WORK/big.elf" --backend sim >/dev/null 2>"$WORK/doomed.err" &
creator=$!
removed=0
while kill -0 "$creator" 2>/dev/null && [ $removed -eq 0 ]; do
    "$TEEMATE" enclave ls 2>/dev/null | grep -q "^doomed .*building" \
        && "$TEEMATE" enclave rm doomed >/dev/null 2>&1 && removed=1
done
wait "$creator"; rc=$?
if [ $removed -eq 1 ]; then
    [ $rc -eq 1 ] && grep -q "enclave 'doomed' was removed while it was being built" "$WORK/doomed.err" \
        && ok "rm cancels a build and its creator is told" \
        || { not_ok "rm cancels a build and its creator is told"; cat "$WORK/doomed.err" >&2; }
else
    not_ok "rm cancels a build and its creator is told"; echo "  never saw it building" >&2
fi
expect_eq "nothing left after the cancelled build" "$("$TEEMATE" enclave ls | wc -l)" 1
stop_daemon

# ---- the operator's limits ----
start_daemon --max-enclave-size 32m --max-epc 100m
expect_fail "an enclave past --max-enclave-size is refused" \
    "enclave 'x' has an ELRANGE of 64 MiB, more than teemated allows for one enclave \(32 MiB\): start teemated with --max-enclave-size" \
    "$TEEMATE" enclave create x --image "$hello"
stop_daemon
# hello reserves 1.35 MiB: its pages before EINIT (its slots count as they are added)
start_daemon --max-epc 2m
expect_ok "one enclave within --max-epc 2m" "$TEEMATE" enclave create one --image "$hello"
expect_fail "a second is refused, naming --max-epc" \
    "enclave 'two' may commit 1 MiB of EPC, and teemated has 0 MiB left of its limit of 2 MiB: remove an enclave, or start teemated with a larger --max-epc" \
    "$TEEMATE" enclave create two --image "$hello"
stop_daemon

# ---- files in the state directory ----
start_daemon
chmod 644 "$TEEMATE_STATE_DIR/dev-signing-key.pem"
expect_fail "a development key others can read is refused" \
    "development key .*dev-signing-key.pem is accessible by group or others \(mode 0644\)" \
    "$TEEMATE" enclave create y --image "$hello"
chmod 600 "$TEEMATE_STATE_DIR/dev-signing-key.pem"
expect_ok "with mode 0600 it signs" "$TEEMATE" enclave create y --image "$hello"
stop_daemon
echo keep >"$WORK/precious"
rm -f "$TEEMATE_STATE_DIR/teemated.log"
ln -s "$WORK/precious" "$TEEMATE_STATE_DIR/teemated.log"
expect_fail "a background daemon refuses a symlinked log" "teemated.log is a symbolic link" \
    "$TEEMATE" daemon --socket "$WORK/bg/teemated.sock"
expect_eq "the symlink's target is untouched" "$(cat "$WORK/precious")" keep
finish
