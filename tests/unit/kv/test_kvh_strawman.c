/* The strawman BGSAVE (kvh_strawman.c, kv_strawman.c, lib/shared/strawman.c)
 * against a real teemated and kv.elf in the sim: a store of every type in
 * kv-NAME's slot, forked the strawman way. The child's brand-new enclave
 * answers a set of reads exactly as the parent did at the fork (the channel
 * carried the whole data set: several records, a value bigger than one, a
 * second database, a TTL), and writes a sealed dump that a third store, in
 * another slot, loads back to the same answers. The parent, changed after
 * the fork, keeps its own changes and the child's copy does not see them.
 * The child drops the parent's views of kv-NAME first. A child whose
 * enclave another key signed is refused by the channel (-EPERM) and the
 * parent serves on. No fd or child process is left over. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "../daemon_fixture.h"
#include "enclave/image.h"
#include "enclave/key.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "kvh_enclave.h"
#include "kvh_strawman.h"

#define ENCLAVE "kv-straw"
#define MAXMEMORY (32ULL << 20)
#define OUT_CAP (4U << 20)
#define KEYS 3000
#define BIG (300U * 1024)

static char kv_elf[256];
static struct tm_attachment *server;
static struct kvh_engine *engine;
static struct kvh_strawman_image img;
static char *fork_answers;            /* the parent's answers at the fork */
static size_t fork_answers_len;

/* ---- the file calls a server registers (kvh_persist.c), for this process
 * and its children: SAVE_OPEN makes DIR/temp-PID.rdb, SAVE_CLOSE fsyncs it
 * and renames it to DIR/dump.rdb, FILE_READ reads load_fd. */
static int save_fd = -1, load_fd = -1;
static char save_tmp[256], dump_path[256];

static int64_t files(void *ctx, uint32_t number, const void *in, size_t in_len, void *out,
                     size_t out_cap, size_t *out_len)
{
    (void)ctx;
    *out_len = 0;
    int32_t flag = 0;
    if (in_len == sizeof flag)
        memcpy(&flag, in, sizeof flag);
    switch (number) {
    case KV_OCALL_SAVE_OPEN:
        snprintf(save_tmp, sizeof save_tmp, "%s/temp-%d.rdb", dir, (int)getpid());
        save_fd = open(save_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        return save_fd < 0 ? -errno : 0;
    case KV_OCALL_FILE_WRITE:
        return write(save_fd, in, in_len) == (ssize_t)in_len ? 0 : -EIO;
    case KV_OCALL_SAVE_CLOSE: {
        int r = flag && fsync(save_fd) < 0 ? -errno : 0;
        close(save_fd);
        save_fd = -1;
        if (r == 0 && flag && rename(save_tmp, dump_path) < 0)
            r = -errno;
        return r;
    }
    case KV_OCALL_FILE_READ: {
        uint64_t want;
        if (in_len != sizeof want)
            return -EINVAL;
        memcpy(&want, in, sizeof want);
        ssize_t n = read(load_fd, out, want < out_cap ? want : out_cap);
        if (n < 0)
            return -errno;
        *out_len = (size_t)n;
        return n;
    }
    }
    return -ENOSYS;
}

/* ---- a client of a store through an engine's batch ecall */
struct client {
    struct kvh_engine *e;
    bool connected;
};

static void resp_append(char **buf, size_t *len, const void *p, size_t n)
{
    *buf = realloc(*buf, *len + n + 1);
    REQUIRE(*buf);
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Sends the RESP bytes of some commands and returns every byte replied. */
static char *send_resp(struct client *c, const char *cmds, size_t cmds_len, size_t *reply_len)
{
    static uint8_t out[OUT_CAP];
    static const char addrs[] = "127.0.0.1:5000 127.0.0.1:6379";
    size_t cap = sizeof(struct kv_batch_in) + 2 * KV_RECORD_SIZE(cmds_len + sizeof addrs);
    uint8_t *in = calloc(1, cap);
    REQUIRE(in);
    struct kv_batch_in bi = { .now_us = (uint64_t)time(NULL) * 1000000, .count = 0 };
    size_t off = sizeof bi;
    if (!c->connected) {
        struct kv_client_in ci = { .id = 1, .flags = KV_IN_NEW, .len = sizeof addrs - 1 };
        memcpy(in + off, &ci, sizeof ci);
        memcpy(in + off + sizeof ci, addrs, ci.len);
        off += KV_RECORD_SIZE(ci.len);
        bi.count++;
        c->connected = true;
    }
    struct kv_client_in ci = { .id = 1, .flags = KV_IN_DATA, .len = (uint32_t)cmds_len };
    memcpy(in + off, &ci, sizeof ci);
    memcpy(in + off + sizeof ci, cmds, cmds_len);
    off += KV_RECORD_SIZE(cmds_len);
    bi.count++;
    memcpy(in, &bi, sizeof bi);
    size_t out_len = 0;
    int rc = 0;
    tm_error err = { 0 };
    char *reply = NULL;
    *reply_len = 0;
    int r = c->e->call(c->e, KV_ECALL_BATCH, in, off, out, sizeof out, &out_len, &rc, &err);
    free(in);
    if (r < 0 || rc < 0)
        fprintf(stderr, "  batch: %s (%d)\n", err.msg, rc);
    REQUIRE(r == 0 && rc == 0);
    struct kv_batch_out bo;
    memcpy(&bo, out, sizeof bo);
    off = sizeof bo;
    for (uint32_t i = 0; i < bo.count; i++) {
        struct kv_client_out co;
        memcpy(&co, out + off, sizeof co);
        REQUIRE(!(co.flags & KV_OUT_PENDING));   /* the replies fit at once */
        resp_append(&reply, reply_len, out + off + sizeof co, co.len);
        off += KV_RECORD_SIZE(co.len);
    }
    if (!reply)
        resp_append(&reply, reply_len, "", 0);
    return reply;
}

/* One command as RESP (argv of C strings; a NULL-terminated list). */
static void resp_cmd(char **buf, size_t *len, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char head[32];
    resp_append(buf, len, head, (size_t)snprintf(head, sizeof head, "*%d\r\n", argc));
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        resp_append(buf, len, head, (size_t)snprintf(head, sizeof head, "$%zu\r\n", n));
        resp_append(buf, len, argv[i], n);
        resp_append(buf, len, "\r\n", 2);
    }
}

#define CMD(...) resp_cmd(&buf, &len, (const char *const[]){ __VA_ARGS__, NULL })

static char *run_cmds(struct client *c, char *buf, size_t len, size_t *reply_len)
{
    char *reply = send_resp(c, buf, len, reply_len);
    free(buf);
    return reply;
}

/* Every type, two databases, a value of several channel records. */
static void fill(struct client *c)
{
    char *buf = NULL, k[32], v[128];
    size_t len = 0, rl;
    for (int i = 0; i < KEYS; i++) {
        snprintf(k, sizeof k, "key:%d", i);
        snprintf(v, sizeof v, "value %d of the strawman's store, padded to some length ...", i);
        CMD("SET", k, v);
    }
    char *big = malloc(BIG + 1);
    REQUIRE(big);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)('a' + (i * 7) % 26);
    big[BIG] = '\0';
    CMD("SET", "big", big);
    free(big);
    for (int i = 0; i < 300; i++) {
        snprintf(v, sizeof v, "element-%d", i);
        CMD("RPUSH", "list", v);
        snprintf(k, sizeof k, "field-%d", i);
        CMD("HSET", "hash", k, v);
        CMD("SADD", "set", v);
        snprintf(k, sizeof k, "%d.5", i % 37);
        CMD("ZADD", "zset", k, v);
    }
    CMD("SADD", "intset", "1", "2", "3", "100000");
    CMD("SET", "ttl", "expires later");
    CMD("EXPIREAT", "ttl", "4102444800");
    CMD("SELECT", "5");
    CMD("SET", "other", "in database five");
    CMD("SELECT", "0");
    free(run_cmds(c, buf, len, &rl));
}

/* Reads whose answers do not depend on a dict's order. */
static char *query(struct client *c, size_t *reply_len)
{
    char *buf = NULL;
    size_t len = 0;
    CMD("DBSIZE");
    CMD("GET", "key:0");
    CMD("GET", "key:2999");
    CMD("STRLEN", "big");
    CMD("GETRANGE", "big", "150000", "150040");
    CMD("LRANGE", "list", "0", "-1");
    CMD("HLEN", "hash");
    CMD("HGET", "hash", "field-299");
    CMD("SCARD", "set");
    CMD("SISMEMBER", "set", "element-7");
    CMD("SISMEMBER", "intset", "100000");
    CMD("ZRANGE", "zset", "0", "-1", "WITHSCORES");
    CMD("EXPIRETIME", "ttl");
    CMD("GET", "after-fork");
    CMD("SELECT", "5");
    CMD("GET", "other");
    CMD("DBSIZE");
    CMD("SELECT", "0");
    return run_cmds(c, buf, len, reply_len);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    REQUIRE(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* This process's children other than the daemon (procfs: every thread's). */
static int other_children(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    int n = 0, pid;
    while (fscanf(f, "%d", &pid) == 1)
        n += pid != daemon_pid;
    fclose(f);
    return n;
}

static bool write_all(int fd, const void *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, (const char *)p + off, n - off);
        if (w <= 0)
            return false;
        off += (size_t)w;
    }
    return true;
}

/* In the child: its copy's answers to the pipe, the dump written; exits. */
__attribute__((noreturn)) static void child_main(struct kvh_engine *child, int fd)
{
    /* the parent's views of kv-NAME and its daemon connection were dropped */
    uint8_t dropped = server->be == NULL && server->conn == -1;
    struct client c = { .e = child };
    size_t n = 0;
    char *reply = query(&c, &n);
    uint64_t len = n;
    bool ok = write_all(fd, &dropped, 1) && write_all(fd, &len, sizeof len) &&
              write_all(fd, reply, n);
    free(reply);
    size_t out_len = 0;
    int rc = 0;
    tm_error err = { 0 };
    int r = child->call(child, KV_ECALL_SNAPSHOT_WRITE, NULL, 0, NULL, 0, &out_len, &rc, &err);
    if (r < 0 || rc < 0)
        fprintf(stderr, "  child's write: %s (%d)\n", err.msg, rc);
    child->close(child);   /* its enclave destroyed */
    _exit(ok && r == 0 && rc == 0 ? 0 : 1);
}

static char *read_reply(int fd, size_t *n)
{
    uint64_t len = 0;
    REQUIRE(read(fd, &len, sizeof len) == sizeof len && len < (64U << 20));
    char *buf = malloc(len + 1);
    REQUIRE(buf);
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        REQUIRE(r > 0);
        got += (size_t)r;
    }
    buf[len] = '\0';
    *n = len;
    return buf;
}

static void test_strawman_bgsave_copies_and_writes_the_store(void)
{
    struct client parent = { .e = engine };
    fill(&parent);
    size_t before_len = 0;
    char *before = query(&parent, &before_len);
    CHECK(strstr(before, ":3007\r\n") != NULL);   /* DBSIZE: the keys, big, 4 types, intset, ttl */

    int fds = open_fds();
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    struct kvh_engine *child = NULL;
    struct kvh_strawman_result r;
    tm_error err = { 0 };
    fflush(NULL);
    pid_t pid = kvh_strawman_fork(server, &img, &child, &r, &err);
    if (pid == 0) {
        close(p[0]);
        child_main(child, p[1]);
    }
    close(p[1]);
    if (pid < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(pid > 0);
    CHECK_EQ_INT(r.pid, pid);
    CHECK(r.stats.records > 2);                  /* settings, several RDB chunks, the end */
    CHECK(r.stats.bytes > KEYS * 60 + BIG);      /* the data set crossed, as ciphertext */
    CHECK(r.fork_usec > 0);
    fprintf(stderr, "  strawman fork: %.1f ms (fork %.1f, build %.1f, channel %.1f, copy %.1f), "
            "%llu records, %llu bytes\n", r.stats.total_ms, r.stats.fork_ms, r.stats.build_ms,
            r.stats.channel_ms, r.stats.copy_ms, (unsigned long long)r.stats.records,
            (unsigned long long)r.stats.bytes);

    /* the parent serves again at once; its changes are its own */
    char *buf = NULL;
    size_t len = 0, rl = 0;
    CMD("SET", "after-fork", "parent only");
    CMD("DEL", "key:0");
    free(run_cmds(&parent, buf, len, &rl));

    uint8_t dropped = 0;
    REQUIRE(read(p[0], &dropped, 1) == 1);
    CHECK_EQ_INT(dropped, 1);   /* the child holds nothing of the parent's enclave */
    size_t child_len = 0;
    char *child_reply = read_reply(p[0], &child_len);
    close(p[0]);
    CHECK_EQ_INT(child_len, before_len);
    CHECK(child_len == before_len && memcmp(child_reply, before, before_len) == 0);
    free(child_reply);
    int status = -1;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(other_children(), 0);
    CHECK_EQ_INT(open_fds(), fds);

    size_t now_len = 0;
    char *now = query(&parent, &now_len);
    CHECK(strstr(now, "parent only") != NULL);
    CHECK(strstr(now, ":3007\r\n") != NULL);     /* one key more, one fewer */
    free(now);

    fork_answers = before;
    fork_answers_len = before_len;
}

/* A child whose enclave another key signed: the same MRENCLAVE, another
 * MRSIGNER. The parent's enclave refuses its offer; nothing is sent. */
static void test_strawman_child_of_another_signer_is_refused(void)
{
    struct kvh_strawman_image other = { .image = img.image };
    _cleanup_key_ struct evp_pkey_st *key = NULL;
    tm_error err = { 0 };
    uint8_t mr[32];
    struct tm_sign_options so;
    tm_sign_options_default(&so);
    so.debug = true;
    REQUIRE(tm_key_generate(&key, &err) == 0);
    REQUIRE(tm_measure_layout(&img.image->layout, NULL, NULL, mr, &err) == 0);
    REQUIRE(tm_sigstruct_sign(&other.sigstruct, mr, &so, key, &err) == 0);

    struct client parent = { .e = engine };
    size_t before_len = 0, after_len = 0;
    char *before = query(&parent, &before_len);
    int fds = open_fds();
    struct kvh_engine *child = NULL;
    struct kvh_strawman_result r;
    fflush(NULL);
    pid_t pid = kvh_strawman_fork(server, &other, &child, &r, &err);
    if (pid == 0)
        _exit(3);   /* never: its import cannot succeed */
    CHECK_EQ_INT(pid, -EPERM);
    CHECK_STR_CONTAINS(err.msg, "strawman");
    CHECK_EQ_INT(other_children(), 0);
    CHECK_EQ_INT(open_fds(), fds);
    char *after = query(&parent, &after_len);
    CHECK(after_len == before_len && memcmp(after, before, before_len) == 0);
    free(before);
    free(after);
}

/* The child's dump, loaded by a fresh store (the server gone: one
 * attachment per process) in the enclave: the answers at the fork. */
static void test_strawman_dump_loads_back(void)
{
    REQUIRE(fork_answers && access(dump_path, R_OK) == 0);
    engine->close(engine);
    engine = NULL;
    tm_detach(server);
    server = NULL;
    tm_error err = { 0 };
    struct tm_attach_options ao = { .socket_path = sock, .no_autostart = true };
    struct tm_attachment *third = NULL;
    struct kvh_engine *e3 = NULL;
    if (tm_attach(ENCLAVE, &ao, &third, &err) < 0)
        fprintf(stderr, "  attach: %s\n", err.msg);
    REQUIRE(third != NULL);
    REQUIRE(kvh_engine_enclave(third, &e3, &err) == 0);
    struct kv_config cfg = { .databases = 16, .hz = 10, .proto_max_bulk_len = 512ULL << 20,
                             .client_query_buffer_limit = 1ULL << 30 };
    REQUIRE(kvh_engine_start(e3, &cfg, &err) == 0);
    load_fd = open(dump_path, O_RDONLY | O_CLOEXEC);
    REQUIRE(load_fd >= 0);
    char msg[256] = "";
    size_t out_len = 0;
    int rc = 0;
    REQUIRE(e3->call(e3, KV_ECALL_LOAD, NULL, 0, msg, sizeof msg - 1, &out_len, &rc, &err) == 0);
    if (rc < 0)
        fprintf(stderr, "  load: %.*s\n", (int)out_len, msg);
    CHECK_EQ_INT(rc, 0);
    close(load_fd);
    load_fd = -1;
    struct client loaded = { .e = e3 };
    size_t loaded_len = 0;
    char *loaded_reply = query(&loaded, &loaded_len);
    CHECK(loaded_len == fork_answers_len &&
          memcmp(loaded_reply, fork_answers, fork_answers_len) == 0);
    free(loaded_reply);
    e3->close(e3);
    tm_detach(third);
}

int main(void)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    snprintf(kv_elf, sizeof kv_elf, "%s/apps/kv/kv.elf", build);
    fixture_init("kvstraw");
    snprintf(dump_path, sizeof dump_path, "%s/dump.rdb", dir);
    tm_ecall_register_app_ocalls(files, NULL);
    daemon_up();

    /* kv-NAME as kvh_serve makes it */
    tm_error err = { 0 };
    REQUIRE(kvh_strawman_image_load(kv_elf, MAXMEMORY, &img, &err) == 0);
    int c = conn();
    REQUIRE(c >= 0);
    int fd = tm_image_memfd(img.image, "kv.elf", &err);
    REQUIRE(fd >= 0);
    if (tm_daemon_create(c, ENCLAVE, fd, -1, "sim", "kv.elf", NULL, NULL, 0, &err) < 0)
        fprintf(stderr, "  create: %s\n", err.msg);
    close(fd);
    close(c);
    struct tm_attach_options ao = { .socket_path = sock, .no_autostart = true };
    REQUIRE(tm_attach(ENCLAVE, &ao, &server, &err) == 0);
    REQUIRE(kvh_engine_enclave(server, &engine, &err) == 0);
    struct kv_config cfg = { .databases = 16, .hz = 10, .proto_max_bulk_len = 512ULL << 20,
                             .client_query_buffer_limit = 1ULL << 30, .maxmemory = MAXMEMORY };
    REQUIRE(kvh_engine_start(engine, &cfg, &err) == 0);

    RUN(test_strawman_bgsave_copies_and_writes_the_store);
    RUN(test_strawman_child_of_another_signer_is_refused);
    RUN(test_strawman_dump_loads_back);

    if (engine)
        engine->close(engine);
    tm_detach(server);
    free(fork_answers);
    kvh_strawman_image_free(&img);
    CHECK(daemon_down());
    fixture_finish();
    TEST_EXIT();
}
