/* bench/kv's results: the Markdown tables (memory per key, then throughput
 * and p99 per test), the JSON with every figure, and two plots. The target
 * judged is the enclave's (the --no-enclave store's when the enclave did not
 * run). Memory is judged twice so that no friendlier figure hides a miss: the
 * issue's INFO used_memory per key, and the memory really held per key (the
 * slot's EPC pages for the enclave, RSS for --no-enclave) against
 * redis-server's RSS per key. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_text.h"
#include "bench_svg.h"
#include "kvb.h"

#define KVB_PAGE 4096.0
#define KVB_TPUT_TARGET 0.80
#define KVB_P99_TARGET 1.5
#define KVB_MEM_TARGET 1.5

static double kvb_per_key(long long before, long long after, unsigned long long keys, double unit)
{
    return before < 0 || after < 0 || !keys ? -1 : (double)(after - before) * unit / (double)keys;
}

struct kvb_mem_fig {            /* a target's memory per key at one size; -1: none */
    double used, rss, epc;
};

static struct kvb_mem_fig kvb_mem_fig(const struct kvb_memory *m)
{
    if (!m->ran)
        return (struct kvb_mem_fig){ -1, -1, -1 };
    return (struct kvb_mem_fig){ kvb_per_key(m->used_before, m->used_after, m->keys, 1),
                                 kvb_per_key(m->rss_before, m->rss_after, m->keys, 1),
                                 kvb_per_key(m->epc_before, m->epc_after, m->keys, KVB_PAGE) };
}

static double kvb_ratio(double v, double base)
{
    return v >= 0 && base > 0 ? v / base : -1;
}

static void kvb_cat_fig(struct tm_bench_text *t, double v, const char *fmt)
{
    if (v < 0)
        tm_bench_cat(t, " - |");
    else
        tm_bench_cat(t, fmt, v);
}

static json_t *kvb_num(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

static json_t *kvb_mem_json(const struct kvb_memory *m)
{
    if (!m->ran)
        return json_pack("{s:b, s:s}", "ran", 0, "why", m->why);
    struct kvb_mem_fig f = kvb_mem_fig(m);
    json_t *o = json_pack("{s:b, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I}", "ran", 1, "keys",
                          (json_int_t)m->keys, "load_s", m->load_s, "used_memory_before",
                          (json_int_t)m->used_before, "used_memory_after", (json_int_t)m->used_after,
                          "rss_before", (json_int_t)m->rss_before, "rss_after", (json_int_t)m->rss_after,
                          "epc_pages_before", (json_int_t)m->epc_before, "epc_pages_after",
                          (json_int_t)m->epc_after);
    json_object_set_new(o, "info_used_memory_rss_after", json_integer(m->info_rss_after));
    json_object_set_new(o, "used_per_key", kvb_num(f.used));
    json_object_set_new(o, "rss_per_key", kvb_num(f.rss));
    json_object_set_new(o, "epc_per_key", kvb_num(f.epc));
    return o;
}

/* Memory: a row per target and size, the judged one with its verdict. */
static void kvb_memory_report(const struct kvb_options *o, const struct kvb_size *sizes, unsigned nsizes,
                              struct tm_bench_text *md, json_t *rows, unsigned *pass, unsigned *judged)
{
    tm_bench_cat(md, "## Memory per key\n\n%u keys per value size, one fresh server each. Per key = (after - "
            "before) / keys. used_memory is INFO's (bytes the allocator handed out: jemalloc's for "
            "redis-server, the slab classes for teemate); RSS is the VmRSS of the process holding the "
            "store; EPC is the enclave slot's committed pages (teemated). Held ratio: EPC (enclave) or "
            "RSS (--no-enclave) per key over redis-server's RSS per key. Target: both ratios <= %.1f. "
            "The enclave server's RSS counts most EPC pages twice (the sim backend maps the enclave's "
            "memory at ELRANGE and again as the simulated CPU's view): a cross-check only.\n\n"
            "| value B | server | load s | used_memory B/key | ratio | RSS B/key | ratio | EPC B/key | "
            "held ratio | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n",
            o->keys, KVB_MEM_TARGET);
    for (unsigned i = 0; i < nsizes; i++) {
        const struct kvb_size *sz = &sizes[i];
        struct kvb_mem_fig base = kvb_mem_fig(&sz->mem[KVB_REDIS]);
        /* the enclave when it ran at this size: a failed load is a miss */
        int jt = sz->up[KVB_ENCLAVE] ? KVB_ENCLAVE : sz->up[KVB_NATIVE] ? KVB_NATIVE : -1;
        const char *verdict = jt < 0 ? "not run" : "MISS (the load failed)";
        double used_ratio = -1, held_ratio = -1;
        for (int t = 0; t < KVB_TARGETS; t++) {
            const struct kvb_memory *m = &sz->mem[t];
            if (!m->ran) {
                tm_bench_cat(md, "| %u | %s | not run: %s | | | | | | | %s |\n", sz->bytes, kvb_target_names[t],
                        m->why, t == jt ? verdict : "");
                continue;
            }
            struct kvb_mem_fig f = kvb_mem_fig(m);
            double ur = kvb_ratio(f.used, base.used), rr = kvb_ratio(f.rss, base.rss);
            double hr = kvb_ratio(t == KVB_ENCLAVE ? f.epc : f.rss, base.rss);
            const char *v = "baseline";
            if (t != KVB_REDIS)
                v = ur < 0 || hr < 0 ? "no figure"
                    : ur > KVB_MEM_TARGET ? "MISS (used_memory)"
                    : hr > KVB_MEM_TARGET ? (t == KVB_ENCLAVE ? "MISS (EPC held)" : "MISS (RSS)")
                    : "PASS";
            if (t == jt)
                verdict = v, used_ratio = ur, held_ratio = hr;
            tm_bench_cat(md, "| %u | %s | %.1f |", sz->bytes, kvb_target_names[t], m->load_s);
            kvb_cat_fig(md, f.used, " %.1f |");
            kvb_cat_fig(md, t == KVB_REDIS ? -1 : ur, " %.2f |");
            kvb_cat_fig(md, f.rss, " %.1f |");
            kvb_cat_fig(md, t == KVB_REDIS ? -1 : rr, " %.2f |");
            kvb_cat_fig(md, f.epc, " %.1f |");
            kvb_cat_fig(md, t == KVB_REDIS ? -1 : hr, " %.2f |");
            tm_bench_cat(md, " %s%s |\n", v, t == jt ? " (judged)" : "");
        }
        if (jt >= 0) {
            (*judged)++;
            *pass += !strcmp(verdict, "PASS");
        }
        json_t *r = json_pack("{s:i, s:o, s:o, s:o, s:s, s:s}", "value_bytes", (int)sz->bytes, "redis",
                              kvb_mem_json(&sz->mem[KVB_REDIS]), "no_enclave", kvb_mem_json(&sz->mem[KVB_NATIVE]),
                              "enclave", kvb_mem_json(&sz->mem[KVB_ENCLAVE]), "judged",
                              jt < 0 ? "none" : jt == KVB_ENCLAVE ? "enclave" : "no_enclave", "verdict", verdict);
        json_object_set_new(r, "used_ratio", kvb_num(used_ratio));
        json_object_set_new(r, "held_ratio", kvb_num(held_ratio));
        json_array_append_new(rows, r);
    }
}

static json_t *kvb_result_json(const struct kvb_result *r)
{
    return r ? json_pack("{s:f, s:f, s:f}", "rps", r->rps, "p50_ms", r->p50, "p99_ms", r->p99) : json_null();
}

static void kvb_cat_result(struct tm_bench_text *md, const struct kvb_result *r, double base_rps)
{
    if (r)
        tm_bench_cat(md, " %.0f | %.2f | %.3f |", r->rps, r->rps / base_rps, r->p99);
    else
        tm_bench_cat(md, " - | - | - |");
}

/* Throughput and p99: a row per size, pipeline and test; bars for the plot. */
static void kvb_throughput_report(const struct kvb_size *sizes, unsigned nsizes, struct tm_bench_text *md,
                                  json_t *rows, unsigned *pass, unsigned *judged, char **svg)
{
    tm_bench_cat(md, "## Throughput and latency\n\n| -d | -P | test | -n | redis-server rps | p99 ms | "
            "--no-enclave rps | ratio | p99 ms | enclave rps | ratio | p99 ms | p99 ratio | verdict |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    size_t cap = (size_t)nsizes * KVB_PIPELINES * KVB_MAX_TESTS, ngroups = 0;
    const char **groups = calloc(cap, sizeof *groups);
    char (*labels)[48] = calloc(cap, sizeof *labels);
    double *bars = calloc(cap * KVB_TARGETS, sizeof *bars);
    for (unsigned i = 0; i < nsizes; i++)
        for (int pi = 0; pi < KVB_PIPELINES; pi++) {
            const struct kvb_size *sz = &sizes[i];
            const struct kvb_run *runs = sz->runs[pi];
            for (unsigned k = 0; k < runs[KVB_REDIS].n; k++) {
                const struct kvb_result *base = &runs[KVB_REDIS].r[k];
                const struct kvb_result *nat = kvb_find(&runs[KVB_NATIVE], base->test);
                const struct kvb_result *enc = kvb_find(&runs[KVB_ENCLAVE], base->test);
                /* the enclave when it ran at this size: no figures from it is a miss */
                int jt = sz->up[KVB_ENCLAVE] ? KVB_ENCLAVE : sz->up[KVB_NATIVE] ? KVB_NATIVE : -1;
                const struct kvb_result *jr = jt == KVB_ENCLAVE ? enc : jt == KVB_NATIVE ? nat : NULL;
                double ratio = jr ? jr->rps / base->rps : 0;
                double p99r = jr && base->p99 > 0 ? jr->p99 / base->p99 : 0;
                const char *verdict = jt < 0 ? "not run"
                                      : !jr ? "MISS (no figures: timeout or error)"
                                      : ratio >= KVB_TPUT_TARGET && p99r <= KVB_P99_TARGET ? "PASS" : "MISS";
                if (jt >= 0) {
                    (*judged)++;
                    *pass += !strcmp(verdict, "PASS");
                }
                tm_bench_cat(md, "| %u | %u | %s | %u | %.0f | %.3f |", sz->bytes, kvb_pipelines[pi], base->test,
                        base->requests, base->rps, base->p99);
                kvb_cat_result(md, nat, base->rps);
                kvb_cat_result(md, enc, base->rps);
                tm_bench_cat(md, " %.2f | %s%s |\n", p99r, verdict, jt == KVB_NATIVE ? " (no enclave run)" : "");
                json_t *r = json_pack("{s:i, s:i, s:s, s:i, s:o, s:o, s:o, s:f, s:f, s:s}", "value_bytes",
                                      (int)sz->bytes, "pipeline", (int)kvb_pipelines[pi], "test", base->test,
                                      "requests", (int)base->requests, "redis", kvb_result_json(base),
                                      "no_enclave", kvb_result_json(nat), "enclave", kvb_result_json(enc),
                                      "throughput_ratio", ratio, "p99_ratio", p99r, "verdict", verdict);
                json_array_append_new(rows, r);
                if (groups && labels && bars && ngroups < cap) {
                    snprintf(labels[ngroups], sizeof labels[0], "%s -P%u %uB", base->test,
                             kvb_pipelines[pi], sz->bytes);
                    groups[ngroups] = labels[ngroups];
                    bars[ngroups * KVB_TARGETS + KVB_REDIS] = base->rps;
                    bars[ngroups * KVB_TARGETS + KVB_NATIVE] = nat ? nat->rps : 0;
                    bars[ngroups * KVB_TARGETS + KVB_ENCLAVE] = enc ? enc->rps : 0;
                    ngroups++;
                }
            }
        }
    const char *segs[1] = { "requests/s" };
    *svg = ngroups ? tm_svg_stacked_bars("redis-benchmark: requests per second (-c 50)", "requests/s",
                                         groups, ngroups, kvb_target_short, KVB_TARGETS, segs, 1, bars)
                   : NULL;
    free(groups), free(labels), free(bars);
}

/* Bytes per key: per size, used_memory and held (RSS; the enclave's EPC). */
static char *kvb_memory_svg(const struct kvb_size *sizes, unsigned nsizes)
{
    const char *groups[2 * KVB_MAX_SIZES];
    static char labels[2 * KVB_MAX_SIZES][48];
    double bars[2 * KVB_MAX_SIZES * KVB_TARGETS];
    size_t ngroups = 0;
    for (unsigned i = 0; i < nsizes; i++)
        for (int held = 0; held < 2; held++) {
            snprintf(labels[ngroups], sizeof labels[0], "%s %uB", held ? "held" : "used", sizes[i].bytes);
            groups[ngroups] = labels[ngroups];
            for (int t = 0; t < KVB_TARGETS; t++) {
                struct kvb_mem_fig f = kvb_mem_fig(&sizes[i].mem[t]);
                double v = !held ? f.used : t == KVB_ENCLAVE ? f.epc : f.rss;
                bars[ngroups * KVB_TARGETS + (size_t)t] = v > 0 ? v : 0;
            }
            ngroups++;
        }
    const char *segs[1] = { "bytes/key" };
    return tm_svg_stacked_bars("Memory per key (held: RSS; the enclave: slot EPC pages)", "bytes per key",
                               groups, ngroups, kvb_target_short, KVB_TARGETS, segs, 1, bars);
}

int kvb_report(const struct kvb_options *o, const struct kvb_env *env, const struct kvb_size *sizes,
               unsigned nsizes, bool final)
{
    struct tm_bench_text md = { 0 };
    char cpu[128], sizes_text[64] = "";
    tm_bench_cpu_model(cpu, sizeof cpu);
    json_t *j = json_object(), *mem_rows = json_array(), *rows = json_array(), *jsizes = json_array();
    for (unsigned i = 0; i < nsizes; i++) {
        size_t l = strlen(sizes_text);
        snprintf(sizes_text + l, sizeof sizes_text - l, "%s%u", i ? "," : "", sizes[i].bytes);
        json_array_append_new(jsizes, json_integer(sizes[i].bytes));
    }
    tm_bench_cat(&md, "# bench/kv: redis-benchmark against redis-server and teemate kv serve\n\n"
            "For each value size (%s bytes): fresh servers, the data set (%u keys `key:%%012u`, "
            "loaded with `redis-cli --pipe`, DBSIZE checked), then `redis-benchmark --csv -c %u -r %u "
            "-d SIZE -n N -t TEST -P {1,16}`, the targets interleaved test by test. -n: %u at values "
            "<= 100 bytes; above, half that, and a tenth for LRANGE_100 and MSET (column -n). One run "
            "on %s; load average %s at the start, %s at the end: the machine is shared, figures are "
            "noisy. A redis-benchmark run that takes over %u s gives no figures. Ratios are to redis-server; targets (issue 12): throughput >= %.2f, p99 <= %.1fx, "
            "memory per key <= %.1fx.\n\n",
            sizes_text, o->keys, KVB_CLIENTS, KVB_KEYSPACE, o->requests, cpu, env->load_start,
            final ? env->load_end : "(still running)", KVB_RUN_TIMEOUT, KVB_TPUT_TARGET, KVB_P99_TARGET, KVB_MEM_TARGET);
    unsigned mpass = 0, mjudged = 0, tpass = 0, tjudged = 0;
    kvb_memory_report(o, sizes, nsizes, &md, mem_rows, &mpass, &mjudged);
    tm_bench_cat(&md, "\n");
    char *svg = NULL;
    kvb_throughput_report(sizes, nsizes, &md, rows, &tpass, &tjudged, &svg);
    bool native_up = false, enclave_up = false;
    for (unsigned i = 0; i < nsizes; i++)
        native_up |= sizes[i].up[KVB_NATIVE], enclave_up |= sizes[i].up[KVB_ENCLAVE];
    tm_bench_cat(&md, "\nPASS: throughput and p99 %u of %u, memory %u of %u (the %s judged).\n", tpass, tjudged,
            mpass, mjudged, enclave_up ? "enclave" : "--no-enclave store");
    if (!native_up || !enclave_up)
        tm_bench_cat(&md, "\nNot run: %s%s\n",
                native_up ? "" : "teemate kv serve --no-enclave (not built or did not start) ",
                enclave_up ? "" : "teemate kv serve in its enclave (needs root, kv.elf and the kv verb)");
    json_object_set_new(j, "requests", json_integer(o->requests));
    json_object_set_new(j, "keys", json_integer(o->keys));
    json_object_set_new(j, "keyspace", json_integer(KVB_KEYSPACE));
    json_object_set_new(j, "clients", json_integer(KVB_CLIENTS));
    json_object_set_new(j, "value_sizes", jsizes);
    json_object_set_new(j, "cpu", json_string(cpu));
    json_object_set_new(j, "loadavg_start", json_string(env->load_start));
    json_object_set_new(j, "loadavg_end", json_string(env->load_end));
    json_object_set_new(j, "memory", mem_rows);
    json_object_set_new(j, "results", rows);
    json_object_set_new(j, "summary", json_pack("{s:i, s:i, s:i, s:i}", "throughput_pass", (int)tpass,
                                                "throughput_judged", (int)tjudged, "memory_pass", (int)mpass,
                                                "memory_judged", (int)mjudged));
    char *msvg = kvb_memory_svg(sizes, nsizes);
    tm_error err = { 0 };
    int r = tm_bench_write_results(o->out_dir, "kv", md.s, j, &err);
    if (r == 0 && svg)
        r = tm_bench_write_file(o->out_dir, "kv.svg", svg, &err);
    if (r == 0 && msvg)
        r = tm_bench_write_file(o->out_dir, "kv-memory.svg", msvg, &err);
    if (r < 0)
        fprintf(stderr, "kv: %s\n", err.msg);
    if (final)
        fputs(md.s, stdout);
    free(svg), free(msvg), free(md.s);
    json_decref(j);
    return r;
}
