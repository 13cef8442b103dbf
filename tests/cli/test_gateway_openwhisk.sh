# teemate gateway driven by the unmodified npm `openwhisk` client (installed
# from the npm registry into $WORK, never into the tree): create, list, get,
# invoke blocking (result and activation) and non-blocking, activations
# get/result/list, delete, a wrong key; in the native and teemate modes.
. "$(dirname "$0")/lib.sh"
fn_setup "test_gateway_openwhisk"
if [ "$(id -u)" -ne 0 ]; then skip "test_gateway_openwhisk" "needs root (every invocation runs in a container)"; exit 0; fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    skip "test_gateway_openwhisk" "node and npm are not installed (scripts/setup.sh)"; exit 0; fi
if ! timeout 120 npm install --silent --no-audit --no-fund --prefix "$WORK/npm" openwhisk >"$WORK/npm.log" 2>&1; then
    skip "test_gateway_openwhisk" "npm could not install openwhisk from the registry: $(tail -1 "$WORK/npm.log")"; exit 0; fi
dpid= gpid=
start_daemon
trap 'kill "$gpid" "$dpid" 2>/dev/null; wait 2>/dev/null' EXIT
mkfifo "$WORK/gw.fifo"
"$TEEMATE" --root "$WORK/oci" gateway --listen 127.0.0.1:0 >"$WORK/gw.fifo" 2>>"$WORK/gw.log" &
gpid=$!
read -r line <"$WORK/gw.fifo"
port=${line##*127.0.0.1:}; port=${port%% *}
key=$("$TEEMATE" gateway --show-key)
for mode in native teemate; do
    NODE_PATH=$WORK/npm/node_modules timeout 300 node "$(dirname "$0")/gateway/openwhisk_client.js" \
        "http://127.0.0.1:$port" "$key" "$mode" || not_ok "the client ran to the end ($mode)"
done | tee "$WORK/client.out"
grep -q '^not ok' "$WORK/client.out" && failures=1
kill "$gpid"; wait "$gpid" || not_ok "the gateway stopped cleanly on SIGTERM"; gpid=
expect_eq "no container left" "$(ls "$WORK/oci" 2>/dev/null | grep -c '^gw-')" 0
finish
