/* kvh_loop: the host's epoll loop against an engine of this test that
 * answers the batch ecall as kv_abi.h says (an echo store: each client's
 * bytes come back as its replies, at most CHUNK bytes per record, the rest
 * kept "inside" with KV_OUT_PENDING; "QUIT\n" answers +OK and KV_OUT_CLOSE).
 * Checks pipelining in few batches, partial writes and a client that does not
 * read (backpressure, the others still served), many clients, and a stop
 * that tells the store every client is gone. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../harness.h"
#include "kvh.h"

#define CHUNK (16U << 10)   /* less than the loop reads at once: replies are kept */
#define MAX_IDS 4096

struct echo_engine {
    struct kvh_engine e;
    char *kept[MAX_IDS];          /* replies not handed out yet, per client id */
    size_t kept_len[MAX_IDS];
    int news, gones, bad;
    uint64_t batches;
};

static bool kept_add(struct echo_engine *x, uint64_t id, const void *p, size_t n)
{
    char *k = realloc(x->kept[id], x->kept_len[id] + n + 1);
    if (!k)
        return false;
    memcpy(k + x->kept_len[id], p, n);
    x->kept[id] = k;
    x->kept_len[id] += n;
    return true;
}

static int echo_call(struct kvh_engine *e, uint32_t ecall, const void *in, size_t in_len, void *out,
                     size_t out_cap, size_t *out_len, int *rc, tm_error *err)
{
    struct echo_engine *x = (struct echo_engine *)e;
    (void)err;
    *rc = 0;
    *out_len = 0;
    if (ecall != KV_ECALL_BATCH)
        return 0;
    __atomic_add_fetch(&x->batches, 1, __ATOMIC_SEQ_CST);
    struct kv_batch_in h;
    if (in_len < sizeof h)
        return *rc = -EINVAL, 0;
    memcpy(&h, in, sizeof h);
    const char *p = in;
    size_t at = sizeof h, o = sizeof(struct kv_batch_out);
    struct kv_batch_out oh = { 0 };
    for (uint32_t i = 0; i < h.count; i++) {
        struct kv_client_in r;
        if (in_len - at < sizeof r)
            return *rc = -EINVAL, 0;
        memcpy(&r, p + at, sizeof r);
        if (r.id == 0 || r.id >= MAX_IDS || r.len > in_len - at - sizeof r)
            return *rc = -EINVAL, 0;
        const char *data = p + at + sizeof r;
        at += KV_RECORD_SIZE(r.len);
        if (r.flags & KV_IN_NEW) {
            __atomic_add_fetch(&x->news, 1, __ATOMIC_SEQ_CST);
            if (!memchr(data, ' ', r.len) || !memmem(data, r.len, "127.0.0.1:", 10))
                x->bad++;
            continue;
        }
        if (r.flags & KV_IN_GONE) {
            __atomic_add_fetch(&x->gones, 1, __ATOMIC_SEQ_CST);
            free(x->kept[r.id]);
            x->kept[r.id] = NULL;
            x->kept_len[r.id] = 0;
            continue;
        }
        uint32_t flags = 0;
        if ((r.flags & KV_IN_DATA) && r.len == 5 && !memcmp(data, "QUIT\n", 5)) {
            kept_add(x, r.id, "+OK\r\n", 5);
            flags |= KV_OUT_CLOSE;
        } else if (r.flags & KV_IN_DATA) {
            kept_add(x, r.id, data, r.len);
        }
        size_t n = x->kept_len[r.id] < CHUNK ? x->kept_len[r.id] : CHUNK;
        if (o + KV_RECORD_SIZE(n) > out_cap)
            n = out_cap - o - KV_RECORD_SIZE(0) < n ? (out_cap - o - KV_RECORD_SIZE(0)) & ~7UL : n;
        if (n < x->kept_len[r.id])
            flags |= KV_OUT_PENDING;
        struct kv_client_out ro = { .id = r.id, .flags = flags, .len = (uint32_t)n };
        memcpy((char *)out + o, &ro, sizeof ro);
        memcpy((char *)out + o + sizeof ro, x->kept[r.id], n);
        memmove(x->kept[r.id], x->kept[r.id] + n, x->kept_len[r.id] - n);
        x->kept_len[r.id] -= n;
        o += KV_RECORD_SIZE(n);
        oh.count++;
    }
    memcpy(out, &oh, sizeof oh);
    *out_len = o;
    return 0;
}

static struct echo_engine engine = { .e = { .call = echo_call, .name = "echo" } };
static struct kvh_loop *loop;
static int loop_result = -1;
static uint32_t port;

static void *loop_thread(void *arg)
{
    (void)arg;
    tm_error err = { 0 };
    loop_result = kvh_loop_run(loop, &err);
    if (loop_result < 0)
        fprintf(stderr, "  loop: %s\n", err.msg);
    return NULL;
}

static int connect_client(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads exactly n bytes (5 s at most). */
static bool read_exact(int fd, char *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 5000) <= 0)
            return false;
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static void test_pipelining(void)
{
    int fd = connect_client();
    REQUIRE(fd >= 0);
    char req[6000], got[6000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "PING\n");
    uint64_t before = __atomic_load_n(&engine.batches, __ATOMIC_SEQ_CST);
    CHECK(write(fd, req, n) == (ssize_t)n);
    REQUIRE(read_exact(fd, got, n));
    CHECK(!memcmp(got, req, n));
    /* 1000 commands, a handful of batches (one per read, plus the cron) */
    CHECK(__atomic_load_n(&engine.batches, __ATOMIC_SEQ_CST) - before < 50);
    close(fd);
}

/* A client sends 32 MiB and reads nothing for a while: the loop stops
 * reading it once its replies wait, another client is served meanwhile,
 * then every byte comes back in order (partial writes, kept replies). */
static void test_client_that_does_not_read(void)
{
    enum { TOTAL = 32 << 20 };
    char *data = malloc(TOTAL), *back = malloc(TOTAL);
    REQUIRE(data && back);
    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    int a = connect_client(), b = connect_client();
    REQUIRE(a >= 0 && b >= 0);
    fcntl(a, F_SETFL, O_NONBLOCK);
    size_t sent = 0;
    for (int tries = 0; tries < 200 && sent < TOTAL; tries++) {
        ssize_t w = write(a, data + sent, TOTAL - sent);
        if (w > 0)
            sent += (size_t)w;
        else
            usleep(5000);   /* the loop drains a's socket until its replies back up */
    }
    CHECK(sent < TOTAL);    /* backpressure: a could not push everything in */
    char pong[16];
    CHECK(write(b, "hello b\n", 8) == 8);
    CHECK(read_exact(b, pong, 8) && !memcmp(pong, "hello b\n", 8));
    size_t got = 0;
    while (got < TOTAL) {
        struct pollfd p = { .fd = a, .events = POLLIN | (sent < TOTAL ? POLLOUT : 0) };
        if (poll(&p, 1, 5000) <= 0)
            break;
        if (p.revents & POLLOUT) {
            ssize_t w = write(a, data + sent, TOTAL - sent);
            if (w > 0)
                sent += (size_t)w;
        }
        if (p.revents & POLLIN) {
            ssize_t r = read(a, back + got, TOTAL - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    CHECK_EQ_INT(got, TOTAL);
    CHECK(!memcmp(back, data, TOTAL));
    struct kvh_loop_stats st;
    kvh_loop_get_stats(loop, &st);   /* a racy read of counters that only grow: fine here */
    CHECK(st.pending_asks > 0);
    close(a);
    close(b);
    free(data);
    free(back);
}

static void test_many_clients(void)
{
    enum { N = 300 };
    int fds[N];
    int news0 = __atomic_load_n(&engine.news, __ATOMIC_SEQ_CST);
    for (int i = 0; i < N; i++)
        REQUIRE((fds[i] = connect_client()) >= 0);
    for (int i = 0; i < N; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "client %d\n", i);
        CHECK(write(fds[i], msg, (size_t)n) == n);
    }
    for (int i = 0; i < N; i++) {
        char msg[32], got[32];
        int n = snprintf(msg, sizeof msg, "client %d\n", i);
        CHECK(read_exact(fds[i], got, (size_t)n) && !memcmp(got, msg, (size_t)n));
        close(fds[i]);
    }
    CHECK_EQ_INT(__atomic_load_n(&engine.news, __ATOMIC_SEQ_CST) - news0, N);
    struct kvh_loop_stats st;
    for (int i = 0; i < 200; i++) {   /* the closes reach the loop */
        kvh_loop_get_stats(loop, &st);
        if (st.clients == 0)
            break;
        usleep(10000);
    }
    CHECK_EQ_INT(st.clients, 0);
    CHECK_EQ_INT(engine.bad, 0);
}

static void test_store_closes(void)
{
    int fd = connect_client();
    REQUIRE(fd >= 0);
    CHECK(write(fd, "QUIT\n", 5) == 5);
    char got[8];
    CHECK(read_exact(fd, got, 5) && !memcmp(got, "+OK\r\n", 5));
    CHECK(!read_exact(fd, got, 1));   /* then EOF */
    close(fd);
}

static void test_half_command_then_close(void)
{
    int fd = connect_client();
    REQUIRE(fd >= 0);
    CHECK(write(fd, "*3\r\n$3\r\nSET\r\n$1", 16) == 16);
    close(fd);
    int b = connect_client();
    REQUIRE(b >= 0);
    char got[8];
    CHECK(write(b, "ok?\n", 4) == 4);
    CHECK(read_exact(b, got, 4) && !memcmp(got, "ok?\n", 4));
    close(b);
}

/* Last: stop with clients connected; each one's GONE reaches the store. */
static void test_stop(pthread_t th)
{
    int a = connect_client(), b = connect_client();
    REQUIRE(a >= 0 && b >= 0);
    char got[8];
    CHECK(write(a, "x\n", 2) == 2 && read_exact(a, got, 2));
    CHECK(write(b, "y\n", 2) == 2 && read_exact(b, got, 2));
    kvh_loop_stop(loop);
    pthread_join(th, NULL);
    CHECK_EQ_INT(loop_result, 0);
    CHECK_EQ_INT(engine.news, engine.gones);
    CHECK(!read_exact(a, got, 1));   /* closed */
    close(a);
    close(b);
}

static pthread_t th;
static void test_stop_with_clients(void) { test_stop(th); }

int main(void)
{
    tm_error err = { 0 };
    int lfd = kvh_listen_tcp("127.0.0.1", 0, &err);
    if (lfd < 0) {
        printf("skip - test_kvh_loop: no listener on 127.0.0.1 (%s)\n", err.msg);
        return 0;
    }
    port = kvh_listen_port(lfd);
    struct kvh_loop_options o = { .engine = &engine.e, .listeners = &lfd, .nlisteners = 1, .hz = 10 };
    if (kvh_loop_new(&o, &loop, &err) < 0 || pthread_create(&th, NULL, loop_thread, NULL)) {
        printf("not ok - test_kvh_loop: %s\n", err.msg);
        return 1;
    }
    RUN(test_pipelining);
    RUN(test_client_that_does_not_read);
    RUN(test_many_clients);
    RUN(test_store_closes);
    RUN(test_half_command_then_close);
    RUN(test_stop_with_clients);
    kvh_loop_free(loop);
    close(lfd);
    for (int i = 0; i < MAX_IDS; i++)
        free(engine.kept[i]);
    TEST_EXIT();
}
