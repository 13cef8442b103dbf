#include "enclave/measure.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "sgx_arch.h"

/* One 64-byte measurement block: an 8-byte tag, then leaf-specific fields. */
static void block_init(uint8_t block[64], const char tag[8], uint64_t offset)
{
    memset(block, 0, 64);
    memcpy(block, tag, 8);
    memcpy(block + 8, &offset, 8);
}

static int measure_update(struct tm_measure *m, const void *data, size_t len, tm_error *err)
{
    if (!EVP_DigestUpdate(m->ctx, data, len))
        return tm_error_openssl(err, EIO, "SHA-256 update failed");
    return m->sink ? m->sink(m->sink_arg, data, len, err) : 0;
}

int tm_measure_init(struct tm_measure *m, tm_measure_sink sink, void *sink_arg, tm_error *err)
{
    m->sink = sink;
    m->sink_arg = sink_arg;
    m->ctx = EVP_MD_CTX_new();
    if (!m->ctx || !EVP_DigestInit_ex(m->ctx, EVP_sha256(), NULL)) {
        tm_measure_free(m);
        return tm_error_openssl(err, ENOMEM, "cannot start SHA-256");
    }
    return 0;
}

void tm_measure_free(struct tm_measure *m)
{
    EVP_MD_CTX_free(m->ctx);
    m->ctx = NULL;
}

int tm_measure_ecreate(struct tm_measure *m, uint32_t ssa_frame_pages, uint64_t enclave_size,
                       tm_error *err)
{
    uint8_t block[64];
    block_init(block, "ECREATE\0", 0);
    /* ECREATE's block is tag, SSAFRAMESIZE (4 bytes), SIZE (8 bytes), zeros. */
    memcpy(block + 8, &ssa_frame_pages, 4);
    memcpy(block + 12, &enclave_size, 8);
    return measure_update(m, block, sizeof(block), err);
}

int tm_measure_eadd(struct tm_measure *m, uint64_t offset, uint64_t secinfo_flags, tm_error *err)
{
    uint8_t block[64];
    block_init(block, "EADD\0\0\0\0", offset);
    /* The CPU clears R/W/X of a TCS page before it measures SECINFO. */
    if ((secinfo_flags & SGX_SECINFO_PT_MASK) == SGX_SECINFO_TCS)
        secinfo_flags &= ~SGX_SECINFO_PERM_MASK;
    /* The first 48 bytes of SECINFO: FLAGS then reserved zeros. */
    memcpy(block + 16, &secinfo_flags, 8);
    return measure_update(m, block, sizeof(block), err);
}

int tm_measure_eextend_page(struct tm_measure *m, uint64_t offset, const uint8_t *page,
                            tm_error *err)
{
    /* The 16 EEXTENDs of a page hashed in one update: far fewer calls into
     * the digest, which is what keeps measurement near raw SHA-256 speed. */
    enum { CHUNKS = SGX_PAGE_SIZE / SGX_EEXTEND_CHUNK, STEP = 64 + SGX_EEXTEND_CHUNK };
    uint8_t buf[CHUNKS * STEP];
    for (unsigned i = 0; i < CHUNKS; i++) {
        block_init(buf + i * STEP, "EEXTEND\0", offset + i * SGX_EEXTEND_CHUNK);
        memcpy(buf + i * STEP + 64, page + i * SGX_EEXTEND_CHUNK, SGX_EEXTEND_CHUNK);
    }
    return measure_update(m, buf, sizeof(buf), err);
}

int tm_measure_final(struct tm_measure *m, uint8_t mrenclave[32], tm_error *err)
{
    unsigned len = 0;
    if (!EVP_DigestFinal_ex(m->ctx, mrenclave, &len) || len != 32)
        return tm_error_openssl(err, EIO, "SHA-256 final failed");
    return 0;
}

/* The page at `offset` inside range r: its data, or zeros past data_len. */
static const uint8_t *range_page(const struct tm_page_range *r, uint64_t offset, uint8_t *scratch)
{
    uint64_t rel = offset - r->offset;
    if (r->data && rel + SGX_PAGE_SIZE <= r->data_len)
        return r->data + rel;
    memset(scratch, 0, SGX_PAGE_SIZE);
    if (r->data && rel < r->data_len)
        memcpy(scratch, r->data + rel, r->data_len - rel);
    return scratch;
}

static int measure_ranges(struct tm_measure *m, const struct tm_layout *layout, tm_error *err)
{
    static const uint8_t zero_page[SGX_PAGE_SIZE];
    uint8_t scratch[SGX_PAGE_SIZE];
    int ret = tm_measure_ecreate(m, layout->settings.ssa_frame_pages,
                                 layout->settings.enclave_size, err);
    for (size_t i = 0; ret == 0 && i < layout->nranges; i++) {
        const struct tm_page_range *r = &layout->ranges[i];
        if (r->on_demand)
            continue;
        for (uint64_t off = r->offset; ret == 0 && off < r->offset + r->size; off += SGX_PAGE_SIZE) {
            ret = tm_measure_eadd(m, off, r->secinfo_flags, err);
            if (ret == 0 && r->measured) {
                const uint8_t *page = r->data ? range_page(r, off, scratch) : zero_page;
                ret = tm_measure_eextend_page(m, off, page, err);
            }
        }
    }
    return ret;
}

int tm_measure_layout(const struct tm_layout *layout, tm_measure_sink sink, void *sink_arg,
                      uint8_t mrenclave[32], tm_error *err)
{
    struct tm_measure m;
    int ret = tm_measure_init(&m, sink, sink_arg, err);
    if (ret < 0)
        return ret;
    ret = measure_ranges(&m, layout, err);
    if (ret == 0)
        ret = tm_measure_final(&m, mrenclave, err);
    tm_measure_free(&m);
    return ret;
}
