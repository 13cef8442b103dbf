# Options after operands: for every verb and subverb, the order its synopsis
# shows (options after the operand: `teemate sign IMAGE --key K -o OUT`) and
# the options-first order give the same result: exit status, stdout, stderr
# and any file written (or both the same error). Verbs that pass a program's
# argv keep runc's rule, options stop at the operand (ps ID PS-OPTIONS) or at
# '--' (run, attach: what follows '--' is the program's).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
export TEEMATE_STATE_DIR=$WORK/state
export TEEMATE_SOCKET=$WORK/run/teemated.sock
hello=$(cd "$BUILD" && pwd)/examples/hello.elf
cd "$WORK" || exit 1
dpid=

# outcome ARGS...: what one call gave, with the file it may have written
# (OUT, then removed so the other order starts from the same state).
outcome() {
    "$TEEMATE" "$@" >"$WORK/o.out" 2>"$WORK/o.err"; local rc=$?
    # (a new enclave's base address is random)
    echo "rc=$rc"; sed 's/ at 0x[0-9a-f]*,/ at ADDR,/' "$WORK/o.out"; sed 's/^/err: /' "$WORK/o.err"
    # (a fresh key differs each time: only that it was written)
    [ -e "$WORK/OUT" ] && { echo "file: $([ -n "${fresh:-}" ] && echo written || sha256sum <"$WORK/OUT")"; rm -rf "$WORK/OUT"; }
    [ -n "${after:-}" ] && eval "$after"
}
# same LABEL SYNOPSIS-ORDER :: OPTIONS-FIRST: both outcomes equal, and the
# first one succeeded (or, with want_fail=PATTERN, failed saying PATTERN).
same() {
    local label=$1; shift
    local a=() b=()
    while [ "$1" != "::" ]; do a+=("$1"); shift; done; shift
    b=("$@")
    local x y; x=$(outcome "${a[@]}"); y=$(outcome "${b[@]}")
    if [ "$x" != "$y" ]; then
        not_ok "$label: same result in both orders"
        echo "  synopsis order: ${a[*]}" >&2; sed 's/^/  | /' <<<"$x" >&2
        echo "  options first:  ${b[*]}" >&2; sed 's/^/  | /' <<<"$y" >&2
        return
    fi
    if [ -n "${want_fail:-}" ]; then
        grep -q -- "$want_fail" <<<"$x" && [ "${x%%$'\n'*}" != rc=0 ] && ok "$label: the same error in both orders" \
            || { not_ok "$label: the same error in both orders"; sed 's/^/  | /' <<<"$x" >&2; }
    else
        [ "${x%%$'\n'*}" = rc=0 ] && ok "$label: both orders" || { not_ok "$label: both orders"; sed 's/^/  | /' <<<"$x" >&2; }
    fi
}

# ---- image tools ----
"$TEEMATE" keygen -o key.pem >/dev/null
fresh=1 after='rm -f OUT.pub' same "keygen" keygen -o OUT --force :: keygen --force -o OUT
same "sign" sign "$hello" --key key.pem -o OUT :: sign --key key.pem -o OUT "$hello"
"$TEEMATE" sign "$hello" --key key.pem -o hello.sig >/dev/null
same "sgxs" sgxs "$hello" -o OUT :: sgxs -o OUT "$hello"
expect_eq "sgxs IMAGE -o OUT with POSIXLY_CORRECT set (GNU getopt would stop at IMAGE)" \
    "$(POSIXLY_CORRECT=1 "$TEEMATE" sgxs "$hello" -o OUT >/dev/null 2>&1; echo $?; rm -f OUT)" 0
same "sigstruct --json --image" sigstruct hello.sig --json --image "$hello" :: sigstruct --json --image "$hello" hello.sig
same "measure --help after the image" measure "$hello" --help :: measure --help "$hello"
same "layout --help after the image" layout "$hello" --help :: layout --help "$hello"
want_fail="unknown option" same "layout: an unknown option after the image" layout "$hello" --bogus :: layout --bogus "$hello"

# ---- OCI verbs, without containers (their errors) ----
R=(--root "$WORK/oci")
same "state: --help after the ID" "${R[@]}" state nope --help :: "${R[@]}" state --help nope
want_fail='does not exist' same "kill --all" "${R[@]}" kill nope KILL --all :: "${R[@]}" kill --all nope KILL
same "delete --force" "${R[@]}" delete nope --force :: "${R[@]}" delete --force nope
want_fail='does not exist' same "events --interval --stats" "${R[@]}" events nope --interval 1s --stats \
    :: "${R[@]}" events --interval 1s --stats nope
want_fail='does not exist' same "update --memory" "${R[@]}" update nope --memory 10m :: "${R[@]}" update --memory 10m nope
for v in start pause resume; do same "$v: --help after the ID" "${R[@]}" $v nope --help :: "${R[@]}" $v --help nope; done
want_fail='bundle' same "create --bundle" "${R[@]}" create x --bundle "$WORK/none" :: "${R[@]}" create --bundle "$WORK/none" x
want_fail='bundle' same "run --bundle --detach" "${R[@]}" run x --bundle "$WORK/none" --detach \
    :: "${R[@]}" run --bundle "$WORK/none" --detach x
same "list --format --quiet" "${R[@]}" list --format json --quiet :: "${R[@]}" list --quiet --format json
mkdir -p spec
after='rm -f spec/config.json' same "spec --bundle" spec --bundle spec :: spec -b spec
same "features" features --help :: features --help

# ---- functions ----
if [ -r "$(dirname "$TEEMATE")/apps/functions/fn.elf" ]; then
    echo 'function main(p) { return { sum: (p.a | 0) + (p.b | 0) }; }' >add.js
    after='"$TEEMATE" fn rm add-E >/dev/null 2>&1' same "fn create" fn create add-E add.js --mode native --timeout 5 \
        :: fn create --mode native --timeout 5 add-E add.js
    "$TEEMATE" fn create add-E add.js --mode native >/dev/null
    same "fn invoke -p KEY VALUE --params" fn invoke add-E -p a 2 --params '{"b":3}' \
        :: fn invoke -p a 2 --params '{"b":3}' add-E
    [ "$("$TEEMATE" fn invoke add-E -p a 2 --params '{"b":3}')" = '{"sum":5}' ] && ok "fn invoke: -p and --params after NAME both read" \
        || not_ok "fn invoke: -p and --params after NAME both read"
    want_fail="no function" same "fn rm" fn rm nope --socket "$TEEMATE_SOCKET" :: fn rm --socket "$TEEMATE_SOCKET" nope
    "$TEEMATE" fn rm add-E >/dev/null
else
    skip "fn create/invoke/rm in both orders" "fn.elf is not built"
fi

# ---- kv (its files need no server) ----
if [ -r "$(dirname "$TEEMATE")/apps/kv/kv.elf" ]; then
    want_fail="cannot open" same "kv export" kv export --dir "$WORK/kvdir" -o OUT :: kv export -o OUT --dir "$WORK/kvdir"
    want_fail="cannot open" same "kv import" kv import "$WORK/none.rdb" --dir "$WORK/kvdir" --force \
        :: kv import --dir "$WORK/kvdir" --force "$WORK/none.rdb"
else
    skip "kv export/import in both orders" "kv.elf is not built"
fi

# ---- teemated: enclave create/inspect/rm, attach ----
start_daemon
after='"$TEEMATE" enclave rm h-E >/dev/null' same "enclave create --image --sig" enclave create h-E --image "$hello" --sig hello.sig --socket "$TEEMATE_SOCKET" \
    :: enclave create --image "$hello" --sig hello.sig --socket "$TEEMATE_SOCKET" h-E
"$TEEMATE" enclave create h-E --image "$hello" --sig hello.sig >/dev/null
same "enclave ls --socket" enclave ls --socket "$TEEMATE_SOCKET" :: enclave ls --socket "$TEEMATE_SOCKET"
same "enclave inspect --json" enclave inspect h-E --json --socket "$TEEMATE_SOCKET" :: enclave inspect --json h-E
same "attach NAME --threads -- ARGS" attach h-E --threads 2 -- world :: attach --threads 2 h-E -- world
[ "$("$TEEMATE" attach h-E --threads 2 -- world 2>/dev/null)" = "hello, world" ] && ok "attach NAME --threads N -- ARGS runs main" \
    || not_ok "attach NAME --threads N -- ARGS runs main"
[ "$("$TEEMATE" attach h-E -- --threads 2 2>/dev/null)" = "hello, --threads" ] && ok "attach: options after '--' are the program's" \
    || not_ok "attach: options after '--' are the program's"
"$TEEMATE" enclave create h2-E --image "$hello" >/dev/null 2>&1
after='"$TEEMATE" enclave create h-E --image "$hello" >/dev/null 2>&1' \
    same "enclave rm --force" enclave rm h-E --force --socket "$TEEMATE_SOCKET" :: enclave rm --force --socket "$TEEMATE_SOCKET" h-E
"$TEEMATE" enclave rm h-E >/dev/null 2>&1; "$TEEMATE" enclave rm h2-E >/dev/null 2>&1
stop_daemon
[ -n "$dpid" ] && not_ok "teemated stops" || ok "teemated stops"

# ---- OCI verbs on a container (as runc: every verb but ps and exec takes
# its options anywhere; ps passes what follows the ID to ps) ----
if [ "$(id -u)" -ne 0 ]; then skip "OCI verbs on a container in both orders" "needs root"; finish; fi
if ! command -v busybox >/dev/null; then skip "OCI verbs on a container in both orders" "needs busybox"; finish; fi
b=$WORK/box
"$here/../../scripts/make-rootfs.sh" "$b/rootfs"
"$TEEMATE" spec -b "$b"
python3 - "$b/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "1000"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
oci() { "$TEEMATE" "${R[@]}" "$@"; }
trap 'oci delete --force o1-E-$$ >/dev/null 2>&1; oci delete --force o2-E-$$ >/dev/null 2>&1' EXIT
for id in o1-E-$$ o2-E-$$; do oci create "$id" --bundle "$b" </dev/null >/dev/null 2>&1 && oci start "$id" \
    && ok "create ID --bundle DIR, start ($id)" || not_ok "create ID --bundle DIR, start ($id)"; done
state() { oci state "$1" 2>/dev/null | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["status"])' 2>/dev/null; }
oci update o1-E-$$ --pids-limit 50 --memory 32m && oci update --pids-limit 50 --memory 32m o2-E-$$
expect_eq "update ID --pids-limit --memory, both orders" \
    "$(for id in o1-E-$$ o2-E-$$; do oci events "$id" --stats | python3 -c 'import json, sys; d = json.load(sys.stdin)["data"]; print(d["pids"]["limit"], d["memory"]["usage"]["limit"])'; done)" \
    "$(printf '50 33554432\n50 33554432')"
oci pause o1-E-$$ && oci pause o2-E-$$
expect_eq "pause, both" "$(state o1-E-$$) $(state o2-E-$$)" "paused paused"
oci resume o1-E-$$ && oci resume o2-E-$$
expect_eq "resume, both" "$(state o1-E-$$) $(state o2-E-$$)" "running running"
expect_eq "ps --format json ID" "$(oci ps --format json o1-E-$$ | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')" 1
expect_eq "ps ID -o pid,comm: what follows the ID is ps's (as runc)" "$(oci ps o1-E-$$ -o pid,comm | sed 1d | awk '{ print $2 }')" sleep
expect_fail "ps ID --format json: ps's options too (as runc), which ps refuses" "json" oci ps o1-E-$$ --format json
oci kill o1-E-$$ KILL --all && oci kill --all o2-E-$$ KILL
for _ in $(seq 50); do [ "$(state o1-E-$$)$(state o2-E-$$)" = stoppedstopped ] && break; sleep 0.1; done
expect_eq "kill ID SIGNAL --all, both orders" "$(state o1-E-$$) $(state o2-E-$$)" "stopped stopped"
oci delete o1-E-$$ --force && oci delete --force o2-E-$$
expect_eq "delete ID --force, both orders" "$(oci list -q | grep -c -- "-E-$$")" 0
finish
