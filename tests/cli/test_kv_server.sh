# teemate kv serve driven by the real redis-cli: config errors (one line
# naming file and line), then a --no-enclave server (PING, SET/GET, a binary
# value, --pipe mass insertion, SELECT, the unknown-command text, SIGTERM
# ends it with 0), one with --requirepass (NOAUTH, AUTH), and as root the
# server in its shared enclave kv-NAME as a TeeMate container (the slot is
# leased while it runs and given back after SIGTERM). Everything under $WORK,
# ports picked free on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
if ! command -v redis-cli >/dev/null; then skip "test_kv_server" "no redis-cli (redis-tools)"; exit 0; fi
. "$(dirname "$0")/kv/kv_lib.sh"
stop() { kill -TERM "$1"; wait "$1"; }

# --- config errors: one line, the file and line named
printf 'port 6390\nbogus yes\n' >"$WORK/bad.conf"
expect_fail "bad directive names file and line" "bad.conf:2: 'bogus yes': Bad directive or wrong number of arguments" \
    "$TEEMATE" kv serve --config "$WORK/bad.conf" --no-enclave
printf 'maxmemory 12parsecs\n' >"$WORK/bad2.conf"
expect_fail "bad memory value" "bad2.conf:1: 'maxmemory 12parsecs': argument must be a memory value" \
    "$TEEMATE" kv serve --config "$WORK/bad2.conf" --no-enclave
expect_fail "bad --port" "--port abc: argument couldn't be parsed into an integer" \
    "$TEEMATE" kv serve --port abc --no-enclave
expect_fail "missing config file" "cannot open $WORK/none.conf" \
    "$TEEMATE" kv serve --config "$WORK/none.conf" --no-enclave

# --- --no-enclave, flags overriding the file
P=$(free_port)
printf 'port 1\nhz 20\nsave 900 1\n' >"$WORK/good.conf"
if serve plain --config "$WORK/good.conf" --port "$P" --no-enclave; then
    R=(redis-cli -p "$P")
    expect_eq "PING" "$("${R[@]}" ping)" "PONG"
    expect_eq "SET" "$("${R[@]}" set k v)" "OK"
    expect_eq "GET" "$("${R[@]}" get k)" "v"
    printf 'a\000b\r\n\377' | "${R[@]}" -x set bin >/dev/null
    expect_eq "binary value" "$("${R[@]}" --no-raw get bin)" '"a\x00b\r\n\xff"'
    for i in $(seq 1000); do printf 'SET key:%d %d\r\n' "$i" "$i"; done >"$WORK/pipe.txt"
    out=$("${R[@]}" --pipe <"$WORK/pipe.txt" | tail -1)
    expect_eq "redis-cli --pipe" "$out" "errors: 0, replies: 1000"
    expect_eq "piped keys are there" "$("${R[@]}" get key:777)" "777"
    expect_eq "SELECT 1: another database" "$(printf 'SELECT 1\nGET k\n' | "${R[@]}")" "OK"
    expect_eq "unknown command text" "$("${R[@]}" foo bar)" "ERR unknown command 'foo', with args beginning with: 'bar' "
    expect_eq "the file's save points" "$("${R[@]}" config get save | tail -1)" "900 1"
    grep -qE '^[0-9]+:M [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8}\.[0-9]{3} \* Ready' "$WORK/plain.log" \
        && ok "Redis's log line format" || not_ok "Redis's log line format"
    stop "$spid"; expect_eq "SIGTERM: exit 0" "$?" "0"
else
    not_ok "--no-enclave server starts"; sed 's/^/  | /' "$WORK/plain.log" >&2
fi

# --- requirepass
P=$(free_port)
if serve auth --port "$P" --requirepass s3cret --no-enclave; then
    expect_eq "NOAUTH before AUTH" "$(redis-cli -p "$P" get k 2>&1)" "NOAUTH Authentication required."
    expect_eq "AUTH then commands" "$(redis-cli -p "$P" --no-auth-warning -a s3cret set k v)" "OK"
    stop "$spid"
else
    not_ok "--requirepass server starts"; sed 's/^/  | /' "$WORK/auth.log" >&2
fi

# --- the enclave: kv-NAME, a container attached to it
image=$(dirname "$TEEMATE")/apps/kv/kv.elf
if [ "$(id -u)" -ne 0 ]; then skip "enclave mode" "needs root (a TeeMate container)"
elif [ ! -r "$image" ]; then skip "enclave mode" "$image is not built"
else
    start_daemon
    P=$(free_port)
    if serve encl --port "$P" --name t1 --socket "$TEEMATE_SOCKET" --maxmemory 64mb; then
        R=(redis-cli -p "$P")
        expect_eq "enclave: PING" "$("${R[@]}" ping)" "PONG"
        expect_eq "enclave: SET" "$("${R[@]}" set k v)" "OK"
        expect_eq "enclave: GET" "$("${R[@]}" get k)" "v"
        "$TEEMATE" enclave inspect kv-t1 --json >"$WORK/inspect.json" 2>&1
        expect_eq "enclave: one slot leased" "$(jq -r .slots.in_use "$WORK/inspect.json")" "1"
        grep -q "slots of 144 MiB" "$WORK/encl.log" && ok "slot sized from maxmemory" || not_ok "slot sized from maxmemory"
        # an idle client: the clean shutdown closes it (Redis closes every client)
        python3 -c 'import socket, sys; s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PING\r\n"); s.settimeout(20); got = b""
while True:
    b = s.recv(100)
    if not b: break
    got += b
print(repr(got))' "$P" >"$WORK/idle.out" 2>&1 &
        ipid=$!
        for _ in $(seq 100); do grep -q PONG "$WORK/idle.out" 2>/dev/null && break
            [ "$("${R[@]}" info clients | tr -d '\r' | sed -n 's/^connected_clients://p')" = 2 ] && break; sleep 0.05; done
        stop "$spid"; expect_eq "enclave: SIGTERM exit 0" "$?" "0"
        wait "$ipid"
        expect_eq "enclave: SIGTERM closes the idle client" "$(cat "$WORK/idle.out")" "b'+PONG\\r\\n'"
        grep -q "Received SIGTERM scheduling shutdown" "$WORK/encl.log" && grep -q "clients served" "$WORK/encl.log" \
            && ok "enclave: SIGTERM stops the loop cleanly (not init's _exit)" \
            || { not_ok "enclave: SIGTERM stops the loop cleanly (not init's _exit)"; tail -5 "$WORK/encl.log" | sed 's/^/  | /' >&2; }
        "$TEEMATE" enclave inspect kv-t1 --json >"$WORK/inspect.json" 2>&1
        expect_eq "enclave: slot given back" "$(jq -r .slots.in_use "$WORK/inspect.json")" "0"
    else
        not_ok "enclave server starts"; sed 's/^/  | /' "$WORK/encl.log" >&2
    fi
fi
finish
