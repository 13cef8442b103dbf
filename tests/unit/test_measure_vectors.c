/* tm_measure_* against MRENCLAVE vectors computed by an independent reference
 * (tests/vectors/sgx_measure_ref.py, written from the SDM, not from measure.c). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/measure.h"
#include "harness.h"
#include "sgx_arch.h"
#include "util/hex.h"

#include "../vectors/measure_vectors.h"

#define MAX_RANGES 16

/* A vector turned into a struct tm_layout, with the page data it points at. */
struct vec_layout {
    struct tm_page_range ranges[MAX_RANGES];
    uint8_t *data[MAX_RANGES];
    struct tm_layout layout;
};

/* Same rule as the reference: byte i of the page at offset o. */
static uint8_t vec_pattern_byte(uint64_t page_offset, unsigned i)
{
    return (uint8_t)(i * 7 + (i >> 8) * 11 + (page_offset / SGX_PAGE_SIZE) * 13);
}

static uint8_t *vec_range_data(const struct tm_vec_range *r)
{
    if (r->content == TM_VEC_ZERO)
        return NULL;   /* exercises the "NULL = zeros" path */
    uint8_t *d = calloc(1, r->data_len);
    REQUIRE(d);
    if (r->content == TM_VEC_TCS) {
        REQUIRE(r->data_len == sizeof(struct sgx_tcs));
        struct sgx_tcs *tcs = (struct sgx_tcs *)d;
        tcs->ossa = r->tcs.ossa;
        tcs->nssa = r->tcs.nssa;
        tcs->oentry = r->tcs.oentry;
        tcs->ofsbase = r->tcs.ofsbase;
        tcs->ogsbase = r->tcs.ogsbase;
        tcs->fslimit = r->tcs.fslimit;
        tcs->gslimit = r->tcs.gslimit;
        return d;
    }
    for (uint64_t j = 0; j < r->data_len; j++)
        d[j] = vec_pattern_byte(r->offset + (j & ~(SGX_PAGE_SIZE - 1)), j & (SGX_PAGE_SIZE - 1));
    return d;
}

static void vec_layout_build(struct vec_layout *vl, const struct tm_vec *v)
{
    memset(vl, 0, sizeof(*vl));
    REQUIRE(v->nranges <= MAX_RANGES);
    for (size_t i = 0; i < v->nranges; i++) {
        const struct tm_vec_range *r = &v->ranges[i];
        vl->data[i] = vec_range_data(r);
        vl->ranges[i] = (struct tm_page_range){
            .offset = r->offset,
            .size = r->size,
            .secinfo_flags = r->secinfo_flags,
            .data = vl->data[i],
            .data_len = vl->data[i] ? r->data_len : 0,
            .measured = r->measured,
            .on_demand = r->on_demand,
            .kind = r->content == TM_VEC_TCS ? TM_RANGE_TCS
                    : r->on_demand           ? TM_RANGE_SLOT
                                             : TM_RANGE_SEGMENT,
            .index = (uint32_t)i,
        };
    }
    vl->layout.settings.version = TM_LAYOUT_VERSION;
    vl->layout.settings.enclave_size = v->enclave_size;
    vl->layout.settings.ssa_frame_pages = v->ssa_frame_pages;
    vl->layout.nranges = v->nranges;
    vl->layout.ranges = vl->ranges;
}

static void vec_layout_free(struct vec_layout *vl)
{
    for (size_t i = 0; i < MAX_RANGES; i++)
        free(vl->data[i]);
}

/* The 4096 bytes of the page at `offset` of range i, zero past data_len. */
static void vec_page(const struct vec_layout *vl, size_t i, uint64_t offset, uint8_t *page)
{
    const struct tm_page_range *r = &vl->ranges[i];
    uint64_t rel = offset - r->offset;
    memset(page, 0, SGX_PAGE_SIZE);
    if (r->data && rel < r->data_len) {
        uint64_t n = r->data_len - rel;
        memcpy(page, r->data + rel, n < SGX_PAGE_SIZE ? n : SGX_PAGE_SIZE);
    }
}

/* A sink that keeps every byte; fail_at > 0 makes the call that would pass
 * that many bytes fail. */
struct capture {
    uint8_t *buf;
    size_t len, cap;
    size_t calls;
    size_t fail_at;
};

static int capture_sink(void *arg, const void *data, size_t len, tm_error *err)
{
    struct capture *c = arg;
    c->calls++;
    if (c->fail_at && c->len + len >= c->fail_at)
        return tm_error_set(err, ENOSPC, "capture full");
    if (c->len + len > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + len)
            cap *= 2;
        uint8_t *p = realloc(c->buf, cap);
        if (!p)
            return tm_error_set(err, ENOMEM, "out of memory");
        c->buf = p;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    return 0;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Walk a captured stream block by block against the reference's block list;
 * prints the first disagreement. Returns 1 when they agree. */
static int stream_matches_blocks(const struct tm_vec *v, const uint8_t *s, size_t len)
{
    static const char *names[] = { "ECREATE", "EADD", "EEXTEND" };
    size_t pos = 0;
    for (size_t k = 0; k < v->nblocks; k++) {
        const struct tm_vec_block *want = &v->blocks[k];
        uint64_t a = 0, b = 0;
        int ok = pos + 64 <= len;
        size_t step = 64;
        if (ok && want->op == TM_VEC_ECREATE) {
            uint32_t ssa;
            memcpy(&ssa, s + pos + 8, 4);
            a = ssa;
            b = le64(s + pos + 12);
            ok = !memcmp(s + pos, "ECREATE\0", 8) && all_zero(s + pos + 20, 44);
        } else if (ok && want->op == TM_VEC_EADD) {
            a = le64(s + pos + 8);
            b = le64(s + pos + 16);
            ok = !memcmp(s + pos, "EADD\0\0\0\0", 8) && all_zero(s + pos + 24, 40);
        } else if (ok) {
            uint8_t md[32];
            unsigned n = 0;
            step = 64 + SGX_EEXTEND_CHUNK;
            ok = pos + step <= len && !memcmp(s + pos, "EEXTEND\0", 8) &&
                 all_zero(s + pos + 16, 48) &&
                 EVP_Digest(s + pos + 64, SGX_EEXTEND_CHUNK, md, &n, EVP_sha256(), NULL);
            a = le64(s + pos + 8);
            b = ok ? le64(md) : 0;
        }
        if (!ok || a != want->a || b != want->b) {
            fprintf(stderr, "  %s: block %zu (stream byte %zu): expected %s a=%#llx b=%#llx, "
                    "got %.8s a=%#llx b=%#llx%s\n", v->name, k, pos, names[want->op],
                    (unsigned long long)want->a, (unsigned long long)want->b,
                    pos + 8 <= len ? (const char *)s + pos : "(end)", (unsigned long long)a,
                    (unsigned long long)b, ok ? "" : " (malformed block)");
            return 0;
        }
        pos += step;
    }
    if (pos != len) {
        fprintf(stderr, "  %s: %zu bytes after the last expected block\n", v->name, len - pos);
        return 0;
    }
    return 1;
}

static int check_digest(const struct tm_vec *v, const char *how, const uint8_t got[32])
{
    if (!memcmp(got, v->mrenclave, 32))
        return 1;
    char g[65], w[65];
    fprintf(stderr, "  %s via %s:\n    got      %s\n    expected %s\n", v->name, how,
            tm_hex(g, got, 32), tm_hex(w, v->mrenclave, 32));
    return 0;
}

static void test_layout_matches_reference(void)
{
    for (size_t i = 0; i < TM_MEASURE_VECTOR_COUNT; i++) {
        const struct tm_vec *v = &tm_measure_vectors[i];
        if (!v->ascending)
            continue;   /* not a valid layout: covered by the low-level test */
        struct vec_layout vl;
        vec_layout_build(&vl, v);
        uint8_t md[32];
        tm_error err = { 0 };
        int ret = tm_measure_layout(&vl.layout, NULL, NULL, md, &err);
        CHECK_EQ_INT(ret, 0);
        int same = ret == 0 && check_digest(v, "tm_measure_layout", md);
        CHECK(same);
        if (ret == 0 && !same) {
            /* Say which block differs. */
            struct capture c = { 0 };
            if (tm_measure_layout(&vl.layout, capture_sink, &c, md, &err) == 0)
                stream_matches_blocks(v, c.buf, c.len);
            free(c.buf);
        }
        vec_layout_free(&vl);
    }
}

/* The same pages through ecreate/eadd/eextend_page/final, in the vector's
 * range order (which for e_order_swapped is not ascending). */
static int measure_low_level(const struct vec_layout *vl, const struct tm_vec *v,
                             uint8_t md[32], tm_error *err)
{
    struct tm_measure m;
    int ret = tm_measure_init(&m, NULL, NULL, err);
    if (ret < 0)
        return ret;
    uint8_t *page = malloc(SGX_PAGE_SIZE);
    ret = page ? tm_measure_ecreate(&m, v->ssa_frame_pages, v->enclave_size, err) : -ENOMEM;
    for (size_t i = 0; ret == 0 && i < v->nranges; i++) {
        const struct tm_page_range *r = &vl->ranges[i];
        if (r->on_demand)
            continue;
        for (uint64_t off = r->offset; ret == 0 && off < r->offset + r->size;
             off += SGX_PAGE_SIZE) {
            ret = tm_measure_eadd(&m, off, r->secinfo_flags, err);
            if (ret == 0 && r->measured) {
                vec_page(vl, i, off, page);
                ret = tm_measure_eextend_page(&m, off, page, err);
            }
        }
    }
    if (ret == 0)
        ret = tm_measure_final(&m, md, err);
    tm_measure_free(&m);
    free(page);
    return ret;
}

static void test_low_level_matches_reference(void)
{
    for (size_t i = 0; i < TM_MEASURE_VECTOR_COUNT; i++) {
        const struct tm_vec *v = &tm_measure_vectors[i];
        struct vec_layout vl;
        vec_layout_build(&vl, v);
        uint8_t md[32];
        tm_error err = { 0 };
        int ret = measure_low_level(&vl, v, md, &err);
        CHECK_EQ_INT(ret, 0);
        CHECK(ret == 0 && check_digest(v, "ecreate/eadd/eextend_page/final", md));
        vec_layout_free(&vl);
    }
}

/* The sink sees exactly the measured bytes: their SHA-256 is MRENCLAVE, so
 * writing them out gives a canonical SGXS stream. */
static void test_sink_stream_is_sgxs(void)
{
    for (size_t i = 0; i < TM_MEASURE_VECTOR_COUNT; i++) {
        const struct tm_vec *v = &tm_measure_vectors[i];
        if (!v->ascending)
            continue;
        struct vec_layout vl;
        vec_layout_build(&vl, v);
        struct capture c = { 0 };
        uint8_t md[32], sha[32];
        unsigned n = 0;
        tm_error err = { 0 };
        CHECK_EQ_INT(tm_measure_layout(&vl.layout, capture_sink, &c, md, &err), 0);
        CHECK_EQ_INT(c.len, v->stream_len);
        REQUIRE(EVP_Digest(c.buf, c.len, sha, &n, EVP_sha256(), NULL) && n == 32);
        CHECK(!memcmp(sha, md, 32));
        CHECK(check_digest(v, "SHA-256 of the sink's bytes", sha));
        CHECK(stream_matches_blocks(v, c.buf, c.len));
        free(c.buf);
        vec_layout_free(&vl);
    }
}

/* A failing sink stops the measurement and its error comes back. */
static void test_sink_error_stops_measurement(void)
{
    const struct tm_vec *v = &tm_measure_vectors[1];
    struct vec_layout vl;
    vec_layout_build(&vl, v);
    struct capture c = { .fail_at = 1000 };
    uint8_t md[32];
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_measure_layout(&vl.layout, capture_sink, &c, md, &err), -ENOSPC);
    CHECK_STR_CONTAINS(err.msg, "capture full");
    CHECK(c.len < 1000);
    free(c.buf);
    vec_layout_free(&vl);
}

/* There is no base anywhere in the API: struct tm_layout and tm_measure_*
 * take offsets only. So base independence holds by construction; what this
 * pins is that laying the same enclave out from linear addresses at two
 * bases (offset = linaddr - base, as the CPU computes it) gives the hash the
 * reference computed at both bases. */
static void test_base_independence(void)
{
    const struct tm_vec *v = NULL;
    for (size_t i = 0; i < TM_MEASURE_VECTOR_COUNT; i++)
        if (!strcmp(tm_measure_vectors[i].name, "d_base_independent"))
            v = &tm_measure_vectors[i];
    REQUIRE(v && v->nbases == 2);
    for (size_t b = 0; b < v->nbases; b++) {
        struct vec_layout vl;
        vec_layout_build(&vl, v);
        for (size_t i = 0; i < vl.layout.nranges; i++) {
            uint64_t linaddr = v->bases[b] + v->ranges[i].offset;
            vl.ranges[i].offset = linaddr - v->bases[b];
        }
        uint8_t md[32];
        tm_error err = { 0 };
        CHECK_EQ_INT(tm_measure_layout(&vl.layout, NULL, NULL, md, &err), 0);
        CHECK(check_digest(v, "layout from linear addresses", md));
        vec_layout_free(&vl);
    }
}

/* Which page holds which bytes, and the order pages are added in, both count. */
static void test_order_sensitivity(void)
{
    const struct tm_vec *b = &tm_measure_vectors[1], *e = &tm_measure_vectors[4];
    REQUIRE(!strcmp(b->name, "b_tcs_ssa_code") && !strcmp(e->name, "e_order_swapped"));
    CHECK(memcmp(b->mrenclave, e->mrenclave, 32) != 0);

    /* Swap the contents of the SSA page (zeros) and the code page (pattern). */
    struct vec_layout vl;
    vec_layout_build(&vl, b);
    const uint8_t *d = vl.ranges[1].data;
    uint64_t n = vl.ranges[1].data_len;
    vl.ranges[1].data = vl.ranges[2].data;
    vl.ranges[1].data_len = vl.ranges[2].data_len;
    vl.ranges[2].data = d;
    vl.ranges[2].data_len = n;
    uint8_t md[32];
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_measure_layout(&vl.layout, NULL, NULL, md, &err), 0);
    CHECK(memcmp(md, b->mrenclave, 32) != 0);
    vec_layout_free(&vl);
}

/* Unmeasured contents and on-demand ranges do not enter MRENCLAVE. */
static void test_unmeasured_and_on_demand_ignored(void)
{
    const struct tm_vec *c = &tm_measure_vectors[2];
    REQUIRE(!strcmp(c->name, "c_unmeasured_gap_ssa2"));
    struct vec_layout vl;
    vec_layout_build(&vl, c);
    REQUIRE(!vl.ranges[1].measured && vl.data[1] && vl.ranges[5].on_demand);
    memset(vl.data[1], 0xA5, vl.ranges[1].data_len);   /* unmeasured page's bytes */
    vl.layout.nranges = 5;                                 /* drop the on-demand range */
    uint8_t md[32];
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_measure_layout(&vl.layout, NULL, NULL, md, &err), 0);
    CHECK(check_digest(c, "changed unmeasured data, no on-demand range", md));

    vl.ranges[1].measured = true;   /* ... but measuring it does change the hash */
    CHECK_EQ_INT(tm_measure_layout(&vl.layout, NULL, NULL, md, &err), 0);
    CHECK(memcmp(md, c->mrenclave, 32) != 0);
    vec_layout_free(&vl);
}

int main(void)
{
    RUN(test_layout_matches_reference);
    RUN(test_low_level_matches_reference);
    RUN(test_sink_stream_is_sgxs);
    RUN(test_sink_error_stops_measurement);
    RUN(test_base_independence);
    RUN(test_order_sensitivity);
    RUN(test_unmeasured_and_on_demand_ignored);
    TEST_EXIT();
}
