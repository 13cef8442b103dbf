/* The store's limits and the commands' corners fixed against Redis 7.0,
 * natively through kv_batch: the client output limit (checked per command,
 * sized from maxmemory), EXEC refused -> EXECABORT, CONFIG SET requirepass
 * (all or nothing; clients already in stay in), DEBUG SET-ACTIVE-EXPIRE. */
#include "../harness.h"
#include "kv_test.h"
#include "kv_server.h"

/* A client pipelining GETs of a 1 MB value in one read is closed once its
 * replies pass the limit: the store never holds 2000 MB for it. */
static void test_output_limit(void)
{
    struct kv_config cfg;
    kvt_config(&cfg);
    cfg.maxmemory = 64ULL << 20;
    REQUIRE(kvt_start_with(&cfg) == 0);
    CHECK_EQ_INT(kv_client_output_limit(), (16 << 20) + (4 << 20));
    kvt_connect(1);
    kvt_connect(2);
    char *big = malloc((1 << 20) + 64);
    int n = snprintf(big, 64, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n", 1 << 20);
    memset(big + n, 'x', 1 << 20);
    memcpy(big + n + (1 << 20), "\r\n", 2);
    CHECK(strcmp(kvt_raw(1, big, (size_t)n + (1 << 20) + 2), "+OK\r\n") == 0);
    free(big);
    const char get[] = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
    size_t len = 2000 * (sizeof get - 1);
    char *pipe = malloc(len);
    for (int i = 0; i < 2000; i++)
        memcpy(pipe + (size_t)i * (sizeof get - 1), get, sizeof get - 1);
    char *reply = NULL;
    size_t reply_len = 0;
    kvt_last_flags = 0;
    CHECK_EQ_INT(kvt_batch(2, KV_IN_DATA, pipe, len, 0, &reply, &reply_len), 0);
    free(pipe);
    free(reply);
    CHECK(kvt_last_flags & KV_OUT_CLOSE);
    CHECK(reply_len <= kvt_out_cap);
    CHECK(kv_server()->mem.used < (8U << 20));   /* its replies are dropped, not kept */
    CHECK(strcmp(KVT(1, "STRLEN", "big"), ":1048576\r\n") == 0);   /* the other is served */
    /* one command's reply alone past the limit: closed in the middle of it */
    kvt_connect(3);
    size_t mlen = 0;
    char *mget = malloc(64 + 300 * 16);
    mlen += (size_t)sprintf(mget, "*301\r\n$4\r\nMGET\r\n");
    for (int i = 0; i < 300; i++)
        mlen += (size_t)sprintf(mget + mlen, "$3\r\nbig\r\n");
    reply = NULL;
    reply_len = 0;
    kvt_last_flags = 0;
    CHECK_EQ_INT(kvt_batch(3, KV_IN_DATA, mget, mlen, 0, &reply, &reply_len), 0);
    free(mget);
    free(reply);
    CHECK(kvt_last_flags & KV_OUT_CLOSE);
    CHECK(kv_server()->mem.used < (8U << 20));
    CHECK(strcmp(KVT(1, "STRLEN", "big"), ":1048576\r\n") == 0);
    kv_stop();
    /* no maxmemory: Redis's hard limit of the replica class */
    kvt_config(&cfg);
    REQUIRE(kvt_start_with(&cfg) == 0);
    CHECK_EQ_INT(kv_client_output_limit(), 256 << 20);
    kv_stop();
}

static void test_exec_refused(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "MULTI"), "+OK\r\n") == 0);
    CHECK(strcmp(KVT(1, "SET", "k", "v"), "+QUEUED\r\n") == 0);
    CHECK(strcmp(KVT(1, "EXEC", "x"), "-EXECABORT Transaction discarded because of: wrong number "
                                      "of arguments for 'exec' command\r\n") == 0);
    CHECK(strcmp(KVT(1, "EXEC"), "-ERR EXEC without MULTI\r\n") == 0);   /* discarded */
    CHECK(strcmp(KVT(1, "EXISTS", "k"), ":0\r\n") == 0);
    /* outside MULTI too, as Redis's rejectCommand */
    CHECK(strcmp(KVT(1, "EXEC", "x"), "-EXECABORT Transaction discarded because of: wrong number "
                                      "of arguments for 'exec' command\r\n") == 0);
    kv_stop();
}

static void test_config_set_requirepass(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "CONFIG", "SET", "maxmemory", "1mb", "nosuch", "x"),
                 "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n") == 0);
    CHECK(strcmp(KVT(1, "CONFIG", "GET", "maxmemory"), "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n") == 0);
    CHECK(strcmp(KVT(1, "CONFIG", "SET", "requirepass", "pw", "maxmemory", "2mb"), "+OK\r\n") == 0);
    CHECK(strcmp(KVT(1, "CONFIG", "GET", "maxmemory"),
                 "*2\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n") == 0);
    CHECK(strcmp(KVT(1, "GET", "k"), "$-1\r\n") == 0);   /* in before: stays in */
    kvt_connect(2);
    CHECK(strcmp(KVT(2, "GET", "k"), "-NOAUTH Authentication required.\r\n") == 0);
    CHECK(strcmp(KVT(2, "AUTH", "nope"),
                 "-WRONGPASS invalid username-password pair or user is disabled.\r\n") == 0);
    CHECK(strcmp(KVT(2, "AUTH", "pw"), "+OK\r\n") == 0);
    CHECK(strcmp(KVT(2, "CONFIG", "SET", "requirepass", ""), "+OK\r\n") == 0);
    kvt_connect(3);
    CHECK(strcmp(KVT(3, "GET", "k"), "$-1\r\n") == 0);
    kvt_gone(3);
    CHECK(strcmp(KVT(1, "INFO", "clients"), "") != 0);
    CHECK(strstr(KVT(1, "INFO", "clients"), "connected_clients:2\r\n") != NULL);
    kv_stop();
}

static void test_active_expire_switch(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "DEBUG", "SET-ACTIVE-EXPIRE", "0"), "+OK\r\n") == 0);
    CHECK(strcmp(KVT(1, "SET", "k", "v", "PX", "100"), "+OK\r\n") == 0);
    kvt_now_us += 1000000;
    for (int i = 0; i < 20; i++)
        kvt_batch(1, 0, NULL, 0, KV_BATCH_CRON, NULL, NULL);
    CHECK(strcmp(KVT(1, "DBSIZE"), ":1\r\n") == 0);   /* expired, not yet deleted */
    CHECK(strcmp(KVT(1, "DEBUG", "SET-ACTIVE-EXPIRE", "1"), "+OK\r\n") == 0);
    for (int i = 0; i < 20; i++)
        kvt_batch(1, 0, NULL, 0, KV_BATCH_CRON, NULL, NULL);
    CHECK(strcmp(KVT(1, "DBSIZE"), ":0\r\n") == 0);   /* the cycle took it */
    CHECK(strncmp(KVT(1, "DEBUG", "SET-ACTIVE-EXPIRE"), "-ERR unknown subcommand", 23) == 0);
    kv_stop();
}

int main(void)
{
    RUN(test_output_limit);
    RUN(test_exec_refused);
    RUN(test_config_set_requirepass);
    RUN(test_active_expire_switch);
    TEST_EXIT();
}
