/* Sealed files (kv_persist.h): AES-128-GCM in chunks under a fresh EGETKEY
 * SEAL key per file (random key_id, MRSIGNER policy).
 *
 *   header  magic "TMKVSEAL", u16 version 1, u16 policy, u32 chunk size,
 *           key_id[32], cpu_svn[16], u16 isv_svn, 6 zero bytes   (72 bytes)
 *   chunk   u32 len, u32 flags (KV_SEALED_FINAL), len bytes of ciphertext,
 *           16-byte tag                                   ... until FINAL
 *
 * Every chunk but the last holds exactly chunk-size bytes; the last one
 * (FINAL) holds 0..chunk size (0 only for an empty stream). A chunk's IV is
 * its index (unique per key: one key per file) and its additional data is
 * the whole header, the index, len and flags: the header's key request is
 * authenticated by every chunk, chunks cannot be reordered, dropped, cut
 * short or made final, and nothing may follow the final one. Integers are
 * little-endian. A chunk's plaintext is handed out only after its tag. */
#include <errno.h>
#include <string.h>

#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>

#include "kv_persist.h"
#include "kv_server.h"
#include "sgx_arch.h"

#define KV_SEALED_VERSION 1
#define KV_SEALED_HEADER 72
#define KV_SEALED_CHUNK (64U * 1024)   /* what the writer uses */
#define KV_SEALED_CHUNK_MIN 4096U      /* what a reader accepts: powers of two */
#define KV_SEALED_CHUNK_MAX (1U << 20)
#define KV_SEALED_CHUNK_HEAD 8
#define KV_SEALED_TAG 16
#define KV_SEALED_FINAL 1U
#define KV_SEALED_AAD (KV_SEALED_HEADER + 16)

struct kv_sealed {
    bool writer;
    bool final;              /* writer: finished; reader: the final chunk is in */
    int error;               /* sticky: once failed, always failed */
    struct kv_sink *sink;    /* the file (writer) */
    struct kv_source *source;/* the file (reader) */
    mbedtls_gcm_context gcm;
    uint8_t header[KV_SEALED_HEADER];
    uint32_t chunk_size;
    uint64_t index;          /* of the next chunk */
    uint8_t *buf;            /* chunk head, text (plain or not), tag */
    size_t fill;             /* plaintext bytes in buf */
    size_t pos;              /* reader: of them handed out */
};

static void kv_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void kv_put32(uint8_t *p, uint32_t v) { kv_put16(p, (uint16_t)v); kv_put16(p + 2, (uint16_t)(v >> 16)); }
static void kv_put64(uint8_t *p, uint64_t v) { kv_put32(p, (uint32_t)v); kv_put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t kv_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t kv_get32(const uint8_t *p) { return kv_get16(p) | (uint32_t)kv_get16(p + 2) << 16; }

static void kv_sealed_header_put(uint8_t h[KV_SEALED_HEADER], const struct kv_seal_keyreq *req,
                                 uint32_t chunk_size)
{
    memset(h, 0, KV_SEALED_HEADER);
    memcpy(h, KV_SEALED_MAGIC, 8);
    kv_put16(h + 8, KV_SEALED_VERSION);
    kv_put16(h + 10, req->policy);
    kv_put32(h + 12, chunk_size);
    memcpy(h + 16, req->key_id, sizeof req->key_id);
    memcpy(h + 48, req->cpu_svn, sizeof req->cpu_svn);
    kv_put16(h + 64, req->isv_svn);
}

static int kv_sealed_header_get(const uint8_t h[KV_SEALED_HEADER], struct kv_seal_keyreq *req,
                                uint32_t *chunk_size)
{
    static const uint8_t zero[6];
    uint32_t cs = kv_get32(h + 12);
    if (memcmp(h, KV_SEALED_MAGIC, 8) || kv_get16(h + 8) != KV_SEALED_VERSION ||
        kv_get16(h + 10) != SGX_KEYPOLICY_MRSIGNER || cs < KV_SEALED_CHUNK_MIN ||
        cs > KV_SEALED_CHUNK_MAX || (cs & (cs - 1)) || memcmp(h + 66, zero, sizeof zero))
        return -EBADMSG;
    memcpy(req->key_id, h + 16, sizeof req->key_id);
    memcpy(req->cpu_svn, h + 48, sizeof req->cpu_svn);
    req->isv_svn = kv_get16(h + 64);
    req->policy = SGX_KEYPOLICY_MRSIGNER;
    *chunk_size = cs;
    return 0;
}

/* The chunk's IV and additional data. */
static void kv_sealed_chunk_params(const struct kv_sealed *s, uint32_t len, uint32_t flags,
                                   uint8_t iv[12], uint8_t aad[KV_SEALED_AAD])
{
    memset(iv, 0, 12);
    kv_put64(iv, s->index);
    memcpy(aad, s->header, KV_SEALED_HEADER);
    kv_put64(aad + KV_SEALED_HEADER, s->index);
    kv_put32(aad + KV_SEALED_HEADER + 8, len);
    kv_put32(aad + KV_SEALED_HEADER + 12, flags);
}

static int kv_sealed_new(bool writer, const struct kv_seal_keyreq *req, uint32_t chunk_size,
                         struct kv_sealed **out)
{
    struct kv_sealed *s = kv_platform_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    memset(s, 0, sizeof *s);
    s->writer = writer;
    s->chunk_size = chunk_size;
    mbedtls_gcm_init(&s->gcm);
    kv_sealed_header_put(s->header, req, chunk_size);
    s->buf = kv_platform_alloc(KV_SEALED_CHUNK_HEAD + chunk_size + KV_SEALED_TAG);
    if (!s->buf) {
        kv_sealed_free(s);
        return -ENOMEM;
    }
    uint8_t key[16];
    int r = kv_platform_seal_key(req, key);
    if (r == 0 && mbedtls_gcm_setkey(&s->gcm, MBEDTLS_CIPHER_ID_AES, key, 128) != 0)
        r = -EIO;
    mbedtls_platform_zeroize(key, sizeof key);
    if (r < 0) {
        kv_sealed_free(s);
        return r;
    }
    *out = s;
    return 0;
}

void kv_sealed_free(struct kv_sealed *s)
{
    if (!s)
        return;
    mbedtls_gcm_free(&s->gcm);   /* wipes the key schedule */
    if (s->buf) {
        mbedtls_platform_zeroize(s->buf, KV_SEALED_CHUNK_HEAD + s->chunk_size + KV_SEALED_TAG);
        kv_platform_free(s->buf);
    }
    mbedtls_platform_zeroize(s, sizeof *s);
    kv_platform_free(s);
}

/* ---- Writer. */

/* Seals the buffered plaintext (in place) as the next chunk and writes it. */
static int kv_sealed_emit(struct kv_sealed *s, uint32_t flags)
{
    uint32_t len = (uint32_t)s->fill;
    uint8_t iv[12], aad[KV_SEALED_AAD];
    kv_sealed_chunk_params(s, len, flags, iv, aad);
    kv_put32(s->buf, len);
    kv_put32(s->buf + 4, flags);
    uint8_t *text = s->buf + KV_SEALED_CHUNK_HEAD;
    if (mbedtls_gcm_crypt_and_tag(&s->gcm, MBEDTLS_GCM_ENCRYPT, len, iv, sizeof iv, aad,
                                  sizeof aad, text, text, KV_SEALED_TAG, text + len) != 0)
        return -EIO;
    s->index++;
    s->fill = 0;
    return s->sink->write(s->sink->arg, s->buf, KV_SEALED_CHUNK_HEAD + len + KV_SEALED_TAG);
}

static int kv_sealed_plain_write(void *arg, const void *p, size_t n)
{
    struct kv_sealed *s = arg;
    const uint8_t *b = p;
    if (s->error)
        return s->error;
    if (s->final)
        return -EINVAL;
    while (n) {
        /* a full chunk goes out only when more follows: the last one is FINAL */
        if (s->fill == s->chunk_size && (s->error = kv_sealed_emit(s, 0)) < 0)
            return s->error;
        size_t take = s->chunk_size - s->fill < n ? s->chunk_size - s->fill : n;
        memcpy(s->buf + KV_SEALED_CHUNK_HEAD + s->fill, b, take);
        s->fill += take;
        b += take;
        n -= take;
    }
    return 0;
}

int kv_sealed_writer_new(struct kv_sink *file, struct kv_sealed **out, struct kv_sink *plain)
{
    struct kv_seal_keyreq req;
    memset(&req, 0, sizeof req);
    req.policy = SGX_KEYPOLICY_MRSIGNER;
    for (size_t i = 0; i < sizeof req.key_id; i += 8) {
        uint64_t v = kv_platform_random_u64();
        memcpy(req.key_id + i, &v, sizeof v);
    }
    int r = kv_platform_seal_identity(&req);
    struct kv_sealed *s = NULL;
    if (r == 0)
        r = kv_sealed_new(true, &req, KV_SEALED_CHUNK, &s);
    if (r < 0)
        return r;
    s->sink = file;
    if ((r = file->write(file->arg, s->header, sizeof s->header)) < 0) {
        kv_sealed_free(s);
        return r;
    }
    *plain = (struct kv_sink){ .write = kv_sealed_plain_write, .arg = s };
    *out = s;
    return 0;
}

int kv_sealed_writer_finish(struct kv_sealed *w)
{
    if (!w->writer)
        return -EINVAL;
    if (w->error)
        return w->error;
    if (w->final)
        return -EINVAL;
    w->final = true;
    return w->error = kv_sealed_emit(w, KV_SEALED_FINAL);
}

/* ---- Reader. */

/* Reads, checks and decrypts the next chunk into buf. -ENODATA past the
 * final one (the caller wanted more plaintext than there is). */
static int kv_sealed_next(struct kv_sealed *s)
{
    if (s->final)
        return -ENODATA;
    uint8_t head[KV_SEALED_CHUNK_HEAD];
    int r = s->source->read(s->source->arg, head, sizeof head);
    if (r < 0)
        return r;   /* -ENODATA: no final chunk, the file was cut */
    uint32_t len = kv_get32(head), flags = kv_get32(head + 4);
    if ((flags & ~KV_SEALED_FINAL) || len > s->chunk_size ||
        (!(flags & KV_SEALED_FINAL) && len != s->chunk_size))
        return -EBADMSG;
    uint8_t *text = s->buf + KV_SEALED_CHUNK_HEAD;
    if ((r = s->source->read(s->source->arg, text, (size_t)len + KV_SEALED_TAG)) < 0)
        return r;
    uint8_t iv[12], aad[KV_SEALED_AAD];
    kv_sealed_chunk_params(s, len, flags, iv, aad);
    if (mbedtls_gcm_auth_decrypt(&s->gcm, len, iv, sizeof iv, aad, sizeof aad, text + len,
                                 KV_SEALED_TAG, text, text) != 0) {
        mbedtls_platform_zeroize(text, len);
        return -EBADMSG;
    }
    s->index++;
    s->fill = len;
    s->pos = 0;
    s->final = flags & KV_SEALED_FINAL;
    return 0;
}

long kv_sealed_reader_read(struct kv_sealed *r, void *p, size_t n)
{
    if (r->writer)
        return -EINVAL;
    if (r->error)
        return r->error;
    if (n == 0)
        return 0;
    if (r->pos == r->fill) {
        if (r->final)
            return 0;
        int e = kv_sealed_next(r);
        if (e < 0)
            return r->error = e;
        if (r->fill == 0)
            return 0;   /* an empty final chunk */
    }
    size_t take = r->fill - r->pos < n ? r->fill - r->pos : n;
    memcpy(p, r->buf + KV_SEALED_CHUNK_HEAD + r->pos, take);
    r->pos += take;
    return (long)take;
}

static int kv_sealed_plain_read(void *arg, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        long got = kv_sealed_reader_read(arg, b, n);
        if (got < 0)
            return (int)got;
        if (got == 0)
            return -ENODATA;
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

int kv_sealed_reader_new(struct kv_source *file, struct kv_sealed **out, struct kv_source *plain)
{
    uint8_t h[KV_SEALED_HEADER];
    int r = file->read(file->arg, h, sizeof h);
    if (r < 0)
        return r;
    struct kv_seal_keyreq req;
    uint32_t chunk_size;
    struct kv_sealed *s = NULL;
    if ((r = kv_sealed_header_get(h, &req, &chunk_size)) < 0 ||
        (r = kv_sealed_new(false, &req, chunk_size, &s)) < 0)
        return r;
    s->source = file;
    *plain = (struct kv_source){ .read = kv_sealed_plain_read, .arg = s };
    *out = s;
    return 0;
}

int kv_sealed_reader_finish(struct kv_sealed *r)
{
    if (r->writer)
        return -EINVAL;
    if (r->error)
        return r->error;
    /* all the plaintext read: the final chunk may still be ahead (an empty
     * stream); plaintext left unread is not what the caller took it for */
    int e;
    if (!r->final && r->pos == r->fill && (e = kv_sealed_next(r)) < 0)
        return r->error = e;
    if (!r->final || r->pos != r->fill)
        return r->error = -EBADMSG;
    uint8_t extra;
    e = r->source->read(r->source->arg, &extra, 1);
    if (e == 0)
        return r->error = -EBADMSG;   /* bytes after the final chunk */
    return e == -ENODATA ? 0 : (r->error = e);
}
