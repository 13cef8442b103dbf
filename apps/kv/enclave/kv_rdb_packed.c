/* Walkers of Redis's packed blobs (kv_rdb.h): ziplist (ziplist.c), listpack
 * (listpack.c), intset (intset.c) and zipmap (zipmap.c). Input is hostile:
 * every length is checked against the blob before a byte is read. */
#include <errno.h>
#include <string.h>

#include "kv_rdb.h"
#include "kv_server.h"

static uint64_t le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Sign-extends the low `bits` bits of v. */
static int64_t sext(uint64_t v, int bits)
{
    uint64_t m = (uint64_t)1 << (bits - 1);
    v &= bits == 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1;
    return (int64_t)((v ^ m) - m);
}

static int emit_int(kv_rdb_elem_fn fn, void *arg, int64_t v)
{
    char buf[24];
    size_t n = kv_ll2str(buf, v);
    return fn(arg, (const unsigned char *)buf, n);
}

static int bad(const char **why, const char *what)
{
    *why = what;
    return -EINVAL;
}

/* ---- ziplist: zlbytes u32, zltail u32, zllen u16, entries, 0xFF. An entry:
 * prevlen (1 byte, or 0xFE + u32), encoding, data. */
int kv_rdb_ziplist_walk(const unsigned char *zl, size_t len, kv_rdb_elem_fn fn, void *arg,
                        const char **why)
{
    if (len < 11 || le(zl, 4) != len || zl[len - 1] != 0xFF)
        return bad(why, "ziplist header or end mark");
    uint64_t tail = le(zl + 4, 4), zllen = le(zl + 8, 2), count = 0;
    size_t off = 10, end = len - 1, prev_size = 0, last = 10;
    while (off < end) {
        size_t e = off, plen;
        if (zl[off] < 254) {
            plen = zl[off];
            off += 1;
        } else if (zl[off] == 254) {
            if (end - off < 5)
                return bad(why, "ziplist prevlen out of bounds");
            plen = (size_t)le(zl + off + 1, 4);
            off += 5;
        } else {
            return bad(why, "ziplist end mark before its end");
        }
        if (plen != prev_size)
            return bad(why, "ziplist prevlen mismatch");
        if (off >= end)
            return bad(why, "ziplist entry out of bounds");
        unsigned char b = zl[off];
        size_t hdr, dlen;
        int ibytes = 0;
        int64_t ival = 0;
        switch (b >> 6) {
        case 0: hdr = 1; dlen = b & 0x3f; break;
        case 1:
            if (end - off < 2)
                return bad(why, "ziplist entry out of bounds");
            hdr = 2;
            dlen = (size_t)(b & 0x3f) << 8 | zl[off + 1];
            break;
        case 2:
            if (b != 0x80 || end - off < 5)
                return bad(why, "ziplist string encoding");
            hdr = 5;
            dlen = (size_t)zl[off + 1] << 24 | (size_t)zl[off + 2] << 16 |
                   (size_t)zl[off + 3] << 8 | zl[off + 4];
            break;
        default:
            hdr = 1;
            switch (b) {
            case 0xC0: ibytes = 2; break;
            case 0xD0: ibytes = 4; break;
            case 0xE0: ibytes = 8; break;
            case 0xF0: ibytes = 3; break;
            case 0xFE: ibytes = 1; break;
            default:
                if (b < 0xF1 || b > 0xFD)
                    return bad(why, "ziplist integer encoding");
                ibytes = 0;
                ival = (b & 0x0f) - 1;
            }
            dlen = (size_t)ibytes;
        }
        if (end - off < hdr || end - off - hdr < dlen)
            return bad(why, "ziplist entry out of bounds");
        const unsigned char *data = zl + off + hdr;
        int rc;
        if (b >> 6 == 3) {
            if (ibytes)
                ival = sext(le(data, ibytes), ibytes * 8);
            rc = emit_int(fn, arg, ival);
        } else {
            rc = fn(arg, data, dlen);
        }
        if (rc)
            return rc;
        off += hdr + dlen;
        prev_size = off - e;
        last = e;
        count++;
    }
    if (off != end)
        return bad(why, "ziplist end mark");
    if (tail != last)
        return bad(why, "ziplist tail offset");
    if (zllen != UINT16_MAX && zllen != count)
        return bad(why, "ziplist entry count");
    return 0;
}

/* ---- listpack: total u32, count u16, entries, 0xFF. An entry: encoding,
 * data, backlen (the encoding+data size, 7 bits a byte, read backwards). */
static size_t lp_backlen(uint64_t l, unsigned char *buf)
{
    size_t n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    for (size_t i = 0; i < n; i++) {
        buf[i] = (unsigned char)((l >> (7 * (n - 1 - i))) & 127);
        if (i > 0)
            buf[i] |= 128;
    }
    return n;
}

int kv_rdb_listpack_walk(const unsigned char *lp, size_t len, kv_rdb_elem_fn fn, void *arg,
                         const char **why)
{
    if (len < 7 || le(lp, 4) != len || lp[len - 1] != 0xFF)
        return bad(why, "listpack header or end mark");
    uint64_t numele = le(lp + 4, 2), count = 0;
    size_t off = 6, end = len - 1;
    while (off < end) {
        unsigned char b = lp[off];
        size_t hdr = 1, dlen = 0, room = end - off;
        int ibits = 0;
        int64_t ival = 0;
        if (!(b & 0x80)) {
            ibits = 7;
            ival = b & 0x7f;
        } else if ((b & 0xC0) == 0x80) {
            dlen = b & 0x3f;
        } else if ((b & 0xE0) == 0xC0) {
            if (room < 2)
                return bad(why, "listpack entry out of bounds");
            ibits = 13;
            ival = sext((uint64_t)(b & 0x1f) << 8 | lp[off + 1], 13);
            hdr = 2;
        } else if ((b & 0xF0) == 0xE0) {
            if (room < 2)
                return bad(why, "listpack entry out of bounds");
            hdr = 2;
            dlen = (size_t)(b & 0x0f) << 8 | lp[off + 1];
        } else if (b == 0xF0) {
            if (room < 5)
                return bad(why, "listpack entry out of bounds");
            hdr = 5;
            dlen = (size_t)le(lp + off + 1, 4);
        } else if (b >= 0xF1 && b <= 0xF4) {
            static const int bytes[] = { 2, 3, 4, 8 };
            int n = bytes[b - 0xF1];
            if (room < 1 + (size_t)n)
                return bad(why, "listpack entry out of bounds");
            ibits = n * 8;
            ival = sext(le(lp + off + 1, n), ibits);
            hdr = 1 + (size_t)n;
        } else {
            return bad(why, b == 0xFF ? "listpack end mark before its end" : "listpack encoding");
        }
        if (room < hdr || room - hdr < dlen)
            return bad(why, "listpack entry out of bounds");
        size_t l = hdr + dlen;
        unsigned char back[5];
        size_t bl = lp_backlen(l, back);
        if (room - l < bl || memcmp(lp + off + l, back, bl) != 0)
            return bad(why, "listpack backlen");
        int rc = ibits ? emit_int(fn, arg, ival) : fn(arg, lp + off + hdr, dlen);
        if (rc)
            return rc;
        off += l + bl;
        count++;
    }
    if (numele != UINT16_MAX && numele != count)
        return bad(why, "listpack entry count");
    return 0;
}

/* ---- intset: encoding u32 (2, 4, 8 bytes), length u32, sorted integers. */
int kv_rdb_intset_walk(const unsigned char *is, size_t len, kv_rdb_elem_fn fn, void *arg,
                       const char **why)
{
    if (len < 8)
        return bad(why, "intset header");
    uint64_t enc = le(is, 4), n = le(is + 4, 4);
    if (enc != 2 && enc != 4 && enc != 8)
        return bad(why, "intset encoding");
    if ((len - 8) / enc != n || (len - 8) % enc)
        return bad(why, "intset length");
    int64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
        int64_t v = sext(le(is + 8 + i * enc, (int)enc), (int)enc * 8);
        if (i && v <= prev)
            return bad(why, "intset not sorted or has duplicates");
        prev = v;
        int rc = emit_int(fn, arg, v);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- zipmap: zmlen u8, then (len, field, len, free u8, value, free bytes)
 * pairs, 0xFF. A len is a byte < 254, or 254 + u32. */
static int zm_len(const unsigned char *zm, size_t end, size_t *off, size_t *out)
{
    if (*off >= end)
        return -1;
    unsigned char b = zm[*off];
    if (b < 254) {
        *out = b;
        *off += 1;
        return 0;
    }
    if (b != 254 || end - *off < 5)
        return -1;
    *out = (size_t)le(zm + *off + 1, 4);
    *off += 5;
    return 0;
}

int kv_rdb_zipmap_walk(const unsigned char *zm, size_t len, kv_rdb_elem_fn fn, void *arg,
                       const char **why)
{
    if (len < 2 || zm[len - 1] != 0xFF)
        return bad(why, "zipmap header or end mark");
    size_t off = 1, end = len - 1, count = 0;
    while (off < end) {
        for (int part = 0; part < 2; part++) {
            size_t l;
            if (zm_len(zm, end, &off, &l))
                return bad(why, "zipmap length");
            size_t free_bytes = 0;
            if (part == 1) {
                if (off >= end)
                    return bad(why, "zipmap free byte");
                free_bytes = zm[off++];
            }
            if (end - off < l || end - off - l < free_bytes)
                return bad(why, "zipmap entry out of bounds");
            int rc = fn(arg, zm + off, l);
            if (rc)
                return rc;
            off += l + free_bytes;
        }
        count++;
    }
    if (zm[0] < 254 && zm[0] != count)
        return bad(why, "zipmap entry count");
    return 0;
}
