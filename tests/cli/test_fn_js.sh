# The nine benchmark functions (apps/functions/js) under Debian's `duk` with the stand-in host
# services of fn_harness.js: each passes its self-check with its defaults, each fails it on a
# deliberately wrong answer, and the answers agree with md5sum, sha256sum, openssl and Python.
root=$(cd "${0%/*}/../.." && pwd)
. "$root/tests/cli/lib.sh"
WORK=${WORK:-$(mktemp -d)}
js=$root/apps/functions/js
mustache=/usr/share/javascript/mustache/mustache.js
functions="binary-trees crypto-aes crypto-md5 dynamic-html partial-sums regexp-dna sleep uploader validate-input"

for tool in duk python3 openssl md5sum sha256sum; do
    if ! command -v $tool >/dev/null 2>&1; then skip "JS functions" "$tool not installed"; finish; fi
done
if [ ! -f "$mustache" ]; then skip "JS functions" "libjs-mustache not installed"; finish; fi

# fn NAME PARAMS [PRELUDE]: runs NAME.js's main(PARAMS) in the harness; its JSON line in $WORK/fn.json.
fn() {
    local name=$1 params=$2 prelude=${3:-} libs=()
    [ "$name" = dynamic-html ] && libs=("$mustache")
    printf '%s\nfnHarnessRun(%s);\n' "$prelude" "$params" >"$WORK/run.js"
    timeout 60 duk "$root/tests/cli/fn_harness.js" "${libs[@]}" "$js/$name.js" "$WORK/run.js" \
        >"$WORK/fn.json" 2>"$WORK/fn.err"
}
# q EXPR: evaluates a Python expression over the last output (d), e.g. q "d['result']['md5']".
q() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$WORK/fn.json" 2>>"$WORK/fn.err"; }
# passes NAME PARAMS [PRELUDE]: the function returns an object with check true.
passes() {
    fn "$1" "$2" "${3:-}"
    local label; label="$1 $(printf '%s' "$2" | cut -c1-60)"
    if [ "$(q "d.get('result', {}).get('check')")" = True ]; then ok "$label: check passes"; else
        not_ok "$label: check passes"; sed 's/^/  | /' "$WORK/fn.json" "$WORK/fn.err" | cut -c1-300 >&2; fi
}
# fails NAME PARAMS PATTERN [PRELUDE]: main throws an Error whose message matches PATTERN.
fails() {
    fn "$1" "$2" "${4:-}"
    local err label; err=$(q "d.get('error', '') if 'result' not in d else 'RESULT'")
    label="$1 $(printf '%s' "$2" | cut -c1-60)"
    if printf '%s' "$err" | grep -qE -- "$3"; then ok "$label: fails as it should"; else
        not_ok "$label: fails as it should"; echo "  expected /$3/" >&2; echo "  got: $err" | cut -c1-300 >&2; fi
}
unhex() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
# js NAME CODE: runs CODE after NAME.js (no harness), stdout to $WORK/js.out.
js() { printf '%s\n' "$2" >"$WORK/snippet.js"; duk "$root/tests/cli/fn_harness.js" "$js/$1.js" "$WORK/snippet.js" >"$WORK/js.out"; }

# Only the host services the runtime implements, and only ES5 (duk rejects let/=>/class/`).
used=$(grep -ohE 'teemate\.[A-Za-z0-9_]+' "$js"/*.js | sort -u | tr '\n' ' ')
extra=$(printf '%s\n' $used | grep -vxE 'teemate\.(sleep|now|httpGet|storePut|storeGet|sha256)')
expect_eq "functions use only the documented host services" "$extra" ""
for name in $functions; do
    [ -f "$js/$name.js" ] || { not_ok "$name.js exists"; continue; }
    if duk -c "$WORK/$name.bc" "$js/$name.js" >/dev/null 2>"$WORK/compile.err"; then ok "$name.js compiles in Duktape 2.7"
    else not_ok "$name.js compiles in Duktape 2.7"; sed 's/^/  | /' "$WORK/compile.err" >&2; fi
done

# --- every function with its defaults, and with a wrong answer
passes binary-trees '{}'
expect_eq "binary-trees: default answer -4" "$(q "d['result']['result']")" "-4"
fails binary-trees '{"expected": -5}' 'expected -5, got -4'
passes binary-trees '{"from": 2, "to": 9}'

passes partial-sums '{}'
expect_eq "partial-sums: SunSpider's total" "$(q "repr(d['result']['total'])")" "60.08994194659945"
fails partial-sums '{"expected": 60.08994194659946}' 'expected 60.08994194659946, got 60.08994194659945'
py_total=$(python3 -c "
t = 0.0
for n in (1024, 2048, 4096):
    a6 = a7 = a8 = a9 = 0.0; alt = -1.0
    for k in range(1, n + 1):
        alt = -alt; a6 += 1.0 / k; a7 += 1.0 / (k * k); a8 += alt / k; a9 += alt / (2 * k - 1)
    t += a6 + a7 + a8 + a9
print(repr(t))")
passes partial-sums '{"from": 1024, "to": 4096}'
expect_eq "partial-sums: 1024..4096 equals Python's" "$(q "repr(d['result']['total'])")" "$py_total"

sunspider_md5=a831e91e0f70eddcb70dc61c6f82f6cd
passes crypto-md5 '{}'
expect_eq "crypto-md5: SunSpider's digest" "$(q "d['result']['md5']")" "$sunspider_md5"
fails crypto-md5 "{\"text\": \"Rebellious subjects\", \"expected\": \"$sunspider_md5\"}" "expected $sunspider_md5, got"
js crypto-md5 'var t = MD5_SUNSPIDER_TEXT; for (var i = 0; i < 4; i++) t += t; print(t);'
expect_eq "crypto-md5: md5sum of the doubled text" "$(head -c -1 "$WORK/js.out" | md5sum | cut -d' ' -f1)" "$sunspider_md5"
passes crypto-md5 '{"text": "h\u00e9llo \u20ac \ud834\udd1e", "doublings": 3}'
expect_eq "crypto-md5: non-ASCII text equals md5sum" "$(q "d['result']['md5']")" \
    "$(for _ in 1 2 3 4 5 6 7 8; do printf 'héllo € 𝄞'; done | md5sum | cut -d' ' -f1)"
js crypto-md5 'for (var i = 0; i < MD5_RFC1321_SUITE.length; i++) print(MD5_RFC1321_SUITE[i][0] + "|" + MD5_RFC1321_SUITE[i][1]);'
bad=0
while IFS='|' read -r text digest; do
    [ "$(printf '%s' "$text" | md5sum | cut -d' ' -f1)" = "$digest" ] || { bad=1; echo "  md5sum disagrees on '$text'" >&2; }
done <"$WORK/js.out"
expect_eq "crypto-md5: the 7 RFC 1321 vectors agree with md5sum" "$bad$(wc -l <"$WORK/js.out")" "07"

passes crypto-aes '{}'
key=$(q "d['result']['key']"); iv=$(q "d['result']['iv']"); aes_ct=$(q "d['result']['ciphertext']")
js crypto-aes 'print(new Array(4).join(AES_DEFAULT_TEXT));'
expect_eq "crypto-aes: ciphertext equals openssl aes-256-ctr" "$aes_ct" \
    "$(head -c -1 "$WORK/js.out" | openssl enc -aes-256-ctr -K "$key" -iv "$iv" | od -An -v -tx1 | tr -d ' \n')"
wrap_key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
wrap_iv=00000000000000000000fffffffffffe
passes crypto-aes "{\"text\": \"h\u00e9llo \u20ac, a counter that carries over 64 bits \", \"repeat\": 2, \"key\": \"$wrap_key\", \"iv\": \"$wrap_iv\"}"
expect_eq "crypto-aes: counter carry and UTF-8 equal openssl" "$(q "d['result']['ciphertext']")" \
    "$(printf 'héllo €, a counter that carries over 64 bits héllo €, a counter that carries over 64 bits ' |
       openssl enc -aes-256-ctr -K "$wrap_key" -iv "$wrap_iv" | od -An -v -tx1 | tr -d ' \n')"
fails crypto-aes "{\"expected\": \"00${aes_ct:2}\"}" 'ciphertext: expected 00'
js crypto-aes 'for (var i = 0; i < AES_FIPS197.length; i++) print(AES_FIPS197[i].join(" ")); print(AES_SP800_KEY, AES_SP800_IV, AES_SP800_CTR.join(" "));'
bad=0
while read -r k pt ct; do
    got=$(unhex "$pt" | openssl enc -aes-$(( ${#k} * 4 ))-ecb -nopad -K "$k" | od -An -v -tx1 | tr -d ' \n')
    [ "$got" = "$ct" ] || { bad=1; echo "  FIPS-197 AES-$(( ${#k} * 4 )): openssl gives $got" >&2; }
done < <(head -3 "$WORK/js.out")
read -r k ivv pt ct < <(tail -1 "$WORK/js.out")
got=$(unhex "$pt" | openssl enc -aes-256-ctr -K "$k" -iv "$ivv" | od -An -v -tx1 | tr -d ' \n')
[ "$got" = "$ct" ] || { bad=1; echo "  SP 800-38A CTR: openssl gives $got" >&2; }
expect_eq "crypto-aes: FIPS-197 and SP 800-38A vectors agree with openssl" "$bad" 0

passes regexp-dna '{}'
expect_eq "regexp-dna: SunSpider's nine counts" "$(q "list(d['result']['counts'].values())")" \
    "[0, 9, 27, 24, 30, 9, 12, 9, 15]"
for args in "10000 3 42" "50000 1 42" "20000 1 7"; do
    set -- $args
    python3 "$root/tests/cli/fn_regexp_dna_ref.py" "$1" "$2" "$3" >"$WORK/ref.json"
    [ "$1" = 10000 ] || passes regexp-dna "{\"n\": $1, \"copies\": $2, \"seed\": $3}"
    expect_eq "regexp-dna n=$1 copies=$2 seed=$3: counts and lengths equal Python's" \
        "$(q "[list(d['result']['counts'].values()), d['result']['sequence_length'], d['result']['expanded_length']]")" \
        "$(python3 -c "import json; r = json.load(open('$WORK/ref.json')); print([r['counts'], r['sequence_length'], r['expanded_length']])")"
done
fails regexp-dna '{"expected": [0, 9, 27, 24, 30, 9, 12, 9, 16]}' 'expected \[0,9,27,24,30,9,12,9,16\], got \[0,9,27,24,30,9,12,9,15\]'

passes validate-input '{}'
expect_eq "validate-input: 4000 + 4000 inputs, valid + invalid" \
    "$(q "[r['total'] == r['valid'] + r['invalid'] for r in (d['result']['emails'], d['result']['zips'])] + [d['result']['emails']['total'], d['result']['zips']['total']]")" \
    "[True, True, 4000, 4000]"
passes validate-input '{"valid_ratio": 0, "emails": 500, "zips": 500}'
expect_eq "validate-input: ratio 0 makes none valid" "$(q "d['result']['emails']['valid'] + d['result']['zips']['valid']")" 0
passes validate-input '{"valid_ratio": 1, "emails": 500, "zips": 500}'
expect_eq "validate-input: ratio 1 makes all valid" "$(q "d['result']['emails']['invalid'] + d['result']['zips']['invalid']")" 0
fails validate-input '{"email_pattern": "@"}' 'e-mail address .*expected invalid, got valid'
fails validate-input '{"zip_pattern": "^[0-9]{5}$"}' 'ZIP code .*expected valid, got invalid'

passes dynamic-html '{}'
expect_eq "dynamic-html: 10 numbers, mustache.js 3.0.1" "$(q "[d['result']['random_len'], d['result']['mustache'], d['result']['html'].count('<li>')]")" "[10, '3.0.1', 10]"
passes dynamic-html '{"random_len": 1000, "username": "<b>O'"'"'Brien & co</b>"}'
expect_eq "dynamic-html: the user name escaped as mustache does" \
    "$(q "'Welcome &lt;b&gt;O&#39;Brien &amp; co&lt;&#x2F;b&gt;!' in d['result']['html']")" True
passes dynamic-html '{"random_len": 10000}'
expect_eq "dynamic-html: a 10000-number page is checked but not returned" "$(q "[d['result']['html'], d['result']['bytes'] > 65536]")" "[None, True]"
fails dynamic-html '{"template": "<p>Hello {{username}}</p>"}' 'expected the page to contain "Welcome testname!"'
fails dynamic-html '{"template": "Welcome {{username}}! Data generated at: {{cur_time}}! {{#random_numbers}}<li>{{.}}</li>{{/random_numbers}}<li>7</li>"}' 'expected 10 <li> items, got 11'
printf 'fnHarnessRun({});\n' >"$WORK/run.js"
duk "$root/tests/cli/fn_harness.js" "$js/dynamic-html.js" "$WORK/run.js" >"$WORK/fn.json" 2>&1
expect_eq "dynamic-html: without mustache.js, a clear error" "$(q "d['error']")" \
    "dynamic-html: the global Mustache is missing: the runtime must load mustache.js first"

passes sleep '{}'
expect_eq "sleep: asks the host for 1 s by default" "$(q "d['harness']['slept']")" "[1]"
passes sleep '{"sleep": 2.5}'
expect_eq "sleep: asks the host for 2.5 s" "$(q "[d['harness']['slept'], d['result']['slept'] >= 2.5]")" "[[2.5], True]"
fails sleep '{"sleep": 1}' 'expected to sleep at least 1 s, got 0 s' 'fnHarness.sleepAdvancesClock = false;'
fails sleep '{"sleep": -1}' 'sleep must be a number of seconds'
fails sleep '{"sleep": "soon"}' 'sleep must be a number of seconds'

url='http://example.test/data/file%201.txt?version=2'
passes uploader "{\"url\": \"$url\"}"
bucket=$(q "d['result']['bucket']"); key=$(q "d['result']['key']")
expect_eq "uploader: bucket and a unique key from the URL's file name" \
    "$(q "[d['result']['url'], d['harness']['urls']]") $bucket $(echo "$key" | grep -cE '^file_201\.txt\.[0-9a-f]{8}$')" \
    "['$url', ['$url']] uploads 1"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.stdout.write(d['harness']['store']['$bucket/$key'])" \
    "$WORK/fn.json" >"$WORK/object"
expect_eq "uploader: the stored object is the body, size and SHA-256 as sha256sum and wc see it" \
    "$(q "[d['result']['sha256'], d['result']['size'], d['harness']['store']['$bucket/$key'] == d['harness']['body']]")" \
    "['$(sha256sum <"$WORK/object" | cut -d' ' -f1)', $(wc -c <"$WORK/object"), True]"
for s in "" abc "The quick brown fox jumps over the lazy dog" "$(head -c 200 "$WORK/object")"; do
    js uploader "print(teemate.sha256($(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$s")));"
    [ "$(cat "$WORK/js.out")" = "$(printf '%s' "$s" | sha256sum | cut -d' ' -f1)" ] || {
        not_ok "harness sha256 of '$s' equals sha256sum"; continue; }
done
ok "harness sha256 checked against sha256sum"
passes uploader "{\"url\": \"https://example.test/\", \"bucket\": \"b1\", \"key\": \"k1\"}"
expect_eq "uploader: given bucket and key" "$(q "list(d['harness']['store'].keys())")" "['b1/k1']"
fails uploader "{\"url\": \"$url\"}" 'uploader: object uploads/.*: expected the [0-9]+ characters downloaded back' \
    'fnHarness.corruptStore = true;'
fails uploader '{}' 'url must be an http:// or https:// URL, got undefined'
fails uploader '{"url": "file:///etc/passwd"}' 'url must be an http:// or https:// URL'
fails uploader "{\"url\": \"$url\"}" 'sha256\("abc"\): expected ba7816bf' \
    'teemate.sha256 = function (s) { return fnHarnessSha256(s + " "); };'
finish
