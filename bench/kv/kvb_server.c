/* The three servers bench/kv compares, each on a free port of 127.0.0.1:
 * Debian's redis-server (no persistence), `teemate kv serve --no-enclave`
 * and `teemate kv serve` in its shared enclave, made by a teemated of our own
 * (own state dir and socket). Their memory as they report it (INFO) and as
 * the machine sees it (VmRSS; the enclave slot's EPC pages from teemated). */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_proc.h"
#include "kvb.h"

#define KVB_ENCLAVE_NAME "bench"   /* kv-bench: reused by every enclave server of a run */

const char *const kvb_target_names[KVB_TARGETS] = { "redis-server", "teemate --no-enclave",
                                                    "teemate (enclave)" };
const char *const kvb_target_short[KVB_TARGETS] = { "redis", "native", "enclave" };

int kvb_env_start(struct kvb_env *env, const char *teemate)
{
    tm_bench_loadavg(env->load_start, sizeof env->load_start);
    snprintf(env->work, sizeof env->work, "/tmp/bench-kv-XXXXXX");
    if (!mkdtemp(env->work))
        return perror("kv: mkdtemp"), -1;
    env->teemate = teemate;
    char *probe[] = { (char *)teemate, "kv", "--help", NULL };
    env->have_kv = tm_bench_run(probe, NULL, NULL, 0) == 0;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", teemate);
    char *slash = strrchr(dir, '/');
    snprintf(env->image, sizeof env->image, "%.*s/apps/kv/kv.elf", slash ? (int)(slash - dir) : 1,
             slash ? dir : ".");
    env->have_enclave = env->have_kv && geteuid() == 0 && access(env->image, R_OK) == 0;
    snprintf(env->sock, sizeof env->sock, "%s/teemated.sock", env->work);
    char state[200], log[200];
    snprintf(state, sizeof state, "%s/state", env->work);
    setenv("TEEMATE_STATE_DIR", state, 1);
    env->daemon = 0;
    if (!env->have_enclave)
        return 0;
    snprintf(log, sizeof log, "%s/daemon.log", env->work);
    env->daemon = tm_bench_daemon_start(teemate, env->sock, log);
    if (env->daemon <= 0) {
        env->daemon = 0;
        fprintf(stderr, "kv: teemated did not start (its log: %s); no enclave runs\n", log);
        env->have_enclave = false;
    }
    return 0;
}

void kvb_env_stop(struct kvb_env *env)
{
    tm_bench_loadavg(env->load_end, sizeof env->load_end);
    if (env->daemon > 0)
        tm_bench_stop(&env->daemon, 10);
    char *argv[] = { "rm", "-rf", env->work, NULL };
    if (tm_bench_run(argv, NULL, NULL, 0) != 0)
        fprintf(stderr, "kv: could not remove %s\n", env->work);
}

/* Until redis-cli PING answers PONG (30 s at most). */
static bool kvb_wait_ready(unsigned port, pid_t pid)
{
    char p[16], out[64];
    snprintf(p, sizeof p, "%u", port);
    char *argv[] = { "redis-cli", "-p", p, "ping", NULL };
    for (int i = 0; i < 600; i++) {
        if (tm_bench_run(argv, NULL, out, sizeof out) == 0 && !strncmp(out, "PONG", 4))
            return true;
        if (kill(pid, 0) != 0)
            return false;
        tm_bench_pause_ms(50);   /* polling for the server to listen */
    }
    return false;
}

bool kvb_server_start(struct kvb_env *env, int t, struct kvb_server *s)
{
    memset(s, 0, sizeof *s);
    if ((t != KVB_REDIS && !env->have_kv) || (t == KVB_ENCLAVE && !env->have_enclave))
        return false;
    int port = tm_bench_free_port();
    if (port <= 0)
        return false;
    s->port = (unsigned)port;
    char p[16], log[200];
    snprintf(p, sizeof p, "%u", s->port);
    snprintf(log, sizeof log, "%s/%s-%u.log", env->work, kvb_target_short[t], s->port);
    char *rargv[] = { "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", NULL };
    /* no persistence for any of the three (redis-server: --save "") */
    char *nargv[] = { (char *)env->teemate, "kv", "serve", "--port", p, "--no-enclave",
                      "--save", "", "--dir", (char *)env->work, NULL };
    char *eargv[] = { (char *)env->teemate, "kv", "serve", "--port", p, "--name", KVB_ENCLAVE_NAME,
                      "--socket", env->sock, "--save", "", "--dir", (char *)env->work, NULL };
    s->pid = tm_bench_spawn(t == KVB_REDIS ? rargv : t == KVB_NATIVE ? nargv : eargv, log, -1, -1);
    s->up = s->pid > 0 && kvb_wait_ready(s->port, s->pid);
    if (!s->up) {
        fprintf(stderr, "kv: %s did not start (its log: %s)\n", kvb_target_names[t], log);
        kvb_server_stop(s);
    }
    return s->up;
}

void kvb_server_stop(struct kvb_server *s)
{
    if (s->pid > 0)
        tm_bench_stop(&s->pid, 20);
    s->up = false;
}

static int kvb_cli(unsigned port, char *out, size_t len, char *a1, char *a2)
{
    char p[16];
    snprintf(p, sizeof p, "%u", port);
    char *argv[] = { "redis-cli", "-p", p, a1, a2, NULL };
    return tm_bench_run(argv, NULL, out, len);
}

long long kvb_info_field(unsigned port, const char *section, const char *field)
{
    char out[8192], key[64];
    if (kvb_cli(port, out, sizeof out, "info", (char *)section) != 0)
        return -1;
    snprintf(key, sizeof key, "\n%s:", field);
    char *at = strstr(out, key);
    return at ? strtoll(at + strlen(key), NULL, 10) : -1;
}

long long kvb_dbsize(unsigned port)
{
    char out[64];
    if (kvb_cli(port, out, sizeof out, "dbsize", NULL) != 0)
        return -1;
    char *end;
    long long n = strtoll(out, &end, 10);
    return end == out ? -1 : n;
}

long long kvb_rss_bytes(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* teemated's view of kv-bench: the attached server's pid and slot pages. */
static pid_t kvb_enclave_attached(struct kvb_env *env, long long *epc_pages)
{
    char *argv[] = { (char *)env->teemate, "enclave", "inspect", "kv-" KVB_ENCLAVE_NAME, "--json",
                     "--socket", env->sock, NULL };
    static char out[65536];
    *epc_pages = -1;
    if (tm_bench_run(argv, NULL, out, sizeof out) != 0)
        return 0;
    json_t *j = json_loads(out, 0, NULL);
    json_t *procs = json_object_get(j, "attached");
    pid_t pid = 0;
    for (size_t i = 0; i < json_array_size(procs); i++) {
        json_t *a = json_array_get(procs, i);
        if (json_integer_value(json_object_get(a, "parent_slot")) >= 0)
            continue;   /* a snapshot child, not the server */
        pid = (pid_t)json_integer_value(json_object_get(a, "pid"));
        *epc_pages = json_integer_value(json_object_get(a, "epc_pages"));
        break;
    }
    json_decref(j);
    return pid;
}

pid_t kvb_server_process(struct kvb_env *env, int t, const struct kvb_server *s, long long *epc_pages)
{
    *epc_pages = -1;
    if (t != KVB_ENCLAVE)
        return s->pid;
    return kvb_enclave_attached(env, epc_pages);
}
