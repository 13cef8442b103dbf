# Shared by the key-value store's CLI tests (sourced after tests/cli/lib.sh):
# teemated's state and socket under $WORK, every server started here killed
# at exit, free loopback ports, bounded waits.
export TEEMATE_STATE_DIR=$WORK/state TEEMATE_SOCKET=$WORK/run/teemated.sock
dpid=
pids=()
kv_cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "$dpid" ] && { kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; }
}
trap kv_cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_ping PORT [PID]: until the server answers PING (15 s at most; at once
# if PID is given and dies).
wait_ping() {
    for _ in $(seq 300); do
        [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ] && return 0
        [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return 1
        sleep 0.05
    done
    return 1
}
# serve TAG ARGS...: `teemate kv serve ARGS` in the background, in $WORK
# (where dumps go unless ARGS say --dir) and without save points unless ARGS
# set some (--save, or a --config file), its log in $WORK/TAG.log; waits
# (bounded) for "Ready to accept connections"; sets spid.
serve() {
    local tag=$1; shift
    local nosave=(--save "")
    case " $* " in *" --save "*|*" --config "*) nosave=() ;; esac
    (cd "$WORK" && exec "$TEEMATE" kv serve "${nosave[@]}" "$@") 2>"$WORK/$tag.log" &
    spid=$!; pids+=($spid)
    for _ in $(seq 300); do grep -qs "Ready to accept connections" "$WORK/$tag.log" && return 0
        kill -0 "$spid" 2>/dev/null || return 1; sleep 0.05; done
    return 1
}
