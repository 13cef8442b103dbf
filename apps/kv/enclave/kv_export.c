/* `teemate kv export` and `teemate kv import` inside the enclave
 * (KV_ECALL_EXPORT, KV_ECALL_IMPORT): a sealed dump to a plain RDB and back,
 * through the host's two files (kv_file.c). The host writes to a temporary
 * file and keeps it only when the ecall returns 0. The RDB is not parsed
 * here (the server's load does that): import checks what a stream can,
 * the magic, the version and the CRC64 trailer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "kv_entry.h"
#include "kv_persist.h"
#include "kv_server.h"

#define KV_EXPORT_BUF (64U * 1024)
#define KV_RDB_VERSION_MAX 10
#define KV_RDB_VERSION_MIN 5     /* the first with a CRC64 trailer */
#define KV_RDB_MAGIC_LEN 9       /* "REDIS0010" */
#define KV_RDB_OPCODE_EOF 0xFF

/* The reason, for the host's message (out may be NULL / out_cap 0). */
static int kv_export_fail(int r, void *out, size_t out_cap, size_t *out_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int kv_export_fail(int r, void *out, size_t out_cap, size_t *out_len, const char *fmt, ...)
{
    if (out && out_cap) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(out, out_cap, fmt, ap);
        va_end(ap);
        *out_len = n < 0 ? 0 : (size_t)n + 1 > out_cap ? out_cap : (size_t)n + 1;
    }
    return r;
}

/* Tells a failure of the output file from one of the sealed input. */
struct kv_export_out {
    struct kv_sink file;
    int error;
};

static int kv_export_out_write(void *arg, const void *p, size_t n)
{
    struct kv_export_out *o = arg;
    int r = o->file.write(o->file.arg, p, n);
    if (r < 0)
        o->error = r;
    return r;
}

int kv_export(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    *out_len = 0;
    if (in_len)
        return -EINVAL;
    struct kv_source file = kv_file_source(), plain;
    struct kv_export_out o = { .file = kv_file_sink() };
    struct kv_sealed *r = NULL;
    uint8_t *buf = kv_platform_alloc(KV_EXPORT_BUF);
    if (!buf)
        return -ENOMEM;
    int e = kv_sealed_reader_new(&file, &r, &plain);
    while (e == 0) {
        long got = kv_sealed_reader_read(r, buf, KV_EXPORT_BUF);
        if (got <= 0) {
            e = (int)got;
            break;
        }
        e = kv_export_out_write(&o, buf, (size_t)got);
    }
    if (e == 0)
        e = kv_sealed_reader_finish(r);
    kv_sealed_free(r);
    mbedtls_platform_zeroize(buf, KV_EXPORT_BUF);
    kv_platform_free(buf);
    if (e == 0)
        return 0;
    if (o.error)
        return kv_export_fail(e, out, out_cap, out_len, "cannot write the RDB file");
    if (e == -EBADMSG || e == -ENODATA)
        return kv_export_fail(e, out, out_cap, out_len, "sealed file does not authenticate "
                              "(tampered, truncated, or sealed by another signer)");
    if (e == -ENOTSUP)
        return kv_export_fail(e, out, out_cap, out_len, "no sealing key on this platform");
    return kv_export_fail(e, out, out_cap, out_len, "cannot read the sealed file");
}

/* ---- Import: a plain RDB, checked as it streams, into the sealer. */

struct kv_import {
    struct kv_sink *sealed;    /* plaintext in, sealed bytes to the file */
    uint64_t crc;              /* of every byte but the held trailer */
    uint64_t total;
    uint8_t head[KV_RDB_MAGIC_LEN];
    uint8_t held[8];           /* the last 8 bytes so far: maybe the CRC */
    size_t held_len;
    uint8_t last;              /* the last byte before held (0xFF at the end) */
};

/* Passes p on, keeping the last 8 bytes of the stream back from the CRC. */
static int kv_import_feed(struct kv_import *im, const uint8_t *p, size_t n)
{
    if (im->total < KV_RDB_MAGIC_LEN) {
        size_t take = KV_RDB_MAGIC_LEN - im->total < n ? KV_RDB_MAGIC_LEN - im->total : n;
        memcpy(im->head + im->total, p, take);
    }
    im->total += n;
    /* release held bytes that are no longer among the last 8 */
    size_t keep_from_p = n < 8 ? n : 8;
    size_t release_held = im->held_len + keep_from_p > 8 ? im->held_len + keep_from_p - 8 : 0;
    int r;
    if (release_held) {
        im->crc = kv_crc64(im->crc, im->held, release_held);
        im->last = im->held[release_held - 1];
        if ((r = im->sealed->write(im->sealed->arg, im->held, release_held)) < 0)
            return r;
        memmove(im->held, im->held + release_held, im->held_len - release_held);
        im->held_len -= release_held;
    }
    size_t pass = n - keep_from_p;
    if (pass) {
        im->crc = kv_crc64(im->crc, p, pass);
        im->last = p[pass - 1];
        if ((r = im->sealed->write(im->sealed->arg, p, pass)) < 0)
            return r;
    }
    memcpy(im->held + im->held_len, p + pass, keep_from_p);
    im->held_len += keep_from_p;
    return 0;
}

static int kv_import_check_head(const struct kv_import *im, char *why, size_t why_len)
{
    if (memcmp(im->head, "REDIS", 5)) {
        snprintf(why, why_len, "not an RDB file (no REDIS magic)");
        return -EINVAL;
    }
    int version = 0;
    for (int i = 5; i < KV_RDB_MAGIC_LEN; i++) {
        if (im->head[i] < '0' || im->head[i] > '9') {
            snprintf(why, why_len, "not an RDB file (bad version in the magic)");
            return -EINVAL;
        }
        version = version * 10 + (im->head[i] - '0');
    }
    if (version > KV_RDB_VERSION_MAX || version < KV_RDB_VERSION_MIN) {
        snprintf(why, why_len, "RDB version %d is not supported (%d to %d)", version,
                 KV_RDB_VERSION_MIN, KV_RDB_VERSION_MAX);
        return -EINVAL;
    }
    return 0;
}

/* The end of the stream: the byte before the trailer is EOF (0xFF) and the
 * trailer is the CRC64 of everything before it (or 0: not computed). */
static int kv_import_check_tail(const struct kv_import *im, char *why, size_t why_len)
{
    if (im->total < KV_RDB_MAGIC_LEN + 1 + 8) {
        snprintf(why, why_len, "truncated RDB file (%llu bytes)", (unsigned long long)im->total);
        return -ENODATA;
    }
    uint64_t stored = 0;
    for (int i = 7; i >= 0; i--)
        stored = stored << 8 | im->held[i];
    if (im->last != KV_RDB_OPCODE_EOF) {
        snprintf(why, why_len, "truncated RDB file (no EOF opcode before the checksum)");
        return -EBADMSG;
    }
    if (stored != 0 && stored != im->crc) {
        snprintf(why, why_len, "RDB checksum mismatch (truncated or corrupt file)");
        return -EBADMSG;
    }
    return 0;
}

int kv_import(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    *out_len = 0;
    if (in_len)
        return -EINVAL;
    struct kv_sink file = kv_file_sink(), plain;
    struct kv_sealed *w = NULL;
    char why[160] = "";
    uint8_t *buf = kv_platform_alloc(KV_EXPORT_BUF);
    if (!buf)
        return -ENOMEM;
    int e = kv_sealed_writer_new(&file, &w, &plain);
    if (e < 0)
        snprintf(why, sizeof why, e == -ENOTSUP ? "no sealing key on this platform"
                                                : "cannot start the sealed file");
    struct kv_import im = { .sealed = &plain };
    bool head_checked = false;
    while (e == 0) {
        long got = kv_platform_file_read(buf, KV_EXPORT_BUF);
        if (got < 0) {
            e = (int)got;
            snprintf(why, sizeof why, "cannot read the RDB file");
            break;
        }
        if (got == 0)
            break;
        if ((size_t)got > KV_EXPORT_BUF) {
            e = -EIO;
            break;
        }
        if ((e = kv_import_feed(&im, buf, (size_t)got)) < 0) {
            snprintf(why, sizeof why, "cannot write the sealed file");
            break;
        }
        if (!head_checked && im.total >= KV_RDB_MAGIC_LEN) {
            head_checked = true;
            e = kv_import_check_head(&im, why, sizeof why);
        }
    }
    if (e == 0 && !head_checked &&
        (im.total == 0 || memcmp(im.head, "REDIS", im.total < 5 ? im.total : 5))) {
        e = -EINVAL;
        snprintf(why, sizeof why, im.total ? "not an RDB file (no REDIS magic)"
                                           : "empty file, not an RDB file");
    }
    if (e == 0)
        e = kv_import_check_tail(&im, why, sizeof why);
    if (e == 0 && (e = plain.write(plain.arg, im.held, im.held_len)) < 0)
        snprintf(why, sizeof why, "cannot write the sealed file");
    if (e == 0 && (e = kv_sealed_writer_finish(w)) < 0)
        snprintf(why, sizeof why, "cannot write the sealed file");
    kv_sealed_free(w);
    mbedtls_platform_zeroize(buf, KV_EXPORT_BUF);
    kv_platform_free(buf);
    mbedtls_platform_zeroize(&im, sizeof im);
    if (e < 0)
        return kv_export_fail(e, out, out_cap, out_len, "%s", why[0] ? why : "import failed");
    return 0;
}
