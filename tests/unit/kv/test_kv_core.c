/* The store's core natively: a few commands end to end through kv_batch,
 * replies byte for byte as Redis 7.0 writes them. */
#include "../harness.h"
#include "kv_test.h"

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

int main(void)
{
    RUN(test_ping_set_get);
    TEST_EXIT();
}
