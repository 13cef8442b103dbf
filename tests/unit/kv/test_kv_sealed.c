/* Sealed files (kv_sealed.c) natively, with a test sealing key: round trips
 * at the chunk boundaries and beyond, and every way a file can be altered
 * (a byte, the order of chunks, truncation, a chunk more, another signer)
 * refused; then the export and import entry points (kv_export.c) over
 * memory files. */
#include <errno.h>
#include <stdint.h>

#include "../harness.h"
#include "kv_entry.h"
#include "kv_persist.h"
#include "kv_server.h"

#define CHUNK (64 * 1024)
#define HEADER 72
#define OVERHEAD 24   /* chunk length + flags + tag */

static const uint8_t key_a[16] = "test-seal-key-A", key_b[16] = "test-seal-key-B";

/* ---- Memory files. */
struct mem {
    uint8_t *p;
    size_t len, cap, pos;
};

static int mem_write(void *arg, const void *p, size_t n)
{
    struct mem *m = arg;
    if (n == 0)
        return 0;
    if (m->len + n > m->cap) {
        size_t cap = (m->len + n) * 2 + 64;
        uint8_t *q = realloc(m->p, cap);
        if (!q)
            return -ENOMEM;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

static int mem_read(void *arg, void *p, size_t n)
{
    struct mem *m = arg;
    if (m->len - m->pos < n) {
        m->pos = m->len;
        return -ENODATA;
    }
    memcpy(p, m->p + m->pos, n);
    m->pos += n;
    return 0;
}

static void mem_free(struct mem *m) { free(m->p); memset(m, 0, sizeof *m); }

static struct mem mem_copy(const uint8_t *p, size_t n)
{
    struct mem m = { 0 };
    REQUIRE(mem_write(&m, p, n) == 0);
    return m;
}

static uint8_t *pattern(size_t n, uint32_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    REQUIRE(p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
    return p;
}

/* Seals n bytes of plain, written in pieces of up to `piece` bytes. */
static struct mem seal(const uint8_t *plain, size_t n, size_t piece)
{
    struct mem file = { 0 };
    struct kv_sink fs = { mem_write, &file }, ps;
    struct kv_sealed *w = NULL;
    REQUIRE(kv_sealed_writer_new(&fs, &w, &ps) == 0);
    for (size_t off = 0; off < n;) {
        size_t k = n - off < piece ? n - off : piece;
        REQUIRE(ps.write(ps.arg, plain + off, k) == 0);
        off += k;
    }
    REQUIRE(kv_sealed_writer_finish(w) == 0);
    CHECK_EQ_INT(ps.write(ps.arg, "x", 1), -EINVAL);   /* nothing after the end */
    kv_sealed_free(w);
    return file;
}

/* Reads everything back: 0 and *out (malloc'ed) or the first error, from
 * reader_new, the reads or reader_finish. Checks as it goes that no
 * plaintext was handed out before its chunk's tag was read. */
static int unseal(struct mem *file, uint8_t **out, size_t *out_len)
{
    file->pos = 0;
    struct kv_source fs = { mem_read, file }, ps;
    struct kv_sealed *r = NULL;
    *out = NULL;
    *out_len = 0;
    int e = kv_sealed_reader_new(&fs, &r, &ps);
    if (e < 0)
        return e;
    size_t cap = 0;
    for (;;) {
        if (*out_len + 4096 > cap) {
            cap = cap * 2 + 8192;
            *out = realloc(*out, cap);
        }
        long got = kv_sealed_reader_read(r, *out + *out_len, 4096);
        if (got < 0) {
            e = (int)got;
            break;
        }
        if (got == 0)
            break;
        /* the chunk holding these bytes was read past them, through its tag */
        size_t k = *out_len / CHUNK;
        CHECK(file->pos >= HEADER + k * (CHUNK + OVERHEAD) + OVERHEAD + (*out_len + (size_t)got - k * CHUNK));
        *out_len += (size_t)got;
    }
    if (e == 0)
        e = kv_sealed_reader_finish(r);
    kv_sealed_free(r);
    if (e < 0) {
        free(*out);
        *out = NULL;
    }
    return e;
}

static size_t sealed_size(size_t n)
{
    size_t chunks = n ? (n + CHUNK - 1) / CHUNK : 1;
    return HEADER + chunks * OVERHEAD + n;
}

static void round_trip(size_t n, size_t piece)
{
    uint8_t *plain = pattern(n, (uint32_t)n);
    struct mem file = seal(plain, n, piece);
    CHECK_EQ_INT(file.len, sealed_size(n));
    CHECK(memcmp(file.p, KV_SEALED_MAGIC, 8) == 0);
    uint8_t *back;
    size_t back_len;
    CHECK_EQ_INT(unseal(&file, &back, &back_len), 0);
    CHECK_EQ_INT(back_len, n);
    CHECK(back && memcmp(back, plain, n) == 0);
    /* as a source: exactly n bytes, then -ENODATA */
    file.pos = 0;
    struct kv_source fs = { mem_read, &file }, ps;
    struct kv_sealed *r;
    REQUIRE(kv_sealed_reader_new(&fs, &r, &ps) == 0);
    if (n) {
        CHECK_EQ_INT(ps.read(ps.arg, back, n), 0);
        CHECK(memcmp(back, plain, n) == 0);
    }
    CHECK_EQ_INT(kv_sealed_reader_finish(r), 0);
    CHECK_EQ_INT(ps.read(ps.arg, back, 1), -ENODATA);
    kv_sealed_free(r);
    free(back);
    free(plain);
    mem_free(&file);
}

static void test_round_trip_sizes(void)
{
    kv_platform_set_test_seal_key(key_a);
    size_t sizes[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        round_trip(sizes[i], SIZE_MAX);
        round_trip(sizes[i], 1000);
    }
    round_trip(5 * 1024 * 1024 + 3, 100003);
    round_trip(777, 1);
}

/* The file shows nothing of the plaintext, and sealing twice gives two
 * different files (a fresh key per file). */
static void test_confidential_and_fresh(void)
{
    kv_platform_set_test_seal_key(key_a);
    char text[3 * CHUNK];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "secret-value-"[i % 13];
    struct mem a = seal((uint8_t *)text, sizeof text, SIZE_MAX);
    struct mem b = seal((uint8_t *)text, sizeof text, SIZE_MAX);
    CHECK(memmem(a.p, a.len, "secret-value", 12) == NULL);
    CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) != 0);
    CHECK(memcmp(a.p + 16, b.p + 16, 32) != 0);   /* key ids */
    mem_free(&a);
    mem_free(&b);
}

static bool refused(int e) { return e == -EBADMSG || e == -ENODATA; }

/* Every single byte of a small two-chunk file flipped: refused. */
static void test_tamper_every_byte(void)
{
    kv_platform_set_test_seal_key(key_a);
    size_t n = CHUNK + 100;
    uint8_t *plain = pattern(n, 7);
    struct mem file = seal(plain, n, SIZE_MAX);
    /* the header, chunk heads and tags everywhere; the text in steps */
    for (size_t i = 0; i < file.len; i++) {
        bool interesting = i < HEADER + 8 + 64 || (i > HEADER + CHUNK - 64 && i < HEADER + CHUNK + OVERHEAD + 64) ||
                           i >= file.len - 64 || i % 997 == 0;
        if (!interesting)
            continue;
        file.p[i] ^= 0x01;
        uint8_t *back;
        size_t back_len;
        int e = unseal(&file, &back, &back_len);
        if (!refused(e)) {
            fprintf(stderr, "  flipped byte %zu: %d\n", i, e);
            CHECK(refused(e));
            free(back);
        }
        file.p[i] ^= 0x01;
    }
    free(plain);
    mem_free(&file);
}

static void test_reorder_drop_extra(void)
{
    kv_platform_set_test_seal_key(key_a);
    size_t n = 3 * CHUNK + 50, c = CHUNK + OVERHEAD;
    uint8_t *plain = pattern(n, 9), *back;
    size_t back_len;
    struct mem file = seal(plain, n, SIZE_MAX);
    /* chunks 0 and 1 swapped */
    struct mem swapped = mem_copy(file.p, file.len);
    memcpy(swapped.p + HEADER, file.p + HEADER + c, c);
    memcpy(swapped.p + HEADER + c, file.p + HEADER, c);
    CHECK_EQ_INT(unseal(&swapped, &back, &back_len), -EBADMSG);
    mem_free(&swapped);
    /* chunk 1 dropped */
    struct mem dropped = mem_copy(file.p, HEADER + c);
    REQUIRE(mem_write(&dropped, file.p + HEADER + 2 * c, file.len - HEADER - 2 * c) == 0);
    CHECK_EQ_INT(unseal(&dropped, &back, &back_len), -EBADMSG);
    mem_free(&dropped);
    /* the final chunk dropped: the file ends at a chunk boundary */
    struct mem nofinal = mem_copy(file.p, HEADER + 3 * c);
    CHECK_EQ_INT(unseal(&nofinal, &back, &back_len), -ENODATA);
    mem_free(&nofinal);
    /* a full chunk flagged final */
    struct mem early = mem_copy(file.p, HEADER + c);
    early.p[HEADER + 4] |= 1;
    CHECK_EQ_INT(unseal(&early, &back, &back_len), -EBADMSG);
    mem_free(&early);
    /* a chunk after the final one: a copy of it, or one byte */
    struct mem extra = mem_copy(file.p, file.len);
    REQUIRE(mem_write(&extra, file.p + HEADER + 3 * c, file.len - HEADER - 3 * c) == 0);
    CHECK_EQ_INT(unseal(&extra, &back, &back_len), -EBADMSG);
    mem_free(&extra);
    struct mem byte = mem_copy(file.p, file.len);
    REQUIRE(mem_write(&byte, "", 1) == 0);
    CHECK_EQ_INT(unseal(&byte, &back, &back_len), -EBADMSG);
    mem_free(&byte);
    /* chunk 2 of another file sealed with the same key (another key id) */
    struct mem other = seal(plain, n, SIZE_MAX);
    struct mem mixed = mem_copy(file.p, file.len);
    memcpy(mixed.p + HEADER + 2 * c, other.p + HEADER + 2 * c, c);
    CHECK_EQ_INT(unseal(&mixed, &back, &back_len), -EBADMSG);
    mem_free(&mixed);
    mem_free(&other);
    free(plain);
    mem_free(&file);
}

/* Cut at every length near the header and the chunk boundaries, and at
 * points inside the chunks: never accepted. */
static void test_truncation(void)
{
    kv_platform_set_test_seal_key(key_a);
    size_t n = 2 * CHUNK + 300, c = CHUNK + OVERHEAD;
    uint8_t *plain = pattern(n, 11), *back;
    size_t back_len;
    struct mem file = seal(plain, n, SIZE_MAX);
    size_t marks[] = { 0, HEADER, HEADER + c, HEADER + 2 * c, file.len };
    for (size_t m = 0; m < sizeof marks / sizeof *marks; m++)
        for (size_t d = 0; d < 40; d++)
            for (int side = -1; side <= 1; side += 2) {
                long cut = (long)marks[m] + side * (long)d;
                if (cut < 0 || (size_t)cut >= file.len)
                    continue;
                struct mem t = mem_copy(file.p, (size_t)cut);
                int e = unseal(&t, &back, &back_len);
                if (!refused(e)) {
                    fprintf(stderr, "  cut at %ld: %d\n", cut, e);
                    CHECK(refused(e));
                }
                mem_free(&t);
            }
    for (size_t cut = 1000; cut < file.len; cut += 4099) {
        struct mem t = mem_copy(file.p, cut);
        CHECK(refused(unseal(&t, &back, &back_len)));
        mem_free(&t);
    }
    free(plain);
    mem_free(&file);
}

static void test_other_signer_and_header(void)
{
    kv_platform_set_test_seal_key(key_a);
    uint8_t *plain = pattern(5000, 13), *back;
    size_t back_len;
    struct mem file = seal(plain, 5000, SIZE_MAX);
    kv_platform_set_test_seal_key(key_b);
    CHECK_EQ_INT(unseal(&file, &back, &back_len), -EBADMSG);
    kv_platform_set_test_seal_key(key_a);
    CHECK_EQ_INT(unseal(&file, &back, &back_len), 0);
    free(back);
    /* header fields: version, policy, chunk size, key id, CPUSVN, ISVSVN, reserved */
    size_t fields[] = { 0, 8, 10, 12, 13, 16, 47, 48, 64, 66, 71 };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        file.p[fields[i]] ^= 0x10;
        CHECK(refused(unseal(&file, &back, &back_len)));
        file.p[fields[i]] ^= 0x10;
    }
    /* no key at all: -ENOTSUP, as natively outside the tests */
    kv_platform_set_test_seal_key(NULL);
    struct mem out = { 0 };
    struct kv_sink fs = { mem_write, &out }, ps;
    struct kv_sealed *w = NULL;
    CHECK_EQ_INT(kv_sealed_writer_new(&fs, &w, &ps), -ENOTSUP);
    CHECK_EQ_INT(unseal(&file, &back, &back_len), -ENOTSUP);
    CHECK_EQ_INT(out.len, 0);
    free(plain);
    mem_free(&file);
}

/* ---- Export and import over memory files (kv_platform_set_files). */
static struct mem *files_in, *files_out;

static long files_read(void *p, size_t n)
{
    size_t k = files_in->len - files_in->pos < n ? files_in->len - files_in->pos : n;
    k = k > 1000 ? k - 7 : k;   /* short reads too */
    if (k == 0)
        return 0;
    memcpy(p, files_in->p + files_in->pos, k);
    files_in->pos += k;
    return (long)k;
}

static int files_write(const void *p, size_t n) { return mem_write(files_out, p, n); }

static int call(int (*fn)(const void *, size_t, void *, size_t, size_t *), struct mem *in,
                struct mem *out, char *msg, size_t msg_len)
{
    files_in = in;
    files_out = out;
    in->pos = 0;
    kv_platform_set_files(files_read, files_write);
    size_t len = 0;
    msg[0] = '\0';
    int r = fn(NULL, 0, msg, msg_len, &len);
    kv_platform_set_files(NULL, NULL);
    return r;
}

/* A small RDB: magic, some bytes, EOF, CRC64 (0: not computed). */
static struct mem rdb(const char *magic, size_t body, bool crc)
{
    struct mem m = { 0 };
    REQUIRE(mem_write(&m, magic, strlen(magic)) == 0);
    uint8_t *b = pattern(body, 17);
    REQUIRE(mem_write(&m, b, body) == 0);
    free(b);
    REQUIRE(mem_write(&m, "\xff", 1) == 0);
    uint64_t sum = crc ? kv_crc64(0, m.p, m.len) : 0;
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(sum >> (8 * i));
    REQUIRE(mem_write(&m, le, 8) == 0);
    return m;
}

static void test_crc64_vector(void)
{
    CHECK(kv_crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
}

static void test_import_export(void)
{
    kv_platform_set_test_seal_key(key_a);
    char msg[256];
    size_t sizes[] = { 0, 1, 7, 8, 9, CHUNK, 3 * CHUNK + 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        struct mem plain = rdb("REDIS0010", sizes[i], true), sealed = { 0 }, back = { 0 };
        CHECK_EQ_INT(call(kv_import, &plain, &sealed, msg, sizeof msg), 0);
        CHECK(memcmp(sealed.p, KV_SEALED_MAGIC, 8) == 0);
        CHECK_EQ_INT(call(kv_export, &sealed, &back, msg, sizeof msg), 0);
        CHECK(back.len == plain.len && memcmp(back.p, plain.p, plain.len) == 0);
        /* tampered: refused with the reason */
        sealed.p[sealed.len / 2] ^= 4;
        mem_free(&back);
        CHECK_EQ_INT(call(kv_export, &sealed, &back, msg, sizeof msg), -EBADMSG);
        CHECK_STR_CONTAINS(msg, "does not authenticate");
        mem_free(&plain);
        mem_free(&sealed);
        mem_free(&back);
    }
    /* crc 0 (rdbchecksum no) and older versions with a checksum: taken */
    struct mem nocrc = rdb("REDIS0009", 100, false), s = { 0 };
    CHECK_EQ_INT(call(kv_import, &nocrc, &s, msg, sizeof msg), 0);
    mem_free(&nocrc);
    mem_free(&s);
}

static void test_import_refuses(void)
{
    kv_platform_set_test_seal_key(key_a);
    char msg[256];
    struct mem s = { 0 };
    struct mem good = rdb("REDIS0010", 5000, true);
    struct {
        struct mem m;
        int err;
        const char *why;
    } bad[] = {
        { rdb("REDIX0010", 100, true), -EINVAL, "no REDIS magic" },
        { rdb("REDIS0011", 100, true), -EINVAL, "version 11" },
        { rdb("REDIS0004", 100, true), -EINVAL, "version 4" },
        { rdb("REDIS00a0", 100, true), -EINVAL, "bad version" },
        { mem_copy((const uint8_t *)"hello world, not an rdb at all", 30), -EINVAL, "no REDIS magic" },
        { mem_copy((const uint8_t *)"", 0), -EINVAL, "empty" },
        { mem_copy((const uint8_t *)"RED", 3), -ENODATA, "truncated" },
        { mem_copy(good.p, good.len - 1), -EBADMSG, "" },
        { mem_copy(good.p, good.len - 9), -EBADMSG, "" },
        { mem_copy(good.p, 2000), -EBADMSG, "" },
        { mem_copy(good.p, 12), -ENODATA, "truncated" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int r = call(kv_import, &bad[i].m, &s, msg, sizeof msg);
        if (r != bad[i].err)
            fprintf(stderr, "  case %zu: %d (%s)\n", i, r, msg);
        CHECK_EQ_INT(r, bad[i].err);
        CHECK_STR_CONTAINS(msg, bad[i].why);
        mem_free(&bad[i].m);
        s.len = 0;
    }
    /* one byte changed in the middle: checksum mismatch */
    good.p[2500] ^= 1;
    CHECK_EQ_INT(call(kv_import, &good, &s, msg, sizeof msg), -EBADMSG);
    CHECK_STR_CONTAINS(msg, "checksum mismatch");
    mem_free(&good);
    mem_free(&s);
}

int main(void)
{
    RUN(test_round_trip_sizes);
    RUN(test_confidential_and_fresh);
    RUN(test_tamper_every_byte);
    RUN(test_reorder_drop_extra);
    RUN(test_truncation);
    RUN(test_other_signer_and_header);
    RUN(test_crc64_vector);
    RUN(test_import_export);
    RUN(test_import_refuses);
    kv_platform_set_test_seal_key(NULL);
    TEST_EXIT();
}
