/* bench/platform's report: the Markdown tables (printed and written), the
 * JSON, and two plots in the shape of the paper's throughput figure
 * (requests/s against concurrent clients, a line per mode; cold and warm).
 * A figure a run did not give is "-" (null in JSON), never filled in. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_svg.h"
#include "pfb.h"
#include "util/cleanup.h"

/* The targets on throughput (ratios of requests/s at one client count). */
enum { T_COLD_STRAWMAN, T_COLD_NATIVE, T_WARM_NATIVE, TARGETS };
static const struct {
    const char *key, *head;
    int setting, over;         /* teemate / over, in setting */
    double min;
} targets[TARGETS] = {
    { "cold_teemate_over_strawman", "cold teemate / strawman (>= 10x)", PFB_COLD, PFB_STRAWMAN, 10 },
    { "cold_teemate_over_native", "cold teemate / native (>= 0.8x)", PFB_COLD, PFB_NATIVE, 0.8 },
    { "warm_teemate_over_native", "warm teemate / native (>= 0.9x)", PFB_WARM, PFB_NATIVE, 0.9 },
};
#define PFB_OVERHEAD_MS 1.0

static const struct pfb_result *pfb_at(const struct pfb_results *r, unsigned fi, int m, int s, unsigned k)
{
    const struct pfb_result *x = &r->r[fi][m][s][k];
    return r->fn_on[fi] && r->mode_on[m] && r->setting_on[s] && x->run ? x : NULL;
}

static double pfb_ratio(const struct pfb_results *r, unsigned fi, unsigned k, int t)
{
    const struct pfb_result *a = pfb_at(r, fi, PFB_TEEMATE, targets[t].setting, k);
    const struct pfb_result *b = pfb_at(r, fi, targets[t].over, targets[t].setting, k);
    return a && b && b->rps > 0 ? a->rps / b->rps : NAN;
}

/* p50 of a warm `{}` at one client in mode m, or NAN. */
static double pfb_overhead(const struct pfb_results *r, int m)
{
    for (unsigned k = 0; k < r->ncounts; k++)
        if (r->counts[k] == 1) {
            const struct pfb_result *x = pfb_at(r, 0, m, PFB_WARM, k);
            return x ? x->p50_ms : NAN;
        }
    return NAN;
}

static void pfb_md_errors(FILE *md, const struct pfb_result *x)
{
    fprintf(md, " %lu", x->errors);
    for (int e = 0, first = 1; e < PFB_ERRS; e++)
        if (x->err[e]) {
            fprintf(md, "%s%s %lu", first ? " (" : ", ", pfb_err_names[e], x->err[e]);
            first = 0;
        }
    fprintf(md, "%s |", x->errors ? ")" : "");
}

static void pfb_md_main(FILE *md, const struct pfb_results *r)
{
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof cpu);
    fprintf(md, "`%s` on %s (%ld CPUs); load average %.2f before, %.2f after; state on %s (%s); "
                "gateway --workers %u; %.1f s measured per row (warm: after %.1f s of warm-up)\n\n",
            r->command, cpu, sysconf(_SC_NPROCESSORS_ONLN), r->load_before[0], r->load_after[0],
            r->tmp_dir, r->tmp_tmpfs ? "tmpfs" : "not tmpfs", r->workers, r->duration_s, r->warmup_s);
    fprintf(md, "### Closed-loop clients through `teemate gateway` (blocking invokes, params {})\n\n"
                "| function | setting | mode | clients | req/s | p50 ms | p99 ms | ok | errors | "
                "peak EPC pages | peak EPC MiB | peak host MiB | peak teemated MiB | peak containers |\n"
                "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (unsigned fi = 0; fi < PFB_FUNCTIONS; fi++)
        for (int s = 0; s < PFB_SETTINGS; s++)
            for (unsigned k = 0; k < r->ncounts; k++)
                for (int m = 0; m < PFB_MODES; m++) {
                    if (!r->fn_on[fi] || !r->setting_on[s] || !r->mode_on[m])
                        continue;
                    const struct pfb_result *x = pfb_at(r, fi, m, s, k);
                    fprintf(md, "| %s | %s | %s | %u |", pfb_functions[fi].name, pfb_setting_names[s],
                            pfb_mode_names[m], r->counts[k]);
                    if (!x) {
                        fprintf(md, " - | - | - | - | - | - | - | - | - | - |\n");
                        continue;
                    }
                    fprintf(md, " %.1f |", x->rps);
                    fprintf(md, isfinite(x->p50_ms) ? " %.2f | %.2f |" : " - | - |", x->p50_ms, x->p99_ms);
                    fprintf(md, " %lu |", x->ok);
                    pfb_md_errors(md, x);
                    if (x->have_epc)
                        fprintf(md, " %llu | %.1f |", x->epc_peak, (double)x->epc_peak * 4096 / MIB);
                    else
                        fprintf(md, " - | - |");
                    fprintf(md, " %.1f | %.1f | %u |\n", (double)x->host_peak / MIB, (double)x->daemon_peak / MIB,
                            x->containers_peak);
                }
    fprintf(md, "\nEnclave pages: teemate, the action's shared enclave as teemated counts it (slots "
                "included); strawman, instances alive times one instance's enclave (");
    for (unsigned fi = 0, first = 1; fi < PFB_FUNCTIONS; fi++)
        if (r->fn_on[fi] && r->mode_on[PFB_STRAWMAN]) {
            fprintf(md, "%s%s %llu pages", first ? "" : ", ", pfb_functions[fi].name, r->strawman_epc[fi]);
            first = 0;
        }
    fprintf(md, ", from a cold record); native none. Host: resident set of the gateway and everything "
                "under it (shared pages counted in each process); teemated apart: it holds the shared "
                "enclaves of every action of the run. Sampled every 100 ms.\n");
}

static void pfb_md_targets(FILE *md, const struct pfb_results *r)
{
    fprintf(md, "\n### Throughput ratios against the issue's targets\n\n| function | clients |");
    for (int t = 0; t < TARGETS; t++)
        fprintf(md, " %s |", targets[t].head);
    fprintf(md, "\n|---|---:|---:|---:|---:|\n");
    for (unsigned fi = 0; fi < PFB_FUNCTIONS; fi++)
        for (unsigned k = 0; r->fn_on[fi] && k < r->ncounts; k++) {
            fprintf(md, "| %s | %u |", pfb_functions[fi].name, r->counts[k]);
            for (int t = 0; t < TARGETS; t++) {
                double v = pfb_ratio(r, fi, k, t);
                if (isfinite(v))
                    fprintf(md, " %.2fx %s |", v, v >= targets[t].min ? "PASS" : "MISS");
                else
                    fprintf(md, " - |");
            }
            fprintf(md, "\n");
        }
    fprintf(md, "\n### Gateway overhead: p50 of a warm `{}` invocation at 1 client, end to end (< %.0f ms)\n\n"
                "| mode | p50 ms | target |\n|---|---:|---|\n", PFB_OVERHEAD_MS);
    for (int m = 0; m < PFB_MODES; m++) {
        if (m == PFB_STRAWMAN)
            continue;
        double v = pfb_overhead(r, m);
        if (isfinite(v))
            fprintf(md, "| %s | %.3f | %s |\n", pfb_mode_names[m], v, v < PFB_OVERHEAD_MS ? "PASS" : "MISS");
        else
            fprintf(md, "| %s | - | - |\n", pfb_mode_names[m]);
    }
}

static json_t *pfb_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *pfb_json(const struct pfb_results *r)
{
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof cpu);
    json_t *j = json_pack("{s:s, s:s, s:i, s:f, s:f, s:i, s:i, s:s, s:b, s:[f,f,f], s:[f,f,f]}", "command",
                          r->command, "cpu", cpu, "cpus", (int)sysconf(_SC_NPROCESSORS_ONLN), "duration_s",
                          r->duration_s, "warmup_s", r->warmup_s, "workers", r->workers, "timeout_s",
                          r->timeout_s, "state_dir", r->tmp_dir, "state_on_tmpfs", r->tmp_tmpfs,
                          "loadavg_before", r->load_before[0], r->load_before[1], r->load_before[2],
                          "loadavg_after", r->load_after[0], r->load_after[1], r->load_after[2]);
    json_t *configs = json_array(), *ratios = json_array(), *sepc = json_object();
    for (unsigned fi = 0; fi < PFB_FUNCTIONS; fi++) {
        if (r->fn_on[fi] && r->mode_on[PFB_STRAWMAN])
            json_object_set_new(sepc, pfb_functions[fi].name, r->strawman_epc[fi] ?
                                json_integer((json_int_t)r->strawman_epc[fi]) : json_null());
        for (int s = 0; s < PFB_SETTINGS; s++)
            for (unsigned k = 0; k < r->ncounts; k++)
                for (int m = 0; m < PFB_MODES; m++) {
                    if (!r->fn_on[fi] || !r->setting_on[s] || !r->mode_on[m])
                        continue;
                    const struct pfb_result *x = pfb_at(r, fi, m, s, k);
                    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:b}", "function", pfb_functions[fi].name,
                                          "setting", pfb_setting_names[s], "mode", pfb_mode_names[m],
                                          "clients", r->counts[k], "measured", x != NULL);
                    if (x) {
                        json_t *kinds = json_object();
                        for (int e = 0; e < PFB_ERRS; e++)
                            json_object_set_new(kinds, pfb_err_names[e], json_integer((json_int_t)x->err[e]));
                        json_object_update_new(o, json_pack(
                            "{s:f, s:o, s:o, s:I, s:I, s:o, s:f, s:o, s:I, s:I, s:i}", "requests_per_s", x->rps,
                            "p50_ms", pfb_num(x->p50_ms), "p99_ms", pfb_num(x->p99_ms), "ok",
                            (json_int_t)x->ok, "errors", (json_int_t)x->errors, "error_kinds", kinds,
                            "elapsed_s", x->elapsed_s, "epc_peak_pages",
                            x->have_epc ? json_integer((json_int_t)x->epc_peak) : json_null(),
                            "host_peak_bytes", (json_int_t)x->host_peak, "daemon_peak_bytes",
                            (json_int_t)x->daemon_peak, "containers_peak",
                            (int)x->containers_peak));
                    }
                    json_array_append_new(configs, o);
                }
        for (unsigned k = 0; r->fn_on[fi] && k < r->ncounts; k++) {
            json_t *o = json_pack("{s:s, s:i}", "function", pfb_functions[fi].name, "clients", r->counts[k]);
            for (int t = 0; t < TARGETS; t++) {
                double v = pfb_ratio(r, fi, k, t);
                json_object_set_new(o, targets[t].key, json_pack("{s:o, s:f, s:o}", "value", pfb_num(v),
                                    "target_min", targets[t].min,
                                    "met", isfinite(v) ? json_boolean(v >= targets[t].min) : json_null()));
            }
            json_array_append_new(ratios, o);
        }
    }
    json_t *over = json_pack("{s:f}", "target_max_ms", PFB_OVERHEAD_MS);
    for (int m = 0; m < PFB_MODES; m++) {
        if (m == PFB_STRAWMAN)
            continue;
        double v = pfb_overhead(r, m);
        json_object_set_new(over, pfb_mode_names[m], json_pack("{s:o, s:o}", "p50_ms", pfb_num(v), "met",
                            isfinite(v) ? json_boolean(v < PFB_OVERHEAD_MS) : json_null()));
    }
    json_object_set_new(j, "configs", configs);
    json_object_set_new(j, "ratios", ratios);
    json_object_set_new(j, "gateway_overhead", over);
    json_object_set_new(j, "strawman_epc_pages", sepc);
    return j;
}

/* Requests/s against clients, a line per function and mode, for one setting. */
static char *pfb_svg(const struct pfb_results *r, int s)
{
    struct tm_svg_series series[PFB_FUNCTIONS * PFB_MODES];
    double xs[PFB_FUNCTIONS * PFB_MODES][PFB_MAX_COUNTS], ys[PFB_FUNCTIONS * PFB_MODES][PFB_MAX_COUNTS];
    char labels[PFB_FUNCTIONS * PFB_MODES][64], title[128];
    size_t ns = 0;
    for (unsigned fi = 0; fi < PFB_FUNCTIONS; fi++)
        for (int m = 0; m < PFB_MODES; m++) {
            if (!r->fn_on[fi] || !r->mode_on[m])
                continue;
            snprintf(labels[ns], sizeof labels[ns], "%s %s", pfb_mode_names[m], pfb_functions[fi].name);
            series[ns] = (struct tm_svg_series){ labels[ns], xs[ns], ys[ns], 0 };
            for (unsigned k = 0; k < r->ncounts; k++) {
                const struct pfb_result *x = pfb_at(r, fi, m, s, k);
                if (x && x->rps > 0) {
                    xs[ns][series[ns].n] = r->counts[k];
                    ys[ns][series[ns].n++] = x->rps;
                }
            }
            ns++;
        }
    snprintf(title, sizeof title, "Throughput through the gateway, %s (%s)", s == PFB_COLD ?
             "cold-only: a new container per invocation" : "warm reuse", "closed loop");
    return tm_svg_loglog(title, "concurrent clients", "requests/s", series, ns);
}

int pfb_report(const struct pfb_results *r, const char *dir, tm_error *err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    FILE *md = open_memstream(&text, &len);
    if (!md)
        return tm_error_sys(err, "open_memstream");
    pfb_md_main(md, r);
    pfb_md_targets(md, r);
    if (fclose(md) != 0)
        return tm_error_sys(err, "cannot format the tables");
    fputs(text, stdout);
    json_t *j = pfb_json(r);
    int ret = j ? tm_bench_write_results(dir, "platform", text, j, err) :
                  tm_error_set(err, ENOMEM, "cannot build the JSON");
    json_decref(j);
    for (int s = 0; ret == 0 && s < PFB_SETTINGS; s++) {
        if (!r->setting_on[s])
            continue;
        _cleanup_free_ char *svg = pfb_svg(r, s);
        char name[64];
        snprintf(name, sizeof name, "platform-%s.svg", pfb_setting_names[s]);
        ret = svg ? tm_bench_write_file(dir, name, svg, err) : tm_error_set(err, ENOMEM, "cannot draw %s", name);
    }
    if (ret == 0)
        printf("\nresults: %s/platform.json, platform.md, platform-cold.svg, platform-warm.svg\n", dir);
    return ret;
}
