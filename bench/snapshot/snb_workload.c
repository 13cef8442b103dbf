/* The write load: the unmodified redis-benchmark (-t set,incr,lpush,hset by
 * default, -c 50 -P 16 -r 100000 -d LOAD_VALUE, --csv) on the loaded data
 * set, once as it is and once while a second client issues BGSAVE again as
 * soon as the previous one ended. The snapshots that end during the run are
 * counted with their copy-on-write bytes (rdb_last_cow_size). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bench_proc.h"
#include "snb.h"

static double snb_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool snb_benchmark(const struct snb_options *o, unsigned port, struct snb_run *run)
{
    char limit[16], p[16], n[16], c[16], pl[16], r[16], d[16];
    snprintf(limit, sizeof limit, "%d", SNB_RUN_TIMEOUT_S);
    snprintf(p, sizeof p, "%u", port);
    snprintf(n, sizeof n, "%u", o->requests);
    snprintf(c, sizeof c, "%d", SNB_CLIENTS);
    snprintf(pl, sizeof pl, "%d", SNB_PIPELINE);
    snprintf(r, sizeof r, "%d", SNB_KEYSPACE);
    snprintf(d, sizeof d, "%u", o->load_value);
    char *argv[] = { "timeout", limit, "redis-benchmark", "-p", p, "--csv", "-n", n, "-c", c, "-P", pl,
                     "-r", r, "-d", d, "-t", (char *)o->tests, NULL };
    static char out[16384];
    int rc = tm_bench_run(argv, NULL, out, sizeof out);
    if (rc != 0) {
        snprintf(run->why, sizeof run->why, "redis-benchmark exited with %d%s", rc,
                 rc == 124 ? " (timed out)" : "");
        return false;
    }
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        double rps, avg, mn, p50, p95, p99;
        if (sscanf(line, "\"%127[^\"]\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\"", name, &rps, &avg, &mn,
                   &p50, &p95, &p99) != 7 || run->n == SNB_MAX_TESTS)
            continue;   /* the header */
        struct snb_result *res = &run->r[run->n++];
        name[strcspn(name, " ")] = '\0';
        snprintf(res->test, sizeof res->test, "%.31s", name);
        res->rps = rps, res->p50 = p50, res->p99 = p99;
    }
    if (!run->n)
        snprintf(run->why, sizeof run->why, "redis-benchmark printed no figures");
    return run->n > 0;
}

static void snb_saves_summary(const struct snb_looper *l, struct snb_run *run)
{
    unsigned kept = l->count < SNB_MAX_SAVES ? l->count : SNB_MAX_SAVES, ncow = 0;
    double total[SNB_MAX_SAVES], fork[SNB_MAX_SAVES], cow_sum = 0;
    run->saves = l->count, run->saves_failed = l->failed;
    run->cow_mean = run->cow_max = -1;
    for (unsigned i = 0; i < kept; i++) {
        total[i] = l->saves[i].total_ms, fork[i] = l->saves[i].fork_ms;
        if (l->saves[i].cow_bytes >= 0) {
            cow_sum += (double)l->saves[i].cow_bytes, ncow++;
            if ((double)l->saves[i].cow_bytes > run->cow_max)
                run->cow_max = (double)l->saves[i].cow_bytes;
        }
    }
    run->cow_mean = ncow ? cow_sum / ncow : -1;
    run->save_ms_median = kept ? tm_bench_median(total, kept) : -1;
    run->fork_ms_median = kept ? tm_bench_median(fork, kept) : -1;
}

void snb_workload(const struct snb_options *o, struct snb_server *s, bool snapshots, struct snb_run *run)
{
    memset(run, 0, sizeof *run);
    run->cow_mean = run->cow_max = run->save_ms_median = run->fork_ms_median = -1;
    static struct snb_looper looper;
    if (snapshots && snb_looper_start(&looper, s->port, s->dir) < 0) {
        snprintf(run->why, sizeof run->why, "cannot start the BGSAVE thread");
        return;
    }
    double t0 = snb_now_s();
    run->ran = snb_benchmark(o, s->port, run);
    run->wall_s = snb_now_s() - t0;
    if (!snapshots)
        return;
    snb_looper_stop(&looper);
    snb_saves_summary(&looper, run);
    if (looper.failed && run->ran)
        snprintf(run->why, sizeof run->why, "%u BGSAVE(s) failed: %s", looper.failed, looper.why);
}

long long snb_workload_reset(struct snb_server *s)
{
    char out[8192];
    if (snb_call(&s->conn, out, sizeof out, "DEL", "mylist", NULL) != ':' ||
        snb_call(&s->conn, out, sizeof out, "INFO", "memory", NULL) != '$')
        return -1;
    return snb_info_ll(out, "used_memory");
}

const struct snb_result *snb_find(const struct snb_run *run, const char *test)
{
    for (unsigned i = 0; i < run->n; i++)
        if (!strcmp(run->r[i].test, test))
            return &run->r[i];
    return NULL;
}
