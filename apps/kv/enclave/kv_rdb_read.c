/* The RDB loader's reader (kv_rdb.h): exact reads, lengths and strings in
 * every encoding, with hostile lengths refused or read without allocating
 * ahead of the data (a length of 2^60 fails at the end of the file, not in
 * malloc). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kv_rdb.h"
#include "kv_server.h"

/* Below this a string is allocated at once; above, it grows as bytes come. */
#define RDB_READ_STEP (1U << 20)

int kv_rdb_fail(struct kv_rdb_reader *r, int rc, const char *fmt, ...)
{
    if (r->err && r->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int kv_rdb_read(struct kv_rdb_reader *r, void *p, size_t n)
{
    if (!n)
        return 0;
    int rc = r->in->read(r->in->arg, p, n);
    if (rc == -ENODATA)
        return kv_rdb_fail(r, rc, "unexpected end of the RDB file reading %zu bytes at offset %llu",
                           n, (unsigned long long)r->offset);
    if (rc < 0)
        return kv_rdb_fail(r, rc, "read error (%d) at offset %llu", rc,
                           (unsigned long long)r->offset);
    r->crc = kv_crc64(r->crc, p, n);
    r->offset += n;
    return 0;
}

int kv_rdb_read_byte(struct kv_rdb_reader *r, unsigned char *b) { return kv_rdb_read(r, b, 1); }

int kv_rdb_read_len(struct kv_rdb_reader *r, uint64_t *len, bool *encoded)
{
    unsigned char b[8];
    uint64_t at = r->offset;
    int rc = kv_rdb_read_byte(r, b);
    if (rc)
        return rc;
    if (encoded)
        *encoded = false;
    switch (b[0] >> 6) {
    case KV_RDB_6BITLEN:
        *len = b[0] & 0x3f;
        return 0;
    case KV_RDB_14BITLEN: {
        unsigned char lo;
        if ((rc = kv_rdb_read_byte(r, &lo)))
            return rc;
        *len = (uint64_t)(b[0] & 0x3f) << 8 | lo;
        return 0;
    }
    case KV_RDB_ENCVAL:
        if (!encoded)
            return kv_rdb_fail(r, -EINVAL, "encoded value where a length belongs at offset %llu",
                               (unsigned long long)at);
        *encoded = true;
        *len = b[0] & 0x3f;
        return 0;
    }
    int n = b[0] == KV_RDB_32BITLEN ? 4 : b[0] == KV_RDB_64BITLEN ? 8 : 0;
    if (!n)
        return kv_rdb_fail(r, -EINVAL, "unknown length encoding 0x%02x at offset %llu", b[0],
                           (unsigned long long)at);
    if ((rc = kv_rdb_read(r, b, (size_t)n)))
        return rc;
    *len = 0;
    for (int i = 0; i < n; i++)
        *len = *len << 8 | b[i];
    return 0;
}

static uint64_t max_string(void)
{
    uint64_t conf = kv_server()->config.proto_max_bulk_len;
    uint64_t max = conf > KV_RDB_MAX_STRING ? conf : KV_RDB_MAX_STRING;
    return max > UINT32_MAX - 64 ? UINT32_MAX - 64 : max;
}

/* A kv_str of len bytes (uninitialised, NUL-terminated), its capacity what
 * the allocator gave, as kv_str_new makes them. */
static struct kv_str *str_alloc(size_t len)
{
    struct kv_str *s = kv_alloc(sizeof *s + len + 1);
    size_t usable = kv_usable(s) - sizeof *s - 1;
    s->cap = usable > UINT32_MAX - sizeof *s - 1 ? (uint32_t)len : (uint32_t)usable;
    s->len = (uint32_t)len;
    s->data[len] = '\0';
    return s;
}

/* A kv_str of exactly len bytes read from r, grown as the bytes arrive. */
static int read_raw(struct kv_rdb_reader *r, uint64_t len, struct kv_str **out)
{
    if (len > max_string())
        return kv_rdb_fail(r, -EINVAL, "string of %llu bytes (over %llu) at offset %llu",
                           (unsigned long long)len, (unsigned long long)max_string(),
                           (unsigned long long)r->offset);
    size_t have = 0, cap = len < RDB_READ_STEP ? (size_t)len : RDB_READ_STEP;
    struct kv_str *s = kv_alloc(sizeof *s + cap + 1);
    for (;;) {
        int rc = kv_rdb_read(r, s->data + have, cap - have);
        if (rc) {
            kv_free(s);
            return rc;
        }
        have = cap;
        if (have == len)
            break;
        cap = len - have < cap ? (size_t)len : cap * 2;
        s = kv_realloc(s, sizeof *s + cap + 1);
    }
    s->len = (uint32_t)len;
    size_t usable = kv_usable(s) - sizeof *s - 1;
    s->cap = usable > UINT32_MAX - sizeof *s - 1 ? (uint32_t)len : (uint32_t)usable;
    s->data[len] = '\0';
    *out = s;
    return 0;
}

static int read_lzf(struct kv_rdb_reader *r, struct kv_str **out)
{
    uint64_t at = r->offset, clen, len;
    int rc;
    if ((rc = kv_rdb_read_len(r, &clen, NULL)) || (rc = kv_rdb_read_len(r, &len, NULL)))
        return rc;
    if (len > max_string() || !clen || len / KV_LZF_MAX_RATIO > clen)
        return kv_rdb_fail(r, -EINVAL,
                           "LZF string of %llu bytes from %llu compressed at offset %llu",
                           (unsigned long long)len, (unsigned long long)clen,
                           (unsigned long long)at);
    struct kv_str *c;
    if ((rc = read_raw(r, clen, &c)))
        return rc;
    struct kv_str *s = str_alloc((size_t)len);
    rc = kv_lzf_decompress(c->data, c->len, s->data, (size_t)len);
    kv_str_free(c);
    if (rc) {
        kv_str_free(s);
        return kv_rdb_fail(r, rc, "invalid LZF data at offset %llu", (unsigned long long)at);
    }
    *out = s;
    return 0;
}

int kv_rdb_read_string(struct kv_rdb_reader *r, struct kv_str **out)
{
    uint64_t at = r->offset, len;
    bool encoded;
    int rc = kv_rdb_read_len(r, &len, &encoded);
    if (rc)
        return rc;
    if (!encoded)
        return read_raw(r, len, out);
    unsigned char b[4];
    switch (len) {
    case KV_RDB_ENC_INT8:
    case KV_RDB_ENC_INT16:
    case KV_RDB_ENC_INT32: {
        int n = 1 << len;
        if ((rc = kv_rdb_read(r, b, (size_t)n)))
            return rc;
        uint32_t u = 0;
        for (int i = n - 1; i >= 0; i--)
            u = u << 8 | b[i];
        int64_t v = n == 1 ? (int8_t)u : n == 2 ? (int16_t)u : (int32_t)u;
        *out = kv_str_from_int(v);
        return 0;
    }
    case KV_RDB_ENC_LZF:
        return read_lzf(r, out);
    }
    return kv_rdb_fail(r, -EINVAL, "unknown string encoding %llu at offset %llu",
                       (unsigned long long)len, (unsigned long long)at);
}

int kv_rdb_read_string_double(struct kv_rdb_reader *r, double *out)
{
    uint64_t at = r->offset;
    unsigned char n;
    int rc = kv_rdb_read_byte(r, &n);
    if (rc)
        return rc;
    if (n == 253)
        return kv_rdb_fail(r, -EINVAL, "NaN score at offset %llu", (unsigned long long)at);
    if (n == 254 || n == 255) {
        *out = n == 254 ? __builtin_inf() : -__builtin_inf();
        return 0;
    }
    struct kv_str *s = str_alloc(n);
    if ((rc = kv_rdb_read(r, s->data, n))) {
        kv_str_free(s);
        return rc;
    }
    bool ok = kv_str_to_double(s, out);
    kv_str_free(s);
    return ok ? 0 : kv_rdb_fail(r, -EINVAL, "invalid score at offset %llu", (unsigned long long)at);
}
