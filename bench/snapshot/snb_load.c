/* The data set: SET key:%012u VALUE from key:000000100000 up (above
 * redis-benchmark's -r 100000 keys, which the write load then never
 * rewrites), values of value_bytes printable bytes
 * drawn from a per-key PRNG (incompressible for the RDB's LZF, as real data
 * mostly is; 'xxx...' would make Redis's dump nearly free). Every record has
 * the same length, so key i sits at i * record_len of one --pipe input file
 * that is generated once, extended on demand, and fed to `redis-cli --pipe`
 * a slice at a time: the servers grow from size to size by loading only the
 * keys they lack. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snb.h"
#include "util/file.h"

#define SNB_BUF (1u << 20)
#define SNB_FILL_ROUNDS 6

static uint64_t snb_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t snb_record(char *out, unsigned long long key, unsigned bytes)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = (size_t)sprintf(out, "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012llu\r\n$%u\r\n", key, bytes);
    uint64_t seed = key, r = 0;
    for (unsigned i = 0; i < bytes; i++) {
        if (i % 10 == 0)
            r = snb_splitmix(&seed);
        out[len++] = alphabet[r & 63];
        r >>= 6;
    }
    memcpy(out + len, "\r\n", 2);
    return len + 2;
}

/* The file holds at least keys records afterwards. */
static int snb_pipe_extend(struct snb_env *env, unsigned long long keys, char *why, size_t why_len)
{
    if (keys <= env->pipe_keys)
        return 0;
    int fd = open(env->pipe_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    char *buf = malloc(SNB_BUF);
    size_t rec_max = env->value_bytes + 64, len = 0;
    bool ok = fd >= 0 && buf;
    for (unsigned long long k = env->pipe_keys; ok && k < keys; k++) {
        if (len + rec_max > SNB_BUF)
            ok = tm_write_full(fd, buf, len) == 0, len = 0;
        size_t n = snb_record(buf + len, SNB_KEYSPACE + k, env->value_bytes);
        env->record_len = n;
        len += n;
    }
    ok = ok && tm_write_full(fd, buf, len) == 0;
    free(buf);
    if (fd >= 0 && close(fd) < 0)
        ok = false;
    if (!ok)
        return snprintf(why, why_len, "writing %s: %s", env->pipe_file, strerror(errno)), -1;
    env->pipe_keys = keys;
    return 0;
}

/* Keys [from, to) of the file through redis-cli --pipe; its summary checked. */
static int snb_load_range(struct snb_env *env, struct snb_server *s, unsigned long long from,
                          unsigned long long to)
{
    char out_path[256], p[16];
    snprintf(out_path, sizeof out_path, "%s/pipe-%u.out", env->work, s->port);
    snprintf(p, sizeof p, "%u", s->port);
    int in = open(env->pipe_file, O_RDONLY | O_CLOEXEC), fds[2] = { -1, -1 };
    if (in < 0 || pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(s->why, sizeof s->why, "%s: %s", in < 0 ? env->pipe_file : "pipe", strerror(errno));
        if (in >= 0)
            close(in);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0 || dup2(fds[0], 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        execlp("redis-cli", "redis-cli", "-p", p, "--pipe", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    char *buf = malloc(SNB_BUF);
    off_t at = (off_t)(from * env->record_len), end = (off_t)(to * env->record_len);
    bool wrote = pid > 0 && buf;
    while (wrote && at < end) {
        size_t want = end - at < (off_t)SNB_BUF ? (size_t)(end - at) : SNB_BUF;
        ssize_t n = pread(in, buf, want, at);
        wrote = n > 0 && tm_write_full(fds[1], buf, (size_t)n) == 0;
        at += n > 0 ? n : 0;
    }
    free(buf);
    close(in);
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
        replies != to - from) {
        text[strcspn(text, "\n")] = '\0';
        snprintf(s->why, sizeof s->why, "redis-cli --pipe: %.200s", summary ? summary : *text ? text : "failed");
        s->why[strcspn(s->why, "\n")] = '\0';
        return -1;
    }
    return 0;
}

static double snb_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int snb_used(struct snb_server *s)
{
    char info[8192];
    if (snb_call(&s->conn, info, sizeof info, "INFO", "memory", NULL) != '$' ||
        (s->used = snb_info_ll(info, "used_memory")) < 0) {
        snprintf(s->why, sizeof s->why, "no used_memory in INFO memory");
        return -1;
    }
    return 0;
}

int snb_fill(struct snb_env *env, struct snb_server *s, unsigned long long bytes)
{
    /* before the first round, a guess: the value plus Redis's ~100 bytes a key */
    double per_key = env->value_bytes + 100.0;
    /* within 0.5%: used_memory moves in allocator steps, not key by key */
    long long goal = (long long)((double)bytes * 0.995);
    for (int round = 0; round < SNB_FILL_ROUNDS && s->used < goal; round++) {
        if (s->keys)
            per_key = (double)(s->used - s->used_empty) / (double)s->keys;
        if (per_key < 1)
            per_key = env->value_bytes;
        unsigned long long more = (unsigned long long)((double)(bytes - (unsigned long long)s->used) / per_key) + 1;
        if (snb_pipe_extend(env, s->keys + more, s->why, sizeof s->why) < 0)
            return -1;
        double t0 = snb_now_s();
        if (snb_load_range(env, s, s->keys, s->keys + more) < 0)
            return -1;
        s->load_s += snb_now_s() - t0;
        s->keys += more;
        if (snb_used(s) < 0)
            return -1;
    }
    char out[64];
    int r = snb_call(&s->conn, out, sizeof out, "DBSIZE", NULL);
    if (r != ':' || strtoull(out, NULL, 10) < s->keys) {
        snprintf(s->why, sizeof s->why, "DBSIZE %s after loading %llu keys", r == ':' ? out : "failed", s->keys);
        return -1;
    }
    if (s->used < goal) {
        snprintf(s->why, sizeof s->why, "used_memory %lld after %d rounds of loading (wanted %llu)", s->used,
                 SNB_FILL_ROUNDS, bytes);
        return -1;
    }
    return 0;
}
