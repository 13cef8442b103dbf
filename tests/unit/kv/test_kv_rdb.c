/* The RDB codec natively: crc64, round trips of every type, hand-made files
 * in each encoding the loader takes (ziplist, listpack, intset, zipmap, LZF,
 * quicklists, string scores), and hostile files: truncated at every byte,
 * flipped bytes, huge lengths, duplicates, refused opcodes. After any failed
 * load the store must be empty. */
#include "../harness.h"
#include "kv_test.h"
#include "kv_rdb.h"
#include "kv_rdb_dump.h"
#include "kv_rdb_io.h"

/* ---- A hand-made RDB. */
static void put(struct kvr_mem *m, const void *p, size_t n) { kvr_mem_write(m, p, n); }
static void put_byte(struct kvr_mem *m, unsigned b) { unsigned char c = (unsigned char)b; put(m, &c, 1); }
static void put_le(struct kvr_mem *m, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        put_byte(m, (unsigned)(v >> (8 * i)) & 0xff);
}
static void put_len(struct kvr_mem *m, uint64_t len)
{
    if (len < 64) {
        put_byte(m, (unsigned)len);
    } else if (len < 16384) {
        put_byte(m, 0x40 | (unsigned)(len >> 8));
        put_byte(m, len & 0xff);
    } else {
        put_byte(m, 0x81);
        for (int i = 7; i >= 0; i--)
            put_byte(m, (unsigned)(len >> (8 * i)) & 0xff);
    }
}
static void put_str(struct kvr_mem *m, const void *p, size_t n) { put_len(m, n); put(m, p, n); }
static void put_cstr(struct kvr_mem *m, const char *s) { put_str(m, s, strlen(s)); }
static void rdb_begin(struct kvr_mem *m) { memset(m, 0, sizeof *m); put(m, "REDIS0010", 9); }
static void rdb_end(struct kvr_mem *m)
{
    put_byte(m, KV_RDB_OP_EOF);
    put_le(m, kv_crc64(0, m->p, m->len), 8);
}

/* A ziplist from entries given as encoding+data. */
struct zl { struct kvr_mem m; size_t prev, last; uint16_t count; };
static void zl_init(struct zl *z) { memset(z, 0, sizeof *z); put(&z->m, "\0\0\0\0\0\0\0\0\0\0", 10); z->last = 10; }
static void zl_entry(struct zl *z, const void *enc, size_t n)
{
    size_t start = z->m.len;
    if (z->prev < 254) {
        put_byte(&z->m, (unsigned)z->prev);
    } else {
        put_byte(&z->m, 254);
        put_le(&z->m, z->prev, 4);
    }
    put(&z->m, enc, n);
    z->prev = z->m.len - start;
    z->last = start;
    z->count++;
}
static void zl_str(struct zl *z, const char *s)
{
    unsigned char e[80];
    size_t n = strlen(s);
    if (n < 64) {
        e[0] = (unsigned char)n;
        memcpy(e + 1, s, n);
        zl_entry(z, e, n + 1);
    } else {
        e[0] = 0x40 | (unsigned char)(n >> 8);
        e[1] = n & 0xff;
        memcpy(e + 2, s, n);
        zl_entry(z, e, n + 2);
    }
}
static void zl_done(struct zl *z)
{
    put_byte(&z->m, 0xff);
    unsigned char *p = z->m.p;
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(z->m.len >> (8 * i));
        p[4 + i] = (unsigned char)(z->last >> (8 * i));
    }
    p[8] = z->count & 0xff;
    p[9] = (unsigned char)(z->count >> 8);
}

/* A listpack from entries given as encoding+data. */
struct lp { struct kvr_mem m; uint16_t count; };
static void lp_init(struct lp *l) { memset(l, 0, sizeof *l); put(&l->m, "\0\0\0\0\0\0", 6); }
static void lp_entry(struct lp *l, const void *enc, size_t n)
{
    put(&l->m, enc, n);
    if (n <= 127) {
        put_byte(&l->m, (unsigned)n);
    } else {
        put_byte(&l->m, (unsigned)(n >> 7));
        put_byte(&l->m, (unsigned)(n & 127) | 128);
    }
    l->count++;
}
static void lp_str(struct lp *l, const char *s)
{
    unsigned char e[200];
    size_t n = strlen(s);
    if (n < 64) {
        e[0] = 0x80 | (unsigned char)n;
        memcpy(e + 1, s, n);
        lp_entry(l, e, n + 1);
    } else {
        e[0] = 0xe0 | (unsigned char)(n >> 8);
        e[1] = n & 0xff;
        memcpy(e + 2, s, n);
        lp_entry(l, e, n + 2);
    }
}
static void lp_done(struct lp *l)
{
    put_byte(&l->m, 0xff);
    for (int i = 0; i < 4; i++)
        l->m.p[i] = (unsigned char)(l->m.len >> (8 * i));
    l->m.p[4] = l->count & 0xff;
    l->m.p[5] = (unsigned char)(l->count >> 8);
}

static char load_err[256];

/* Loads m into the (started, empty) store. */
static int load_mem(const struct kvr_mem *m)
{
    struct kvr_mem in = *m;
    in.pos = 0;
    struct kv_source src = { kvr_mem_read, &in };
    return kv_rdb_load(&src, load_err, sizeof load_err);
}

static void start(void)
{
    kvt_now_us = 1700000000000000ULL;
    if (kvt_start() != 0)
        abort();
    kvt_connect(1);
}

static struct kvr_mem save_mem(void)
{
    struct kvr_mem m = { 0 };
    struct kv_snapshot *snap = kvr_snapshot(1700000000000);
    struct kv_sink sink = { kvr_mem_write, &m };
    int rc = kv_rdb_save(snap, &sink);
    free(snap);
    if (rc)
        abort();
    return m;
}

/* ---- crc64 */
static uint64_t crc64_bitwise(uint64_t crc, const unsigned char *p, size_t n)
{
    const uint64_t poly = 0x95ac9329ac4bc9b5ULL;   /* 0xad93d23594c935a9 reflected */
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ poly : crc >> 1;
    }
    return crc;
}

static void test_crc64(void)
{
    CHECK(kv_crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
    CHECK(crc64_bitwise(0, (const unsigned char *)"123456789", 9) == 0xe9c6d914c4b8d9caULL);
    unsigned char data[1000];
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < sizeof data; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (unsigned char)x;
    }
    /* every length and alignment, and split in two calls */
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= 300; n += 7) {
            uint64_t want = crc64_bitwise(0, data + off, n);
            CHECK(kv_crc64(0, data + off, n) == want);
            CHECK(kv_crc64(kv_crc64(0, data + off, n / 3), data + off + n / 3, n - n / 3) == want);
        }
    CHECK(kv_crc64(0, data, sizeof data) == crc64_bitwise(0, data, sizeof data));
}

/* ---- round trips */
static void fill_store(bool big)
{
    KVT(1, "SET", "str", "hello");
    KVT(1, "SET", "int", "12");
    KVT(1, "SET", "neg", "-2147483649");
    KVT(1, "SET", "edge", "2147483647");
    KVT(1, "SET", "lead0", "007");
    KVT(1, "SET", "empty", "");
    kvt_raw(1, "*3\r\n$3\r\nSET\r\n$4\r\nb\x00\xff\n\r\n$3\r\n\x01\x00\x02\r\n", 32);
    KVT(1, "RPUSH", "list", "a", "1", "-7", "", "70000");
    KVT(1, "SADD", "set", "x", "1", "", "-3");
    KVT(1, "HSET", "hash", "f", "v", "n", "12", "e", "");
    KVT(1, "ZADD", "zset", "1.5", "a", "-2", "b", "inf", "c", "-inf", "d", "0", "e", "3", "t1", "3", "t0");
    KVT(1, "PEXPIRE", "str", "100000");
    KVT(1, "PEXPIRE", "zset", "100000");
    KVT(1, "SELECT", "7");
    KVT(1, "SET", "db7", "v");
    KVT(1, "SELECT", "0");
    if (!big)
        return;
    char k[32], v[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "m%d", i);
        snprintf(v, sizeof v, "%d", i * 37 - 5000);
        KVT(1, "RPUSH", "biglist", i % 2 ? k : v);
        KVT(1, "SADD", "bigset", k);
        KVT(1, "HSET", "bighash", k, v);
        snprintf(v, sizeof v, "%d.25", (i * 7919) % 1000 - 500);
        KVT(1, "ZADD", "bigzset", v, k);
    }
    char large[20000];
    memset(large, 'q', sizeof large - 1);
    large[sizeof large - 1] = '\0';
    KVT(1, "SET", "large", large);
    KVT(1, "RPUSH", "biglist", large);
}

static void test_round_trip(void)
{
    start();
    fill_store(true);
    char *before = kvr_dump();
    kvt_gone(1);   /* its query and reply buffers are not data */
    size_t mem_before = kv_used_memory();
    struct kvr_mem m = save_mem();
    kv_stop();
    start();
    kvt_gone(1);
    int rc = load_mem(&m);
    size_t mem_after = kv_used_memory();
    /* the values are built as commands build them: the same memory within
     * dict-table growth (0.2% here) */
    CHECK(mem_after * 100 > mem_before * 99 && mem_after * 100 < mem_before * 101);
    kvt_connect(1);
    if (rc)
        fprintf(stderr, "  load: %s\n", load_err);
    CHECK_EQ_INT(rc, 0);
    char *after = kvr_dump();
    CHECK(strcmp(before, after) == 0);
    CHECK(strstr(after, "0 str string 1 hello\n") != NULL);
    CHECK(strstr(after, "7 db7 string 0 v\n") != NULL);
    /* the values are the store's own: commands work on them */
    CHECK(strcmp(KVT(1, "INCR", "int"), ":13\r\n") == 0);
    CHECK(strncmp(KVT(1, "LINDEX", "biglist", "3000"), "$19999\r\nqqq", 11) == 0);
    CHECK(strcmp(KVT(1, "ZSCORE", "zset", "c"), "$3\r\ninf\r\n") == 0);
    CHECK(strcmp(KVT(1, "HGET", "bighash", "m10"), "$5\r\n-4630\r\n") == 0);
    CHECK(strcmp(KVT(1, "SCARD", "bigset"), ":3000\r\n") == 0);
    CHECK(strcmp(KVT(1, "ZRANK", "zset", "t1"), ":5\r\n") == 0);
    /* saving what was loaded gives the same bytes but for the used-mem aux */
    struct kvr_mem again = save_mem();
    CHECK_EQ_INT(again.len, m.len);
    free(before);
    free(after);
    free(m.p);
    free(again.p);
    kvt_gone(1);
    kv_stop();
}

/* A truncated file fails cleanly at every length; a flipped byte anywhere
 * fails (the checksum, if nothing before); the store is empty after each. */
static void test_truncated_and_flipped(void)
{
    start();
    fill_store(false);
    struct kvr_mem m = save_mem();
    kv_stop();
    start();
    int enodata = 0, failed = 0, mismatch = 0;
    for (size_t len = 0; len < m.len; len++) {
        struct kvr_mem cut = m;
        cut.len = len;
        int rc = load_mem(&cut);
        enodata += rc == -ENODATA;
        if (kv_keys_total() != 0)
            failed++;
    }
    CHECK_EQ_INT(enodata, m.len);
    CHECK_EQ_INT(failed, 0);
    for (size_t i = 0; i < m.len; i++) {
        m.p[i] ^= 0x20;
        int rc = load_mem(&m);
        m.p[i] ^= 0x20;
        failed += rc == 0 || kv_keys_total() != 0;
        mismatch += strstr(load_err, "checksum mismatch") != NULL;
    }
    CHECK_EQ_INT(failed, 0);
    CHECK(mismatch > (int)m.len / 2);
    CHECK_EQ_INT(load_mem(&m), 0);
    CHECK(kv_keys_total() > 10);
    free(m.p);
    kv_stop();
}

/* A sink failing after `left` bytes: the writer stops and returns its error. */
static int failing_write(void *arg, const void *p, size_t n)
{
    (void)p;
    size_t *left = arg;
    if (n > *left)
        return -ENOSPC;
    *left -= n;
    return 0;
}

static void test_sink_errors(void)
{
    start();
    fill_store(true);
    struct kvr_mem m = save_mem();
    struct kv_snapshot *snap = kvr_snapshot(1700000000000);
    int bad = 0;
    for (size_t at = 0; at < m.len; at += m.len / 50 + 1) {
        size_t left = at;
        struct kv_sink sink = { failing_write, &left };
        bad += kv_rdb_save(snap, &sink) != -ENOSPC;
    }
    size_t left = m.len;
    struct kv_sink sink = { failing_write, &left };
    CHECK_EQ_INT(kv_rdb_save(snap, &sink), 0);
    CHECK_EQ_INT(left, 0);
    CHECK_EQ_INT(bad, 0);
    free(snap);
    free(m.p);
    kv_stop();
}

/* ---- every encoding, hand-made */
static void test_encodings(void)
{
    start();
    struct kvr_mem m;
    rdb_begin(&m);
    put_byte(&m, KV_RDB_OP_AUX); put_cstr(&m, "redis-ver"); put_cstr(&m, "7.0.15");
    put_byte(&m, KV_RDB_OP_SELECTDB); put_len(&m, 2);
    put_byte(&m, KV_RDB_OP_RESIZEDB); put_len(&m, 20); put_len(&m, 1);

    /* strings: int8/16/32 encodings and LZF ("abc" then 9 bytes from 3 back) */
    put_byte(&m, 0); put_cstr(&m, "i8"); put_byte(&m, 0xc0); put_byte(&m, 0x85);
    put_byte(&m, 0); put_cstr(&m, "i16"); put_byte(&m, 0xc1); put_le(&m, (uint16_t)-30000, 2);
    put_byte(&m, 0); put_cstr(&m, "i32"); put_byte(&m, 0xc2); put_le(&m, 2000000000, 4);
    put_byte(&m, 0); put_cstr(&m, "lzf"); put_byte(&m, 0xc3); put_len(&m, 7); put_len(&m, 12);
    put(&m, "\x02" "abc" "\xe0\x00\x02", 7);

    /* list ziplist (10): every ziplist encoding */
    struct zl z;
    zl_init(&z);
    zl_str(&z, "a");
    zl_entry(&z, "\xf6", 1);                                /* immediate 5 */
    zl_entry(&z, "\xfe\xfb", 2);                            /* int8 -5 */
    zl_entry(&z, "\xc0\xd4\xfe", 3);                        /* int16 -300 */
    zl_entry(&z, "\xf0\xa0\x86\x01", 4);                    /* int24 100000 */
    zl_entry(&z, "\xd0\x00\x94\x35\x77", 5);                /* int32 2000000000 */
    zl_entry(&z, "\xe0\x00\x00\x00\x00\x00\x01\x00\x00", 9);/* int64 2^40 */
    zl_str(&z, "0123456789012345678901234567890123456789012345678901234567890123456789");
    zl_done(&z);
    put_byte(&m, KV_RDB_TYPE_LIST_ZIPLIST); put_cstr(&m, "zl"); put_str(&m, z.m.p, z.m.len);

    /* quicklist (14): two ziplists */
    put_byte(&m, KV_RDB_TYPE_LIST_QUICKLIST); put_cstr(&m, "ql"); put_len(&m, 2);
    put_str(&m, z.m.p, z.m.len); put_str(&m, z.m.p, z.m.len);
    free(z.m.p);

    /* quicklist 2 (18): a listpack with every listpack encoding, a plain node */
    struct lp l;
    lp_init(&l);
    lp_str(&l, "b");
    lp_entry(&l, "\x05", 1);                                /* uint7 5 */
    lp_entry(&l, "\xdf\x00", 2);                            /* int13 -256 */
    lp_entry(&l, "\xf1\x30\x75", 3);                        /* int16 30000 */
    lp_entry(&l, "\xf2\x60\x79\xfe", 4);                    /* int24 -100000 */
    lp_entry(&l, "\xf3\x00\x94\x35\x77", 5);                /* int32 2000000000 */
    lp_entry(&l, "\xf4\xff\xff\xff\xff\xff\xff\xff\x7f", 9);/* int64 max */
    lp_str(&l, "0123456789012345678901234567890123456789012345678901234567890123456789");
    lp_done(&l);
    put_byte(&m, KV_RDB_TYPE_LIST_QUICKLIST_2); put_cstr(&m, "ql2"); put_len(&m, 2);
    put_len(&m, KV_RDB_QL_PACKED); put_str(&m, l.m.p, l.m.len);
    put_len(&m, KV_RDB_QL_PLAIN); put_cstr(&m, "plain");
    free(l.m.p);

    /* intset (11), 16 and 64 bits */
    put_byte(&m, KV_RDB_TYPE_SET_INTSET); put_cstr(&m, "is16");
    put_str(&m, "\x02\0\0\0\x03\0\0\0\xfb\xff\x01\x00\x2c\x01", 14);
    put_byte(&m, KV_RDB_TYPE_SET_INTSET); put_cstr(&m, "is64");
    put_str(&m, "\x08\0\0\0\x02\0\0\0\x00\x00\x00\x00\x00\x00\x00\x80\xff\xff\xff\xff\xff\xff\xff\x7f", 24);

    /* hash ziplist (13), hash listpack (16), zipmap (9) */
    zl_init(&z);
    zl_str(&z, "f1"); zl_str(&z, "v1"); zl_str(&z, "f2"); zl_entry(&z, "\xf2", 1);
    zl_done(&z);
    put_byte(&m, KV_RDB_TYPE_HASH_ZIPLIST); put_cstr(&m, "hzl"); put_str(&m, z.m.p, z.m.len);
    free(z.m.p);
    lp_init(&l);
    lp_str(&l, "f1"); lp_str(&l, "v1"); lp_str(&l, "n"); lp_entry(&l, "\x07", 1);
    lp_done(&l);
    put_byte(&m, KV_RDB_TYPE_HASH_LISTPACK); put_cstr(&m, "hlp"); put_str(&m, l.m.p, l.m.len);
    free(l.m.p);
    put_byte(&m, KV_RDB_TYPE_HASH_ZIPMAP); put_cstr(&m, "hzm");
    put_str(&m, "\x02\x02" "f1" "\x02\x02" "v1xy" "\x01" "g" "\x02\x00" "12" "\xff", 17);

    /* zset ziplist (12), listpack (17), string scores (3), binary (5) */
    zl_init(&z);
    zl_str(&z, "a"); zl_str(&z, "1.5"); zl_str(&z, "b"); zl_entry(&z, "\xfe\xfe", 2);
    zl_done(&z);
    put_byte(&m, KV_RDB_TYPE_ZSET_ZIPLIST); put_cstr(&m, "zzl"); put_str(&m, z.m.p, z.m.len);
    free(z.m.p);
    lp_init(&l);
    lp_str(&l, "x"); lp_str(&l, "-inf"); lp_str(&l, "y"); lp_entry(&l, "\x03", 1);
    lp_done(&l);
    put_byte(&m, KV_RDB_TYPE_ZSET_LISTPACK); put_cstr(&m, "zlp"); put_str(&m, l.m.p, l.m.len);
    free(l.m.p);
    put_byte(&m, KV_RDB_TYPE_ZSET); put_cstr(&m, "z3"); put_len(&m, 3);
    put_cstr(&m, "p"); put_byte(&m, 4); put(&m, "0.25", 4);
    put_cstr(&m, "q"); put_byte(&m, 254);
    put_cstr(&m, "r"); put_byte(&m, 255);
    double d = -1.75;
    uint64_t bits;
    memcpy(&bits, &d, 8);
    put_byte(&m, KV_RDB_TYPE_ZSET_2); put_cstr(&m, "z5"); put_len(&m, 1);
    put_cstr(&m, "s"); put_le(&m, bits, 8);

    /* expiries: seconds (far future), ms already past (skipped), an empty set (skipped) */
    put_byte(&m, KV_RDB_OP_EXPIRETIME); put_le(&m, 2000000000, 4);
    put_byte(&m, 0); put_cstr(&m, "ttl"); put_cstr(&m, "v");
    put_byte(&m, KV_RDB_OP_EXPIRETIME_MS); put_le(&m, 1000, 8);
    put_byte(&m, 0); put_cstr(&m, "gone"); put_cstr(&m, "v");
    put_byte(&m, KV_RDB_TYPE_SET); put_cstr(&m, "emptyset"); put_len(&m, 0);
    put_byte(&m, KV_RDB_OP_FREQ); put_byte(&m, 3);
    put_byte(&m, KV_RDB_OP_IDLE); put_len(&m, 1000);
    put_byte(&m, 0); put_cstr(&m, "idle"); put_cstr(&m, "v");
    rdb_end(&m);

    int rc = load_mem(&m);
    if (rc)
        fprintf(stderr, "  load: %s\n", load_err);
    REQUIRE(rc == 0);
    char *got = kvr_dump();
    const char *zl_list = "a,5,-5,-300,100000,2000000000,1099511627776,"
                          "0123456789012345678901234567890123456789012345678901234567890123456789";
    char want[4096];
    snprintf(want, sizeof want,
             "2 hlp hash 0 f1=v1,n=7\n"
             "2 hzl hash 0 f1=v1,f2=1\n"
             "2 hzm hash 0 f1=v1,g=12\n"
             "2 i16 string 0 -30000\n"
             "2 i32 string 0 2000000000\n"
             "2 i8 string 0 -123\n"
             "2 idle string 0 v\n"
             "2 is16 set 0 -5,1,300\n"
             "2 is64 set 0 -9223372036854775808,9223372036854775807\n"
             "2 lzf string 0 abcabcabcabc\n"
             "2 ql list 0 %s,%s\n"
             "2 ql2 list 0 b,5,-256,30000,-100000,2000000000,9223372036854775807,"
             "0123456789012345678901234567890123456789012345678901234567890123456789,plain\n"
             "2 ttl string 1 v\n"
             "2 z3 zset 0 r=-inf,p=0.25,q=inf\n"
             "2 z5 zset 0 s=-1.75\n"
             "2 zl list 0 %s\n"
             "2 zlp zset 0 x=-inf,y=3\n"
             "2 zzl zset 0 b=-2,a=1.5\n",
             zl_list, zl_list, zl_list);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "  got:\n%s  want:\n%s", got, want);
    CHECK(strcmp(got, want) == 0);
    free(got);
    free(m.p);
    kv_stop();
}

/* ---- hostile input: one bad key after a good one; the store stays empty */
static void expect_refused(const char *what, void (*body)(struct kvr_mem *), int want_rc,
                           const char *want_msg)
{
    struct kvr_mem m;
    rdb_begin(&m);
    put_byte(&m, 0); put_cstr(&m, "good"); put_cstr(&m, "v");
    body(&m);
    rdb_end(&m);
    int rc = load_mem(&m);
    if (rc != want_rc || !strstr(load_err, want_msg))
        fprintf(stderr, "  %s: rc %d, \"%s\"\n", what, rc, load_err);
    CHECK_EQ_INT(rc, want_rc);
    CHECK_STR_CONTAINS(load_err, want_msg);
    CHECK_EQ_INT(kv_keys_total(), 0);
    free(m.p);
}

static void huge_string(struct kvr_mem *m) { put_byte(m, 0); put_cstr(m, "k"); put_len(m, 1ULL << 60); }
/* 2^60 elements announced, two there: the EOF byte is read as the third */
static void huge_list(struct kvr_mem *m)
{
    put_byte(m, KV_RDB_TYPE_LIST); put_cstr(m, "k"); put_len(m, 1ULL << 60);
    put_cstr(m, "a"); put_cstr(m, "b");
}
static void huge_lzf(struct kvr_mem *m)
{
    put_byte(m, 0); put_cstr(m, "k"); put_byte(m, 0xc3); put_len(m, 4); put_len(m, 500U << 20);
    put(m, "\x00" "a" "\xe0\xff", 4);
}
static void bad_lzf(struct kvr_mem *m)
{
    put_byte(m, 0); put_cstr(m, "k"); put_byte(m, 0xc3); put_len(m, 3); put_len(m, 10);
    put(m, "\x00" "a" "\x20", 3);   /* a back reference past the start */
}
static void select_16(struct kvr_mem *m) { put_byte(m, KV_RDB_OP_SELECTDB); put_len(m, 16); }
static void module_aux(struct kvr_mem *m) { put_byte(m, KV_RDB_OP_MODULE_AUX); put_len(m, 1); }
static void function2(struct kvr_mem *m) { put_byte(m, KV_RDB_OP_FUNCTION2); put_cstr(m, "lib"); }
static void stream(struct kvr_mem *m) { put_byte(m, KV_RDB_TYPE_STREAM_LISTPACKS); put_cstr(m, "s"); }
static void type_200(struct kvr_mem *m) { put_byte(m, 200); put_cstr(m, "k"); }
static void dup_key(struct kvr_mem *m) { put_byte(m, 0); put_cstr(m, "good"); put_cstr(m, "w"); }
static void dup_member(struct kvr_mem *m)
{
    put_byte(m, KV_RDB_TYPE_SET); put_cstr(m, "s"); put_len(m, 2); put_cstr(m, "x"); put_cstr(m, "x");
}
static void dup_field_lp(struct kvr_mem *m)
{
    struct lp l;
    lp_init(&l);
    lp_str(&l, "f"); lp_str(&l, "1"); lp_str(&l, "f"); lp_str(&l, "2");
    lp_done(&l);
    put_byte(m, KV_RDB_TYPE_HASH_LISTPACK); put_cstr(m, "h"); put_str(m, l.m.p, l.m.len);
    free(l.m.p);
}
static void odd_lp(struct kvr_mem *m)
{
    struct lp l;
    lp_init(&l);
    lp_str(&l, "f"); lp_str(&l, "1"); lp_str(&l, "g");
    lp_done(&l);
    put_byte(m, KV_RDB_TYPE_HASH_LISTPACK); put_cstr(m, "h"); put_str(m, l.m.p, l.m.len);
    free(l.m.p);
}
static void bad_backlen(struct kvr_mem *m)
{
    struct lp l;
    lp_init(&l);
    lp_str(&l, "abc");
    l.m.p[l.m.len - 1] = 9;
    lp_done(&l);
    put_byte(m, KV_RDB_TYPE_LIST_QUICKLIST_2); put_cstr(m, "l"); put_len(m, 1);
    put_len(m, KV_RDB_QL_PACKED); put_str(m, l.m.p, l.m.len);
    free(l.m.p);
}
static void bad_prevlen(struct kvr_mem *m)
{
    struct zl z;
    zl_init(&z);
    zl_str(&z, "a");
    zl_str(&z, "b");
    z.m.p[z.last] = 7;
    zl_done(&z);
    put_byte(m, KV_RDB_TYPE_LIST_ZIPLIST); put_cstr(m, "l"); put_str(m, z.m.p, z.m.len);
    free(z.m.p);
}
static void unsorted_intset(struct kvr_mem *m)
{
    put_byte(m, KV_RDB_TYPE_SET_INTSET); put_cstr(m, "s");
    put_str(m, "\x02\0\0\0\x02\0\0\0\x05\x00\x01\x00", 12);
}
static void nan_score(struct kvr_mem *m)
{
    put_byte(m, KV_RDB_TYPE_ZSET); put_cstr(m, "z"); put_len(m, 1); put_cstr(m, "a"); put_byte(m, 253);
}
static void bad_quicklist_container(struct kvr_mem *m)
{
    put_byte(m, KV_RDB_TYPE_LIST_QUICKLIST_2); put_cstr(m, "l"); put_len(m, 1); put_len(m, 3);
}
static void bad_checksum(struct kvr_mem *m)
{
    put_byte(m, KV_RDB_OP_EOF);
    put_le(m, 0x1234, 8);
    m->len -= 0;   /* rdb_end appends more after this: the loader stops at the first EOF */
}

static void test_hostile(void)
{
    start();
    expect_refused("huge string", huge_string, -EINVAL, "string of 1152921504606846976 bytes (over 536870912)");
    expect_refused("huge list", huge_list, -EINVAL, "unknown string encoding 63");
    expect_refused("huge lzf", huge_lzf, -EINVAL, "LZF string of 524288000 bytes from 4");
    expect_refused("bad lzf", bad_lzf, -EINVAL, "invalid LZF data");
    expect_refused("select 16", select_16, -EINVAL, "DB index 16 out of range");
    expect_refused("module aux", module_aux, -EINVAL, "MODULE_AUX");
    expect_refused("function", function2, -EINVAL, "function library");
    expect_refused("stream", stream, -EINVAL, "unsupported (module or stream) RDB type 15");
    expect_refused("type 200", type_200, -EINVAL, "unknown RDB type 200 at offset 17");
    expect_refused("dup key", dup_key, -EINVAL, "duplicate key 'good' in db 0");
    expect_refused("dup member", dup_member, -EINVAL, "set member");
    expect_refused("dup field", dup_field_lp, -EINVAL, "hash field");
    expect_refused("odd listpack", odd_lp, -EINVAL, "odd number of elements");
    expect_refused("backlen", bad_backlen, -EINVAL, "listpack backlen");
    expect_refused("prevlen", bad_prevlen, -EINVAL, "ziplist prevlen mismatch");
    expect_refused("intset", unsorted_intset, -EINVAL, "intset not sorted");
    expect_refused("nan", nan_score, -EINVAL, "NaN score");
    expect_refused("container", bad_quicklist_container, -EINVAL, "quicklist container 3");
    expect_refused("checksum", bad_checksum, -EINVAL, "RDB checksum mismatch");

    /* versions: 11 refused, 0 refused, 4 (no checksum) and checksum 0 accepted */
    struct kvr_mem m;
    rdb_begin(&m);
    memcpy(m.p, "REDIS0011", 9);
    rdb_end(&m);
    CHECK_EQ_INT(load_mem(&m), -EINVAL);
    CHECK_STR_CONTAINS(load_err, "can't handle RDB format version 11");
    memcpy(m.p, "RADIS0010", 9);
    CHECK_EQ_INT(load_mem(&m), -EINVAL);
    CHECK_STR_CONTAINS(load_err, "wrong signature");
    free(m.p);
    rdb_begin(&m);
    memcpy(m.p, "REDIS0004", 9);
    put_byte(&m, 0); put_cstr(&m, "k"); put_cstr(&m, "v");
    put_byte(&m, KV_RDB_OP_EOF);
    CHECK_EQ_INT(load_mem(&m), 0);
    CHECK_EQ_INT(kv_keys_total(), 1);
    /* a store that is not empty is refused */
    CHECK_EQ_INT(load_mem(&m), -EBUSY);
    CHECK_EQ_INT(kv_keys_total(), 1);
    kv_db_empty(NULL, -1);
    memcpy(m.p, "REDIS0010", 9);
    put_le(&m, 0, 8);
    CHECK_EQ_INT(load_mem(&m), 0);
    CHECK_EQ_INT(kv_keys_total(), 1);
    free(m.p);
    kv_stop();
}

int main(void)
{
    RUN(test_crc64);
    RUN(test_round_trip);
    RUN(test_truncated_and_flipped);
    RUN(test_sink_errors);
    RUN(test_encodings);
    RUN(test_hostile);
    TEST_EXIT();
}
