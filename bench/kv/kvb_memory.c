/* The data set and the memory it takes: exactly `keys` distinct keys
 * "key:%012u" (the names redis-benchmark -r draws, so its GETs hit them) with
 * values of `bytes` bytes, mass-inserted with `redis-cli --pipe` as Redis's
 * documentation does it, then DBSIZE checked. Memory before and after, three
 * ways: INFO used_memory (allocator bytes handed out: jemalloc's for Redis,
 * our slab classes for teemate), VmRSS of the process holding the store and,
 * for the enclave, its slot's committed EPC pages as teemated counts them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "kvb.h"
#include "util/file.h"

#define KVB_LOAD_BUF (1u << 20)

/* SET key:%012u <bytes x 'x'> for every key, in RESP, into fd. */
static bool kvb_generate(int fd, unsigned keys, unsigned bytes)
{
    char *buf = malloc(KVB_LOAD_BUF), *value = malloc(bytes + 1);
    if (!buf || !value) {
        free(buf), free(value);
        return false;
    }
    memset(value, 'x', bytes);
    size_t len = 0;
    bool ok = true;
    for (unsigned i = 0; i < keys && ok; i++) {
        if (len + bytes + 128 > KVB_LOAD_BUF) {
            ok = tm_write_full(fd, buf, len) == 0;
            len = 0;
        }
        len += (size_t)snprintf(buf + len, KVB_LOAD_BUF - len,
                                "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012u\r\n$%u\r\n", i, bytes);
        memcpy(buf + len, value, bytes);
        len += bytes;
        memcpy(buf + len, "\r\n", 2);
        len += 2;
    }
    if (ok && len)
        ok = tm_write_full(fd, buf, len) == 0;
    free(buf), free(value);
    return ok;
}

/* redis-cli -p PORT --pipe fed by kvb_generate; its summary line checked. */
static bool kvb_load(const char *work, unsigned port, unsigned keys, unsigned bytes, char *why,
                     size_t why_len)
{
    char out_path[200], p[16];
    snprintf(out_path, sizeof out_path, "%s/pipe-%u.out", work, port);
    snprintf(p, sizeof p, "%u", port);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return snprintf(why, why_len, "pipe: %s", strerror(errno)), false;
    pid_t pid = fork();
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || dup2(fds[0], 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        execlp("redis-cli", "redis-cli", "-p", p, "--pipe", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    bool wrote = pid > 0 && kvb_generate(fds[1], keys, bytes);
    close(fds[1]);
    int status = -1;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char text[4096] = "";
    FILE *f = fopen(out_path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    unsigned long long errors = 0, replies = 0;
    char *summary = strstr(text, "errors: ");
    if (!wrote || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !summary ||
        sscanf(summary, "errors: %llu, replies: %llu", &errors, &replies) != 2 || errors ||
        replies != keys) {
        char *nl = strrchr(text, '\n');
        if (nl && nl == text + strlen(text) - 1)
            *nl = '\0';
        snprintf(why, why_len, "redis-cli --pipe: %s", summary ? summary : *text ? text : "failed");
        return false;
    }
    return true;
}

void kvb_memory_measure(struct kvb_env *env, int t, const struct kvb_server *s, unsigned keys,
                        unsigned bytes, struct kvb_memory *m)
{
    memset(m, 0, sizeof *m);
    m->epc_before = m->epc_after = -1;
    if (!s->up) {
        snprintf(m->why, sizeof m->why, "not running");
        return;
    }
    pid_t proc = kvb_server_process(env, t, s, &m->epc_before);
    m->used_before = kvb_info_field(s->port, "memory", "used_memory");
    m->rss_before = proc > 0 ? kvb_rss_bytes(proc) : -1;
    double t0 = tm_bench_now_s();
    if (!kvb_load(env->work, s->port, keys, bytes, m->why, sizeof m->why))
        return;
    m->load_s = tm_bench_now_s() - t0;
    long long dbsize = kvb_dbsize(s->port);
    if (dbsize != (long long)keys) {
        snprintf(m->why, sizeof m->why, "DBSIZE %lld after loading %u keys", dbsize, keys);
        return;
    }
    m->keys = (unsigned long long)dbsize;
    proc = kvb_server_process(env, t, s, &m->epc_after);
    m->used_after = kvb_info_field(s->port, "memory", "used_memory");
    m->rss_after = proc > 0 ? kvb_rss_bytes(proc) : -1;
    m->info_rss_after = kvb_info_field(s->port, "memory", "used_memory_rss");
    m->ran = m->used_before >= 0 && m->used_after >= 0;
    if (!m->ran)
        snprintf(m->why, sizeof m->why, "no used_memory in INFO memory");
}
