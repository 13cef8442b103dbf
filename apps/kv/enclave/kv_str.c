/* Binary-safe strings (kv.h): a length, a capacity and the bytes, always
 * NUL-terminated. The capacity is what the allocator's class really gives, so
 * APPEND and SETRANGE grow in place while they fit. */
#include <string.h>

#include "kv_server.h"

#define KV_STR_HEADER (sizeof(struct kv_str) + 1)   /* + the NUL */

static struct kv_str *kv_str_alloc(size_t len)
{
    if (len > UINT32_MAX - KV_STR_HEADER)
        __builtin_trap();   /* callers bound lengths (proto-max-bulk-len, 512 MB) */
    struct kv_str *s = kv_alloc(KV_STR_HEADER + len);
    size_t cap = kv_usable(s) - KV_STR_HEADER;
    s->cap = cap > UINT32_MAX - KV_STR_HEADER ? UINT32_MAX - KV_STR_HEADER : (uint32_t)cap;
    s->len = (uint32_t)len;
    return s;
}

struct kv_str *kv_str_new(const void *p, size_t len)
{
    struct kv_str *s = kv_str_alloc(len);
    if (len)
        memcpy(s->data, p, len);
    s->data[len] = '\0';
    return s;
}

struct kv_str *kv_str_dup(const struct kv_str *s) { return kv_str_new(s->data, s->len); }

struct kv_str *kv_str_from_int(int64_t v)
{
    char buf[24];
    size_t n = kv_ll2str(buf, v);
    return kv_str_new(buf, n);
}

struct kv_str *kv_str_reserve(struct kv_str *s, size_t len)
{
    if (len <= s->cap)
        return s;
    if (len > UINT32_MAX - KV_STR_HEADER)
        __builtin_trap();
    /* grow geometrically below 1 MB, as sdsMakeRoomFor does */
    size_t want = len < 1024 * 1024 ? len * 2 : len + 1024 * 1024;
    if (want > UINT32_MAX - KV_STR_HEADER)
        want = UINT32_MAX - KV_STR_HEADER;
    s = kv_realloc(s, KV_STR_HEADER + want);
    size_t cap = kv_usable(s) - KV_STR_HEADER;
    s->cap = cap > UINT32_MAX - KV_STR_HEADER ? UINT32_MAX - KV_STR_HEADER : (uint32_t)cap;
    return s;
}

struct kv_str *kv_str_append(struct kv_str *s, const void *p, size_t len)
{
    s = kv_str_reserve(s, (size_t)s->len + len);
    if (len)
        memcpy(s->data + s->len, p, len);
    s->len += (uint32_t)len;
    s->data[s->len] = '\0';
    return s;
}

void kv_str_free(struct kv_str *s) { kv_free(s); }

bool kv_str_eq(const struct kv_str *a, const struct kv_str *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

int kv_str_cmp(const struct kv_str *a, const struct kv_str *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int r = memcmp(a->data, b->data, n);
    if (r)
        return r;
    return a->len < b->len ? -1 : a->len > b->len;
}

bool kv_str_is(const struct kv_str *s, const char *word)
{
    size_t n = strlen(word);
    return s->len == n && strncasecmp(s->data, word, n) == 0;
}

/* ---- SipHash-1-2 (what Redis uses for its dicts), keyed per store. */
#define KV_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define KV_SIPROUND                                                        \
    do {                                                                   \
        v0 += v1; v1 = KV_ROTL(v1, 13); v1 ^= v0; v0 = KV_ROTL(v0, 32);     \
        v2 += v3; v3 = KV_ROTL(v3, 16); v3 ^= v2;                          \
        v0 += v3; v3 = KV_ROTL(v3, 21); v3 ^= v0;                          \
        v2 += v1; v1 = KV_ROTL(v1, 17); v1 ^= v2; v2 = KV_ROTL(v2, 32);     \
    } while (0)

uint64_t kv_hash(const void *p, size_t len) { return kv_hash_seeded(kv_server()->hash_seed, p, len); }

uint64_t kv_hash_seeded(const uint64_t seed[2], const void *p, size_t len)
{
    uint64_t k0 = seed[0], k1 = seed[1];
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    const uint8_t *in = p;
    const uint8_t *end = in + len - (len % 8);
    uint64_t b = (uint64_t)len << 56;
    for (; in != end; in += 8) {
        uint64_t m;
        memcpy(&m, in, 8);
        v3 ^= m;
        KV_SIPROUND;
        v0 ^= m;
    }
    uint64_t t = 0;
    switch (len & 7) {
    case 7: t |= (uint64_t)in[6] << 48; /* fall through */
    case 6: t |= (uint64_t)in[5] << 40; /* fall through */
    case 5: t |= (uint64_t)in[4] << 32; /* fall through */
    case 4: t |= (uint64_t)in[3] << 24; /* fall through */
    case 3: t |= (uint64_t)in[2] << 16; /* fall through */
    case 2: t |= (uint64_t)in[1] << 8;  /* fall through */
    case 1: t |= (uint64_t)in[0]; break;
    case 0: break;
    }
    b |= t;
    v3 ^= b;
    KV_SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    KV_SIPROUND;
    KV_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- Numbers, Redis's rules. */

/* string2ll: optional '-', then digits without a leading zero ("0" alone is
 * fine), nothing else, within int64. */
static bool kv_string2ll(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 20)
        return false;
    if (len == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        if (++i == len)
            return false;
    }
    if (s[i] < '1' || s[i] > '9')
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > UINT64_MAX / 10)
            return false;
        v *= 10;
        if (v > UINT64_MAX - (uint64_t)(s[i] - '0'))
            return false;
        v += (uint64_t)(s[i] - '0');
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

bool kv_str_to_int64(const struct kv_str *s, int64_t *out)
{
    return kv_string2ll(s->data, s->len, out);
}

bool kv_parse_int64(const char *p, size_t len, int64_t *out) { return kv_string2ll(p, len, out); }
