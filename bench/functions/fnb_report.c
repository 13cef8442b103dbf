/* bench/functions' report: the Markdown tables (printed and written), the
 * JSON, and the two plots. Ratios are of medians; a figure that a run did
 * not give is "-" (null in JSON), never filled in. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_svg.h"
#include "fnbench.h"
#include "util/cleanup.h"

struct fnb_stat {
    unsigned n;                /* ok runs with the field */
    double med, p95;
};

static struct fnb_stat fnb_stat_of(const struct fnb_results *r, unsigned fi, int m, enum fnb_field f)
{
    struct fnb_stat st = { 0 };
    double v[FNB_MAX_RUNS];
    for (unsigned i = 0; r->cold[fi][m] && i < r->runs; i++)
        if (r->cold[fi][m][i].ok && r->cold[fi][m][i].have[f])
            v[st.n++] = r->cold[fi][m][i].v[f];
    if (st.n) {
        st.p95 = tm_bench_percentile(v, st.n, 95);
        st.med = tm_bench_median(v, st.n);
    }
    return st;
}

static unsigned fnb_failed(const struct fnb_results *r, unsigned fi, int m)
{
    unsigned n = 0;
    for (unsigned i = 0; r->cold[fi][m] && i < r->runs; i++)
        n += !r->cold[fi][m][i].ok;
    return n;
}

/* Median total_ms of a mode, or NAN. */
static double fnb_total(const struct fnb_results *r, unsigned fi, int m)
{
    struct fnb_stat st = fnb_stat_of(r, fi, m, FNB_TOTAL);
    return r->mode_on[m] && st.n ? st.med : NAN;
}

/* Median start-up of a mode: total less run, run by run; or NAN. */
static double fnb_startup(const struct fnb_results *r, unsigned fi, int m)
{
    double v[FNB_MAX_RUNS];
    unsigned n = 0;
    for (unsigned i = 0; r->mode_on[m] && r->cold[fi][m] && i < r->runs; i++) {
        const struct fnb_sample *s = &r->cold[fi][m][i];
        if (s->ok && s->have[FNB_TOTAL] && s->have[FNB_RUN])
            v[n++] = s->v[FNB_TOTAL] - s->v[FNB_RUN];
    }
    return n ? tm_bench_median(v, n) : NAN;
}

/* The ratios for one function (NAN: not measured); the last two,
 * without the run, are for information (no target of their own). */
enum { R_STRAWMAN, R_EDMM, R_NATIVE, R_ALIAS, R_START_STRAWMAN, R_START_EDMM, RATIOS };
#define R_TARGETS R_START_STRAWMAN
static const char *const ratio_keys[RATIOS] = { "strawman_over_teemate", "strawman_edmm_over_teemate",
                                                "teemate_over_native", "alias_expand_share",
                                                "startup_strawman_over_teemate",
                                                "startup_strawman_edmm_over_teemate" };
static const char *const ratio_heads[RATIOS] = { "strawman / teemate (>= 20x)",
                                                 "strawman-edmm / teemate (>= 5x)",
                                                 "teemate / native (<= 1.2x)",
                                                 "(alias + expand) / teemate (< 10%)",
                                                 "start-up (total - run): strawman / teemate",
                                                 "start-up: strawman-edmm / teemate" };

static void fnb_ratios(const struct fnb_results *r, unsigned fi, double out[RATIOS], bool met[RATIOS])
{
    double t = fnb_total(r, fi, FNB_TEEMATE), ts = fnb_startup(r, fi, FNB_TEEMATE);
    struct fnb_stat alias = fnb_stat_of(r, fi, FNB_TEEMATE, FNB_ALIAS);
    struct fnb_stat expand = fnb_stat_of(r, fi, FNB_TEEMATE, FNB_EXPAND);
    out[R_STRAWMAN] = fnb_total(r, fi, FNB_STRAWMAN) / t;
    out[R_EDMM] = fnb_total(r, fi, FNB_STRAWMAN_EDMM) / t;
    out[R_NATIVE] = t / fnb_total(r, fi, FNB_NATIVE);
    out[R_ALIAS] = alias.n ? (alias.med + (expand.n ? expand.med : 0)) / t : NAN;
    out[R_START_STRAWMAN] = fnb_startup(r, fi, FNB_STRAWMAN) / ts;
    out[R_START_EDMM] = fnb_startup(r, fi, FNB_STRAWMAN_EDMM) / ts;
    met[R_STRAWMAN] = out[R_STRAWMAN] >= 20;
    met[R_EDMM] = out[R_EDMM] >= 5;
    met[R_NATIVE] = out[R_NATIVE] <= 1.2;
    met[R_ALIAS] = out[R_ALIAS] < 0.10;
    met[R_START_STRAWMAN] = met[R_START_EDMM] = false;
}

static json_t *fnb_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void fnb_md_cold(FILE *md, const struct fnb_results *r)
{
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof cpu);
    fprintf(md, "`%s` on %s (%ld CPUs)\n\n", r->command, cpu, sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(md, "### Cold start: `teemate fn invoke NAME --stats%s`, a new instance in a new "
                "container each, median (p95) of %u runs, ms\n\n", r->stats_text ? "" : "=json", r->runs);
    fprintf(md, "| function | mode | container | enclave build | alias | expand | heap | code load "
                "| run | total | wall | EPC pages | memory peak MiB | failed |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (unsigned k = 0; k < r->nfns; k++)
        for (int m = 0; m < FNB_MODES; m++) {
            unsigned fi = r->fns[k];
            if (!r->mode_on[m])
                continue;
            fprintf(md, "| %s | %s |", fnb_functions[fi].name, fnb_mode_names[m]);
            for (int f = 0; f < FNB_FIELDS; f++) {
                struct fnb_stat st = fnb_stat_of(r, fi, m, (enum fnb_field)f);
                if (!st.n)
                    fprintf(md, " - |");
                else if (f == FNB_TOTAL || f == FNB_WALL)
                    fprintf(md, " %.2f (%.2f) |", st.med, st.p95);
                else if (f == FNB_EPC)
                    fprintf(md, " %.0f |", st.med);
                else if (f == FNB_MEMPEAK)
                    fprintf(md, " %.1f |", st.med / MIB);
                else
                    fprintf(md, " %.2f |", st.med);
            }
            fprintf(md, " %u |\n", fnb_failed(r, fi, m));
        }
    if (r->stats_text)
        fprintf(md, "\nThis teemate has no --stats=json: figures from its --stats line, \"-\" where it has "
                    "none; teemate's heap includes its code load there.\n");
    for (int m = 0; m < FNB_MODES; m++)
        if (r->skipped[m][0])
            fprintf(md, "\n%s: %s\n", fnb_mode_names[m], r->skipped[m]);
}

static void fnb_md_ratios(FILE *md, const struct fnb_results *r)
{
    fprintf(md, "\n### Ratios of the median totals against the issue's targets\n\n| function |");
    for (int q = 0; q < RATIOS; q++)
        fprintf(md, " %s |", ratio_heads[q]);
    fprintf(md, "\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (unsigned k = 0; k < r->nfns; k++) {
        unsigned fi = r->fns[k];
        double v[RATIOS];
        bool met[RATIOS];
        fnb_ratios(r, fi, v, met);
        fprintf(md, "| %s |", fnb_functions[fi].name);
        for (int q = 0; q < RATIOS; q++) {
            if (!isfinite(v[q]))
                fprintf(md, " - |");
            else if (q == R_ALIAS)
                fprintf(md, " %.1f%% %s |", v[q] * 100, met[q] ? "PASS" : "MISS");
            else if (q >= R_TARGETS)
                fprintf(md, " %.2fx |", v[q]);
            else if (q == R_NATIVE && fnb_functions[fi].run_dominates)
                fprintf(md, " %.2fx (run dominates) |", v[q]);
            else
                fprintf(md, " %.2fx %s |", v[q], met[q] ? "PASS" : "MISS");
        }
        fprintf(md, "\n");
    }
}

static void fnb_md_warm(FILE *md, const struct fnb_results *r)
{
    if (!r->warm_on)
        return;
    fprintf(md, "\n### Warm path: a later request to a running instance, median ms\n\n"
                "| function | native | teemate | teemate / native (<= 1.2x) |\n|---|---:|---:|---:|\n");
    for (unsigned k = 0; k < r->nfns; k++) {
        const double *w = r->warm_ms[r->fns[k]];
        fprintf(md, "| %s |", fnb_functions[r->fns[k]].name);
        for (int m = 0; m < 2; m++)
            fprintf(md, w[m] >= 0 ? " %.3f |" : " failed |", w[m]);
        if (w[0] > 0 && w[1] >= 0)
            fprintf(md, " %.2fx %s |\n", w[1] / w[0],
                    fnb_functions[r->fns[k]].run_dominates ? "(run dominates)" : w[1] / w[0] <= 1.2 ? "PASS" : "MISS");
        else
            fprintf(md, " - |\n");
    }
}

/* EPC pages of a mode at counts[k], or NAN. */
static double fnb_epc(const struct fnb_results *r, unsigned k, int m)
{
    const struct fnb_memory *x = &r->mem[k][m];
    return r->mode_on[m] && x->measured && x->have_epc ? (double)x->epc_pages : NAN;
}

static void fnb_md_memory(FILE *md, const struct fnb_results *r)
{
    if (!r->ncounts)
        return;
    fprintf(md, "\n### Memory: k concurrent instances of sleep\n\n| instances | mode | EPC pages | EPC MiB "
                "| host MiB (sum of cgroup peaks) | daemon RSS MiB | all alive at once | note |\n"
                "|---:|---|---:|---:|---:|---:|---|---|\n");
    for (unsigned k = 0; k < r->ncounts; k++)
        for (int m = 0; m < FNB_MODES; m++) {
            const struct fnb_memory *x = &r->mem[k][m];
            if (!r->mode_on[m])
                continue;
            if (!x->measured) {
                fprintf(md, "| %u | %s | - | - | - | - | - | %s |\n", r->counts[k], fnb_mode_names[m], x->why);
                continue;
            }
            if (x->have_epc)
                fprintf(md, "| %u | %s | %llu | %.1f | ", r->counts[k], fnb_mode_names[m], x->epc_pages,
                        (double)x->epc_pages * 4096 / MIB);
            else
                fprintf(md, "| %u | %s | - | - | ", r->counts[k], fnb_mode_names[m]);
            fprintf(md, x->host_bytes ? "%.1f | " : "- | ", (double)x->host_bytes / MIB);
            fprintf(md, m == FNB_TEEMATE ? "%.1f | " : "- | ", (double)x->daemon_rss / MIB);
            fprintf(md, "%s | sleep %.1f s |\n", x->all_alive ? "yes" : "not verified", x->sleep_s);
        }
    fprintf(md, "\nEPC ratios: ");
    for (unsigned k = 0; k < r->ncounts; k++) {
        double t = fnb_epc(r, k, FNB_TEEMATE), s = fnb_epc(r, k, FNB_STRAWMAN);
        double e = fnb_epc(r, k, FNB_STRAWMAN_EDMM);
        unsigned n = r->counts[k];
        if (n >= 32 && isfinite(s / t))
            fprintf(md, "at %u strawman / teemate %.2fx (>= 5x: %s); ", n, s / t, s / t >= 5 ? "PASS" : "MISS");
        if (n >= 32 && isfinite(e / t))
            fprintf(md, "at %u strawman-edmm / teemate %.2fx (> 1: %s); ", n, e / t, e > t ? "PASS" : "MISS");
        if (n == 1 && isfinite(t / e))
            fprintf(md, "at 1 teemate / strawman-edmm %.2fx (<= 1: %s); ", t / e, t <= e ? "PASS" : "MISS");
    }
    fprintf(md, "\n");
}

static json_t *fnb_json(const struct fnb_results *r)
{
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof cpu);
    json_t *j = json_pack("{s:i, s:s, s:s, s:s}", "runs", r->runs, "cpu", cpu, "stats",
                          r->stats_text ? "text" : "json", "command", r->command);
    json_t *modes = json_array(), *skipped = json_object(), *cold = json_object(), *ratios = json_object();
    for (int m = 0; m < FNB_MODES; m++) {
        if (r->mode_on[m])
            json_array_append_new(modes, json_string(fnb_mode_names[m]));
        if (r->skipped[m][0])
            json_object_set_new(skipped, fnb_mode_names[m], json_string(r->skipped[m]));
    }
    for (unsigned k = 0; k < r->nfns; k++) {
        unsigned fi = r->fns[k];
        json_t *per = json_object(), *rat = json_object();
        for (int m = 0; m < FNB_MODES; m++) {
            if (!r->mode_on[m])
                continue;
            json_t *o = json_pack("{s:i}", "failed", fnb_failed(r, fi, m));
            for (int f = 0; f < FNB_FIELDS; f++) {
                struct fnb_stat st = fnb_stat_of(r, fi, m, (enum fnb_field)f);
                json_object_set_new(o, fnb_field_keys[f], st.n ? json_pack("{s:f, s:f, s:i}", "median",
                                    st.med, "p95", st.p95, "n", st.n) : json_null());
            }
            json_object_set_new(per, fnb_mode_names[m], o);
        }
        double v[RATIOS];
        bool met[RATIOS];
        fnb_ratios(r, fi, v, met);
        for (int q = 0; q < RATIOS; q++)
            json_object_set_new(rat, ratio_keys[q], json_pack("{s:o, s:o}", "value", fnb_num(v[q]), "met",
                                isfinite(v[q]) && q < R_TARGETS ? json_boolean(met[q]) : json_null()));
        json_object_set_new(rat, "run_dominates", json_boolean(fnb_functions[fi].run_dominates));
        json_object_set_new(cold, fnb_functions[fi].name, per);
        json_object_set_new(ratios, fnb_functions[fi].name, rat);
        if (r->warm_on) {
            const double *w = r->warm_ms[fi];
            json_object_set_new(per, "warm", json_pack("{s:o, s:o, s:o}", "native_ms",
                                fnb_num(w[0] >= 0 ? w[0] : NAN), "teemate_ms", fnb_num(w[1] >= 0 ? w[1] : NAN),
                                "ratio", fnb_num(w[0] > 0 && w[1] >= 0 ? w[1] / w[0] : NAN)));
        }
    }
    json_t *mem = json_array();
    for (unsigned k = 0; k < r->ncounts; k++)
        for (int m = 0; m < FNB_MODES; m++) {
            const struct fnb_memory *x = &r->mem[k][m];
            if (!r->mode_on[m])
                continue;
            json_t *o = json_pack("{s:i, s:s, s:b}", "instances", r->counts[k], "mode", fnb_mode_names[m],
                                  "measured", x->measured);
            if (x->measured)
                json_object_update_new(o, json_pack("{s:o, s:o, s:o, s:b, s:f}", "epc_pages",
                    x->have_epc ? json_integer((json_int_t)x->epc_pages) : json_null(), "host_bytes",
                    x->host_bytes ? json_integer((json_int_t)x->host_bytes) : json_null(), "daemon_rss_bytes",
                    m == FNB_TEEMATE ? json_integer((json_int_t)x->daemon_rss) : json_null(), "all_alive",
                    x->all_alive, "sleep_s", x->sleep_s));
            else
                json_object_set_new(o, "not_run", json_string(x->why));
            json_array_append_new(mem, o);
        }
    json_object_set_new(j, "modes", modes);
    json_object_set_new(j, "skipped", skipped);
    json_object_set_new(j, "cold", cold);
    json_object_set_new(j, "ratios", ratios);
    json_object_set_new(j, "memory", mem);
    return j;
}

static int fnb_svgs(const struct fnb_results *r, const char *dir, tm_error *err)
{
    static const char *const segs[] = { "container", "enclave build", "alias", "expand", "heap",
                                        "code load", "run", "other" };
    static const char *const letters[FNB_MODES] = { "N", "T", "S", "E" };
    const char *groups[9], *bars[FNB_MODES];
    int on[FNB_MODES], non = 0;
    for (int m = 0; m < FNB_MODES; m++)
        if (r->mode_on[m])
            bars[non] = letters[m], on[non++] = m;
    double v[9 * FNB_MODES * 8] = { 0 };
    for (unsigned k = 0; k < r->nfns; k++) {
        groups[k] = fnb_functions[r->fns[k]].name;
        for (int b = 0; b < non; b++) {
            double *seg = v + (k * (unsigned)non + (unsigned)b) * 8, sum = 0;
            for (int f = 0; f < FNB_STACKED; f++) {
                struct fnb_stat st = fnb_stat_of(r, r->fns[k], on[b], (enum fnb_field)f);
                seg[f] = st.n ? st.med : 0;
                sum += seg[f];
            }
            double total = fnb_total(r, r->fns[k], on[b]);
            seg[7] = isfinite(total) && total > sum ? total - sum : 0;
        }
    }
    _cleanup_free_ char *lat = tm_svg_stacked_bars(
        "Cold start, median ms: N native, T teemate, S strawman, E strawman-edmm",
        "milliseconds (log)", groups, r->nfns, bars, (size_t)non, segs, 8, v);
    struct tm_svg_series series[FNB_MODES];
    double xs[FNB_MODES][FNB_MAX_COUNTS], ys[FNB_MODES][FNB_MAX_COUNTS];
    size_t ns = 0;
    for (int m = FNB_TEEMATE; m < FNB_MODES; m++) {
        if (!r->mode_on[m])
            continue;
        series[ns] = (struct tm_svg_series){ fnb_mode_names[m], xs[ns], ys[ns], 0 };
        for (unsigned k = 0; k < r->ncounts; k++)
            if (isfinite(fnb_epc(r, k, m))) {
                xs[ns][series[ns].n] = r->counts[k];
                ys[ns][series[ns].n++] = (double)r->mem[k][m].epc_pages;
            }
        ns++;
    }
    _cleanup_free_ char *mem = tm_svg_loglog("Enclave memory with concurrent instances of sleep",
                                             "concurrent instances", "EPC pages", series, ns);
    int ret = 0;
    if (lat)
        ret = tm_bench_write_file(dir, "functions-latency.svg", lat, err);
    if (ret == 0 && mem)
        ret = tm_bench_write_file(dir, "functions-memory.svg", mem, err);
    return ret;
}

int fnb_report(const struct fnb_results *r, const char *dir, tm_error *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    FILE *md = open_memstream(&text, &len);
    if (!md)
        return tm_error_sys(err, "open_memstream");
    fnb_md_cold(md, r);
    fnb_md_ratios(md, r);
    fnb_md_warm(md, r);
    fnb_md_memory(md, r);
    if (fclose(md) != 0)
        return tm_error_sys(err, "cannot format the tables");
    fputs(text, stdout);
    json_t *j = fnb_json(r);
    int ret = tm_bench_write_results(dir, "functions", text, j, err);
    json_decref(j);
    if (ret == 0)
        ret = fnb_svgs(r, dir, err);
    if (ret == 0)
        printf("\nresults: %s/functions.json, functions.md, functions-latency.svg, functions-memory.svg\n", dir);
    return ret;
}
