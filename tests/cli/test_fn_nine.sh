# The nine benchmark functions (apps/functions/js) through `teemate fn create`
# and `teemate fn invoke` in every mode (native, teemate on this test's own
# daemon, strawman, strawman-edmm): each result checks itself ("check": true), the modes
# agree on every deterministic field, uploader's object lands in the store
# with the SHA-256 sha256sum computes, sleep really blocks. Sizes are kept
# small where the defaults are slow under ASan. FN_NINE_MODES narrows the modes.
. "$(dirname "$0")/lib.sh"
export TEEMATE_STATE_DIR=$WORK/state
export TEEMATE_SOCKET=$WORK/run/teemated.sock
root=$(cd "$(dirname "$0")/../.." && pwd)
js=$root/apps/functions/js
mustache=/usr/share/javascript/mustache/mustache.js
image=$(dirname "$TEEMATE")/apps/functions/fn.elf
if [ ! -r "$image" ]; then skip "test_fn_nine" "$image is not built"; exit 0; fi
if [ ! -r "$mustache" ]; then skip "test_fn_nine" "$mustache is missing (libjs-mustache)"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then skip "test_fn_nine" "needs root (every instance runs in a container)"; exit 0; fi
modes=${FN_NINE_MODES:-native teemate strawman strawman-edmm}

dpid= hpid=
cleanup() {
    [ -n "$hpid" ] && kill "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
}
trap cleanup EXIT
start_daemon

# uploader's source: UTF-8 past ASCII, a character past U+FFFF included (its
# size is in bytes, its SHA-256 of the bytes).
mkdir -p "$WORK/www"
for i in $(seq 200); do printf 'line %d: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 stra\xc3\x9fe\n' "$i"; done >"$WORK/www/data.txt"
want_sha=$(sha256sum <"$WORK/www/data.txt" | cut -d' ' -f1)
want_size=$(wc -c <"$WORK/www/data.txt")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
hpid=$!
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
    sleep 0.1
done

# name, params, jq filter of what must agree across modes.
fns=(
    "sleep|{\"sleep\":1}|{sleep}"
    "dynamic-html|{\"random_len\":10,\"username\":\"ada\"}|{random_len,username,mustache}"
    "uploader|URL|{bucket,size,sha256}"
    "binary-trees|{}|{result,expected,trees}"
    "crypto-md5|{}|{md5,bytes}"
    "crypto-aes|{}|{ciphertext,bytes}"
    "regexp-dna|{\"n\":2000,\"copies\":1}|{counts,input_bytes,expanded_length}"
    "partial-sums|{}|{total}"
    "validate-input|{\"emails\":500,\"zips\":500}|{emails:.emails.total,zips:.zips.total}"
)

for m in $modes; do
    for f in "${fns[@]}"; do
        IFS='|' read -r name params filter <<<"$f"
        lib=()
        [ "$name" = dynamic-html ] && lib=(--lib "$mustache")
        expect_ok "create $name ($m)" "$TEEMATE" fn create "$name-$m" "$js/$name.js" "${lib[@]}" --mode "$m"
        [ "$params" = URL ] && params="{\"url\":\"http://127.0.0.1:$port/data.txt\",\"key\":\"data-$m.txt\"}"
        t0=$(date +%s%N)
        expect_ok "invoke $name ($m)" "$TEEMATE" fn invoke "$name-$m" --params "$params"
        t1=$(date +%s%N)
        cp "$WORK/out" "$WORK/res-$name-$m.json"
        expect_eq "$name checks itself ($m)" "$(jq -c .check "$WORK/out" 2>&1)" true
        jq -cS "$filter" "$WORK/out" >"$WORK/det-$name-$m.json" 2>&1
        if [ "$name" = sleep ]; then
            [ $(((t1 - t0) / 1000000)) -ge 1000 ] && ok "sleep 1 blocks >= 1 s ($m)" \
                || not_ok "sleep 1 blocks >= 1 s ($m): $(((t1 - t0) / 1000000)) ms"
        fi
        if [ "$name" = uploader ]; then
            obj=$WORK/state/objects/uploads/data-$m.txt
            expect_eq "uploader object's sha256 ($m)" "$(sha256sum <"$obj" 2>&1 | cut -d' ' -f1)" "$want_sha"
            expect_eq "uploader result sha256 ($m)" "$(jq -r .sha256 "$WORK/out")" "$want_sha"
            expect_eq "uploader result size ($m)" "$(jq -r .size "$WORK/out")" "$want_size"
        fi
        if [ "$name" = dynamic-html ]; then
            grep -q 'Welcome ada!' <<<"$(jq -r .html "$WORK/out")" && ok "dynamic-html page ($m)" \
                || not_ok "dynamic-html page ($m)"
        fi
        # gone at once: each shared enclave reserves its EPC in the daemon
        expect_ok "rm $name ($m)" "$TEEMATE" fn rm "$name-$m"
    done
done

# A character past U+FFFF made from a surrogate pair in JS: strict UTF-8 out.
printf 'function main(p) { return { s: "caf\\u00e9 \\ud83d\\ude00", lone: "\\ud800", e: p.e }; }\n' >"$WORK/utf8.js"
for m in $modes; do
    expect_ok "create utf8 ($m)" "$TEEMATE" fn create "utf8-$m" "$WORK/utf8.js" --mode "$m"
    expect_ok "invoke utf8 ($m)" "$TEEMATE" fn invoke "utf8-$m" --params '{"e":"\ud83d\ude00"}'
    expect_eq "result is strict UTF-8 ($m)" \
        "$(python3 -c 'import json,sys; print(ascii(json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))))' "$WORK/out" 2>&1)" \
        "{'s': 'caf\xe9 \U0001f600', 'lone': '\ufffd', 'e': '\U0001f600'}"
    expect_ok "rm utf8 ($m)" "$TEEMATE" fn rm "utf8-$m"
done

first=${modes%% *}
for m in $modes; do
    [ "$m" = "$first" ] && continue
    for f in "${fns[@]}"; do
        name=${f%%|*}
        expect_eq "$name: $m agrees with $first" "$(cat "$WORK/det-$name-$m.json")" \
            "$(cat "$WORK/det-$name-$first.json")"
    done
done

expect_eq "functions removed" "$("$TEEMATE" fn ls | wc -l)" 1
expect_eq "enclaves removed" "$("$TEEMATE" enclave ls | grep -c '^fn-')" 0
trap - EXIT
cleanup
finish
