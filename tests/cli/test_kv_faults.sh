# teemate kv serve under faults: truncated and hostile RESP on raw sockets
# (half a command then close, a huge bulk length, binary garbage), 500
# clients connecting at once, a client killed mid-pipeline, and as root the
# server SIGKILLed and started again on its enclave (reused, the old slot
# back; no dump was saved (no save points), so the new server starts empty). After
# each, the server still answers. --no-enclave needs no root.
. "$(dirname "$0")/lib.sh"
if ! command -v redis-cli >/dev/null; then skip "test_kv_faults" "no redis-cli (redis-tools)"; exit 0; fi
. "$(dirname "$0")/kv/kv_lib.sh"
# raw PORT PYTHON-BYTES: sends the bytes, prints what comes back until the
# server closes (or 3 s pass), as Python's repr.
raw() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(eval(sys.argv[2]))
got = b""
try:
    while True:
        b = s.recv(65536)
        if not b: break
        got += b
except socket.timeout:
    got += b"<open>"
print(repr(got))
PY
}
alive() { [ "$(redis-cli -p "$1" set alive yes 2>&1)" = OK ] && [ "$(redis-cli -p "$1" get alive)" = yes ]; }

P=$(free_port)
if ! serve faults --port "$P" --no-enclave; then
    not_ok "server starts"; sed 's/^/  | /' "$WORK/faults.log" >&2; finish; fi
out=$(raw "$P" 'b"*3\r\n$3\r\nSET\r\n$1\r\nk"' )
expect_eq "half a command, then close: no reply" "$out" "b'<open>'"
alive "$P" && ok "alive after half a command" || not_ok "alive after half a command"
out=$(raw "$P" 'b"*1\r\n$99999999999\r\n"')
expect_eq "huge bulk length: protocol error, closed" "$out" "b'-ERR Protocol error: invalid bulk length\\r\\n'"
out=$(raw "$P" 'b"*3000000000\r\n"')
expect_eq "huge multibulk length: protocol error, closed" "$out" "b'-ERR Protocol error: invalid multibulk length\\r\\n'"
out=$(raw "$P" 'b"\x01\xff\xfe garbage\r\n*1\r\n$-7\r\n"')
expect_eq "binary garbage: Redis's errors, closed" "$out" \
    "b\"-ERR unknown command '\\x01\\xff\\xfe', with args beginning with: 'garbage' \\r\\n-ERR Protocol error: invalid bulk length\\r\\n\""
alive "$P" && ok "alive after hostile input" || not_ok "alive after hostile input"

# 500 clients at once, each SETs its own key and reads it back
python3 - "$P" <<'PY' >"$WORK/crowd.out"
import socket, sys
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(500)]
for i, s in enumerate(socks):
    k = b"c%d" % i
    s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(k), k, len(k), k))
good = 0
for s in socks:
    want = b"+OK\r\n$1\r\nv\r\n"
    got = b""
    while len(got) < len(want):
        b = s.recv(100)
        if not b: break
        got += b
    good += got == want
    s.close()
print(good)
PY
expect_eq "500 clients at once" "$(cat "$WORK/crowd.out")" "500"

# a client killed mid-pipeline (its replies unread)
for i in $(seq 20000); do printf 'SET p:%d %d\r\n' "$i" "$i"; done >"$WORK/pipe.txt"
(exec 3<>"/dev/tcp/127.0.0.1/$P"; cat "$WORK/pipe.txt" >&3) &
cpid=$!
sleep 0.2; kill -9 "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
alive "$P" && ok "alive after a client killed mid-pipeline" || not_ok "alive after a client killed mid-pipeline"
clients=$(redis-cli -p "$P" info clients | tr -d '\r' | sed -n 's/^connected_clients://p')
for _ in $(seq 50); do [ "$clients" = 1 ] && break; sleep 0.1
    clients=$(redis-cli -p "$P" info clients | tr -d '\r' | sed -n 's/^connected_clients://p'); done
expect_eq "every dropped client is gone" "$clients" "1"
kill -TERM "$spid"; wait "$spid"; expect_eq "clean stop" "$?" "0"

# SIGKILL of the enclave server, then a new one on the same enclave
image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ "$(id -u)" -ne 0 ]; then skip "server SIGKILLed and restarted" "needs root (a TeeMate container)"
elif [ ! -r "$image" ]; then skip "server SIGKILLed and restarted" "$image is not built"
else
    start_daemon
    P=$(free_port)
    if serve e1 --port "$P" --name f1 --socket "$TEEMATE_SOCKET" --maxmemory 32mb; then
        redis-cli -p "$P" set k v >/dev/null
        killed=kv-f1-$spid   # the killed server's container
        kill -9 "$spid"; wait "$spid" 2>/dev/null
        for _ in $(seq 100); do   # the daemon notices the death (pidfd) and takes the slot back
            n=$("$TEEMATE" enclave inspect kv-f1 --json 2>/dev/null | jq -r .slots.in_use)
            [ "$n" = 0 ] && break; sleep 0.05; done
        expect_eq "SIGKILL: the slot comes back" "$n" "0"
        expect_eq "SIGKILL: its TCS lease and attachment are gone" \
            "$("$TEEMATE" enclave inspect kv-f1 --json | jq -c '[.tcs.leased, (.attached | length)]')" "[0,0]"
        if serve e2 --port "$P" --name f1 --socket "$TEEMATE_SOCKET" --maxmemory 32mb; then
            grep -q "Reusing enclave kv-f1" "$WORK/e2.log" && ok "restart reuses the enclave" || not_ok "restart reuses the enclave"
            grep -q "Removed container $killed of a server that was killed" "$WORK/e2.log" \
                && ok "restart removes the killed server's container" || not_ok "restart removes the killed server's container"
            expect_eq "restart: no record or cgroup of the killed server's container left" \
                "$("$TEEMATE" list -q | grep -cx "$killed"; find /sys/fs/cgroup -maxdepth 4 -name "$killed" | wc -l)" "$(printf '0\n0')"
            expect_eq "restart: empty (nothing was saved)" "$(redis-cli -p "$P" exists k)" "0"
            alive "$P" && ok "restarted server serves" || not_ok "restarted server serves"
            kill -TERM "$spid"; wait "$spid"
        else
            not_ok "restart"; sed 's/^/  | /' "$WORK/e2.log" >&2
        fi
    else
        not_ok "enclave server starts"; sed 's/^/  | /' "$WORK/e1.log" >&2
    fi
fi
finish
