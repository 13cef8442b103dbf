// crypto-aes: AES-256 in CTR mode, encrypt then decrypt a text (SunSpider crypto-aes workload).
// Self-check: FIPS-197 appendix C (AES-128/192/256) and SP 800-38A F.5.5 (CTR-AES256) vectors
// for the cipher, then the round trip. Params: text, repeat (3: about SunSpider's 1.6 KB),
// key (64 hex), iv (32 hex: the initial counter block, incremented as one 128-bit big-endian
// number, as OpenSSL's aes-256-ctr does), expected (ciphertext hex, optional).

var AES_DEFAULT_TEXT = [
    "ROMEO: But, soft! what light through yonder window breaks?",
    "It is the east, and Juliet is the sun.",
    "Arise, fair sun, and kill the envious moon,",
    "Who is already sick and pale with grief,",
    "That thou her maid art far more fair than she:",
    "JULIET: O Romeo, Romeo! wherefore art thou Romeo?",
    "Deny thy father and refuse thy name;",
    "Or, if thou wilt not, be but sworn my love,",
    "And I'll no longer be a Capulet.",
    "'Tis but thy name that is my enemy;",
    "Thou art thyself, though not a Montague.",
    "What's in a name? that which we call a rose",
    "By any other name would smell as sweet."
].join("\n");
// SP 800-38A F.5.5 key and initial counter block (used as the defaults too).
var AES_SP800_KEY = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
var AES_SP800_IV = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

// [key, plaintext, ciphertext]: FIPS-197 C.1, C.2, C.3 (one block, ECB).
var AES_FIPS197 = [
    ["000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"],
    ["000102030405060708090a0b0c0d0e0f1011121314151617", "00112233445566778899aabbccddeeff",
     "dda97ca4864cdfe06eaf70a0ec0d7191"],
    ["000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "00112233445566778899aabbccddeeff",
     "8ea2b7ca516745bfeafc49904b496089"]
];
var AES_SP800_CTR = [
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"
];

// The S-box from its definition (multiplicative inverse in GF(2^8), then the affine map).
var AES_SBOX = (function () {
    var sbox = [], p = 1, q = 1, x;
    sbox[0] = 0x63;
    do {
        p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);            // p *= 3
        q ^= q << 1; q ^= q << 2; q ^= q << 4; q &= 0xff;             // q /= 3
        if (q & 0x80) q ^= 0x09;
        x = q ^ (q << 1 | q >> 7) ^ (q << 2 | q >> 6) ^ (q << 3 | q >> 5) ^ (q << 4 | q >> 4);
        sbox[p] = (x ^ 0x63) & 0xff;
    } while (p !== 1);
    return sbox;
})();

function aesXtime(b) { return ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff; }

// Expanded key as an array of 4-byte words (FIPS-197 5.2); key: 16, 24 or 32 bytes.
function aesExpandKey(key) {
    var nk = key.length / 4, nr = nk + 6, w = [], i, t, rcon = 1;
    for (i = 0; i < nk; i++) w.push([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]]);
    for (i = nk; i < 4 * (nr + 1); i++) {
        t = w[i - 1].slice();
        if (i % nk === 0) {
            t = [AES_SBOX[t[1]] ^ rcon, AES_SBOX[t[2]], AES_SBOX[t[3]], AES_SBOX[t[0]]];
            rcon = aesXtime(rcon);
        } else if (nk > 6 && i % nk === 4) {
            t = [AES_SBOX[t[0]], AES_SBOX[t[1]], AES_SBOX[t[2]], AES_SBOX[t[3]]];
        }
        w.push([w[i - nk][0] ^ t[0], w[i - nk][1] ^ t[1], w[i - nk][2] ^ t[2], w[i - nk][3] ^ t[3]]);
    }
    return w;
}

// Encrypts one 16-byte block (state in column order, as the bytes come).
function aesEncryptBlock(w, input) {
    var nr = w.length / 4 - 1, s = input.slice(), r, c, i, a0, a1, a2, a3, t;
    for (i = 0; i < 16; i++) s[i] ^= w[i >> 2][i & 3];
    for (r = 1; r <= nr; r++) {
        for (i = 0; i < 16; i++) s[i] = AES_SBOX[s[i]];
        // ShiftRows: row i moves left by i columns.
        t = s[1]; s[1] = s[5]; s[5] = s[9]; s[9] = s[13]; s[13] = t;
        t = s[2]; s[2] = s[10]; s[10] = t; t = s[6]; s[6] = s[14]; s[14] = t;
        t = s[15]; s[15] = s[11]; s[11] = s[7]; s[7] = s[3]; s[3] = t;
        if (r < nr) {
            for (c = 0; c < 16; c += 4) {
                a0 = s[c]; a1 = s[c + 1]; a2 = s[c + 2]; a3 = s[c + 3]; t = a0 ^ a1 ^ a2 ^ a3;
                s[c] ^= t ^ aesXtime(a0 ^ a1); s[c + 1] ^= t ^ aesXtime(a1 ^ a2);
                s[c + 2] ^= t ^ aesXtime(a2 ^ a3); s[c + 3] ^= t ^ aesXtime(a3 ^ a0);
            }
        }
        for (i = 0; i < 16; i++) s[i] ^= w[4 * r + (i >> 2)][i & 3];
    }
    return s;
}

// CTR: the same operation encrypts and decrypts.
function aesCtr(w, iv, data) {
    var ctr = iv.slice(), out = [], ks, i, j;
    for (i = 0; i < data.length; i += 16) {
        ks = aesEncryptBlock(w, ctr);
        for (j = 0; j < 16 && i + j < data.length; j++) out.push(data[i + j] ^ ks[j]);
        for (j = 15; j >= 0; j--) { ctr[j] = (ctr[j] + 1) & 0xff; if (ctr[j]) break; }
    }
    return out;
}

function aesFromHex(h, bytes, what) {
    h = String(h);
    if (!/^[0-9a-fA-F]*$/.test(h) || h.length !== 2 * bytes)
        throw new Error("crypto-aes: " + what + " must be " + bytes * 2 + " hex digits, got \"" + h + "\"");
    var out = [], i;
    for (i = 0; i < h.length; i += 2) out.push(parseInt(h.substr(i, 2), 16));
    return out;
}

function aesToHex(b) {
    var s = "", i;
    for (i = 0; i < b.length; i++) s += (b[i] + 0x100).toString(16).slice(1);
    return s;
}

function aesUtf8Encode(s) {
    var b = unescape(encodeURIComponent(s)), out = [], i;
    for (i = 0; i < b.length; i++) out.push(b.charCodeAt(i));
    return out;
}

function aesUtf8Decode(bytes) {
    var s = "", i;
    for (i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return decodeURIComponent(escape(s));
}

function main(params) {
    params = params || {};
    var i, got, v;
    for (i = 0; i < AES_FIPS197.length; i++) {
        v = AES_FIPS197[i];
        got = aesToHex(aesEncryptBlock(aesExpandKey(aesFromHex(v[0], v[0].length / 2, "key")),
                                       aesFromHex(v[1], 16, "block")));
        if (got !== v[2])
            throw new Error("crypto-aes: FIPS-197 AES-" + v[0].length * 4 + " vector: expected " + v[2] + ", got " + got);
    }
    got = aesToHex(aesCtr(aesExpandKey(aesFromHex(AES_SP800_KEY, 32, "key")), aesFromHex(AES_SP800_IV, 16, "iv"),
                          aesFromHex(AES_SP800_CTR[0], 64, "block")));
    if (got !== AES_SP800_CTR[1])
        throw new Error("crypto-aes: SP 800-38A CTR-AES256 vector: expected " + AES_SP800_CTR[1] + ", got " + got);

    var text = params.text === undefined ? AES_DEFAULT_TEXT : String(params.text);
    var repeat = params.repeat === undefined ? 3 : Number(params.repeat);
    if (!(repeat >= 1 && repeat <= 10000 && Math.floor(repeat) === repeat))
        throw new Error("crypto-aes: repeat must be an integer 1..10000, got " + params.repeat);
    var plain = new Array(repeat + 1).join(text);
    var keyHex = params.key === undefined ? AES_SP800_KEY : String(params.key).toLowerCase();
    var ivHex = params.iv === undefined ? AES_SP800_IV : String(params.iv).toLowerCase();
    var w = aesExpandKey(aesFromHex(keyHex, 32, "key")), iv = aesFromHex(ivHex, 16, "iv");
    var bytes = aesUtf8Encode(plain);
    var cipher = aesCtr(w, iv, bytes);
    var back = aesUtf8Decode(aesCtr(w, iv, cipher));
    if (back !== plain)
        throw new Error("crypto-aes: round trip: expected the " + plain.length + "-character text back, got " +
                        back.length + " characters differing from it");
    var cipherHex = aesToHex(cipher);
    if (params.expected !== undefined && cipherHex !== String(params.expected).toLowerCase())
        throw new Error("crypto-aes: ciphertext: expected " + params.expected + ", got " + cipherHex);
    return { check: true, cipher: "AES-256-CTR", key: keyHex, iv: ivHex, bytes: bytes.length, repeat: repeat,
             ciphertext: bytes.length <= 65536 ? cipherHex : null, vectors: AES_FIPS197.length + 1 };
}
