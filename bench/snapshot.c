/* bench/snapshot: issue 13's benchmark (point 6). Two stages.
 * 1. Fork latency and total BGSAVE time against the data set's size (32 MB
 *    to 1 GB of ~1 KB values, the size being INFO used_memory): Debian's
 *    redis-server (its own fork), `teemate kv serve --fork attach` and
 *    `--fork strawman`, side by side, each grown from size to size, N
 *    BGSAVEs each per size, interleaved; medians judged (attach / redis
 *    fork <= 1 at every size, strawman / attach >= 1000 at the largest).
 * 2. Fresh servers with LOAD MB each (redis-server, attach, --no-enclave):
 *    redis-benchmark's write load without and with BGSAVEs back to back,
 *    the throughput ratio (>= 0.70, attach's not below redis-server's) and
 *    the bytes copied per snapshot (attach <= redis-server).
 *
 *   build/bench/snapshot [--quick] [--sizes MB,MB..] [--reps N] [--load MB] [-n N]
 *                        [--tests T,T..] [--value B] [--load-value B] [--out DIR] [--dump-dir DIR]
 *                        [--teemate PATH] */
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "snb.h"

static const char snb_usage[] =
    "usage: snapshot [--quick] [--sizes MB,MB...] [--reps N] [--load MB] [-n N] [--tests T,T...]\n"
    "                [--value B] [--load-value B] [--out DIR] [--dump-dir DIR] [--teemate PATH]\n"
    "  --sizes LIST   data set sizes in MB (INFO used_memory; default 32,64,128,256,512,1024)\n"
    "  --reps N       BGSAVEs per size and server, the median judged (default 3)\n"
    "  --load MB      the data set under the write load (default 256)\n"
    "  -n N           redis-benchmark -n per test of the write load (default 1000000)\n"
    "  --tests LIST   redis-benchmark -t of the write load (default set,incr,lpush,hset)\n"
    "  --value B      the data set's value size in bytes (default 1000)\n"
    "  --load-value B redis-benchmark -d of the write load (default 100)\n"
    "  --quick        sizes 4,8, 1 BGSAVE each, load 8 MB, -n 20000 (a smoke run)\n"
    "  --out DIR      where snapshot.json, .md and the SVGs go (default build/bench)\n"
    "  --dump-dir D   where the servers write dump.rdb (default /dev/shm: memory, not disk)\n"
    "  --teemate P    the teemate binary (default: next to this one)\n";

static int snb_parse_sizes(char *list, struct snb_options *o)
{
    unsigned prev = 0;
    if (tm_bench_counts(list, 1, 16384, SNB_MAX_SIZES, o->sizes_mb, &o->nsizes, "snapshot", "--sizes") < 0)
        return -1;
    for (unsigned i = 0; i < o->nsizes; prev = o->sizes_mb[i++])
        if (o->sizes_mb[i] <= prev)
            return fprintf(stderr, "snapshot: --sizes must ascend (MB, comma-separated)\n"), -1;
    return 0;
}

static int snb_parse_options(int argc, char **argv, struct snb_options *o)
{
    static char sizes[128];
    *o = (struct snb_options){ .sizes_mb = { 32, 64, 128, 256, 512, 1024 }, .nsizes = 6, .reps = 3,
                               .value_bytes = 1000, .load_mb = 256, .requests = 1000000, .load_value = 100,
                               .tests = "set,incr,lpush,hset", .out_dir = "build/bench" };
    bool sizes_set = false, reps_set = false, load_set = false, n_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            o->quick = true;
        } else if (!strcmp(a, "--sizes") && v) {
            if (strlen(v) >= sizeof sizes)
                return fprintf(stderr, "snapshot: --sizes takes 1 to %d ascending sizes of 1..16384 MB, "
                               "comma-separated\n", SNB_MAX_SIZES), -1;
            snprintf(sizes, sizeof sizes, "%s", v);
            if (snb_parse_sizes(sizes, o) < 0)
                return -1;   /* said */
            sizes_set = true, i++;
        } else if (!strcmp(a, "--reps") && v) {
            if (tm_bench_parse_uint(v, 1, SNB_MAX_REPS, &o->reps) < 0)
                return fprintf(stderr, "snapshot: --reps takes 1..%d\n", SNB_MAX_REPS), -1;
            reps_set = true, i++;
        } else if (!strcmp(a, "--load") && v) {
            if (tm_bench_parse_uint(v, 1, 16384, &o->load_mb) < 0)
                return fprintf(stderr, "snapshot: --load takes 1..16384 (MB)\n"), -1;
            load_set = true, i++;
        } else if (!strcmp(a, "-n") && v) {
            if (tm_bench_parse_uint(v, 100, 100000000, &o->requests) < 0)
                return fprintf(stderr, "snapshot: -n takes 100..100000000\n"), -1;
            n_set = true, i++;
        } else if (!strcmp(a, "--tests") && v) {
            if (!*v || strlen(v) > 100 || strspn(v, "abcdefghijklmnopqrstuvwxyz_0123456789,") != strlen(v))
                return fprintf(stderr, "snapshot: --tests takes redis-benchmark -t names, comma-separated\n"), -1;
            o->tests = v, i++;
        } else if (!strcmp(a, "--value") && v) {
            if (tm_bench_parse_uint(v, 16, 65536, &o->value_bytes) < 0)
                return fprintf(stderr, "snapshot: --value takes 16..65536 (bytes)\n"), -1;
            i++;
        } else if (!strcmp(a, "--load-value") && v) {
            if (tm_bench_parse_uint(v, 1, 65536, &o->load_value) < 0)
                return fprintf(stderr, "snapshot: --load-value takes 1..65536 (bytes)\n"), -1;
            i++;
        } else if (!strcmp(a, "--out") && v) {
            o->out_dir = v, i++;
        } else if (!strcmp(a, "--dump-dir") && v) {
            o->dump_dir = v, i++;
        } else if (!strcmp(a, "--teemate") && v) {
            o->teemate = v, i++;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(snb_usage, stdout);
            return 1;
        } else {
            fprintf(stderr, "snapshot: unknown option or missing value: '%s' (--help)\n", a);
            return -1;
        }
    }
    if (o->quick) {
        if (!sizes_set)
            o->sizes_mb[0] = 4, o->sizes_mb[1] = 8, o->nsizes = 2;
        o->reps = reps_set ? o->reps : 1;
        o->load_mb = load_set ? o->load_mb : 8;
        o->requests = n_set ? o->requests : 20000;
    }
    return 0;
}

static double snb_median_of(const struct snb_point *p, bool fork)
{
    double v[SNB_MAX_REPS];
    unsigned n = 0;
    for (unsigned i = 0; i < p->nsaves; i++)
        if (p->saves[i].ok)
            v[n++] = fork ? p->saves[i].fork_ms : p->saves[i].total_ms;
    return n ? tm_bench_median(v, n) : -1;
}

/* Stage 1: every server grown to each size in turn, then N BGSAVEs each,
 * interleaved so that a noisy moment hits all of them. */
static void snb_fork_sweep(const struct snb_options *o, struct snb_env *env, struct snb_results *res,
                           unsigned *done)
{
    static const int sweep[] = { SNB_REDIS, SNB_ATTACH, SNB_AHEAD, SNB_STRAWMAN };
    enum { NSWEEP = sizeof sweep / sizeof sweep[0] };
    struct snb_server srv[SNB_TARGETS];
    bool slow[SNB_TARGETS] = { false };
    for (unsigned k = 0; k < NSWEEP; k++) {
        int t = sweep[k];
        if (!snb_server_start(env, t, &srv[t]) && snb_server_unsupported(&srv[t])) {
            res->skipped[t] = true;
            snprintf(res->skip_why[t], sizeof res->skip_why[t], "%s", srv[t].why);
        }
        if (!srv[t].up)
            fprintf(stderr, "snapshot: %s: %s\n", snb_target_names[t], srv[t].why);
    }
    for (unsigned i = 0; i < o->nsizes; i++) {
        unsigned long long bytes = (unsigned long long)o->sizes_mb[i] << 20;
        for (unsigned k = 0; k < NSWEEP; k++) {
            int t = sweep[k];
            struct snb_point *p = &res->points[i][t];
            p->fork_ms = p->total_ms = -1, p->cow_bytes = p->dump_bytes = -1;
            if (!srv[t].up) {
                snprintf(p->why, sizeof p->why, "%s", srv[t].why);
                continue;
            }
            fprintf(stderr, "snapshot: %s up to %u MB\n", snb_target_names[t], o->sizes_mb[i]);
            if (snb_fill(env, &srv[t], bytes) < 0) {
                fprintf(stderr, "snapshot: %s: %s\n", snb_target_names[t], srv[t].why);
                snprintf(p->why, sizeof p->why, "%s", srv[t].why);
                snb_server_stop(&srv[t]);
                continue;
            }
            p->ran = true, p->keys = srv[t].keys, p->used = srv[t].used, p->load_s = srv[t].load_s;
        }
        for (unsigned rep = 0; rep < o->reps; rep++)
            for (unsigned k = 0; k < NSWEEP; k++) {
                int t = sweep[k];
                struct snb_point *p = &res->points[i][t];
                if (!p->ran || !srv[t].up || (rep > 0 && slow[t]))
                    continue;
                struct snb_save *s = &p->saves[p->nsaves++];
                snb_bgsave(&srv[t].conn, srv[t].dir, s);
                fprintf(stderr, "snapshot: %u MB %s BGSAVE %u: %s fork %.3f ms, total %.1f ms\n", o->sizes_mb[i],
                        snb_target_short[t], rep + 1, s->ok ? "ok," : s->why, s->fork_ms, s->total_ms);
                if (!s->ok && strstr(s->why, "after"))
                    snb_server_stop(&srv[t]);   /* stuck: no point in the larger sizes */
                if (!s->ok && t != SNB_REDIS)
                    snb_env_daemon_gone(env);   /* said once, and in the results */
                if (s->ok && s->total_ms > SNB_SLOW_SAVE_S * 1e3 && !slow[t]) {
                    slow[t] = true;   /* the strawman at 1 GB, say: the run stays within minutes */
                    fprintf(stderr, "snapshot: %s: a BGSAVE took over %d s: one BGSAVE per size from here on\n",
                            snb_target_names[t], SNB_SLOW_SAVE_S);
                }
            }
        for (int t = 0; t < SNB_TARGETS; t++) {
            struct snb_point *p = &res->points[i][t];
            if (!p->ran)
                continue;
            p->fork_ms = snb_median_of(p, true), p->total_ms = snb_median_of(p, false);
            for (unsigned r = 0; r < p->nsaves; r++)
                if (p->saves[r].ok)
                    p->cow_bytes = p->saves[r].cow_bytes, p->dump_bytes = p->saves[r].dump_bytes;
            if (p->fork_ms < 0) {
                char first[sizeof p->saves[0].why];
                memcpy(first, p->saves[0].why, sizeof first);
                snprintf(p->why, sizeof p->why, "every BGSAVE failed: %s", first);
            }
        }
        *done = i + 1;
        if (i + 1 < o->nsizes)
            snb_report(o, env, res, *done, false);
    }
    for (unsigned k = 0; k < 3; k++)
        snb_server_stop(&srv[sweep[k]]);
}

/* Stage 2: fresh servers with LOAD MB, the write load without and with
 * snapshots, target by target. */
static void snb_write_load(const struct snb_options *o, struct snb_env *env, struct snb_results *res)
{
    static const int targets[] = { SNB_REDIS, SNB_ATTACH, SNB_NOENCLAVE };
    for (unsigned k = 0; k < 3; k++) {
        int t = targets[k];
        struct snb_server s;
        struct snb_run *runs = res->runs[t];
        if (snb_server_start(env, t, &s)) {
            fprintf(stderr, "snapshot: %s: %u MB for the write load\n", snb_target_names[t], o->load_mb);
            if (snb_fill(env, &s, (unsigned long long)o->load_mb << 20) == 0) {
                res->load_keys[t] = s.keys;
                /* a first run, not measured, makes the keys the load touches
                 * (counters, hash fields): both measured runs then find the
                 * same data set, and neither pays for creating them */
                static struct snb_run warm;
                fprintf(stderr, "snapshot: %s: redis-benchmark -t %s -n %u to warm up\n", snb_target_names[t],
                        o->tests, o->requests);
                snb_workload(o, &s, false, &warm);
                res->load_used[t] = snb_workload_reset(&s);
                for (int snap = 0; snap < 2 && warm.ran && res->load_used[t] >= 0; snap++) {
                    fprintf(stderr, "snapshot: %s: redis-benchmark -t %s -n %u %s\n", snb_target_names[t],
                            o->tests, o->requests, snap ? "with BGSAVEs back to back" : "alone");
                    snb_workload(o, &s, snap, &runs[snap]);
                    if (!runs[snap].ran)
                        fprintf(stderr, "snapshot: %s: %s\n", snb_target_names[t], runs[snap].why);
                    if (snb_workload_reset(&s) < 0 && runs[snap].ran)
                        runs[snap].ran = false, snprintf(runs[snap].why, sizeof runs[snap].why,
                                                         "DEL mylist or INFO memory failed after the run");
                }
                if (!warm.ran)
                    snprintf(runs[0].why, sizeof runs[0].why, "the warm-up run: %.200s", warm.why);
            }
        } else if (snb_server_unsupported(&s)) {
            res->skipped[t] = true;
            snprintf(res->skip_why[t], sizeof res->skip_why[t], "%s", s.why);
        }
        for (int snap = 0; snap < 2; snap++)
            if (!runs[snap].ran && !runs[snap].why[0])
                snprintf(runs[snap].why, sizeof runs[snap].why, "%s", s.why);
        if (!s.up || !runs[0].ran)
            fprintf(stderr, "snapshot: %s: %s\n", snb_target_names[t], s.why[0] ? s.why : runs[0].why);
        snb_server_stop(&s);
    }
    snb_env_daemon_gone(env);
    res->workload_done = true;
}

int main(int argc, char **argv)
{
    struct snb_options o;
    int r = snb_parse_options(argc, argv, &o);
    if (r != 0)
        return r < 0 ? 2 : 0;
    char exe[PATH_MAX], teemate[PATH_MAX + 16];
    if (!o.teemate) {   /* build/bench/snapshot -> build/teemate */
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[k > 0 ? k : 0] = '\0';
        snprintf(teemate, sizeof teemate, "%s/../teemate", dirname(exe));
        o.teemate = teemate;
    }
    signal(SIGPIPE, SIG_IGN);   /* a server that dies mid-load is an error, not our end */
    static struct snb_env env;
    static struct snb_results res;
    if (snb_env_start(&env, &o) < 0)
        return 1;
    unsigned done = 0;
    snb_fork_sweep(&o, &env, &res, &done);
    snb_write_load(&o, &env, &res);
    snb_env_stop(&env);
    bool baseline = false;
    for (unsigned i = 0; i < done; i++)
        baseline |= res.points[i][SNB_REDIS].fork_ms >= 0;
    if (snb_report(&o, &env, &res, done, true) < 0)
        return 1;
    if (!baseline || !res.runs[SNB_REDIS][0].ran) {
        fprintf(stderr, "snapshot: redis-server (the baseline) gave no figures\n");
        return 1;
    }
    return 0;
}
