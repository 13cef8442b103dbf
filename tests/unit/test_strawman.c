/* The strawman fork and the channel under it (lib/shared/strawman.c,
 * trusted/crypto/tm_channel.c, examples/slotdata): records tampered with,
 * replayed or reordered are refused, as is an offer whose report another
 * enclave made or that is our own reflected back; a strawman fork of a small
 * slot arrives intact, and the host never sees its plaintext. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/slotdata/slotdata.h"
#include "enclave/devkey.h"
#include "harness.h"
#include "shared/strawman.h"

#define OFFER 512
#define TARGET 512
#define REPORT_AT 80   /* struct tm_channel_offer: key (65) + reserved (15), then the REPORT */
#define SEED 0x5eedULL

static struct tm_image *image, *report_image;
static struct sgx_sigstruct sigstruct, report_sigstruct;

static int load(const char *name, struct tm_image **img, struct sgx_sigstruct *ss, tm_error *err)
{
    char path[512], key[4200];
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    snprintf(path, sizeof path, "%s/examples/%s.elf", build, name);
    int ret = tm_image_load(path, img, err);
    return ret < 0 ? ret : tm_devkey_sign(*img, ss, key, sizeof key, err);
}

/* An ecall on a slotdata enclave; returns its value (the image's -errno),
 * or INT64_MIN when the call itself failed. */
static int64_t call(struct tm_strawman_enclave *se, uint32_t ecall, const void *in, size_t in_len,
                    void *out, size_t out_cap, size_t *out_len)
{
    tm_error err = { 0 };
    struct tm_ecall_call c = { .ecall = ecall, .in = in, .in_len = in_len, .out = out,
                               .out_cap = out_cap };
    if (tm_strawman_ecall(se, &c, &err) < 0) {
        fprintf(stderr, "  ecall %u: %s\n", ecall, err.msg);
        return INT64_MIN;
    }
    if (out_len)
        *out_len = c.out_len;
    return c.retval;
}

static uint64_t fill(struct tm_strawman_enclave *se, uint64_t bytes)
{
    struct tm_slotdata_fill f = { .bytes = bytes, .seed = SEED };
    uint64_t sum = 0;
    REQUIRE(call(se, TM_SLOTDATA_FILL, &f, sizeof f, &sum, sizeof sum, NULL) == 0);
    return sum;
}

/* Two enclaves of the image, and the channel between them set up. */
struct pair {
    struct tm_strawman_enclave a, b;
    uint8_t offer_a[OFFER], offer_b[OFFER];
};

static void pair_start(struct pair *p)
{
    tm_error err = { 0 };
    memset(p, 0, sizeof *p);
    if (tm_strawman_start(image, &sigstruct, &tm_backend_sim, &p->a, &err) < 0 ||
        tm_strawman_start(image, &sigstruct, &tm_backend_sim, &p->b, &err) < 0) {
        fprintf(stderr, "  %s\n", err.msg);
        REQUIRE(0);
    }
}

static void pair_offers(struct pair *p)
{
    uint8_t ta[TARGET], tb[TARGET];
    REQUIRE(call(&p->a, TM_SLOTDATA_SELF_TARGET, NULL, 0, ta, sizeof ta, NULL) == 0);
    REQUIRE(call(&p->b, TM_SLOTDATA_SELF_TARGET, NULL, 0, tb, sizeof tb, NULL) == 0);
    REQUIRE(call(&p->a, TM_SLOTDATA_CHANNEL_OFFER, tb, sizeof tb, p->offer_a, OFFER, NULL) == 0);
    REQUIRE(call(&p->b, TM_SLOTDATA_CHANNEL_OFFER, ta, sizeof ta, p->offer_b, OFFER, NULL) == 0);
}

static void pair_connect(struct pair *p)
{
    pair_offers(p);
    REQUIRE(call(&p->a, TM_SLOTDATA_CHANNEL_ACCEPT, p->offer_b, OFFER, NULL, 0, NULL) == 0);
    REQUIRE(call(&p->b, TM_SLOTDATA_CHANNEL_ACCEPT, p->offer_a, OFFER, NULL, 0, NULL) == 0);
}

static void pair_stop(struct pair *p)
{
    tm_strawman_stop(&p->a);
    tm_strawman_stop(&p->b);
}

struct record {
    uint8_t *bytes;
    size_t len;
    int64_t value;   /* EXPORT's: 1 = the last */
};

static void export_record(struct pair *p, struct record *r)
{
    r->bytes = malloc(TM_SLOTDATA_RECORD_MAX);
    REQUIRE(r->bytes);
    r->value = call(&p->a, TM_SLOTDATA_EXPORT, NULL, 0, r->bytes, TM_SLOTDATA_RECORD_MAX, &r->len);
    REQUIRE(r->value == 0 || r->value == 1);
}

static int64_t import_record(struct pair *p, const struct record *r)
{
    return call(&p->b, TM_SLOTDATA_IMPORT, r->bytes, r->len, NULL, 0, NULL);
}

static void test_channel_moves_data_intact(void)
{
    struct pair p;
    pair_start(&p);
    uint64_t sum = fill(&p.a, 9 * 1024 * 1024 + 5);   /* three chunks, the last short */
    pair_connect(&p);
    int64_t done = 0;
    int records = 0;
    while (done == 0) {
        struct record r;
        export_record(&p, &r);
        done = import_record(&p, &r);
        CHECK(done == 0 || done == 1);
        CHECK_EQ_INT(done, r.value);   /* the child is complete with the last record */
        free(r.bytes);
        REQUIRE(++records <= 4);
    }
    CHECK_EQ_INT(records, 4);   /* header + 3 chunks */
    struct tm_slotdata_sum s;
    REQUIRE(call(&p.b, TM_SLOTDATA_CHECKSUM, NULL, 0, &s, sizeof s, NULL) == 0);
    CHECK(s.checksum == sum && s.bytes == 9 * 1024 * 1024 + 5);
    pair_stop(&p);
}

static void test_channel_refuses_tampered_record(void)
{
    struct pair p;
    pair_start(&p);
    fill(&p.a, 64 * 1024);
    pair_connect(&p);
    struct record hdr, chunk;
    export_record(&p, &hdr);
    export_record(&p, &chunk);
    CHECK_EQ_INT(import_record(&p, &hdr), 0);
    chunk.bytes[chunk.len / 2] ^= 0x01;   /* one bit of ciphertext */
    CHECK_EQ_INT(import_record(&p, &chunk), -EBADMSG);
    chunk.bytes[chunk.len / 2] ^= 0x01;   /* the genuine record: the channel is closed now */
    CHECK_EQ_INT(import_record(&p, &chunk), -EPIPE);
    free(hdr.bytes);
    free(chunk.bytes);

    /* Tampered header (the sequence number) and tag, each on a fresh channel. */
    for (int what = 0; what < 2; what++) {
        pair_connect(&p);
        export_record(&p, &hdr);
        if (what == 0)
            hdr.bytes[0] ^= 0x01;             /* seq 0 -> 1: refused before the MAC */
        else
            hdr.bytes[hdr.len - 1] ^= 0x80;   /* the tag */
        CHECK_EQ_INT(import_record(&p, &hdr), -EBADMSG);
        free(hdr.bytes);
    }
    pair_stop(&p);
}

static void test_channel_refuses_replayed_and_reordered_records(void)
{
    struct pair p;
    pair_start(&p);
    fill(&p.a, 12 * 1024 * 1024);
    pair_connect(&p);
    struct record r0, r1;
    export_record(&p, &r0);
    export_record(&p, &r1);
    CHECK_EQ_INT(import_record(&p, &r0), 0);
    CHECK_EQ_INT(import_record(&p, &r0), -EBADMSG);   /* replayed */
    free(r0.bytes);
    free(r1.bytes);

    pair_connect(&p);
    struct record r[3];
    for (int i = 0; i < 3; i++)
        export_record(&p, &r[i]);
    CHECK_EQ_INT(import_record(&p, &r[0]), 0);
    CHECK_EQ_INT(import_record(&p, &r[2]), -EBADMSG);  /* r[1] skipped */
    for (int i = 0; i < 3; i++)
        free(r[i].bytes);
    pair_stop(&p);
}

static void test_channel_refuses_other_enclaves_and_reflection(void)
{
    struct pair p;
    pair_start(&p);
    pair_offers(&p);
    uint8_t offer[OFFER];

    /* A report from another enclave (tests/report.elf), targeted at B and
     * carrying A's key hash and nonce: its MAC checks, its MRENCLAVE does not. */
    tm_error err = { 0 };
    struct tm_enclave *other = NULL;
    REQUIRE(tm_enclave_build(report_image, &report_sigstruct, &tm_backend_sim, &other, &err) == 0);
    uint8_t tb[TARGET], in[TARGET + 64];
    REQUIRE(call(&p.b, TM_SLOTDATA_SELF_TARGET, NULL, 0, tb, sizeof tb, NULL) == 0);
    const struct sgx_report *a_report = (const void *)(p.offer_a + REPORT_AT);
    memcpy(in, tb, TARGET);
    memcpy(in + TARGET, a_report->body.report_data, 64);
    memcpy(offer, p.offer_a, OFFER);
    struct tm_ecall_call mk = { .ecall = 16, .in = in, .in_len = sizeof in,
                                .out = offer + REPORT_AT, .out_cap = 432 };
    REQUIRE(tm_ecall(other->ops, other->be, other->base, other->size,
                     tm_enclave_tcs_offset(other, 0), &mk, &err) == 0 && mk.retval == 0);
    tm_enclave_destroy(other);
    CHECK_EQ_INT(call(&p.b, TM_SLOTDATA_CHANNEL_ACCEPT, offer, OFFER, NULL, 0, NULL), -EPERM);

    /* B's own offer reflected back to it: made by its image, but its nonce. */
    pair_offers(&p);
    CHECK_EQ_INT(call(&p.b, TM_SLOTDATA_CHANNEL_ACCEPT, p.offer_b, OFFER, NULL, 0, NULL), -EBADMSG);

    /* A's offer with another public key: the report data does not match it. */
    pair_offers(&p);
    memcpy(offer, p.offer_a, OFFER);
    memcpy(offer, p.offer_b, 65);
    CHECK_EQ_INT(call(&p.b, TM_SLOTDATA_CHANNEL_ACCEPT, offer, OFFER, NULL, 0, NULL), -EBADMSG);

    /* A's offer with one byte of its report changed: the MAC does not check. */
    pair_offers(&p);
    memcpy(offer, p.offer_a, OFFER);
    offer[REPORT_AT + 100] ^= 1;
    CHECK_EQ_INT(call(&p.b, TM_SLOTDATA_CHANNEL_ACCEPT, offer, OFFER, NULL, 0, NULL), -EBADMSG);
    pair_stop(&p);
}

/* The plaintext as the image lays it down (slotdata.h). */
struct scan {
    uint8_t *plain;
    size_t len;
    uint64_t messages, hits;
};

static void scan_relayed(void *ctx, int direction, const uint8_t *msg, size_t len)
{
    (void)direction;
    struct scan *s = ctx;
    s->messages++;
    /* 32-byte windows of the data, every 4 KiB: none may cross the host */
    for (size_t at = 0; at + 32 <= s->len; at += 4096)
        if (memmem(msg, len, s->plain + at, 32))
            s->hits++;
}

static void test_strawman_fork_of_a_small_slot(void)
{
    const size_t bytes = (1 << 20) + 3;
    tm_error err = { 0 };
    struct tm_strawman_enclave parent;
    REQUIRE(tm_strawman_start(image, &sigstruct, &tm_backend_sim, &parent, &err) == 0);
    uint64_t sum = fill(&parent, bytes);

    struct scan scan = { .plain = malloc(bytes + 8), .len = bytes };
    REQUIRE(scan.plain);
    for (size_t i = 0; i < bytes; i += 8) {
        uint64_t w = tm_slotdata_word(SEED, i / 8);
        memcpy(scan.plain + i, &w, 8);
    }
    struct tm_strawman_options o = {
        .ecalls = { .self_target = TM_SLOTDATA_SELF_TARGET, .offer = TM_SLOTDATA_CHANNEL_OFFER,
                    .accept = TM_SLOTDATA_CHANNEL_ACCEPT, .export_record = TM_SLOTDATA_EXPORT,
                    .import_record = TM_SLOTDATA_IMPORT },
        .record_max = TM_SLOTDATA_RECORD_MAX,
        .observe = scan_relayed,
        .observe_ctx = &scan,
    };
    struct tm_strawman_stats st;
    int ret = tm_strawman_fork(&parent, &o, &st, &err);
    if (ret < 0)
        fprintf(stderr, "  %s\n", err.msg);
    CHECK(ret == 0);   /* the child's IMPORT checked the checksum inside */
    CHECK(st.bytes > bytes && st.records == 2);
    CHECK(st.total_ms >= st.copy_ms && st.fork_ms > 0 && st.build_ms > 0);
    CHECK_EQ_INT(scan.messages, 5);   /* TARGET, OFFER, OFFER, 2 records */
    CHECK_EQ_INT(scan.hits, 0);

    /* the scan itself finds plaintext where there is some */
    uint64_t before = scan.hits;
    scan_relayed(&scan, 0, scan.plain + 8192, 4096);
    CHECK(scan.hits > before);

    /* the parent still holds its data */
    struct tm_slotdata_sum s;
    CHECK(call(&parent, TM_SLOTDATA_CHECKSUM, NULL, 0, &s, sizeof s, NULL) == 0 &&
          s.checksum == sum);
    free(scan.plain);
    tm_strawman_stop(&parent);
}

int main(void)
{
    tm_error err = { 0 };
    if (load("slotdata", &image, &sigstruct, &err) < 0 ||
        load("tests/report", &report_image, &report_sigstruct, &err) < 0) {
        fprintf(stderr, "cannot load the images: %s\n", err.msg);
        return 1;
    }
    RUN(test_channel_moves_data_intact);
    RUN(test_channel_refuses_tampered_record);
    RUN(test_channel_refuses_replayed_and_reordered_records);
    RUN(test_channel_refuses_other_enclaves_and_reflection);
    RUN(test_strawman_fork_of_a_small_slot);
    tm_image_free(image);
    tm_image_free(report_image);
    TEST_EXIT();
}
