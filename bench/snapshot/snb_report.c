/* bench/snapshot's results: Markdown tables with PASS/MISS against issue 13's
 * targets, the JSON with every figure (each BGSAVE too), and three plots:
 * fork latency and total BGSAVE time against the size (log-log, as the
 * paper's figure; snb_report_fork.c) and the write load's requests/s with and
 * without BGSAVEs (snb_report_load.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "snb_report.h"

json_t *snb_num(double v)
{
    return v < 0 ? json_null() : json_real(v);
}

double snb_ratio(double a, double b)
{
    return a >= 0 && b > 0 ? a / b : -1;
}

void snb_why_not(const struct snb_results *res, int t, const char *why, char *out, size_t len)
{
    snprintf(out, len, "not run: %s", res->skipped[t] ? res->skip_why[t] : why && *why ? why : "no figures");
}

int snb_report(const struct snb_options *o, const struct snb_env *env, const struct snb_results *res,
               unsigned nsizes_done, bool final)
{
    struct tm_bench_text md = { 0 };
    char cpu[128];
    tm_bench_cpu_model(cpu, sizeof cpu);
    json_t *j = json_object(), *sizes = json_array();
    for (unsigned i = 0; i < o->nsizes; i++)
        json_array_append_new(sizes, json_integer(o->sizes_mb[i]));
    tm_bench_cat(&md, "# bench/snapshot: BGSAVE in redis-server and teemate kv serve\n\n"
            "Values of %u incompressible bytes (`key:%%012u` from 100000 up, loaded with `redis-cli --pipe`). Dumps to %s. "
            "One run on %s; load average %s at the start, %s at the end: the machine is shared, figures are "
            "noisy. redis-server notices its child's end in serverCron (hz 10): its BGSAVE time includes up to "
            "~100 ms of that.\n\n",
            o->value_bytes, env->dumps, cpu, env->load_start, final ? env->load_end : "(still running)");
    for (int t = 0; t < SNB_TARGETS; t++)
        if (res->skipped[t])
            tm_bench_cat(&md, "Skipped: %s: %s.\n\n", snb_target_names[t], res->skip_why[t]);
    if (env->daemon_gone[0])
        tm_bench_cat(&md, "**During the run, %s: the enclave servers' BGSAVEs failed after it.**\n\n", env->daemon_gone);
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
