/* Stage 2's results: the write load's requests/s and p99 alone and with
 * BGSAVEs back to back, per test and server; the BGSAVEs that ended during
 * it and their COW bytes; the verdicts; the bars plot. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_svg.h"
#include "snb_report.h"

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

void snb_workload_report(const struct snb_options *o, const struct snb_results *res, struct tm_bench_text *md,
                                json_t *j, char **svg)
{
    static const int targets[] = { SNB_REDIS, SNB_ATTACH, SNB_NOENCLAVE };
    json_t *wl = json_object();
    tm_bench_cat(md, "## 2. Write load with BGSAVEs back to back\n\n"
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
            tm_bench_cat(md, "| %s | %s | | | | | |\n", snb_target_names[t], why);
        }
        for (unsigned i = 0; runs[0].ran && i < runs[0].n; i++) {
            const struct snb_result *a = &runs[0].r[i], *w = runs[1].ran ? snb_find(&runs[1], a->test) : NULL;
            tm_bench_cat(md, "| %s | %s | %.0f | %.3f |", snb_target_names[t], a->test, a->rps, a->p99);
            if (w)
                tm_bench_cat(md, " %.0f | %.3f | %.2f |\n", w->rps, w->p99, w->rps / a->rps);
            else
                tm_bench_cat(md, " - | - | - |\n");
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
    tm_bench_cat(md, "\n| server | used_memory MB | BGSAVEs during the load | failed | BGSAVE ms (median) | fork ms "
            "(median) | COW KB mean | COW KB max | ratio (geomean of tests) |\n|---|---|---|---|---|---|---|---|---|\n");
    for (unsigned k = 0; k < 3; k++) {
        int t = targets[k];
        const struct snb_run *w = &res->runs[t][1];
        if (!w->ran) {
            char why[300];
            snb_why_not(res, t, w->why, why, sizeof why);
            tm_bench_cat(md, "| %s | %s | | | | | | | |\n", snb_target_names[t], why);
            continue;
        }
        tm_bench_cat(md, "| %s | %.1f | %u | %u | %.1f | %.3f | %.0f | %.0f | %.3f |\n", snb_target_names[t],
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
    tm_bench_cat(md, "\nThroughput with / without BGSAVEs (attach >= %.2f and >= redis-server's): %s. Bytes copied per "
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
