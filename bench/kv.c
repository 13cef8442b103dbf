/* bench/kv: the unmodified redis-benchmark, same flags, in one run, against
 * Debian's redis-server (the real baseline: no persistence, 127.0.0.1, a
 * port of its own), `teemate kv serve --no-enclave` (the same store without
 * an enclave) and `teemate kv serve` (the store in its shared enclave; root).
 * Targets are interleaved test by test. Requests per second, p50 and p99
 * per test, -c 50, at -P 1 and -P 16, the ratios to redis-server and PASS
 * or MISS against issue 12's targets (>= 80% of the throughput, p99 within
 * 1.5x). Results: bench/results/kv.{json,md,svg}.
 *
 *   build/bench/kv [--quick] [-n N] [--out DIR] [--teemate PATH] */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_svg.h"

#define KV_TARGETS 3
#define KV_MAX_TESTS 16
static const char *const kv_target_names[KV_TARGETS] = { "redis-server", "teemate --no-enclave",
                                                         "teemate (enclave)" };
static const char kv_tests_all[] = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset";
static const char kv_tests_quick[] = "set,get,incr";
static const unsigned kv_pipelines[2] = { 1, 16 };

struct kv_result {
    char test[32];
    double rps, p50, p99;
};
struct kv_run {             /* one target at one pipeline: a result per test */
    struct kv_result r[KV_MAX_TESTS];
    unsigned n;
    bool ran;
};

static pid_t kv_spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static unsigned kv_free_port(void)
{
    FILE *p = popen("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
                    "print(s.getsockname()[1])'", "r");
    unsigned port = 0;
    if (p) {
        if (fscanf(p, "%u", &port) != 1)
            port = 0;
        pclose(p);
    }
    return port;
}

/* Until redis-cli PING answers PONG (20 s at most). */
static bool kv_wait_ready(unsigned port, pid_t pid)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "redis-cli -p %u ping 2>/dev/null | grep -q PONG", port);
    for (int i = 0; i < 400; i++) {
        if (system(cmd) == 0)
            return true;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return false;
        nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
    }
    return false;
}

static void kv_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* redis-benchmark --csv for one test; appends to run. */
static bool kv_benchmark(unsigned port, const char *test, unsigned n, unsigned pipeline,
                         struct kv_run *run)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "timeout 300 redis-benchmark -p %u --csv -n %u -c 50 -P %u -r 1000000 "
             "-t %s 2>/dev/null", port, n, pipeline, test);
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    char line[512];
    bool got = false;
    while (fgets(line, sizeof line, p)) {
        char name[128];
        double rps, avg, mn, p50, p95, p99;
        if (sscanf(line, "\"%127[^\"]\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\"", name, &rps,
                   &avg, &mn, &p50, &p95, &p99) != 7 || strstr(name, "needed to"))
            continue;
        if (run->n == KV_MAX_TESTS)
            break;
        struct kv_result *r = &run->r[run->n++];
        char *sp = strchr(name, ' ');
        if (sp)
            *sp = '\0';
        snprintf(r->test, sizeof r->test, "%.31s", name);
        r->rps = rps, r->p50 = p50, r->p99 = p99;
        got = true;
    }
    pclose(p);
    return got;
}

static const struct kv_result *kv_find(const struct kv_run *run, const char *test)
{
    for (unsigned i = 0; i < run->n; i++)
        if (!strcmp(run->r[i].test, test))
            return &run->r[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const char *out_dir = "bench/results", *tests = kv_tests_all, *teemate = NULL;
    unsigned n = 100000;
    char exe_dir[PATH_MAX], teemate_buf[PATH_MAX + 16];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            n = 2000;
            tests = kv_tests_quick;
        } else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            if (tm_bench_parse_uint(argv[++i], 100, 10000000, &n) < 0)
                return fprintf(stderr, "kv: -n takes 100..10000000\n"), 2;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (!strcmp(argv[i], "--teemate") && i + 1 < argc) {
            teemate = argv[++i];
        } else {
            fprintf(stderr, "usage: kv [--quick] [-n N] [--out DIR] [--teemate PATH]\n");
            return 2;
        }
    }
    if (!teemate) {   /* build/bench/kv -> build/teemate */
        ssize_t k = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
        exe_dir[k > 0 ? k : 0] = '\0';
        snprintf(teemate_buf, sizeof teemate_buf, "%s/../teemate", dirname(exe_dir));
        teemate = teemate_buf;
    }
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s kv --help >/dev/null 2>&1", teemate);
    bool have_kv = system(probe) == 0;
    char image[PATH_MAX + 64], tdir[PATH_MAX + 16];
    snprintf(tdir, sizeof tdir, "%s", teemate);
    snprintf(image, sizeof image, "%s/apps/kv/kv.elf", dirname(tdir));
    bool have_enclave = have_kv && geteuid() == 0 && access(image, R_OK) == 0;
    char work[] = "/tmp/bench-kv-XXXXXX";
    if (!mkdtemp(work))
        return perror("mkdtemp"), 1;

    /* teemated of our own for the enclave target */
    char sock[PATH_MAX], state[PATH_MAX], log[PATH_MAX];
    snprintf(sock, sizeof sock, "%s/teemated.sock", work);
    snprintf(state, sizeof state, "%s/state", work);
    setenv("TEEMATE_STATE_DIR", state, 1);
    pid_t daemon = -1;
    if (have_enclave) {
        snprintf(log, sizeof log, "%s/daemon.log", work);
        char *dargv[] = { (char *)teemate, "daemon", "--foreground", "--socket", sock, NULL };
        daemon = kv_spawn(dargv, log);
        for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
            nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
    }
    pid_t pids[KV_TARGETS] = { -1, -1, -1 };
    unsigned ports[KV_TARGETS] = { 0 };
    bool up[KV_TARGETS] = { false };
    for (int t = 0; t < KV_TARGETS; t++) {
        if ((t >= 1 && !have_kv) || (t == 2 && !have_enclave))
            continue;
        ports[t] = kv_free_port();
        char port[16], name[32];
        snprintf(port, sizeof port, "%u", ports[t]);
        snprintf(name, sizeof name, "bench-%u", ports[t]);
        snprintf(log, sizeof log, "%s/target%d.log", work, t);
        char *rargv[] = { "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", NULL };
        char *nargv[] = { (char *)teemate, "kv", "serve", "--port", port, "--no-enclave", NULL };
        char *eargv[] = { (char *)teemate, "kv", "serve", "--port", port, "--name", name,
                          "--socket", sock, NULL };
        pids[t] = kv_spawn(t == 0 ? rargv : t == 1 ? nargv : eargv, log);
        up[t] = pids[t] > 0 && kv_wait_ready(ports[t], pids[t]);
        if (!up[t])
            fprintf(stderr, "kv: %s did not start (its log: %s)\n", kv_target_names[t], log);
    }
    if (!up[0]) {
        fprintf(stderr, "kv: redis-server (the baseline) did not start\n");
        return 1;
    }
    /* interleaved: each test on each target in turn */
    static struct kv_run runs[2][KV_TARGETS];
    for (int pi = 0; pi < 2; pi++) {
        char list[256];
        snprintf(list, sizeof list, "%s", tests);
        for (char *save = NULL, *test = strtok_r(list, ",", &save); test;
             test = strtok_r(NULL, ",", &save))
            for (int t = 0; t < KV_TARGETS; t++)
                if (up[t]) {
                    fprintf(stderr, "kv: -P %u %s on %s\n", kv_pipelines[pi], test, kv_target_names[t]);
                    runs[pi][t].ran |= kv_benchmark(ports[t], test, n, kv_pipelines[pi], &runs[pi][t]);
                }
    }
    for (int t = KV_TARGETS - 1; t >= 0; t--)
        kv_stop(pids[t]);
    kv_stop(daemon);

    /* the table, the JSON, the plot */
    size_t cap = 65536, len = 0;
    char *md = malloc(cap);
    json_t *j = json_object(), *rows = json_array();
    char cpu[128];
    tm_bench_cpu_model(cpu, sizeof cpu);
    len += (size_t)snprintf(md + len, cap - len,
        "# bench/kv: redis-benchmark against redis-server and teemate kv serve\n\n"
        "`redis-benchmark --csv -n %u -c 50 -r 1000000 -t TEST -P {1,16}`, targets interleaved "
        "test by test, one run on %s. Ratios are to redis-server; targets (issue 12): "
        "throughput >= 0.80, p99 <= 1.5x. The machine is shared: figures are noisy.\n\n"
        "| -P | test | redis-server rps | p99 ms | --no-enclave rps | ratio | p99 ms | enclave rps | "
        "ratio | p99 ms | p99 ratio | verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        n, cpu);
    const char *groups[2 * KV_MAX_TESTS];
    double bars[2 * KV_MAX_TESTS * KV_TARGETS];
    size_t ngroups = 0;
    static char glabel[2 * KV_MAX_TESTS][48];
    for (int pi = 0; pi < 2; pi++) {
        for (unsigned i = 0; i < runs[pi][0].n; i++) {
            const struct kv_result *base = &runs[pi][0].r[i];
            const struct kv_result *nat = kv_find(&runs[pi][1], base->test);
            const struct kv_result *enc = kv_find(&runs[pi][2], base->test);
            const struct kv_result *judged = enc ? enc : nat;
            double ratio = judged ? judged->rps / base->rps : 0;
            double p99r = judged && base->p99 > 0 ? judged->p99 / base->p99 : 0;
            const char *verdict = !judged ? "not run" : ratio >= 0.8 && p99r <= 1.5 ? "PASS" : "MISS";
            char nb[96] = "-", eb[96] = "-";
            if (nat)
                snprintf(nb, sizeof nb, "%.0f | %.2f | %.3f", nat->rps, nat->rps / base->rps, nat->p99);
            else
                snprintf(nb, sizeof nb, "- | - | -");
            if (enc)
                snprintf(eb, sizeof eb, "%.0f | %.2f | %.3f", enc->rps, enc->rps / base->rps, enc->p99);
            else
                snprintf(eb, sizeof eb, "- | - | -");
            if (len + 512 > cap && !(md = realloc(md, cap *= 2)))
                return 1;
            len += (size_t)snprintf(md + len, cap - len, "| %u | %s | %.0f | %.3f | %s | %s | %.2f | %s%s |\n",
                                    kv_pipelines[pi], base->test, base->rps, base->p99, nb, eb, p99r,
                                    verdict, enc ? "" : judged ? " (no enclave run)" : "");
            json_array_append_new(rows, json_pack(
                "{s:i, s:s, s:{s:f, s:f, s:f}, s:o, s:o, s:f, s:f, s:s}", "pipeline", kv_pipelines[pi],
                "test", base->test, "redis", "rps", base->rps, "p50_ms", base->p50, "p99_ms", base->p99,
                "no_enclave", nat ? json_pack("{s:f, s:f, s:f}", "rps", nat->rps, "p50_ms", nat->p50, "p99_ms", nat->p99) : json_null(),
                "enclave", enc ? json_pack("{s:f, s:f, s:f}", "rps", enc->rps, "p50_ms", enc->p50, "p99_ms", enc->p99) : json_null(),
                "throughput_ratio", ratio, "p99_ratio", p99r, "verdict", verdict));
            if (ngroups < 2 * KV_MAX_TESTS) {
                snprintf(glabel[ngroups], sizeof glabel[0], "%s -P%u", base->test, kv_pipelines[pi]);
                groups[ngroups] = glabel[ngroups];
                bars[ngroups * KV_TARGETS + 0] = base->rps;
                bars[ngroups * KV_TARGETS + 1] = nat ? nat->rps : 0;
                bars[ngroups * KV_TARGETS + 2] = enc ? enc->rps : 0;
                ngroups++;
            }
        }
    }
    if (!up[1] || !up[2])
        len += (size_t)snprintf(md + len, cap - len, "\nNot run: %s%s\n",
                                up[1] ? "" : "teemate kv serve --no-enclave (not built or did not start) ",
                                up[2] ? "" : "teemate kv serve in its enclave (needs root, kv.elf and the "
                                             "kv verb)");
    json_object_set_new(j, "requests", json_integer(n));
    json_object_set_new(j, "clients", json_integer(50));
    json_object_set_new(j, "cpu", json_string(cpu));
    json_object_set_new(j, "results", rows);
    const char *segs[1] = { "requests/s" };
    char *svg = tm_svg_stacked_bars("redis-benchmark: requests per second (-c 50)", "requests/s",
                                    groups, ngroups, kv_target_names, KV_TARGETS, segs, 1, bars);
    tm_error err = { 0 };
    int r = tm_bench_write_results(out_dir, "kv", md, j, &err);
    if (r == 0 && svg)
        r = tm_bench_write_file(out_dir, "kv.svg", svg, &err);
    if (r < 0)
        fprintf(stderr, "kv: %s\n", err.msg);
    fputs(md, stdout);
    free(svg);
    free(md);
    json_decref(j);
    char rm[PATH_MAX + 16];
    snprintf(rm, sizeof rm, "rm -rf %s", work);
    if (system(rm) != 0)
        fprintf(stderr, "kv: could not remove %s\n", work);
    return r < 0 ? 1 : 0;
}
