/* Hashes: every command's replies byte for byte as redis-server 7.0 gives
 * them (HINCRBYFLOAT's long double formatting included), the key deleted
 * when its last field goes. */
#include "../harness.h"
#include "kv.h"
#include "kv_batch_client.h"

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

static void test_set_get(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    CHECK_REPLY(":1\r\n", "HSET", "h", "f1", "v1");
    CHECK_REPLY(":2\r\n", "hset", "h", "f1", "v1b", "f2", "v2", "f3", "3");
    CHECK_REPLY("-ERR wrong number of arguments for 'hset' command\r\n", "hset", "h", "f4");
    CHECK_REPLY("-ERR wrong number of arguments for 'hmset' command\r\n", "hmset", "h", "a", "1", "b");
    CHECK_REPLY("+OK\r\n", "hmset", "h", "f5", "5", "f6", "6");
    CHECK_REPLY("$3\r\nv1b\r\n", "hget", "h", "f1");
    CHECK_REPLY("$-1\r\n", "hget", "h", "nof");
    CHECK_REPLY("$-1\r\n", "hget", "noh", "f");
    CHECK_REPLY("*3\r\n$3\r\nv1b\r\n$-1\r\n$1\r\n3\r\n", "hmget", "h", "f1", "nof", "f3");
    CHECK_REPLY("*2\r\n$-1\r\n$-1\r\n", "hmget", "noh", "a", "b");
    CHECK_REPLY(":5\r\n", "hlen", "h");
    CHECK_REPLY(":0\r\n", "hlen", "noh");
    CHECK_REPLY(":1\r\n", "hexists", "h", "f2");
    CHECK_REPLY(":0\r\n", "hexists", "h", "zz");
    CHECK_REPLY(":0\r\n", "hexists", "noh", "f");
    CHECK_REPLY(":3\r\n", "hstrlen", "h", "f1");
    CHECK_REPLY(":0\r\n", "hstrlen", "h", "zz");
    CHECK_REPLY(":0\r\n", "hsetnx", "h", "f1", "x");
    CHECK_REPLY(":1\r\n", "hsetnx", "h", "new", "x");
    CHECK_REPLY(":1\r\n", "hsetnx", "noh2", "a", "b");
    CHECK_REPLY("$1\r\nb\r\n", "hget", "noh2", "a");
    CHECK_REPLY(":1\r\n", "hset", "h", "", "");
    CHECK_REPLY("$0\r\n\r\n", "hget", "h", "");
    CHECK_REPLY("*0\r\n", "hgetall", "noh");
    CHECK_REPLY("*0\r\n", "hkeys", "noh");
    CHECK_REPLY("*0\r\n", "hvals", "noh");
    CHECK_REPLY("*2\r\n$1\r\na\r\n$1\r\nb\r\n", "hgetall", "noh2");
    CHECK_REPLY("*1\r\n$1\r\na\r\n", "hkeys", "noh2");
    CHECK_REPLY("*1\r\n$1\r\nb\r\n", "hvals", "noh2");
    CHECK_REPLY("+hash\r\n", "type", "h");
}

/* HGETALL of a bigger hash: every pair once, keys with their values. */
static void test_getall_pairs(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    char f[16], v[16];
    for (int i = 0; i < 300; i++) {
        snprintf(f, sizeof f, "k%d", i);
        snprintf(v, sizeof v, "v%d", i);
        CHECK_REPLY(":1\r\n", "hset", "hb", f, v);
    }
    const char *r = KVT_RUN("hgetall", "hb");
    REQUIRE(strncmp(r, "*600\r\n", 6) == 0);
    int seen[300] = {0}, pairs = 0;
    const char *p = r + 6;
    while (*p) {
        int a, b, n = 0;
        if (sscanf(p, "$%*d\r\nk%d\r\n$%*d\r\nv%d\r\n%n", &a, &b, &n) != 2 || n == 0)
            break;
        CHECK_EQ_INT(a, b);
        if (a >= 0 && a < 300)
            seen[a]++;
        pairs++;
        p += n;
    }
    CHECK_EQ_INT(pairs, 300);
    for (int i = 0; i < 300; i++)
        CHECK_EQ_INT(seen[i], 1);
}

static void test_incr(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    CHECK_REPLY(":3\r\n", "hset", "h", "f1", "v1", "f3", "3", "max", "9223372036854775807");
    CHECK_REPLY(":13\r\n", "hincrby", "h", "f3", "10");
    CHECK_REPLY(":-7\r\n", "hincrby", "h", "f3", "-20");
    CHECK_REPLY(":5\r\n", "hincrby", "h", "newi", "5");
    CHECK_REPLY("-ERR hash value is not an integer\r\n", "hincrby", "h", "f1", "1");
    CHECK_REPLY("-ERR value is not an integer or out of range\r\n", "hincrby", "h", "f3", "1.5");
    CHECK_REPLY("-ERR value is not an integer or out of range\r\n", "hincrby", "h", "f3",
                "9223372036854775808");
    CHECK_REPLY("-ERR increment or decrement would overflow\r\n", "hincrby", "h", "max", "1");
    CHECK_REPLY(":9223372036854775807\r\n", "hincrby", "h", "max", "0");
    CHECK_REPLY(":7\r\n", "hincrby", "noh3", "a", "7");
    CHECK_REPLY(":3\r\n", "hset", "h", "min", "-9223372036854775808", "lead0", "007", "sp", " 1");
    CHECK_REPLY("-ERR increment or decrement would overflow\r\n", "hincrby", "h", "min", "-1");
    CHECK_REPLY(":-1\r\n", "hincrby", "h", "min", "9223372036854775807");
    CHECK_REPLY("-ERR hash value is not an integer\r\n", "hincrby", "h", "lead0", "1");
    CHECK_REPLY("-ERR hash value is not an integer\r\n", "hincrby", "h", "sp", "1");

    CHECK_REPLY("$3\r\n1.5\r\n", "hincrbyfloat", "h", "fl", "1.5");
    CHECK_REPLY("$4\r\n1.25\r\n", "hincrbyfloat", "h", "fl", "-0.25");
    CHECK_REPLY("$5\r\n11.25\r\n", "hincrbyfloat", "h", "fl", "10");
    CHECK_REPLY("$7\r\n1011.25\r\n", "hincrbyfloat", "h", "fl", "1e3");
    CHECK_REPLY("$7\r\n1027.25\r\n", "hincrbyfloat", "h", "fl", "0x10");
    CHECK_REPLY("$22\r\n1027.25002999999999997\r\n", "hincrbyfloat", "h", "fl", "3.0e-5");
    CHECK_REPLY("$22\r\n1027.75002999999999997\r\n", "hincrbyfloat", "h", "fl", ".5");
    CHECK_REPLY("-ERR value is NaN or Infinity\r\n", "hincrbyfloat", "h", "fl", "inf");
    CHECK_REPLY("-ERR value is not a valid float\r\n", "hincrbyfloat", "h", "fl", "nan");
    CHECK_REPLY("-ERR value is not a valid float\r\n", "hincrbyfloat", "h", "fl", "");
    CHECK_REPLY("-ERR value is not a valid float\r\n", "hincrbyfloat", "h", "fl", " 1");
    CHECK_REPLY("-ERR value is not a valid float\r\n", "hincrbyfloat", "h", "fl", "1 ");
    CHECK_REPLY("-ERR value is not a valid float\r\n", "hincrbyfloat", "h", "fl", "1e5000");
    CHECK_REPLY("-ERR hash value is not a float\r\n", "hincrbyfloat", "h", "f1", "1");
    CHECK_REPLY("$4\r\n-6.9\r\n", "hincrbyfloat", "h", "f3", "0.1");
    CHECK_REPLY("$1\r\n8\r\n", "hincrbyfloat", "h", "lead0", "1");
    CHECK_REPLY("$3\r\n2.5\r\n", "hincrbyfloat", "noh4", "a", "2.5");
    CHECK_REPLY(":1\r\n", "hset", "h", "fz", "-0.0");
    CHECK_REPLY("$1\r\n0\r\n", "hincrbyfloat", "h", "fz", "0");
    CHECK_REPLY("$4\r\n-0.1\r\n", "hincrbyfloat", "h", "fneg", "-0.1");
    CHECK_REPLY("$1\r\n0\r\n", "hincrbyfloat", "h", "fneg", "0.1");
    CHECK_REPLY("$3\r\n0.1\r\n", "hincrbyfloat", "h", "fl2", "0.1");
    CHECK_REPLY("$3\r\n0.3\r\n", "hincrbyfloat", "h", "fl2", "0.2");
}

static void test_del_and_wrongtype(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    CHECK_REPLY(":3\r\n", "hset", "h", "a", "1", "b", "2", "c", "3");
    CHECK_REPLY(":2\r\n", "hdel", "h", "a", "nof", "b");
    CHECK_REPLY(":0\r\n", "hdel", "h", "a");
    CHECK_REPLY(":0\r\n", "hdel", "noh", "a");
    CHECK_REPLY(":1\r\n", "hdel", "h", "c", "c");
    CHECK_REPLY(":0\r\n", "exists", "h");   /* the last field took the key */
    CHECK_REPLY("*2\r\n$1\r\n0\r\n*0\r\n", "hscan", "noh", "0");
    CHECK_REPLY("-ERR invalid cursor\r\n", "hscan", "noh", "x");
    CHECK_REPLY("+OK\r\n", "set", "s", "str");
    CHECK_REPLY("-ERR invalid cursor\r\n", "hscan", "s", "x");
    CHECK_REPLY(WRONGTYPE, "hscan", "s", "0");
    CHECK_REPLY(WRONGTYPE, "hset", "s", "a", "b");
    CHECK_REPLY(WRONGTYPE, "hmset", "s", "a", "b");
    CHECK_REPLY(WRONGTYPE, "hsetnx", "s", "a", "b");
    CHECK_REPLY(WRONGTYPE, "hget", "s", "a");
    CHECK_REPLY(WRONGTYPE, "hmget", "s", "a");
    CHECK_REPLY(WRONGTYPE, "hdel", "s", "a");
    CHECK_REPLY(WRONGTYPE, "hlen", "s");
    CHECK_REPLY(WRONGTYPE, "hstrlen", "s", "a");
    CHECK_REPLY(WRONGTYPE, "hexists", "s", "a");
    CHECK_REPLY(WRONGTYPE, "hkeys", "s");
    CHECK_REPLY(WRONGTYPE, "hvals", "s");
    CHECK_REPLY(WRONGTYPE, "hgetall", "s");
    CHECK_REPLY(WRONGTYPE, "hincrby", "s", "a", "1");
    CHECK_REPLY(WRONGTYPE, "hincrbyfloat", "s", "a", "1");
    CHECK_REPLY("-ERR value is not a valid float\r\n", "hincrbyfloat", "s", "a", "x");
    CHECK_REPLY("$3\r\nstr\r\n", "get", "s");
}

int main(void)
{
    RUN(test_set_get);
    RUN(test_getall_pairs);
    RUN(test_incr);
    RUN(test_del_and_wrongtype);
    kv_stop();
    free(kvt_reply);
    TEST_EXIT();
}
