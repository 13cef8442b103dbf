/* Stage 1's results: fork latency and BGSAVE time per size and server, the
 * ratios (attach / redis-server, strawman / attach) with PASS or MISS, the
 * JSON rows (every BGSAVE) and two log-log plots. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "bench_svg.h"
#include "snb_report.h"

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

void snb_fork_report(const struct snb_options *o, const struct snb_results *res, unsigned n,
                            struct tm_bench_text *md, json_t *j, char **svg_fork, char **svg_total)
{
    static const int sweep[] = { SNB_REDIS, SNB_ATTACH, SNB_AHEAD, SNB_STRAWMAN };
    enum { NSWEEP = sizeof sweep / sizeof sweep[0] };
    json_t *rows = json_array();
    tm_bench_cat(md, "## 1. Fork latency and BGSAVE time against the data set\n\n"
            "Median of %u BGSAVE(s) per size and server, interleaved (n: the ok ones; a server whose BGSAVE "
            "took over %d s gets one per size from then on). fork: the server's latest_fork_usec "
            "(redis-server: its fork(); attach: BGSAVE until the child's first instruction inside the "
            "enclave; strawman: until the child's new enclave holds the data). BGSAVE: sent until INFO "
            "persistence says rdb_bgsave_in_progress:0 with status ok, polled every 1 ms. keys and "
            "used_memory: what the server holds at that size; load s: redis-cli --pipe time from empty to it. "
            "COW: rdb_last_cow_size of an idle save.\n\n"
            "| size MB | server | keys | used_memory MB | load s | fork ms | BGSAVE ms | dump MB | COW KB | n |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n", o->reps, SNB_SLOW_SAVE_S);
    double x[SNB_MAX_SIZES], yf[NSWEEP][SNB_MAX_SIZES], yt[NSWEEP][SNB_MAX_SIZES];
    for (unsigned i = 0; i < n; i++) {
        x[i] = o->sizes_mb[i];
        json_t *row = json_pack("{s:i}", "size_mb", (int)o->sizes_mb[i]);
        for (unsigned k = 0; k < NSWEEP; k++) {
            int t = sweep[k];
            const struct snb_point *p = &res->points[i][t];
            yf[k][i] = p->fork_ms, yt[k][i] = p->total_ms;
            json_object_set_new(row, snb_target_short[t], snb_point_json(p));
            if (!p->ran || p->fork_ms < 0) {
                char why[300];
                snb_why_not(res, t, p->why, why, sizeof why);
                tm_bench_cat(md, "| %u | %s | %s | | | | | | | |\n", o->sizes_mb[i], snb_target_names[t], why);
                continue;
            }
            unsigned ok = 0;
            for (unsigned r = 0; r < p->nsaves; r++)
                ok += p->saves[r].ok;
            tm_bench_cat(md, "| %u | %s | %llu | %.1f | %.1f | %.3f | %.1f | %.1f | %.0f | %u |\n", o->sizes_mb[i],
                    snb_target_names[t], p->keys, (double)p->used / MIB, p->load_s, p->fork_ms, p->total_ms,
                    (double)p->dump_bytes / MIB, p->cow_bytes < 0 ? -1.0 : (double)p->cow_bytes / 1024, ok);
        }
        json_array_append_new(rows, row);
    }
    /* ratios and verdicts */
    tm_bench_cat(md, "\n| size MB | attach / redis-server fork | verdict (<= %.0f) | ahead / redis-server fork "
            "| verdict | strawman / attach fork |\n"
            "|---|---|---|---|---|---|\n", SNB_FORK_TARGET);
    unsigned pass = 0, judged = 0, apass = 0, ajudged = 0;
    double straw = -1;
    for (unsigned i = 0; i < n; i++) {
        const struct snb_point *p = res->points[i];
        double ar = snb_ratio(p[SNB_ATTACH].fork_ms, p[SNB_REDIS].fork_ms);
        double sr = snb_ratio(p[SNB_STRAWMAN].fork_ms, p[SNB_ATTACH].fork_ms);
        double hr = snb_ratio(p[SNB_AHEAD].fork_ms, p[SNB_REDIS].fork_ms);
        char verdict[300], hverdict[300], hrs[32] = "-";
        if (hr >= 0) {
            ajudged++;
            apass += hr <= SNB_FORK_TARGET;
            snprintf(hverdict, sizeof hverdict, "%s", hr <= SNB_FORK_TARGET ? "PASS" : "MISS");
            snprintf(hrs, sizeof hrs, "%.3f", hr);
        } else {
            snb_why_not(res, SNB_AHEAD, p[SNB_AHEAD].why, hverdict, sizeof hverdict);
        }
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
        tm_bench_cat(md, "| %u | %s | %s | %s | %s | %s |\n", o->sizes_mb[i], ars, verdict, hrs, hverdict, srs);
        json_t *row = json_array_get(rows, i);
        json_object_set_new(row, "attach_over_redis", snb_num(ar));
        json_object_set_new(row, "strawman_over_attach", snb_num(sr));
        json_object_set_new(row, "ahead_over_redis", snb_num(hr));
        json_object_set_new(row, "ahead_verdict", json_string(hverdict));
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
    tm_bench_cat(md, "\nattach fork <= redis-server's: %s (%u of %u sizes). ahead fork <= redis-server's: %s (%u of "
            "%u sizes). strawman / attach at %u MB (target >= %.0f at 1024 MB): %s%s.\n\n", fverdict, pass,
            judged, ajudged ? (apass == ajudged ? "PASS" : "MISS") : "not run", apass, ajudged, largest,
            SNB_STRAWMAN_TARGET, straws, sverdict);
    json_object_set_new(j, "fork", rows);
    json_object_set_new(j, "fork_summary",
                        json_pack("{s:i, s:i, s:s, s:i, s:i, s:i, s:o, s:s}", "attach_le_redis_pass", (int)pass,
                                  "judged", (int)judged, "verdict", fverdict, "ahead_le_redis_pass", (int)apass,
                                  "ahead_judged", (int)ajudged, "strawman_size_mb", (int)largest,
                                  "strawman_over_attach", snb_num(straw), "strawman_verdict", sverdict));
    struct tm_svg_series fs[NSWEEP], ts[NSWEEP];
    for (unsigned k = 0; k < NSWEEP; k++) {
        fs[k] = (struct tm_svg_series){ snb_target_names[sweep[k]], x, yf[k], n };
        ts[k] = (struct tm_svg_series){ snb_target_names[sweep[k]], x, yt[k], n };
    }
    *svg_fork = n ? tm_svg_loglog("BGSAVE: fork latency (median)", "data set, MB (used_memory)", "fork, ms",
                                  fs, NSWEEP) : NULL;
    *svg_total = n ? tm_svg_loglog("BGSAVE: total time (median)", "data set, MB (used_memory)", "BGSAVE, ms",
                                   ts, NSWEEP) : NULL;
}
