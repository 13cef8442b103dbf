/* The same commands against Debian's redis-server 7.0 (started here on its
 * own port, no persistence, stopped at the end) and against the store
 * natively: the replies must be equal byte for byte. Also the rate of
 * 1,000,000 SETs of new keys natively (the allocator's speed). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "kv_test.h"

static pid_t redis_pid;
static int redis_fd = -1;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static bool redis_start(void)
{
    if (access("/usr/bin/redis-server", X_OK) != 0)
        return false;
    int port = free_port();
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    redis_pid = fork();
    if (redis_pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 1);
        execl("/usr/bin/redis-server", "redis-server", "--port", ports, "--bind", "127.0.0.1",
              "--save", "", "--appendonly", "no", "--daemonize", "no", (char *)NULL);
        _exit(127);
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    for (int i = 0; i < 100; i++) {
        redis_fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(redis_fd, (struct sockaddr *)&a, sizeof a) == 0)
            return true;
        close(redis_fd);
        redis_fd = -1;
        struct timespec ts = { 0, 50 * 1000 * 1000 };   /* waiting for it to listen */
        nanosleep(&ts, NULL);
    }
    return false;
}

static void redis_stop(void)
{
    if (redis_fd >= 0)
        close(redis_fd);
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
    }
}

/* Redis's reply to bytes: what arrives until it has been quiet for 100 ms
 * (a sentinel command would be queued inside MULTI). */
static char *redis_send(const char *data, size_t len)
{
    if (write(redis_fd, data, len) < 0)
        return NULL;
    size_t cap = 1 << 16, got = 0;
    char *r = malloc(cap);
    for (;;) {
        struct pollfd p = { .fd = redis_fd, .events = POLLIN };
        if (poll(&p, 1, got ? 100 : 2000) <= 0)
            break;
        if (got + 4096 > cap)
            r = realloc(r, cap *= 2);
        ssize_t n = read(redis_fd, r + got, cap - got - 1);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    r[got] = '\0';
    return r;
}

static char *resp_of(const char *const *words)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int n = 0;
    while (words[n])
        n++;
    fprintf(f, "*%d\r\n", n);
    for (int i = 0; i < n; i++)
        fprintf(f, "$%zu\r\n%s\r\n", strlen(words[i]), words[i]);
    fclose(f);
    return buf;
}

static int mismatches;

static void compare(const char *data)
{
    if (getenv("KVT_VERBOSE"))
        fprintf(stderr, "> %s\n", data);
    char *want = redis_send(data, strlen(data));
    const char *got = kvt_raw(1, data, strlen(data));
    if (!want || strcmp(want, got) != 0) {
        fprintf(stderr, "  request %s\n  redis: %s\n  ours:  %s\n", data, want ? want : "(none)", got);
        mismatches++;
    }
    free(want);
}

#define CMP(...)                                                            \
    do {                                                                    \
        char *req_ = resp_of((const char *const[]){ __VA_ARGS__, NULL });   \
        compare(req_);                                                      \
        free(req_);                                                         \
    } while (0)

static void test_same_replies_as_redis(void)
{
    if (!redis_start())
        SKIP("redis-server not installed (scripts/setup.sh installs it)");
    struct timeval tv;
    gettimeofday(&tv, NULL);   /* both sides on the real clock (TTLs) */
    kvt_now_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    mismatches = 0;
    CMP("FLUSHALL");
    CMP("PING");
    CMP("PING", "hello");
    CMP("PING", "a", "b");
    CMP("ECHO", "x y");
    CMP("SET", "k", "v");
    CMP("GET", "k");
    CMP("SET", "k", "v2", "GET");
    CMP("SET", "k", "v3", "NX");
    CMP("SET", "k", "v3", "XX", "GET");
    CMP("SET", "k", "v", "NX", "XX");
    CMP("SET", "k", "v", "EX", "0");
    CMP("SET", "k", "v", "EX", "abc");
    CMP("SET", "k", "v", "PX", "-5");
    CMP("SET", "k", "v", "KEEPTTL", "EX", "10");
    CMP("SET", "k", "v", "FOO");
    CMP("SET", "k");
    CMP("GET");
    CMP("NOSUCHCMD", "a", "b");
    CMP("NOSUCHCMD");
    CMP("SETNX", "k", "x");
    CMP("SETNX", "k2", "x");
    CMP("SETEX", "k3", "100", "v");
    CMP("TTL", "k3");
    CMP("PSETEX", "k4", "0", "v");
    CMP("SETEX", "k4", "-1", "v");
    CMP("GETSET", "k", "new");
    CMP("GETDEL", "k");
    CMP("GETDEL", "k");
    CMP("MSET", "a", "1", "b", "2");
    CMP("MSET", "a", "1", "b");
    CMP("MGET", "a", "b", "nokey");
    CMP("MSETNX", "a", "1", "zz", "2");
    CMP("MSETNX", "x1", "1", "x2", "2");
    CMP("INCR", "a");
    CMP("DECR", "a");
    CMP("INCRBY", "a", "10");
    CMP("DECRBY", "a", "3");
    CMP("INCRBY", "a", "x");
    CMP("INCR", "k2");
    CMP("SET", "big", "9223372036854775807");
    CMP("INCR", "big");
    CMP("DECRBY", "a", "-9223372036854775808");
    CMP("INCRBYFLOAT", "f", "1.5");
    CMP("INCRBYFLOAT", "f", "0.1");
    CMP("INCRBYFLOAT", "f", "abc");
    CMP("INCRBYFLOAT", "f", "1e400");
    CMP("SET", "n", "10");
    CMP("INCRBYFLOAT", "n", "-10");
    CMP("APPEND", "ap", "hello");
    CMP("APPEND", "ap", " world");
    CMP("APPEND", "a", "0");
    CMP("GET", "a");
    CMP("STRLEN", "ap");
    CMP("STRLEN", "none");
    CMP("GETRANGE", "ap", "0", "4");
    CMP("GETRANGE", "ap", "-5", "-1");
    CMP("GETRANGE", "ap", "5", "2");
    CMP("GETRANGE", "ap", "-1", "-5");
    CMP("GETRANGE", "none", "0", "1");
    CMP("SETRANGE", "ap", "6", "WORLD");
    CMP("GET", "ap");
    CMP("SETRANGE", "sr", "3", "x");
    CMP("GET", "sr");
    CMP("SETRANGE", "sr", "-1", "x");
    CMP("SETRANGE", "sr2", "0", "");
    CMP("DEL", "a", "b", "nokey");
    CMP("EXISTS", "ap", "ap", "nokey");
    CMP("TYPE", "ap");
    CMP("TYPE", "nokey");
    CMP("EXPIRE", "ap", "100");
    CMP("TTL", "ap");
    CMP("EXPIRE", "ap", "200", "NX");
    CMP("EXPIRE", "ap", "200", "XX");
    CMP("EXPIRE", "ap", "50", "GT");
    CMP("EXPIRE", "ap", "50", "LT");
    CMP("EXPIRE", "ap", "50", "NX", "XX");
    CMP("EXPIRE", "ap", "50", "GT", "LT");
    CMP("EXPIRE", "ap", "50", "FOO");
    CMP("EXPIRE", "ap", "x");
    CMP("PERSIST", "ap");
    CMP("PERSIST", "ap");
    CMP("TTL", "ap");
    CMP("PTTL", "nokey");
    CMP("EXPIRE", "nokey", "10");
    CMP("EXPIRE", "sr", "-1");
    CMP("EXISTS", "sr");
    CMP("EXPIRE", "ap", "9223372036854775807");
    CMP("PEXPIREAT", "ap", "9999999999999");
    CMP("EXPIRETIME", "ap");
    CMP("PEXPIRETIME", "ap");
    CMP("RENAME", "ap", "ap2");
    CMP("RENAME", "nokey", "x");
    CMP("RENAMENX", "ap2", "x1");
    CMP("RENAMENX", "ap2", "ap2");
    CMP("RENAME", "ap2", "ap2");
    CMP("SELECT", "1");
    CMP("DBSIZE");
    CMP("SELECT", "16");
    CMP("SELECT", "x");
    CMP("SELECT", "99999999999");
    CMP("SELECT", "0");
    CMP("DBSIZE");
    CMP("MULTI");
    CMP("SET", "m", "1");
    CMP("INCR", "m");
    CMP("MULTI");
    CMP("EXEC");
    CMP("MULTI");
    CMP("SET", "m");
    CMP("EXEC");
    CMP("EXEC");
    CMP("DISCARD");
    CMP("WATCH", "m");
    CMP("SET", "m", "2");
    CMP("MULTI");
    CMP("GET", "m");
    CMP("EXEC");
    CMP("UNWATCH");
    CMP("AUTH", "x");
    CMP("AUTH", "default", "x");
    CMP("HELLO", "x");
    CMP("CLIENT", "SETNAME", "my name");
    CMP("CLIENT", "SETNAME", "me");
    CMP("CLIENT", "GETNAME");
    CMP("CLIENT", "NOSUCH");
    CMP("CLIENT");
    CMP("CLIENT", "KILL", "1.2.3.4:5");
    CMP("OBJECT", "ENCODING", "m");
    CMP("CONFIG", "GET", "save");
    CMP("CONFIG", "GET", "appendonly");
    CMP("CONFIG", "GET", "maxmemory");
    CMP("CONFIG", "SET", "nosuch", "1");
    CMP("CONFIG", "SET", "maxmemory", "abc");
    CMP("CONFIG", "SET", "maxmemory", "0");
    CMP("KEYS", "ap?");
    CMP("FLUSHDB", "x");
    CMP("FLUSHALL");
    CMP("RANDOMKEY");
    CMP("SCAN", "0");
    CMP("SCAN", "x");
    CMP("SCAN", "0", "COUNT", "0");
    CMP("GET", "k");
    /* protocol: inline and its quoting */
    compare("SET inl \"a b\\x41\"\r\n");
    compare("GET inl\r\n");
    compare("\r\n");
    compare("*0\r\n");
    compare("*-1\r\n");
    CHECK_EQ_INT(mismatches, 0);
    kvt_gone(1);
    kv_stop();
    redis_stop();
}

/* Protocol errors close the connection after the error; each on a fresh
 * connection on both sides. */
static void test_protocol_errors_as_redis(void)
{
    if (!redis_start())
        SKIP("redis-server not installed (scripts/setup.sh installs it)");
    REQUIRE(kvt_start() == 0);
    static const char *const bad[] = {
        "*abc\r\n", "*1\r\n$x\r\n", "*1\r\n+foo\r\n", "*1\r\n$-5\r\n", "*3000000000\r\n",
        "SET \"unbalanced\r\n", "*1\r\n$999999999999\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kvt_connect(10 + i);
        size_t len = strlen(bad[i]);
        if (write(redis_fd, bad[i], len) < 0)
            break;
        char want[512];
        ssize_t n = read(redis_fd, want, sizeof want - 1);
        want[n > 0 ? n : 0] = '\0';
        const char *got = kvt_raw(10 + i, bad[i], len);
        if (strcmp(want, got) != 0)
            fprintf(stderr, "  request %s\n  redis: %s\n  ours:  %s\n", bad[i], want, got);
        CHECK(strcmp(want, got) == 0);
        CHECK(kvt_last_flags & KV_OUT_CLOSE);
        /* redis closed it: a new connection for the next one */
        close(redis_fd);
        redis_fd = -1;
        redis_stop();
        redis_pid = 0;
        if (i + 1 < sizeof bad / sizeof bad[0])
            REQUIRE(redis_start());
    }
    kv_stop();
}

static void test_million_sets(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    /* 1000 batches of 1000 pipelined SETs of new keys */
    char *buf = malloc(1000 * 64);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int k = 0;
    for (int b = 0; b < 1000; b++) {
        size_t len = 0;
        for (int i = 0; i < 1000; i++, k++) {
            char key[24];
            int kl = snprintf(key, sizeof key, "key:%012d", k);
            len += (size_t)sprintf(buf + len, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nxxx\r\n", kl, key);
        }
        kvt_raw(1, buf, len);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    const char *r = KVT(1, "DBSIZE");
    CHECK(strcmp(r, ":1000000\r\n") == 0);
    struct kv_info info;
    size_t len;
    REQUIRE(kv_info(NULL, 0, &info, sizeof info, &len) == 0);
    printf("# 1000000 SETs of new keys natively: %.2f s, %.0f SET/s, used_memory %llu (%.1f B/key)\n",
           s, 1e6 / s, (unsigned long long)info.used_memory, (double)info.used_memory / 1e6);
    CHECK(info.keys == 1000000);
    free(buf);
    kvt_gone(1);
    kv_stop();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_same_replies_as_redis);
    RUN(test_protocol_errors_as_redis);
    RUN(test_million_sets);
    TEST_EXIT();
}
