/* bench/snapshot's results: Markdown tables with PASS/MISS against issue 13's
 * targets, the JSON with every figure (each BGSAVE too), and three plots:
 * fork latency and total BGSAVE time against the size (log-log, as the
 * paper's figure) and the write load's requests/s with and without BGSAVEs. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_svg.h"
#include "snb.h"

#define SNB_FORK_TARGET 1.0        /* attach fork / redis-server fork, at every size */
#define SNB_STRAWMAN_TARGET 1000.0 /* strawman fork / attach fork, at 1 GB */
#define SNB_TPUT_TARGET 0.70       /* with / without BGSAVEs */

struct snb_text {
    char *s;
    size_t len, cap;
};

static void snb_cat(struct snb_text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = t->s ? vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 65536;
        char *s = realloc(t->s, cap);
        if (!s)
            abort();   /* a report bigger than memory: nothing sensible to do */
        t->s = s, t->cap = cap;
    }
}

static json_t *snb_num(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

static double snb_ratio(double a, double b)
{
    return a >= 0 && b > 0 ? a / b : -1;
}

/* "not run: WHY" for a target that did not give figures. */
static void snb_why_not(const struct snb_results *res, int t, const char *why, char *out, size_t len)
{
    snprintf(out, len, "not run: %s", res->skipped[t] ? res->skip_why[t] : why && *why ? why : "no figures");
}

/* ---- Stage 1 */

static json_t *snb_point_json(const struct snb_point *p)
{
    json_t *saves = json_array();
    for (unsigned i = 0; i < p->nsaves; i++) {
        const struct snb_save *s = &p->saves[i];
        json_t *o = json_pack("{s:b}", "ok", s->ok);
        json_object_set_new(o, "fork_ms", s->ok ? json_real(s->fork_ms) : json_null());
        json_object_set_new(o, "bgsave_ms", s->ok ? json_real(s->total_ms) : json_null());
        json_object_set_new(o, "cow_bytes", json_integer(s->cow_bytes));
        json_object_set_new(o, "dump_bytes", json_integer(s->dump_bytes));
        if (!s->ok)
            json_object_set_new(o, "why", json_string(s->why));
        json_array_append_new(saves, o);
    }
    json_t *o = json_pack("{s:b, s:o}", "ran", p->ran && p->fork_ms >= 0, "saves", saves);
    if (!p->ran || p->fork_ms < 0) {
        json_object_set_new(o, "why", json_string(p->why));
        return o;
    }
    json_object_set_new(o, "keys", json_integer((json_int_t)p->keys));
    json_object_set_new(o, "used_memory", json_integer(p->used));
    json_object_set_new(o, "load_s", json_real(p->load_s));
    json_object_set_new(o, "fork_ms", json_real(p->fork_ms));
    json_object_set_new(o, "bgsave_ms", json_real(p->total_ms));
    json_object_set_new(o, "cow_bytes", json_integer(p->cow_bytes));
    json_object_set_new(o, "dump_bytes", json_integer(p->dump_bytes));
    return o;
}

static void snb_fork_report(const struct snb_options *o, const struct snb_results *res, unsigned n,
                            struct snb_text *md, json_t *j, char **svg_fork, char **svg_total)
{
    static const int sweep[] = { SNB_REDIS, SNB_ATTACH, SNB_STRAWMAN };
    json_t *rows = json_array();
    snb_cat(md, "## 1. Fork latency and BGSAVE time against the data set\n\n"
            "Median of %u BGSAVE(s) per size and server, interleaved (n: the ok ones; a server whose BGSAVE "
            "took over %d s gets one per size from then on). fork: the server's latest_fork_usec "
            "(redis-server: its fork(); attach: BGSAVE until the child's first instruction inside the "
            "enclave; strawman: until the child's new enclave holds the data). BGSAVE: sent until INFO "
            "persistence says rdb_bgsave_in_progress:0 with status ok, polled every 1 ms. keys and "
            "used_memory: what the server holds at that size; load s: redis-cli --pipe time from empty to it. "
            "COW: rdb_last_cow_size of an idle save.\n\n"
            "| size MB | server | keys | used_memory MB | load s | fork ms | BGSAVE ms | dump MB | COW KB | n |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n", o->reps, SNB_SLOW_SAVE_S);
    double x[SNB_MAX_SIZES], yf[3][SNB_MAX_SIZES], yt[3][SNB_MAX_SIZES];
    for (unsigned i = 0; i < n; i++) {
        x[i] = o->sizes_mb[i];
        json_t *row = json_pack("{s:i}", "size_mb", (int)o->sizes_mb[i]);
        for (unsigned k = 0; k < 3; k++) {
            int t = sweep[k];
            const struct snb_point *p = &res->points[i][t];
            yf[k][i] = p->fork_ms, yt[k][i] = p->total_ms;
            json_object_set_new(row, snb_target_short[t], snb_point_json(p));
            if (!p->ran || p->fork_ms < 0) {
                char why[300];
                snb_why_not(res, t, p->why, why, sizeof why);
                snb_cat(md, "| %u | %s | %s | | | | | | | |\n", o->sizes_mb[i], snb_target_names[t], why);
                continue;
            }
            unsigned ok = 0;
            for (unsigned r = 0; r < p->nsaves; r++)
                ok += p->saves[r].ok;
            snb_cat(md, "| %u | %s | %llu | %.1f | %.1f | %.3f | %.1f | %.1f | %.0f | %u |\n", o->sizes_mb[i],
                    snb_target_names[t], p->keys, (double)p->used / MIB, p->load_s, p->fork_ms, p->total_ms,
                    (double)p->dump_bytes / MIB, p->cow_bytes < 0 ? -1.0 : (double)p->cow_bytes / 1024, ok);
        }
        json_array_append_new(rows, row);
    }
    /* ratios and verdicts */
    snb_cat(md, "\n| size MB | attach / redis-server fork | verdict (<= %.0f) | strawman / attach fork |\n"
            "|---|---|---|---|\n", SNB_FORK_TARGET);
    unsigned pass = 0, judged = 0;
    double straw = -1;
    for (unsigned i = 0; i < n; i++) {
        const struct snb_point *p = res->points[i];
        double ar = snb_ratio(p[SNB_ATTACH].fork_ms, p[SNB_REDIS].fork_ms);
        double sr = snb_ratio(p[SNB_STRAWMAN].fork_ms, p[SNB_ATTACH].fork_ms);
        char verdict[300];
        if (ar >= 0) {
            judged++;
            pass += ar <= SNB_FORK_TARGET;
            snprintf(verdict, sizeof verdict, "%s", ar <= SNB_FORK_TARGET ? "PASS" : "MISS");
        } else {
            snb_why_not(res, SNB_ATTACH, p[SNB_ATTACH].why, verdict, sizeof verdict);
        }
        if (i + 1 == n)
            straw = sr;
        char ars[32] = "-", srs[32] = "-";
        if (ar >= 0)
            snprintf(ars, sizeof ars, "%.3f", ar);
        if (sr >= 0)
            snprintf(srs, sizeof srs, "%.0f", sr);
        snb_cat(md, "| %u | %s | %s | %s |\n", o->sizes_mb[i], ars, verdict, srs);
        json_t *row = json_array_get(rows, i);
        json_object_set_new(row, "attach_over_redis", snb_num(ar));
        json_object_set_new(row, "strawman_over_attach", snb_num(sr));
        json_object_set_new(row, "verdict", json_string(verdict));
    }
    char sverdict[300];
    unsigned largest = n ? o->sizes_mb[n - 1] : 0;
    if (straw >= 0)
        snprintf(sverdict, sizeof sverdict, "%s", straw >= SNB_STRAWMAN_TARGET ? "PASS" : "MISS");
    else
        snb_why_not(res, res->skipped[SNB_STRAWMAN] || !n ? SNB_STRAWMAN : SNB_ATTACH,
                    n ? res->points[n - 1][SNB_STRAWMAN].why : "", sverdict, sizeof sverdict);
    char fverdict[300];
    if (judged)
        snprintf(fverdict, sizeof fverdict, "%s", pass == judged ? "PASS" : "MISS");
    else
        snb_why_not(res, SNB_ATTACH, n ? res->points[0][SNB_ATTACH].why : "", fverdict, sizeof fverdict);
    char straws[32] = "";
    if (straw >= 0)
        snprintf(straws, sizeof straws, "%.0f, ", straw);
    snb_cat(md, "\nattach fork <= redis-server's: %s (%u of %u sizes). strawman / attach at %u MB (target >= "
            "%.0f at 1024 MB): %s%s.\n\n", fverdict, pass, judged, largest, SNB_STRAWMAN_TARGET, straws, sverdict);
    json_object_set_new(j, "fork", rows);
    json_object_set_new(j, "fork_summary",
                        json_pack("{s:i, s:i, s:s, s:i, s:o, s:s}", "attach_le_redis_pass", (int)pass, "judged",
                                  (int)judged, "verdict", fverdict, "strawman_size_mb", (int)largest,
                                  "strawman_over_attach", snb_num(straw), "strawman_verdict", sverdict));
    struct tm_svg_series fs[3], ts[3];
    for (unsigned k = 0; k < 3; k++) {
        fs[k] = (struct tm_svg_series){ snb_target_names[sweep[k]], x, yf[k], n };
        ts[k] = (struct tm_svg_series){ snb_target_names[sweep[k]], x, yt[k], n };
    }
    *svg_fork = n ? tm_svg_loglog("BGSAVE: fork latency (median)", "data set, MB (used_memory)", "fork, ms",
                                  fs, 3) : NULL;
    *svg_total = n ? tm_svg_loglog("BGSAVE: total time (median)", "data set, MB (used_memory)", "BGSAVE, ms",
                                   ts, 3) : NULL;
}

/* ---- Stage 2 */

static json_t *snb_run_json(const struct snb_run *r, bool snapshots)
{
    json_t *o = json_pack("{s:b}", "ran", r->ran);
    if (!r->ran || r->why[0])
        json_object_set_new(o, "why", json_string(r->why));
    if (!r->ran)
        return o;
    json_t *tests = json_array();
    for (unsigned i = 0; i < r->n; i++)
        json_array_append_new(tests, json_pack("{s:s, s:f, s:f, s:f}", "test", r->r[i].test, "rps", r->r[i].rps,
                                               "p50_ms", r->r[i].p50, "p99_ms", r->r[i].p99));
    json_object_set_new(o, "results", tests);
    json_object_set_new(o, "wall_s", json_real(r->wall_s));
    if (snapshots) {
        json_object_set_new(o, "bgsaves", json_integer(r->saves));
        json_object_set_new(o, "bgsaves_failed", json_integer(r->saves_failed));
        json_object_set_new(o, "cow_mean_bytes", snb_num(r->cow_mean));
        json_object_set_new(o, "cow_max_bytes", snb_num(r->cow_max));
        json_object_set_new(o, "bgsave_ms_median", snb_num(r->save_ms_median));
        json_object_set_new(o, "fork_ms_median", snb_num(r->fork_ms_median));
    }
    return o;
}

/* with / without over the tests both ran: their geometric mean; -1 if none. */
static double snb_tput_ratio(const struct snb_run *runs)
{
    double log_sum = 0;
    unsigned n = 0;
    if (!runs[0].ran || !runs[1].ran || !runs[1].saves)
        return -1;
    for (unsigned i = 0; i < runs[0].n; i++) {
        const struct snb_result *w = snb_find(&runs[1], runs[0].r[i].test);
        if (w && runs[0].r[i].rps > 0 && w->rps > 0)
            log_sum += log(w->rps / runs[0].r[i].rps), n++;
    }
    return n ? exp(log_sum / n) : -1;
}

static void snb_workload_report(const struct snb_options *o, const struct snb_results *res, struct snb_text *md,
                                json_t *j, char **svg)
{
    static const int targets[] = { SNB_REDIS, SNB_ATTACH, SNB_NOENCLAVE };
    json_t *wl = json_object();
    snb_cat(md, "## 2. Write load with BGSAVEs back to back\n\n"
            "Fresh servers, each loaded to %u MB (keys above the load's -r range: the load never rewrites "
            "them); `redis-benchmark --csv -t %s -n %u -c %d -P %d -r %d -d %u` once to warm up (it makes the "
            "counters and hash fields), then measured alone, and again while a second client issues BGSAVE as "
            "soon as the previous one ended (the saves that ended during the run counted). LPUSH's list is "
            "deleted after each run (it grows by -n values a run). used_memory: at the start of the measured "
            "runs. Ratio: requests/s with / without.\n\n"
            "| server | test | rps alone | p99 ms | rps with BGSAVEs | p99 ms | ratio |\n"
            "|---|---|---|---|---|---|---|\n",
            o->load_mb, o->tests, o->requests, SNB_CLIENTS, SNB_PIPELINE, SNB_KEYSPACE, o->load_value);
    const char *groups[SNB_MAX_TESTS];
    char labels[SNB_MAX_TESTS][32];
    double bars[SNB_MAX_TESTS * 6] = { 0 };
    size_t ngroups = 0;
    double ratio[SNB_TARGETS];
    for (unsigned k = 0; k < 3; k++) {
        int t = targets[k];
        const struct snb_run *runs = res->runs[t];
        ratio[t] = snb_tput_ratio(runs);
        if (!runs[0].ran) {
            char why[300];
            snb_why_not(res, t, runs[0].why, why, sizeof why);
            snb_cat(md, "| %s | %s | | | | | |\n", snb_target_names[t], why);
        }
        for (unsigned i = 0; runs[0].ran && i < runs[0].n; i++) {
            const struct snb_result *a = &runs[0].r[i], *w = runs[1].ran ? snb_find(&runs[1], a->test) : NULL;
            snb_cat(md, "| %s | %s | %.0f | %.3f |", snb_target_names[t], a->test, a->rps, a->p99);
            if (w)
                snb_cat(md, " %.0f | %.3f | %.2f |\n", w->rps, w->p99, w->rps / a->rps);
            else
                snb_cat(md, " - | - | - |\n");
            size_t g = 0;
            while (g < ngroups && strcmp(labels[g], a->test))
                g++;
            if (g == ngroups && ngroups < SNB_MAX_TESTS) {
                snprintf(labels[g], sizeof labels[g], "%s", a->test);
                groups[g] = labels[g], ngroups++;
            }
            if (g < ngroups) {
                bars[g * 6 + k * 2] = a->rps;
                bars[g * 6 + k * 2 + 1] = w ? w->rps : 0;
            }
        }
        json_t *tj = json_pack("{s:b, s:o, s:o, s:o}", "skipped", res->skipped[t], "alone",
                               snb_run_json(&runs[0], false), "bgsave", snb_run_json(&runs[1], true),
                               "throughput_ratio", snb_num(ratio[t]));
        json_object_set_new(tj, "used_memory", json_integer(res->load_used[t]));
        json_object_set_new(tj, "keys", json_integer((json_int_t)res->load_keys[t]));
        if (res->skipped[t])
            json_object_set_new(tj, "why", json_string(res->skip_why[t]));
        json_object_set_new(wl, snb_target_short[t], tj);
    }
    snb_cat(md, "\n| server | used_memory MB | BGSAVEs during the load | failed | BGSAVE ms (median) | fork ms "
            "(median) | COW KB mean | COW KB max | ratio (geomean of tests) |\n|---|---|---|---|---|---|---|---|---|\n");
    for (unsigned k = 0; k < 3; k++) {
        int t = targets[k];
        const struct snb_run *w = &res->runs[t][1];
        if (!w->ran) {
            char why[300];
            snb_why_not(res, t, w->why, why, sizeof why);
            snb_cat(md, "| %s | %s | | | | | | | |\n", snb_target_names[t], why);
            continue;
        }
        snb_cat(md, "| %s | %.1f | %u | %u | %.1f | %.3f | %.0f | %.0f | %.3f |\n", snb_target_names[t],
                (double)res->load_used[t] / MIB, w->saves, w->saves_failed, w->save_ms_median, w->fork_ms_median,
                w->cow_mean / 1024, w->cow_max / 1024, ratio[t]);
    }
    /* verdicts: attach judged against the targets and against redis-server */
    char tv[300], cv[300];
    const struct snb_run *ra = res->runs[SNB_ATTACH], *rr = res->runs[SNB_REDIS];
    if (ratio[SNB_ATTACH] >= 0 && ratio[SNB_REDIS] >= 0)
        snprintf(tv, sizeof tv, "%s", ratio[SNB_ATTACH] >= SNB_TPUT_TARGET && ratio[SNB_ATTACH] >= ratio[SNB_REDIS]
                                      ? "PASS" : "MISS");
    else if (ratio[SNB_ATTACH] < 0 && ra[1].ran && !ra[1].saves)
        snprintf(tv, sizeof tv, "MISS (no BGSAVE ended during the load: %s)", ra[1].why[0] ? ra[1].why : "too short");
    else
        snb_why_not(res, ratio[SNB_ATTACH] < 0 ? SNB_ATTACH : SNB_REDIS,
                    ratio[SNB_ATTACH] < 0 ? (ra[1].why[0] ? ra[1].why : ra[0].why) : rr[1].why, tv, sizeof tv);
    if (ra[1].ran && rr[1].ran && ra[1].cow_mean >= 0 && rr[1].cow_mean >= 0)
        snprintf(cv, sizeof cv, "%s", ra[1].cow_mean <= rr[1].cow_mean ? "PASS" : "MISS");
    else
        snb_why_not(res, !ra[1].ran || ra[1].cow_mean < 0 ? SNB_ATTACH : SNB_REDIS,
                    !ra[1].ran || ra[1].cow_mean < 0 ? (ra[1].why[0] ? ra[1].why : "no rdb_last_cow_size")
                                                     : rr[1].why[0] ? rr[1].why : "no rdb_last_cow_size",
                    cv, sizeof cv);
    snb_cat(md, "\nThroughput with / without BGSAVEs (attach >= %.2f and >= redis-server's): %s. Bytes copied per "
            "snapshot under the load (rdb_last_cow_size mean, attach <= redis-server): %s.\n\n",
            SNB_TPUT_TARGET, tv, cv);
    json_object_set_new(wl, "throughput_verdict", json_string(tv));
    json_object_set_new(wl, "cow_verdict", json_string(cv));
    json_object_set_new(j, "workload", wl);
    static const char *const bar_names[6] = { "redis", "redis+BGSAVE", "attach", "attach+BGSAVE", "no-enclave",
                                              "no-enclave+BGSAVE" };
    const char *segs[1] = { "requests/s" };
    *svg = ngroups ? tm_svg_stacked_bars("Write load: requests/s without and with BGSAVEs back to back",
                                         "requests/s", groups, ngroups, bar_names, 6, segs, 1, bars)
                   : NULL;
}

int snb_report(const struct snb_options *o, const struct snb_env *env, const struct snb_results *res,
               unsigned nsizes_done, bool final)
{
    struct snb_text md = { 0 };
    char cpu[128];
    tm_bench_cpu_model(cpu, sizeof cpu);
    json_t *j = json_object(), *sizes = json_array();
    for (unsigned i = 0; i < o->nsizes; i++)
        json_array_append_new(sizes, json_integer(o->sizes_mb[i]));
    snb_cat(&md, "# bench/snapshot: BGSAVE in redis-server and teemate kv serve\n\n"
            "Values of %u incompressible bytes (`key:%%012u` from 100000 up, loaded with `redis-cli --pipe`). Dumps to %s. "
            "One run on %s; load average %s at the start, %s at the end: the machine is shared, figures are "
            "noisy. redis-server notices its child's end in serverCron (hz 10): its BGSAVE time includes up to "
            "~100 ms of that.\n\n",
            o->value_bytes, env->dumps, cpu, env->load_start, final ? env->load_end : "(still running)");
    for (int t = 0; t < SNB_TARGETS; t++)
        if (res->skipped[t])
            snb_cat(&md, "Skipped: %s: %s.\n\n", snb_target_names[t], res->skip_why[t]);
    if (env->daemon_gone[0])
        snb_cat(&md, "**During the run, %s: the enclave servers' BGSAVEs failed after it.**\n\n", env->daemon_gone);
    char *svg_fork = NULL, *svg_total = NULL, *svg_tput = NULL;
    snb_fork_report(o, res, nsizes_done, &md, j, &svg_fork, &svg_total);
    if (res->workload_done)
        snb_workload_report(o, res, &md, j, &svg_tput);
    json_t *skipped = json_object();
    for (int t = 0; t < SNB_TARGETS; t++)
        json_object_set_new(skipped, snb_target_short[t], res->skipped[t] ? json_string(res->skip_why[t]) : json_null());
    json_object_set_new(j, "skipped", skipped);
    json_object_set_new(j, "sizes_mb", sizes);
    json_object_set_new(j, "sizes_done", json_integer(nsizes_done));
    json_object_set_new(j, "reps", json_integer(o->reps));
    json_object_set_new(j, "value_bytes", json_integer(o->value_bytes));
    json_object_set_new(j, "load_mb", json_integer(o->load_mb));
    json_object_set_new(j, "requests", json_integer(o->requests));
    json_object_set_new(j, "load_value_bytes", json_integer(o->load_value));
    json_object_set_new(j, "tests", json_string(o->tests));
    json_object_set_new(j, "clients", json_integer(SNB_CLIENTS));
    json_object_set_new(j, "pipeline", json_integer(SNB_PIPELINE));
    json_object_set_new(j, "keyspace", json_integer(SNB_KEYSPACE));
    json_object_set_new(j, "quick", json_boolean(o->quick));
    json_object_set_new(j, "cpu", json_string(cpu));
    json_object_set_new(j, "dump_dir", json_string(env->dumps));
    json_object_set_new(j, "daemon_gone", env->daemon_gone[0] ? json_string(env->daemon_gone) : json_null());
    json_object_set_new(j, "loadavg_start", json_string(env->load_start));
    json_object_set_new(j, "loadavg_end", json_string(final ? env->load_end : ""));
    tm_error err = { 0 };
    int r = tm_bench_write_results(o->out_dir, "snapshot", md.s, j, &err);
    if (r == 0 && svg_fork)
        r = tm_bench_write_file(o->out_dir, "snapshot-fork.svg", svg_fork, &err);
    if (r == 0 && svg_total)
        r = tm_bench_write_file(o->out_dir, "snapshot-bgsave.svg", svg_total, &err);
    if (r == 0 && svg_tput)
        r = tm_bench_write_file(o->out_dir, "snapshot-throughput.svg", svg_tput, &err);
    if (r < 0)
        fprintf(stderr, "snapshot: %s\n", err.msg);
    if (final)
        fputs(md.s, stdout);
    free(svg_fork), free(svg_total), free(svg_tput), free(md.s);
    json_decref(j);
    return r;
}
