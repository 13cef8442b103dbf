# teemate keygen / sign / sigstruct, cross-checked with the openssl command-line tool.
. "$(dirname "$0")/lib.sh"

key=$WORK/key.pem

# ---- keygen ----
expect_ok "keygen" "$TEEMATE" keygen -o "$key"
expect_eq "key file is private (0600)" "$(stat -c %a "$key" 2>/dev/null)" "600"
if openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q '^Private-Key: (3072 bit' &&
   openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q '^publicExponent: 3 '; then
    ok "openssl reads the key as RSA-3072, e = 3"
else not_ok "openssl reads the key as RSA-3072, e = 3"; fi
expect_eq "key is PKCS#8 PEM" "$(head -1 "$key")" "-----BEGIN PRIVATE KEY-----"
cp "$key" "$WORK/key.orig"
expect_fail "keygen refuses to overwrite" "already exists.*--force" "$TEEMATE" keygen -o "$key"
if cmp -s "$key" "$WORK/key.orig"; then ok "refused keygen left the key alone"; else
    not_ok "refused keygen left the key alone"; fi
expect_ok "keygen --force replaces the key" "$TEEMATE" keygen --force -o "$key"
if ! cmp -s "$key" "$WORK/key.orig"; then ok "keygen --force wrote a new key"; else
    not_ok "keygen --force wrote a new key"; fi

# ---- keys SGX cannot use: refused before anything is measured ----
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 \
    -out "$WORK/rsa2048.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:65537 \
    -out "$WORK/e65537.pem" 2>/dev/null
echo "not a key" >"$WORK/text.pem"
expect_fail "sign with a 2048-bit key" "rsa2048.pem: RSA key has 2048 bits, SGX needs 3072" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$WORK/rsa2048.pem" -o "$WORK/x.sig"
expect_fail "sign with e = 65537" "e65537.pem: public exponent is 65537, SGX needs 3" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$WORK/e65537.pem" -o "$WORK/x.sig"
expect_fail "sign with a text file as key" "text.pem: not a PEM private key" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$WORK/text.pem" -o "$WORK/x.sig"
expect_fail "sign with a missing image" "cannot open .*none.elf" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$key" -o "$WORK/x.sig"

# ---- broken SIGSTRUCT files: one clear line, exit 1 ----
head -c 100 /dev/urandom >"$WORK/short.sig"
head -c 1808 /dev/urandom >"$WORK/random.sig"
expect_fail "sigstruct of a 100-byte file" "short.sig: SIGSTRUCT must be 1808 bytes, got 100" \
    "$TEEMATE" sigstruct "$WORK/short.sig"
expect_fail "sigstruct of random 1808 bytes" "random.sig: SIGSTRUCT HEADER is [0-9a-f]{32}, not" \
    "$TEEMATE" sigstruct "$WORK/random.sig"
expect_fail "sigstruct of a missing file" "cannot open" "$TEEMATE" sigstruct "$WORK/nope.sig"
"$TEEMATE" sigstruct "$WORK/random.sig" >/dev/null 2>&1
expect_eq "bad SIGSTRUCT exits 1" "$?" "1"

# ---- usage errors: one line, exit 2; --help to stdout, exit 0 ----
expect_fail "keygen without -o" "missing -o KEY.pem" "$TEEMATE" keygen
expect_fail "sign without --key" "missing --key" "$TEEMATE" sign "$WORK/none.elf" -o "$WORK/x.sig"
expect_fail "sign without IMAGE" "missing IMAGE" "$TEEMATE" sign --key "$key" -o "$WORK/x.sig"
expect_fail "sign --isvsvn too large" "--isvsvn wants a number 0..65535" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$key" -o "$WORK/x.sig" --isvsvn 65536
expect_fail "sign --date not a date" "--date wants a date YYYYMMDD" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$key" -o "$WORK/x.sig" --date 20241301
expect_fail "sign --xfrm without SSE" "--xfrm wants a mask" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$key" -o "$WORK/x.sig" --xfrm 0x1
expect_fail "sign option without its value" "'--isvprodid' needs a value" \
    "$TEEMATE" sign "$WORK/none.elf" --key "$key" -o "$WORK/x.sig" --isvprodid
expect_fail "sigstruct without FILE" "missing FILE" "$TEEMATE" sigstruct
expect_fail "sigstruct unknown option" "unknown option" "$TEEMATE" sigstruct --frobnicate x
"$TEEMATE" sign >/dev/null 2>&1
expect_eq "usage errors exit 2" "$?" "2"
for verb in keygen sign sigstruct; do
    "$TEEMATE" "$verb" --help >"$WORK/out" 2>"$WORK/err"; rc=$?
    if [ $rc -eq 0 ] && grep -q "^Usage: teemate $verb" "$WORK/out" && [ ! -s "$WORK/err" ]; then
        ok "$verb --help"; else not_ok "$verb --help"; fi
done

# ---- end to end on real images ----
# A copy of an image with one page less heap: a different MRENCLAVE.
other_image() {
    perl -e '
        open(my $f, "<:raw", $ARGV[0]) or exit 1; local $/; my $d = <$f>; close $f;
        my $i = index($d, pack("V3", 8, 72, 1) . "TeeMate\0"); exit 1 if $i < 0;
        my $at = $i + 20 + 40;   # descriptor after the note header and name; heap_size
        my $heap = unpack("Q<", substr($d, $at, 8)); exit 1 if $heap < 8192;
        substr($d, $at, 8) = pack("Q<", $heap - 4096);
        open($f, ">:raw", $ARGV[1]) or exit 1; print $f $d; close $f or exit 1;' "$1" "$2"
}

# json_get FILE EXPR: EXPR in Python over the object j; strings raw, the rest as JSON.
json_get() {
    python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))' "$1" "$2" 2>/dev/null
}

for img in "$BUILD/examples/hello.elf" fuzz/corpus/fuzz_image/synthetic.elf; do
    name=$(basename "$img")
    if [ ! -f "$img" ]; then
        for check in "sign" "sigstruct --json mrenclave = measure" "openssl verifies the signature" \
                     "sigstruct --image of another image fails"; do
            skip "$check $name" "not built ($img missing)"
        done
        continue
    fi
    sig=$WORK/$name.sig
    mr=$("$TEEMATE" measure "$img" 2>/dev/null)
    expect_ok "sign $name" "$TEEMATE" sign "$img" --key "$key" -o "$sig"
    signer=$(sed -nE 's/.*MRSIGNER ([0-9a-f]{64})$/\1/p' "$WORK/out")
    if grep -qx "signed $img: MRENCLAVE $mr, MRSIGNER [0-9a-f]\{64\}" "$WORK/out"; then
        ok "sign $name reports MRENCLAVE and MRSIGNER"; else
        not_ok "sign $name reports MRENCLAVE and MRSIGNER"; sed 's/^/  | /' "$WORK/out" >&2; fi
    expect_eq "SIGSTRUCT of $name is 1808 bytes" "$(stat -c %s "$sig" 2>/dev/null)" "1808"

    expect_ok "sigstruct $name" "$TEEMATE" sigstruct "$sig"
    if grep -qx "signature: valid" "$WORK/out"; then ok "sigstruct $name says valid"; else
        not_ok "sigstruct $name says valid"; fi
    "$TEEMATE" sigstruct --json "$sig" >"$WORK/ss.json" 2>"$WORK/err"
    expect_eq "sigstruct --json mrenclave = measure $name" "$(json_get "$WORK/ss.json" "j['mrenclave']")" "$mr"
    expect_eq "sigstruct --json mrsigner = sign's $name" "$(json_get "$WORK/ss.json" "j['mrsigner']")" "$signer"
    expect_eq "sigstruct --json signature_valid $name" "$(json_get "$WORK/ss.json" "j['signature_valid']")" "true"

    # The openssl tool: PKCS#1 v1.5 over header || body with the key's public half.
    dd if="$sig" of="$WORK/data.bin" bs=1 count=128 status=none
    dd if="$sig" bs=1 skip=900 count=128 status=none >>"$WORK/data.bin"
    dd if="$sig" bs=1 skip=516 count=384 status=none |
        perl -0777 -e 'binmode STDIN; binmode STDOUT; print scalar reverse <STDIN>' >"$WORK/sig.be"
    openssl pkey -in "$key" -pubout -out "$WORK/pub.pem" 2>/dev/null
    if openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/sig.be" "$WORK/data.bin" \
        2>&1 | grep -q "Verified OK"; then ok "openssl verifies the signature $name"; else
        not_ok "openssl verifies the signature $name"; fi
    # MRSIGNER = SHA-256 of the modulus little-endian, from openssl's view of the key.
    modulus=$(openssl rsa -in "$key" -noout -modulus 2>/dev/null | sed 's/^Modulus=//')
    le_sha=$(perl -e 'binmode STDOUT; print scalar reverse pack("H*", $ARGV[0])' "$modulus" |
             sha256sum | cut -d' ' -f1)
    expect_eq "MRSIGNER = SHA-256(modulus LE) $name" "$signer" "$le_sha"

    expect_ok "sigstruct --image $name matches" "$TEEMATE" sigstruct --image "$img" "$sig"
    if other_image "$img" "$WORK/other.elf"; then
        other_mr=$("$TEEMATE" measure "$WORK/other.elf" 2>/dev/null)
        expect_fail "sigstruct --image of another image fails $name" \
            "SIGSTRUCT is for MRENCLAVE $mr, .*other.elf measures to $other_mr" \
            "$TEEMATE" sigstruct --image "$WORK/other.elf" "$sig"
    else skip "sigstruct --image of another image fails $name" "cannot find the layout note to patch"; fi

    # Options land in the signed body.
    expect_ok "sign $name with options" "$TEEMATE" sign "$img" --key "$key" -o "$WORK/opt.sig" \
        --debug --isvprodid 7 --isvsvn 0x10 --date 20240229 --miscselect 1 --xfrm 0x7
    "$TEEMATE" sigstruct --json "$WORK/opt.sig" >"$WORK/opt.json" 2>/dev/null
    expect_eq "signed options $name" \
        "$(json_get "$WORK/opt.json" "[j[k] for k in ('isvprodid', 'isvsvn', 'date', 'miscselect')] + [j['attributes'][k] for k in ('xfrm', 'flag_names')]")" \
        '[7,16,"2024-02-29",1,"0x0000000000000007",["DEBUG","MODE64BIT"]]'

    # One changed signed byte (ISVSVN): shown, then rejected.
    cp "$sig" "$WORK/bad.sig"
    printf '\x01' | dd of="$WORK/bad.sig" bs=1 seek=1026 conv=notrunc status=none
    expect_fail "sigstruct of a tampered $name SIGSTRUCT" "bad.sig: signature does not verify" \
        "$TEEMATE" sigstruct "$WORK/bad.sig"
    if grep -qx "signature: INVALID (signature does not verify)" "$WORK/out"; then
        ok "tampered SIGSTRUCT is still shown, marked INVALID"; else
        not_ok "tampered SIGSTRUCT is still shown, marked INVALID"; fi
done
finish
