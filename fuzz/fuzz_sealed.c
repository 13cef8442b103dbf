/* libFuzzer target: the sealed-file reader (kv_sealed.c), natively with a
 * test key. Two modes by the first byte: the input read as a sealed file
 * (must fail cleanly: random bytes never authenticate), or the input sealed
 * as plaintext, then maybe one change (a flipped bit, a cut, a byte more)
 * at a place the input picks, then read back: unchanged it must give the
 * plaintext exactly, changed it must be refused (-EBADMSG/-ENODATA);
 * anything else aborts (an authentication bypass). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv_persist.h"
#include "kv_server.h"

struct fz_mem {
    uint8_t *p;
    size_t len, cap, pos;
};

static int fz_write(void *arg, const void *p, size_t n)
{
    struct fz_mem *m = arg;
    if (n == 0)
        return 0;
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
        if (!m->p)
            abort();
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

static int fz_read(void *arg, void *p, size_t n)
{
    struct fz_mem *m = arg;
    if (m->len - m->pos < n) {
        m->pos = m->len;
        return -ENODATA;
    }
    if (n)
        memcpy(p, m->p + m->pos, n);
    m->pos += n;
    return 0;
}

/* Reads file to its end: 0 (plaintext in *out) or the error. */
static int fz_unseal(struct fz_mem *file, struct fz_mem *out)
{
    struct kv_source fs = { fz_read, file }, ps;
    struct kv_sealed *r = NULL;
    int e = kv_sealed_reader_new(&fs, &r, &ps);
    if (e < 0)
        return e;
    uint8_t buf[4096];
    long got;
    while ((got = kv_sealed_reader_read(r, buf, sizeof buf)) > 0)
        fz_write(out, buf, (size_t)got);
    e = got < 0 ? (int)got : kv_sealed_reader_finish(r);
    kv_sealed_free(r);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[16] = "fuzz-seal-key-01";
    kv_platform_set_test_seal_key(key);
    if (size < 5)
        return 0;
    uint8_t mode = data[0];
    uint32_t where;
    memcpy(&where, data + 1, 4);
    data += 5;
    size -= 5;
    struct fz_mem file = { 0 }, out = { 0 };
    if (!(mode & 1)) {
        file.p = malloc(size ? size : 1);
        memcpy(file.p, data, size);
        file.len = file.cap = size;
        int e = fz_unseal(&file, &out);
        if (e == 0 && size)   /* only a sealed file authenticates */
            abort();
        free(file.p);
        free(out.p);
        return 0;
    }
    /* seal in pieces the input sizes */
    struct kv_sink fs = { fz_write, &file }, ps;
    struct kv_sealed *w = NULL;
    if (kv_sealed_writer_new(&fs, &w, &ps) < 0)
        abort();
    size_t piece = (size_t)(mode >> 3) * 517 + 1;
    for (size_t off = 0; off < size; off += piece)
        if (ps.write(ps.arg, data + off, size - off < piece ? size - off : piece) < 0)
            abort();
    if (kv_sealed_writer_finish(w) < 0)
        abort();
    kv_sealed_free(w);
    size_t at = where % (file.len + 1);
    bool changed = true;
    switch ((mode >> 1) % 4) {
    case 0: changed = false; break;
    case 1: if (at < file.len) file.p[at] ^= (uint8_t)(1u << (where >> 29)); else changed = false; break;
    case 2: if (at < file.len) file.len = at; else changed = false; break;
    case 3: fz_write(&file, "", 1); break;
    }
    int e = fz_unseal(&file, &out);
    if (!changed && (e != 0 || out.len != size || (size && memcmp(out.p, data, size))))
        abort();
    if (changed && e != -EBADMSG && e != -ENODATA)
        abort();
    free(file.p);
    free(out.p);
    return 0;
}
