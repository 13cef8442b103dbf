/* The store's core natively: a few commands end to end through kv_batch,
 * replies byte for byte as Redis 7.0 writes them. */
#include "../harness.h"
#include "kv_test.h"
#include "kv_server.h"

static void test_ping_set_get(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "PING"), "+PONG\r\n") == 0);
    CHECK(strcmp(KVT(1, "SET", "k", "v"), "+OK\r\n") == 0);
    CHECK(strcmp(KVT(1, "GET", "k"), "$1\r\nv\r\n") == 0);
    CHECK(strcmp(KVT(1, "GET", "missing"), "$-1\r\n") == 0);
    CHECK(strcmp(KVT(1, "INCR", "n"), ":1\r\n") == 0);
    CHECK(strcmp(KVT(1, "INCRBY", "n", "41"), ":42\r\n") == 0);
    CHECK(strcmp(KVT(1, "GET", "n"), "$2\r\n42\r\n") == 0);
    CHECK(strcmp(KVT(1, "DBSIZE"), ":2\r\n") == 0);
    kvt_gone(1);
    kv_stop();
}

static void test_malformed_batches(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    uint8_t in[64] = { 0 }, out[256];
    size_t out_len;
    struct kv_batch_in head = { kvt_now_us, 1, 0 };
    memcpy(in, &head, sizeof head);
    struct kv_client_in rec = { 1, KV_IN_DATA, 1000 };   /* longer than the batch */
    memcpy(in + sizeof head, &rec, sizeof rec);
    CHECK_EQ_INT(kv_batch(in, sizeof in, out, sizeof out, &out_len), -EINVAL);
    rec.len = 4;
    rec.flags = 64;   /* unknown flag */
    memcpy(in + sizeof head, &rec, sizeof rec);
    CHECK_EQ_INT(kv_batch(in, sizeof in, out, sizeof out, &out_len), -EINVAL);
    rec.flags = KV_IN_DATA;
    rec.id = 0;
    memcpy(in + sizeof head, &rec, sizeof rec);
    CHECK_EQ_INT(kv_batch(in, sizeof in, out, sizeof out, &out_len), -EINVAL);
    CHECK_EQ_INT(kv_batch(in, 3, out, sizeof out, &out_len), -EINVAL);
    CHECK_EQ_INT(kv_batch(in, sizeof in, out, 4, &out_len), -EINVAL);
    head.count = 2;   /* a second record that is not there */
    memcpy(in, &head, sizeof head);
    CHECK_EQ_INT(kv_batch(in, sizeof head + 16, out, sizeof out, &out_len), -EINVAL);
    /* nothing was done: the store still answers */
    CHECK(strcmp(KVT(1, "DBSIZE"), ":0\r\n") == 0);
    kv_stop();
}

/* Replies larger than out_cap stay inside and come on the next asks. */
static void test_pending_output(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "SET", "k", "0123456789012345678901234567890123456789"), "+OK\r\n") == 0);
    size_t cap = kvt_out_cap;
    kvt_out_cap = 64;
    char *reply = NULL;
    size_t len = 0;
    const char *pipe = "GET k\r\nGET k\r\nGET k\r\n";
    REQUIRE(kvt_batch(1, KV_IN_DATA, pipe, strlen(pipe), 0, &reply, &len) == 0);
    CHECK(kvt_last_flags & KV_OUT_PENDING);
    int asks = 0;
    while ((kvt_last_flags & KV_OUT_PENDING) && asks++ < 100)
        kvt_batch(1, 0, NULL, 0, 0, &reply, &len);
    kvt_out_cap = cap;
    const char *one = "$40\r\n0123456789012345678901234567890123456789\r\n";
    CHECK_EQ_INT(len, 3 * strlen(one));
    CHECK(reply && strncmp(reply, one, strlen(one)) == 0);
    CHECK(asks > 1);
    free(reply);
    kv_stop();
}

/* A command split across batches waits in the query buffer. */
static void test_partial_input(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    CHECK(strcmp(kvt_raw(1, "*3\r\n$3\r\nSET\r\n$1\r\nk", 18), "") == 0);
    CHECK(strcmp(kvt_raw(1, "\r\n$2\r\nvv\r\nGET", 13), "+OK\r\n") == 0);
    CHECK(strcmp(kvt_raw(1, " k\r\n", 4), "$2\r\nvv\r\n") == 0);
    CHECK(strcmp(kvt_raw(1, "QUIT\r\n", 6), "+OK\r\n") == 0);
    CHECK(kvt_last_flags & KV_OUT_CLOSE);
    kv_stop();
}

static void test_auth(void)
{
    struct kv_config cfg;
    kvt_config(&cfg);
    cfg.pass_len = 6;
    memcpy(cfg.pass, "secret", 6);
    REQUIRE(kvt_start_with(&cfg) == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "GET", "k"), "-NOAUTH Authentication required.\r\n") == 0);
    CHECK(strcmp(KVT(1, "AUTH", "nope"),
                 "-WRONGPASS invalid username-password pair or user is disabled.\r\n") == 0);
    CHECK(strcmp(KVT(1, "AUTH", "secret"), "+OK\r\n") == 0);
    CHECK(strcmp(KVT(1, "GET", "k"), "$-1\r\n") == 0);
    kv_stop();
}

static void test_expiry(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "SET", "lazy", "v", "PX", "100"), "+OK\r\n") == 0);
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "a%d", i);
        KVT(1, "SET", k, "v", "PX", "100");
    }
    CHECK(strcmp(KVT(1, "DBSIZE"), ":51\r\n") == 0);
    kvt_now_us += 200 * 1000;
    CHECK(strcmp(KVT(1, "GET", "lazy"), "$-1\r\n") == 0);   /* lazy */
    /* the active cycle removes the rest without any access */
    for (int i = 0; i < 10; i++)
        kvt_batch(1, 0, NULL, 0, KV_BATCH_CRON, NULL, NULL);
    CHECK(strcmp(KVT(1, "DBSIZE"), ":0\r\n") == 0);
    kv_stop();
}

static void test_maxmemory(void)
{
    struct kv_config cfg;
    kvt_config(&cfg);
    cfg.maxmemory = 200 * 1024;
    REQUIRE(kvt_start_with(&cfg) == 0);
    kvt_connect(1);
    const char *r = "";
    char val[1000];
    memset(val, 'x', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 1000 && strncmp(r, "-OOM", 4) != 0; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        r = KVT(1, "SET", k, val);
    }
    CHECK(strcmp(r, "-OOM command not allowed when used memory > 'maxmemory'.\r\n") == 0);
    CHECK(strncmp(KVT(1, "GET", "k1"), "$999\r\n", 6) == 0);   /* reads still served */
    CHECK(strncmp(KVT(1, "DEL", "k1"), ":1", 2) == 0);            /* so are deletes */
    kv_stop();
}

/* The slab allocator itself (the ASan build allocates directly). */
static void test_mem_slabs(void)
{
    struct kv_mem m;
    kv_mem_init(&m, false);
    void *p[1000];
    for (int i = 0; i < 1000; i++) {
        p[i] = kv_mem_alloc(&m, (size_t)(i * 7) % 5000 + 1);
        memset(p[i], i & 0xff, (size_t)(i * 7) % 5000 + 1);
    }
    size_t used = m.used;
    CHECK(used > 0);
    for (int i = 0; i < 1000; i += 2)
        kv_mem_free(&m, p[i]);
    for (int i = 0; i < 1000; i += 2)
        p[i] = kv_mem_alloc(&m, (size_t)(i * 7) % 5000 + 1);
    CHECK_EQ_INT(m.used, used);   /* exact: same sizes, same total */
    for (int i = 1; i < 1000; i += 2)
        CHECK(((unsigned char *)p[i])[0] == (i & 0xff));
    CHECK(kv_mem_usable(&m, kv_mem_realloc(&m, p[1], 9)) >= 9);
    for (int i = 0; i < 1000; i++)
        if (i != 1)
            kv_mem_free(&m, p[i]);
    kv_mem_destroy(&m);
}

int main(void)
{
    RUN(test_ping_set_get);
    RUN(test_malformed_batches);
    RUN(test_pending_output);
    RUN(test_partial_input);
    RUN(test_auth);
    RUN(test_expiry);
    RUN(test_maxmemory);
    RUN(test_mem_slabs);
    TEST_EXIT();
}
