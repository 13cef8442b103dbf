#!/usr/bin/env python3
"""Independent reference for SGX MRENCLAVE (Intel SDM vol. 3D, the Operation
sections of ECREATE, EADD and EEXTEND). Plain Python, hashlib + struct only, and
deliberately written without looking at lib/enclave/measure.c.

MRENCLAVE is SHA-256 over this stream, in the order the instructions run:

  ECREATE  64 bytes: "ECREATE\\0" | SSAFRAMESIZE u32 | SIZE u64 | 44 zero bytes
  EADD     64 bytes: "EADD\\0\\0\\0\\0" | linaddr - BASEADDR u64 | SECINFO[0:48]
                     (SECINFO = FLAGS u64, then 40 reserved zero bytes)
  EEXTEND  64 bytes: "EEXTEND\\0" | chunk linaddr - BASEADDR u64 | 48 zero bytes,
           then the 256 bytes of the chunk (16 EEXTENDs cover a page)

Pages never added (gaps) and pages added later with EAUG contribute nothing: EAUG
does not extend MRENCLAVE. The base address only enters as linaddr - BASEADDR,
so the hash does not depend on where the enclave is placed (vector d).

Block layouts: SDM ECREATE/EADD/EEXTEND Operation sections; the same layouts
appear, independently written, in the Linux SGX selftests (sigstruct.c) and in
Enarx's measurement notes. Two finer points:
  * EADD of a TCS page: the EADD pseudocode clears SECINFO.FLAGS.R/W/X of a TCS
    before hashing (Enarx: "SECINFO is modified before hashing"), so a TCS is
    measured with FLAGS = PT_TCS << 8 = 0x100. The vectors use 0x100 anyway.
  * ECREATE: newer SDMs (KSS) may fold SECS.CONFIGSVN into the reserved tail;
    every vector has CONFIGSVN = 0, where both readings give 44 zero bytes.

Usage:
  sgx_measure_ref.py              name and MRENCLAVE of each vector
  sgx_measure_ref.py --c-header   tests/vectors/measure_vectors.h on stdout
  sgx_measure_ref.py --stream NAME   the canonical byte stream (SGXS) of a vector
  sgx_measure_ref.py --blocks NAME   one line per 64-byte measurement block
"""

import hashlib
import struct
import sys

PAGE = 4096
CHUNK = 256

# SECINFO.FLAGS (SDM "SECINFO" table): R=bit 0, W=1, X=2, PAGE_TYPE = bits 15:8.
R, W, X = 0x1, 0x2, 0x4
PT_TCS, PT_REG = 1, 2
SI_TCS = PT_TCS << 8
SI_REG_RX = (PT_REG << 8) | R | X   # 0x205
SI_REG_RW = (PT_REG << 8) | R | W   # 0x203
SI_REG_R = (PT_REG << 8) | R        # 0x201

TAG_ECREATE = b"ECREATE\0"
TAG_EADD = b"EADD\0\0\0\0"
TAG_EEXTEND = b"EEXTEND\0"

# Cross-check of the block encoding against an outside source: the Linux kernel
# SGX selftests (tools/testing/selftests/sgx/sigstruct.c) write the tags as
# little-endian u64 constants. Same bytes, derived independently.
assert TAG_ECREATE == struct.pack("<Q", 0x0045544145524345)
assert TAG_EADD == struct.pack("<Q", 0x0000000044444145)
assert TAG_EEXTEND == struct.pack("<Q", 0x00444E4554584545)
# And that hashlib's SHA-256 is SHA-256 (FIPS 180-2, appendix B.1, "abc").
assert hashlib.sha256(b"abc").hexdigest() == \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def ecreate_block(ssa_frame_pages, size):
    b = TAG_ECREATE + struct.pack("<IQ", ssa_frame_pages, size) + bytes(44)
    assert len(b) == 64
    return b


def eadd_block(offset, secinfo_flags):
    # TCS pages are hashed with R/W/X cleared (EADD operation, SDM).
    if (secinfo_flags >> 8) & 0xFF == PT_TCS:
        secinfo_flags &= ~(R | W | X)
    secinfo48 = struct.pack("<Q", secinfo_flags) + bytes(40)
    b = TAG_EADD + struct.pack("<Q", offset) + secinfo48
    assert len(b) == 64
    return b


def eextend_header(offset):
    b = TAG_EEXTEND + struct.pack("<Q", offset) + bytes(48)
    assert len(b) == 64
    return b


def pattern_page(page_index):
    """Deterministic contents: byte i of page p is (i*7 + (i>>8)*11 + p*13) & 0xff,
    where p is the page's offset from the enclave base divided by 4096. The
    (i>>8)*11 term makes the 16 chunks of a page differ (with i*7 alone every
    256-byte chunk would be equal, and a wrong chunk pointer would go unseen)."""
    return bytes((i * 7 + (i >> 8) * 11 + page_index * 13) & 0xFF for i in range(PAGE))


def tcs_page(ossa, nssa, oentry, ofsbase=0, ogsbase=0, fslimit=0xFFF, gslimit=0xFFF):
    """A TCS page laid out by the SDM's TCS table, field by field."""
    page = bytearray(PAGE)
    struct.pack_into("<Q", page, 0, 0)         # STATE
    struct.pack_into("<Q", page, 8, 0)         # FLAGS
    struct.pack_into("<Q", page, 16, ossa)     # OSSA
    struct.pack_into("<I", page, 24, 0)        # CSSA
    struct.pack_into("<I", page, 28, nssa)     # NSSA
    struct.pack_into("<Q", page, 32, oentry)   # OENTRY
    struct.pack_into("<Q", page, 40, 0)        # AEP
    struct.pack_into("<Q", page, 48, ofsbase)  # OFSBASGX
    struct.pack_into("<Q", page, 56, ogsbase)  # OGSBASGX
    struct.pack_into("<I", page, 64, fslimit)  # FSLIMIT
    struct.pack_into("<I", page, 68, gslimit)  # GSLIMIT
    # EADD's TCS checks: OSSA, OFSBASGX, OGSBASGX page aligned, limits end in FFF.
    assert ossa % PAGE == 0 and ofsbase % PAGE == 0 and ogsbase % PAGE == 0
    assert fslimit & 0xFFF == 0xFFF and gslimit & 0xFFF == 0xFFF and nssa > 0
    return bytes(page)


class Range:
    """Pages [offset, offset+size). content: 'zero', 'pattern' (data_len bytes of
    the page pattern, zeros after) or 'tcs' (one TCS page, fields in tcs)."""

    def __init__(self, offset, npages, flags, content, measured, data_len=None,
                 on_demand=False, tcs=None):
        self.offset = offset
        self.size = npages * PAGE
        self.flags = flags
        self.content = content
        self.measured = measured
        self.on_demand = on_demand
        self.tcs = tcs
        if content == "zero":
            self.data_len = 0
        elif data_len is None:
            self.data_len = self.size
        else:
            self.data_len = data_len

    def pages(self):
        """(offset, flags, 4096 bytes) for every page of the range."""
        for k in range(self.size // PAGE):
            off = self.offset + k * PAGE
            if self.content == "tcs":
                assert self.size == PAGE
                data = tcs_page(**self.tcs)
            elif self.content == "pattern":
                full = pattern_page(off // PAGE)
                keep = max(0, min(PAGE, self.data_len - k * PAGE))
                data = full[:keep] + bytes(PAGE - keep)
            else:
                data = bytes(PAGE)
            yield off, self.flags, data


class Vector:
    def __init__(self, name, ssa_frame_pages, enclave_size, ranges, comment,
                 ascending=True, bases=None):
        self.name = name
        self.ssa_frame_pages = ssa_frame_pages
        self.enclave_size = enclave_size
        self.ranges = ranges
        self.comment = comment
        self.ascending = ascending  # False: only reachable through the low-level API
        self.bases = bases or [0]


def measure_blocks(vec, base):
    """The measurement as the CPU sees it at a given SECS.BASEADDR: a list of
    (op, a, b, bytes) with the exact bytes each step hashes."""
    blocks = [("ECREATE", vec.ssa_frame_pages, vec.enclave_size,
               ecreate_block(vec.ssa_frame_pages, vec.enclave_size))]
    for r in vec.ranges:
        if r.on_demand:
            continue  # EAUG'd after EINIT: not in MRENCLAVE
        for off, flags, data in r.pages():
            linaddr = base + off
            assert off + PAGE <= vec.enclave_size
            blocks.append(("EADD", linaddr - base, flags, eadd_block(linaddr - base, flags)))
            if r.measured:
                for c in range(0, PAGE, CHUNK):
                    chunk = data[c:c + CHUNK]
                    off_c = linaddr + c - base
                    blocks.append(("EEXTEND", off_c, chunk, eextend_header(off_c) + chunk))
    return blocks


def stream(vec, base=None):
    return b"".join(b[3] for b in measure_blocks(vec, vec.bases[0] if base is None else base))


def mrenclave(vec):
    digests = {hashlib.sha256(stream(vec, base)).digest() for base in vec.bases}
    assert len(digests) == 1, f"{vec.name}: hash depends on the base"
    return digests.pop()


def check_ranges(vec):
    end = 0
    for r in vec.ranges:
        assert r.offset % PAGE == 0 and r.size % PAGE == 0 and r.size > 0
        assert r.offset + r.size <= vec.enclave_size
        if vec.ascending:
            assert r.offset >= end, f"{vec.name}: ranges overlap or are out of order"
        end = r.offset + r.size
    assert vec.enclave_size & (vec.enclave_size - 1) == 0 and vec.enclave_size >= 2 * PAGE


# Layout (b), shared by (d) and (e): TCS, its SSA frame, and code.
TCS_B = dict(ossa=0x1000, nssa=1, oentry=0x2010)
RANGES_B = [
    Range(0x0000, 1, SI_TCS, "tcs", True, tcs=TCS_B),
    Range(0x1000, 1, SI_REG_RW, "zero", True),
    Range(0x2000, 1, SI_REG_RX, "pattern", True),
]
TCS_C = dict(ossa=0x4000, nssa=1, oentry=0x0000, ofsbase=0x6000, ogsbase=0x6000)

VECTORS = [
    Vector("a_one_rx_page", 1, 0x2000,
           [Range(0x0000, 1, SI_REG_RX, "pattern", True)],
           "one measured REG R-X page at offset 0"),
    Vector("b_tcs_ssa_code", 1, 0x4000, RANGES_B,
           "TCS (0x100, OSSA 0x1000, NSSA 1, OENTRY 0x2010), SSA page RW 0x203, "
           "code page RX 0x205"),
    Vector("c_unmeasured_gap_ssa2", 2, 0x10000, [
        Range(0x0000, 1, SI_REG_RX, "pattern", True),
        # 0x1000: a gap, never added
        Range(0x2000, 1, SI_REG_RW, "pattern", False),     # EADD without EEXTEND
        Range(0x3000, 1, SI_TCS, "tcs", True, tcs=TCS_C),
        Range(0x4000, 2, SI_REG_RW, "zero", True),          # one SSA frame of 2 pages
        Range(0x6000, 1, SI_REG_RW, "pattern", True),
        Range(0x8000, 2, SI_REG_RW, "zero", False, on_demand=True),  # EAUG later
    ], "SSAFRAMESIZE 2, a gap at 0x1000, an unmeasured page at 0x2000, "
       "an on-demand range at 0x8000"),
    Vector("d_base_independent", 1, 0x4000, RANGES_B,
           "layout b placed at two bases; offsets are linaddr - BASEADDR, so the "
           "hash equals b's", bases=[0x7F0000000000, 0x100000000]),
    Vector("e_order_swapped", 1, 0x4000, [RANGES_B[0], RANGES_B[2], RANGES_B[1]],
           "layout b with the code page added before the SSA page", ascending=False),
    Vector("f_partial_data", 1, 0x4000, [
        Range(0x0000, 2, SI_REG_RX, "pattern", True, data_len=PAGE + 100),
        Range(0x2000, 1, SI_REG_R, "zero", True),
    ], "a 2-page range with 4196 data bytes (rest zero), a measured page of zeros"),
    Vector("g_sixteen_pages", 1, 0x100000, [
        Range(0x10000, 16, SI_REG_RW, "pattern", True),
    ], "16 measured pages in one range at 64 KiB"),
    Vector("h_high_offset", 1, 1 << 33, [
        Range(0x0000, 1, SI_REG_RX, "pattern", True),
        Range((1 << 32) + 0x1000, 1, SI_REG_RW, "pattern", True),
    ], "a page above 4 GiB (offsets need all 64 bits)"),
]

for _v in VECTORS:
    check_ranges(_v)
assert mrenclave(VECTORS[3]) == mrenclave(VECTORS[1]), "d must equal b"
assert mrenclave(VECTORS[4]) != mrenclave(VECTORS[1]), "order must matter"


def c_bytes(data):
    return ", ".join(f"0x{x:02x}" for x in data)


def c_header():
    out = []
    w = out.append
    w("/* generated by sgx_measure_ref.py; do not edit.")
    w(" * Regenerate: python3 tests/vectors/sgx_measure_ref.py --c-header"
      " > tests/vectors/measure_vectors.h")
    w(" * MRENCLAVE vectors derived from the Intel SDM, independently of lib/enclave/measure.c.")
    w(" * Page contents: byte i of the page at offset o is")
    w(" * (i*7 + (i>>8)*11 + (o/4096)*13) & 0xff")
    w(" * for TM_VEC_PATTERN (first data_len bytes of the range, zeros after). */")
    w("#ifndef TM_MEASURE_VECTORS_H")
    w("#define TM_MEASURE_VECTORS_H")
    w("")
    w("#include <stdbool.h>")
    w("#include <stddef.h>")
    w("#include <stdint.h>")
    w("")
    w("enum tm_vec_content { TM_VEC_ZERO, TM_VEC_PATTERN, TM_VEC_TCS };")
    w("")
    w("struct tm_vec_tcs {")
    w("    uint64_t ossa, oentry, ofsbase, ogsbase;")
    w("    uint32_t nssa, fslimit, gslimit;")
    w("};")
    w("")
    w("struct tm_vec_range {")
    w("    uint64_t offset, size, secinfo_flags, data_len;")
    w("    enum tm_vec_content content;")
    w("    bool measured, on_demand;")
    w("    struct tm_vec_tcs tcs;")
    w("};")
    w("")
    w("/* One 64-byte measurement block. ECREATE: a = SSAFRAMESIZE, b = SIZE.")
    w(" * EADD: a = offset, b = SECINFO.FLAGS as hashed. EEXTEND: a = offset,")
    w(" * b = first 8 bytes (little-endian) of SHA-256 of the 256 data bytes. */")
    w("enum tm_vec_op { TM_VEC_ECREATE, TM_VEC_EADD, TM_VEC_EEXTEND };")
    w("struct tm_vec_block {")
    w("    enum tm_vec_op op;")
    w("    uint64_t a, b;")
    w("};")
    w("")
    w("struct tm_vec {")
    w("    const char *name;")
    w("    const char *comment;")
    w("    uint32_t ssa_frame_pages;")
    w("    uint64_t enclave_size;")
    w("    bool ascending;          /* false: not a valid layout, low-level API only */")
    w("    size_t nranges;")
    w("    const struct tm_vec_range *ranges;")
    w("    size_t nbases;")
    w("    const uint64_t *bases;   /* SECS.BASEADDR values the reference tried */")
    w("    size_t nblocks;")
    w("    const struct tm_vec_block *blocks;")
    w("    uint64_t stream_len;     /* bytes hashed */")
    w("    uint8_t mrenclave[32];")
    w("};")
    w("")
    for v in VECTORS:
        w(f"static const struct tm_vec_range tm_vec_{v.name}_ranges[] = {{")
        for r in v.ranges:
            t = r.tcs or {}
            tcs = ("{ .ossa = 0x%x, .oentry = 0x%x, .ofsbase = 0x%x, .ogsbase = 0x%x, "
                   ".nssa = %d, .fslimit = 0x%x, .gslimit = 0x%x }" % (
                       t.get("ossa", 0), t.get("oentry", 0), t.get("ofsbase", 0),
                       t.get("ogsbase", 0), t.get("nssa", 0),
                       t.get("fslimit", 0xFFF) if t else 0,
                       t.get("gslimit", 0xFFF) if t else 0))
            content = {"zero": "TM_VEC_ZERO", "pattern": "TM_VEC_PATTERN",
                       "tcs": "TM_VEC_TCS"}[r.content]
            w(f"    {{ .offset = 0x{r.offset:x}, .size = 0x{r.size:x}, "
              f".secinfo_flags = 0x{r.flags:x}, .data_len = 0x{r.data_len:x},")
            w(f"      .content = {content}, .measured = {str(r.measured).lower()}, "
              f".on_demand = {str(r.on_demand).lower()},")
            w(f"      .tcs = {tcs} }},")
        w("};")
        w(f"static const uint64_t tm_vec_{v.name}_bases[] = {{ "
          + ", ".join(f"0x{b:x}" for b in v.bases) + " };")
        w(f"static const struct tm_vec_block tm_vec_{v.name}_blocks[] = {{")
        for op, a, b, raw in measure_blocks(v, v.bases[0]):
            if op == "EEXTEND":
                b = struct.unpack("<Q", hashlib.sha256(b).digest()[:8])[0]
            elif op == "EADD":
                b = struct.unpack("<Q", raw[16:24])[0]   # the flags as hashed
            w(f"    {{ TM_VEC_{op}, 0x{a:x}, 0x{b:x} }},")
        w("};")
        w("")
    w("static const struct tm_vec tm_measure_vectors[] = {")
    for v in VECTORS:
        n = v.name
        s = stream(v)
        w("    {")
        w(f"        .name = \"{n}\",")
        w(f"        .comment = \"{v.comment}\",")
        w(f"        .ssa_frame_pages = {v.ssa_frame_pages},")
        w(f"        .enclave_size = 0x{v.enclave_size:x},")
        w(f"        .ascending = {str(v.ascending).lower()},")
        w(f"        .nranges = {len(v.ranges)}, .ranges = tm_vec_{n}_ranges,")
        w(f"        .nbases = {len(v.bases)}, .bases = tm_vec_{n}_bases,")
        w(f"        .nblocks = {len(measure_blocks(v, v.bases[0]))}, .blocks = tm_vec_{n}_blocks,")
        w(f"        .stream_len = {len(s)},")
        d = mrenclave(v)
        w(f"        .mrenclave = {{ {c_bytes(d[:16])},")
        w(f"                       {c_bytes(d[16:])} }},")
        w("    },")
    w("};")
    w("")
    w("#define TM_MEASURE_VECTOR_COUNT (sizeof(tm_measure_vectors) / sizeof(tm_measure_vectors[0]))")
    w("")
    w("#endif")
    return "\n".join(out) + "\n"


def find(name):
    for v in VECTORS:
        if v.name == name:
            return v
    sys.exit(f"sgx_measure_ref.py: no vector named '{name}'")


def main(argv):
    if argv == ["--c-header"]:
        sys.stdout.write(c_header())
    elif len(argv) == 2 and argv[0] == "--stream":
        sys.stdout.buffer.write(stream(find(argv[1])))
    elif len(argv) == 2 and argv[0] == "--blocks":
        for op, a, b, raw in measure_blocks(find(argv[1]), 0):
            print(f"{op:8} {a:#x} {b.hex()[:16] + '...' if isinstance(b, bytes) else hex(b)}"
                  f"  {raw[:64].hex()}")
    elif not argv:
        for v in VECTORS:
            print(f"{v.name:24} {mrenclave(v).hex()}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
