#!/usr/bin/env python3
"""Independent reference for apps/functions/js/regexp-dna.js: the Benchmarks Game fasta
generator and the nine variant counts with Python's re. Prints JSON: counts (list, pattern
order), sequence_length, expanded_length. Usage: fn_regexp_dna_ref.py N COPIES SEED"""
import json
import re
import sys

ALU = ("GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGGGAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCGAGACC"
       "AGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAATACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCAGCTACTC"
       "GGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGGAGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCCAGCCTGGGCGAC"
       "AGAGCGAGACTCCGTCTCAAAAA")
IUB = [("a", 0.27), ("c", 0.12), ("g", 0.12), ("t", 0.27)] + [(c, 0.02) for c in "BDHKMNRSVWY"]
HOMO_SAPIENS = [("a", 0.3029549426680), ("c", 0.1979883004921), ("g", 0.1975473066391),
                ("t", 0.3015094502008)]
PATTERNS = ["agggtaaa|tttaccct", "[cgt]gggtaaa|tttaccc[acg]", "a[act]ggtaaa|tttacc[agt]t",
            "ag[act]gtaaa|tttac[agt]ct", "agg[act]taaa|ttta[agt]cct", "aggg[acg]aaa|ttt[cgt]ccct",
            "agggt[cgt]aa|tt[acg]accct", "agggta[cgt]a|t[acg]taccct", "agggtaa[cgt]|[acg]ttaccct"]
SUBS = {"B": "(c|g|t)", "D": "(a|g|t)", "H": "(a|c|t)", "K": "(g|t)", "M": "(a|c)",
        "N": "(a|c|g|t)", "R": "(a|g)", "S": "(c|t)", "V": "(a|c|g)", "W": "(a|t)", "Y": "(c|t)"}


def fasta(n, seed):
    state = [seed]

    def rand():
        state[0] = (state[0] * 3877 + 29573) % 139968
        return state[0] / 139968

    def lines(chars):
        return [chars[i:i + 60] for i in range(0, len(chars), 60)]

    def weighted(count, table):
        cum, acc = [], 0.0
        for c, p in table:
            acc += p
            cum.append((c, acc))
        out = []
        for _ in range(count):
            r = rand()
            out.append(next((c for c, p in cum[:-1] if r < p), cum[-1][0]))
        return "".join(out)

    repeat = "".join(ALU[i % len(ALU)] for i in range(2 * n))
    text = [">ONE Homo sapiens alu"] + lines(repeat)
    text += [">TWO IUB ambiguity codes"] + lines(weighted(3 * n, IUB))
    text += [">THREE Homo sapiens frequency"] + lines(weighted(5 * n, HOMO_SAPIENS))
    return "\n".join(text) + "\n"


def main():
    n, copies, seed = (int(a) for a in sys.argv[1:4])
    seq = re.sub(r">.*\n|\n", "", fasta(n, seed) * copies)
    counts = [len(re.findall(p, seq, re.IGNORECASE)) for p in PATTERNS]
    expanded = seq
    for code, alt in SUBS.items():
        expanded = expanded.replace(code, alt)
    print(json.dumps({"counts": counts, "sequence_length": len(seq), "expanded_length": len(expanded)}))


main()
