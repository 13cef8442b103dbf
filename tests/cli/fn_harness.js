// Test harness for apps/functions/js under Debian's `duk`: plain stand-ins for the host services
// the TeeMate JS runtime provides (the global `teemate` object and console.log), then
// fnHarnessRun(params) calls main and prints one JSON line: {"result": ...} or {"error": ...},
// with what the stand-ins saw. Usage: duk fn_harness.js [mustache.js] FUNCTION.js RUN.js, where
// RUN.js may set fnHarness options and calls fnHarnessRun({...}).

var fnHarness = {
    slept: [],              // seconds asked of teemate.sleep
    clockOffsetMs: 0,       // what teemate.sleep adds to the clock instead of waiting
    sleepAdvancesClock: true,
    body: "TeeMate harness body: h\u00e9llo, \u20ac, \ud834\udd1e\nsecond line\n",
    urls: [],               // URLs asked of teemate.httpGet
    store: {},              // "bucket/key" -> string
    corruptStore: false,    // storeGet returns a changed object
    logs: []
};

// SHA-256 (FIPS 180-4) of the UTF-8 bytes of a string, for the harness only: in TeeMate the
// runtime computes it in the enclave.
function fnHarnessSha256(str) {
    var b = unescape(encodeURIComponent(str)), bytes = [], i, j;
    for (i = 0; i < b.length; i++) bytes.push(b.charCodeAt(i));
    var k = [], h = [], primes = [], n = 2, p;
    while (primes.length < 64) {
        for (p = 0; p < primes.length && n % primes[p] !== 0; p++) {}
        if (p === primes.length) primes.push(n);
        n++;
    }
    function frac(x) { return ((x - Math.floor(x)) * 4294967296) | 0; }
    for (i = 0; i < 64; i++) k.push(frac(Math.pow(primes[i], 1 / 3)));
    for (i = 0; i < 8; i++) h.push(frac(Math.sqrt(primes[i])));
    var len = bytes.length;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) bytes.push(0);
    var bits = len * 8;
    for (i = 7; i >= 0; i--) bytes.push(i >= 4 ? 0 : (bits >>> (8 * i)) & 255);
    function rotr(x, c) { return (x >>> c) | (x << (32 - c)); }
    var w = [];
    for (j = 0; j < bytes.length; j += 64) {
        for (i = 0; i < 16; i++)
            w[i] = (bytes[j + 4 * i] << 24) | (bytes[j + 4 * i + 1] << 16) | (bytes[j + 4 * i + 2] << 8) | bytes[j + 4 * i + 3];
        for (i = 16; i < 64; i++) {
            var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
            var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
            w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
        }
        var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (i = 0; i < 64; i++) {
            var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i]) | 0;
            var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
            hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
        }
        h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
        h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
    }
    var hex = "";
    for (i = 0; i < 8; i++) hex += ((h[i] >>> 0) + 0x100000000).toString(16).slice(1);
    return hex;
}

var console = {
    log: function () {
        var parts = [], i;
        for (i = 0; i < arguments.length; i++) parts.push(String(arguments[i]));
        fnHarness.logs.push(parts.join(" "));
    }
};

var teemate = {
    sleep: function (seconds) {
        fnHarness.slept.push(seconds);
        if (fnHarness.sleepAdvancesClock) fnHarness.clockOffsetMs += seconds * 1000;
    },
    now: function () { return Date.now() + fnHarness.clockOffsetMs; },
    httpGet: function (url) { fnHarness.urls.push(url); return fnHarness.body; },
    storePut: function (bucket, key, value) { fnHarness.store[bucket + "/" + key] = String(value); },
    storeGet: function (bucket, key) {
        var k = bucket + "/" + key;
        if (!fnHarness.store.hasOwnProperty(k)) throw new Error("storeGet: no object " + k);
        return fnHarness.corruptStore ? fnHarness.store[k] + "!" : fnHarness.store[k];
    },
    sha256: function (s) { return fnHarnessSha256(String(s)); }
};

function fnHarnessRun(params) {
    var out = {};
    try {
        out.result = main(params);
    } catch (e) {
        out.error = e instanceof Error ? e.message : String(e);
    }
    out.harness = { slept: fnHarness.slept, urls: fnHarness.urls, store: fnHarness.store, logs: fnHarness.logs,
                    body: fnHarness.body };
    // ASCII only: duk writes a character past U+FFFF as two 3-byte surrogates (CESU-8), not UTF-8.
    print(JSON.stringify(out).replace(/[\u007f-\uffff]/g, function (c) {
        return "\\u" + (c.charCodeAt(0) + 0x10000).toString(16).slice(1);
    }));
}
