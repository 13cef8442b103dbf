// partial-sums: SunSpider math-partial-sums. partial(n) runs nine series (pow, sin, cos among
// them) and returns a6 + a7 + a8 + a9; the answer is the sum over n = 1024, 2048, ..., 16384.
// Self-check: that total against SunSpider's 60.08994194659945 (exact, as SunSpider checks),
// plus two series against their closed forms (a1 geometric, a3 telescoping).
// Params: from (1024), to (16384), expected (known for the defaults).

var PARTIAL_SUMS_EXPECTED = 60.08994194659945;

function partial(n, out) {
    var a1 = 0.0, a2 = 0.0, a3 = 0.0, a4 = 0.0, a5 = 0.0, a6 = 0.0, a7 = 0.0, a8 = 0.0, a9 = 0.0;
    var twothirds = 2.0 / 3.0, alt = -1.0, k, k2, k3, sk, ck;
    for (k = 1; k <= n; k++) {
        k2 = k * k;
        k3 = k2 * k;
        sk = Math.sin(k);
        ck = Math.cos(k);
        alt = -alt;
        a1 += Math.pow(twothirds, k - 1);
        a2 += Math.pow(k, -0.5);
        a3 += 1.0 / (k * (k + 1.0));
        a4 += 1.0 / (k3 * sk * sk);
        a5 += 1.0 / (k3 * ck * ck);
        a6 += 1.0 / k;
        a7 += 1.0 / k2;
        a8 += alt / k;
        a9 += alt / (2 * k - 1);
    }
    out.a1 = a1; out.a3 = a3; out.a2 = a2; out.a4 = a4; out.a5 = a5;
    return a6 + a7 + a8 + a9;
}

function main(params) {
    params = params || {};
    var from = params.from === undefined ? 1024 : Number(params.from);
    var to = params.to === undefined ? 16384 : Number(params.to);
    if (!(from >= 1 && to >= from && to <= 1 << 24 && Math.floor(from) === from && Math.floor(to) === to))
        throw new Error("partial-sums: need integers 1 <= from <= to <= 16777216, got " + params.from + ", " + params.to);
    var total = 0, sizes = [], n, series = {}, closed;
    for (n = from; n <= to; n *= 2) {
        total += partial(n, series);
        sizes.push(n);
        closed = 3 * (1 - Math.pow(2 / 3, n));
        if (Math.abs(series.a1 - closed) > 1e-12)
            throw new Error("partial-sums: a1(" + n + "): expected " + closed + ", got " + series.a1);
        closed = n / (n + 1);
        if (Math.abs(series.a3 - closed) > 1e-12)
            throw new Error("partial-sums: a3(" + n + "): expected " + closed + ", got " + series.a3);
    }
    var expected = params.expected !== undefined ? Number(params.expected) :
                   (from === 1024 && to === 16384 ? PARTIAL_SUMS_EXPECTED : null);
    if (expected !== null && total !== expected)
        throw new Error("partial-sums: total: expected " + expected + ", got " + total);
    return { check: true, total: total, expected: expected, sizes: sizes };
}
