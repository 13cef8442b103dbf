// regexp-dna: SunSpider regexp-dna (the Computer Language Benchmarks Game's regex-dna): count nine
// variant patterns, case-insensitive, over a FASTA sequence, then expand the IUB codes.
// The input is made here, not shipped: the Benchmarks Game's fasta generator (its linear
// congruential generator, seed 42) with n = 10000 gives 101,745 bytes; SunSpider runs its copy of
// that text three times over, so copies = 3 reproduces SunSpider's input and its nine counts.
// Self-check: the counts against an independent count (every literal the pattern stands for,
// found with indexOf, matches taken leftmost and non-overlapping as a global regex takes them),
// against SunSpider's counts for the defaults, and the expanded length against the code counts.
// Params: n (10000), copies (3), seed (42), expected (nine counts; known for the defaults).

var DNA_ALU = "GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGGGAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCG" +
    "AGACCAGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAATACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCAGC" +
    "TACTCGGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGGAGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCCAGCCTGG" +
    "GCGACAGAGCGAGACTCCGTCTCAAAAA";
var DNA_IUB = [["a", 0.27], ["c", 0.12], ["g", 0.12], ["t", 0.27], ["B", 0.02], ["D", 0.02], ["H", 0.02],
               ["K", 0.02], ["M", 0.02], ["N", 0.02], ["R", 0.02], ["S", 0.02], ["V", 0.02], ["W", 0.02],
               ["Y", 0.02]];
var DNA_HOMO_SAPIENS = [["a", 0.3029549426680], ["c", 0.1979883004921], ["g", 0.1975473066391],
                        ["t", 0.3015094502008]];
var DNA_PATTERNS = ["agggtaaa|tttaccct", "[cgt]gggtaaa|tttaccc[acg]", "a[act]ggtaaa|tttacc[agt]t",
                    "ag[act]gtaaa|tttac[agt]ct", "agg[act]taaa|ttta[agt]cct", "aggg[acg]aaa|ttt[cgt]ccct",
                    "agggt[cgt]aa|tt[acg]accct", "agggta[cgt]a|t[acg]taccct", "agggtaa[cgt]|[acg]ttaccct"];
var DNA_SUNSPIDER_COUNTS = [0, 9, 27, 24, 30, 9, 12, 9, 15];
var DNA_SUBS = { B: "(c|g|t)", D: "(a|g|t)", H: "(a|c|t)", K: "(g|t)", M: "(a|c)", N: "(a|c|g|t)",
                 R: "(a|g)", S: "(c|t)", V: "(a|c|g)", W: "(a|t)", Y: "(c|t)" };

// The Benchmarks Game fasta: n*2 of ALU repeated, n*3 IUB-weighted, n*5 Homo sapiens-weighted.
function dnaFasta(n, seed) {
    var last = seed, out = [];
    function random() { last = (last * 3877 + 29573) % 139968; return last / 139968; }
    function repeatLines(len, s) {
        var pos = 0, line, i;
        while (len > 0) {
            line = "";
            for (i = 0; i < Math.min(60, len); i++) { line += s.charAt(pos); pos = (pos + 1) % s.length; }
            out.push(line);
            len -= 60;
        }
    }
    function randomLines(len, table) {
        var cum = [], acc = 0, i, j, r, line;
        for (i = 0; i < table.length; i++) { acc += table[i][1]; cum.push(acc); }
        while (len > 0) {
            line = "";
            for (i = 0; i < Math.min(60, len); i++) {
                r = random();
                for (j = 0; j < cum.length - 1 && r >= cum[j]; j++) {}
                line += table[j][0];
            }
            out.push(line);
            len -= 60;
        }
    }
    out.push(">ONE Homo sapiens alu");
    repeatLines(2 * n, DNA_ALU);
    out.push(">TWO IUB ambiguity codes");
    randomLines(3 * n, DNA_IUB);
    out.push(">THREE Homo sapiens frequency");
    randomLines(5 * n, DNA_HOMO_SAPIENS);
    return out.join("\n") + "\n";
}

// Every literal a pattern of plain letters and [classes] stands for.
function dnaLiterals(pattern) {
    var alts = pattern.split("|"), out = [], a, m, k, prefix, suffix, cls;
    for (a = 0; a < alts.length; a++) {
        m = /^([a-z]*)(?:\[([a-z]+)\]([a-z]*))?$/.exec(alts[a]);
        if (!m[2]) { out.push(m[1]); continue; }
        prefix = m[1]; cls = m[2]; suffix = m[3];
        for (k = 0; k < cls.length; k++) out.push(prefix + cls.charAt(k) + suffix);
    }
    return out;
}

// Matches of the pattern in the lower-cased sequence, without the regex engine.
function dnaCountPlain(seq, pattern) {
    var lits = dnaLiterals(pattern), starts = [], i, p, count = 0, next = 0, len = lits[0].length;
    for (i = 0; i < lits.length; i++)
        for (p = seq.indexOf(lits[i]); p >= 0; p = seq.indexOf(lits[i], p + 1)) starts.push(p);
    starts.sort(function (x, y) { return x - y; });
    for (i = 0; i < starts.length; i++)
        if (starts[i] >= next) { count++; next = starts[i] + len; }
    return count;
}

function dnaInt(params, name, dflt, lo, hi) {
    var v = params[name] === undefined ? dflt : Number(params[name]);
    if (!(v >= lo && v <= hi && Math.floor(v) === v))
        throw new Error("regexp-dna: " + name + " must be an integer " + lo + ".." + hi + ", got " + params[name]);
    return v;
}

function main(params) {
    params = params || {};
    var n = dnaInt(params, "n", 10000, 1, 1000000), copies = dnaInt(params, "copies", 3, 1, 100);
    var seed = dnaInt(params, "seed", 42, 0, 139967);
    var one = dnaFasta(n, seed), input = new Array(copies + 1).join(one);
    var seq = input.replace(/>.*\n|\n/g, "");
    var counts = [], i, m, k;
    for (i = 0; i < DNA_PATTERNS.length; i++) {
        m = seq.match(new RegExp(DNA_PATTERNS[i], "ig"));
        counts.push(m ? m.length : 0);
    }
    var lower = seq.toLowerCase(), plain;
    for (i = 0; i < DNA_PATTERNS.length; i++) {
        plain = dnaCountPlain(lower, DNA_PATTERNS[i]);
        if (plain !== counts[i])
            throw new Error("regexp-dna: /" + DNA_PATTERNS[i] + "/ig: the regex counted " + counts[i] +
                            ", a plain search counted " + plain);
    }
    var expected = params.expected;
    if (expected === undefined && n === 10000 && copies === 3 && seed === 42) expected = DNA_SUNSPIDER_COUNTS;
    if (expected !== undefined && JSON.stringify(counts) !== JSON.stringify(expected))
        throw new Error("regexp-dna: counts: expected " + JSON.stringify(expected) + ", got " + JSON.stringify(counts));
    var expanded = seq, expectedLength = seq.length;
    for (k in DNA_SUBS) {
        expectedLength += (seq.split(k).length - 1) * (DNA_SUBS[k].length - 1);
        expanded = expanded.replace(new RegExp(k, "g"), DNA_SUBS[k]);
    }
    if (expanded.length !== expectedLength)
        throw new Error("regexp-dna: expanded length: expected " + expectedLength + ", got " + expanded.length);
    var result = { check: true, n: n, copies: copies, seed: seed, input_bytes: input.length,
                   sequence_length: seq.length, expanded_length: expanded.length, counts: {} };
    for (i = 0; i < DNA_PATTERNS.length; i++) result.counts[DNA_PATTERNS[i]] = counts[i];
    return result;
}
