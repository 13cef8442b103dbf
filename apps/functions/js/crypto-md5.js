// crypto-md5: MD5 (RFC 1321) of a text doubled `doublings` times (SunSpider crypto-md5).
// Self-check: RFC 1321's test suite, then the digest against the known answer.
// Params: text (default SunSpider's passage), doublings (4), expected (hex; known for the default).

var MD5_SUNSPIDER_TEXT = [
    "Rebellious subjects, enemies to peace,",
    "Profaners of this neighbour-stained steel,--",
    "Will they not hear? What, ho! you men, you beasts,",
    "That quench the fire of your pernicious rage",
    "With purple fountains issuing from your veins,",
    "On pain of torture, from those bloody hands",
    "Throw your mistemper'd weapons to the ground,",
    "And hear the sentence of your moved prince.",
    "Three civil brawls, bred of an airy word,",
    "By thee, old Capulet, and Montague,",
    "Have thrice disturb'd the quiet of our streets,",
    "And made Verona's ancient citizens",
    "Cast by their grave beseeming ornaments,",
    "To wield old partisans, in hands as old,",
    "Canker'd with peace, to part your canker'd hate:",
    "If ever you disturb our streets again,",
    "Your lives shall pay the forfeit of the peace.",
    "For this time, all the rest depart away:",
    "You Capulet; shall go along with me:",
    "And, Montague, come you this afternoon,",
    "To know our further pleasure in this case,",
    "To old Free-town, our common judgment-place.",
    "Once more, on pain of death, all men depart."
].join("\n");
// SunSpider's answer for its text doubled four times.
var MD5_SUNSPIDER_DIGEST = "a831e91e0f70eddcb70dc61c6f82f6cd";

// RFC 1321, appendix A.5.
var MD5_RFC1321_SUITE = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"],
    ["12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"]
];

// UTF-8 bytes of a string (so the digest equals md5sum of the same text in a file).
function md5Utf8(s) {
    var out = [], i, c, d;
    for (i = 0; i < s.length; i++) {
        c = s.charCodeAt(i);
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
            d = s.charCodeAt(i + 1);
            if (d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
        }
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | c >> 6, 0x80 | c & 63);
        else if (c < 0x10000) out.push(0xe0 | c >> 12, 0x80 | c >> 6 & 63, 0x80 | c & 63);
        else out.push(0xf0 | c >> 18, 0x80 | c >> 12 & 63, 0x80 | c >> 6 & 63, 0x80 | c & 63);
    }
    return out;
}

var MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
var MD5_K = (function () {
    // K[i] = floor(2^32 * |sin(i + 1)|), as RFC 1321 defines the table.
    var k = [], i;
    for (i = 0; i < 64; i++) k.push(Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0);
    return k;
})();

function md5Hex(bytes) {
    var n = bytes.length, words = [], i, j;
    var nblocks = ((n + 8) >> 6) + 1;
    for (i = 0; i < nblocks * 16; i++) words.push(0);
    for (i = 0; i < n; i++) words[i >> 2] |= bytes[i] << ((i & 3) * 8);
    words[n >> 2] |= 0x80 << ((n & 3) * 8);
    words[nblocks * 16 - 2] = (n * 8) | 0;
    words[nblocks * 16 - 1] = Math.floor(n / 536870912);   // high bits of the bit length
    var a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
    for (j = 0; j < words.length; j += 16) {
        var a = a0, b = b0, c = c0, d = d0, f, g, t;
        for (i = 0; i < 64; i++) {
            if (i < 16) { f = (b & c) | (~b & d); g = i; }
            else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
            else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
            else { f = c ^ (b | ~d); g = (7 * i) & 15; }
            t = d; d = c; c = b;
            var x = (a + f + MD5_K[i] + words[j + g]) | 0;
            var s = MD5_S[(i >> 4) * 4 + (i & 3)];
            b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
            a = t;
        }
        a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
    }
    var hex = "", st = [a0, b0, c0, d0];
    for (i = 0; i < 16; i++) hex += ((st[i >> 2] >>> ((i & 3) * 8) & 255) + 0x100).toString(16).slice(1);
    return hex;
}

function main(params) {
    params = params || {};
    var text = params.text === undefined ? MD5_SUNSPIDER_TEXT : String(params.text);
    var doublings = params.doublings === undefined ? 4 : Number(params.doublings);
    if (!(doublings >= 0 && doublings <= 20 && Math.floor(doublings) === doublings))
        throw new Error("crypto-md5: doublings must be an integer 0..20, got " + params.doublings);
    var i, got;
    for (i = 0; i < MD5_RFC1321_SUITE.length; i++) {
        got = md5Hex(md5Utf8(MD5_RFC1321_SUITE[i][0]));
        if (got !== MD5_RFC1321_SUITE[i][1])
            throw new Error("crypto-md5: RFC 1321 vector MD5(\"" + MD5_RFC1321_SUITE[i][0] + "\"): expected " +
                            MD5_RFC1321_SUITE[i][1] + ", got " + got);
    }
    for (i = 0; i < doublings; i++) text += text;
    var bytes = md5Utf8(text);
    var digest = md5Hex(bytes);
    var expected = params.expected;
    if (expected === undefined && params.text === undefined && doublings === 4) expected = MD5_SUNSPIDER_DIGEST;
    if (expected !== undefined && digest !== String(expected).toLowerCase())
        throw new Error("crypto-md5: MD5 of the " + bytes.length + "-byte text: expected " + expected + ", got " + digest);
    return { check: true, md5: digest, bytes: bytes.length, doublings: doublings,
             expected: expected === undefined ? null : String(expected).toLowerCase(),
             vectors: MD5_RFC1321_SUITE.length };
}
