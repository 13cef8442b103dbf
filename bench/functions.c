/* Confidential functions: cold start, warm path and memory of the nine
 * functions in every mode (issue 10, "bench/functions").
 *
 *   functions [--runs N] [--functions a,b] [--modes a,b] [--instances 1,8,32,64]
 *             [--warm N] [--quick] [--teemate PATH] [--out DIR]
 *
 * Runs its own teemated (temporary state directory and socket) and a local
 * HTTP server for uploader. Cold start: N runs of `teemate fn invoke NAME
 * --stats=json` per function and mode, modes interleaved (run i of every
 * mode before run i+1, their order rotated), each a new instance in a new
 * container; medians and p95 of the breakdown and of the command's wall time,
 * and the ratios with their targets. Warm path: a running instance's
 * later requests, teemate against native (fnb_warm.c). Memory: k concurrent
 * instances of sleep (fnb_memory.c). Output: tables on stdout (Markdown),
 * DIR/functions.json, functions.md, functions-latency.svg,
 * functions-memory.svg (default DIR: bench/results). Needs root. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fnbench.h"

static const char usage[] =
    "Usage: functions [--runs N] [--functions a,b] [--modes a,b] [--instances 1,8,32,64]\n"
    "                 [--warm N] [--quick] [--teemate PATH] [--out DIR]\n";

/* Create every function in every mode asked for (and sleep, for memory).
 * strawman-edmm refused by the CLI (a build without it): skipped. */
static int fnb_create_all(struct fnb_ctx *c, struct fnb_results *r, bool memory)
{
    for (int m = 0; m < FNB_MODES; m++) {
        bool sleep_done = false;
        for (unsigned i = 0; r->mode_on[m] && i <= r->nfns; i++) {
            unsigned fi = i < r->nfns ? r->fns[i] : 1;   /* 1: sleep */
            if (i == r->nfns && (sleep_done || !memory))
                break;
            sleep_done |= fi == 1;
            int rc = fnb_create(c, &fnb_functions[fi], (enum fnb_mode)m);
            if (rc == 2 && m == FNB_STRAWMAN_EDMM) {
                r->mode_on[m] = false;
                snprintf(r->skipped[m], sizeof r->skipped[m], "skipped: not supported by this build");
                printf("strawman-edmm %s\n", r->skipped[m]);
            } else if (rc != 0) {
                fprintf(stderr, "functions: fn create %s --mode %s failed:\n", fnb_functions[fi].name,
                        fnb_mode_names[m]);
                char log[300];
                snprintf(log, sizeof log, "%s/create.log", c->tmp);
                char *cat[] = { "tail", "-5", log, NULL };
                fnb_system(cat, "/dev/stderr");
                return -1;
            }
        }
    }
    return 0;
}

static void fnb_cold(struct fnb_ctx *c, struct fnb_results *r)
{
    int on[FNB_MODES], non = 0;
    for (int m = 0; m < FNB_MODES; m++)
        if (r->mode_on[m])
            on[non++] = m;
    for (unsigned i = 0; i < r->runs; i++) {
        for (unsigned k = 0; k < r->nfns; k++) {
            unsigned fi = r->fns[k];
            char *params = fnb_params(c, &fnb_functions[fi], NULL);
            for (int j = 0; j < non && params; j++) {
                int m = on[(i + (unsigned)j) % (unsigned)non];   /* rotate who goes first */
                char name[96];
                fnb_fn_name(&fnb_functions[fi], (enum fnb_mode)m, name);
                fnb_invoke(c, name, params, &r->cold[fi][m][i]);
            }
            free(params);
        }
        fprintf(stderr, "functions: cold start run %u of %u done\n", i + 1, r->runs);
    }
}

/* A mode's median figure of sleep's cold start, or dflt. */
static double fnb_sleep_median(const struct fnb_results *r, int m, enum fnb_field f, double dflt)
{
    double v[FNB_MAX_RUNS];
    unsigned n = 0;
    for (unsigned i = 0; r->cold[1][m] && i < r->runs; i++)
        if (r->cold[1][m][i].ok && r->cold[1][m][i].have[f])
            v[n++] = r->cold[1][m][i].v[f];
    return n ? tm_bench_median(v, n) : dflt;
}

static void fnb_memory_all(struct fnb_ctx *c, struct fnb_results *r)
{
    for (unsigned k = 0; k < r->ncounts; k++)
        for (int m = 0; m < FNB_MODES; m++) {
            if (!r->mode_on[m])
                continue;
            /* start-up before the sleep runs, and the pages each strawman commits */
            double start_s = fnb_sleep_median(r, m, FNB_WALL, m >= FNB_STRAWMAN ? 2000 : 300) / 1e3;
            double epc = m >= FNB_STRAWMAN ? fnb_sleep_median(r, m, FNB_EPC, 256 * MIB / 4096 + 4096) : 0;
            fnb_memory_run(c, (enum fnb_mode)m, r->counts[k], start_s, (unsigned long long)epc,
                           &r->mem[k][m]);
            fprintf(stderr, "functions: memory, %u x %s done\n", r->counts[k], fnb_mode_names[m]);
        }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "runs", required_argument, NULL, 'r' },      { "functions", required_argument, NULL, 'f' },
        { "modes", required_argument, NULL, 'm' },     { "instances", required_argument, NULL, 'i' },
        { "warm", required_argument, NULL, 'w' },      { "quick", no_argument, NULL, 'q' },
        { "teemate", required_argument, NULL, 't' },   { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },            { 0 },
    };
    static struct fnb_results r;
    static struct fnb_ctx c;
    const char *fn_names[9], *teemate = "build/teemate", *out = "bench/results";
    static char all_fns[] = "dynamic-html,sleep,uploader,binary-trees,crypto-md5,crypto-aes,"
                            "regexp-dna,partial-sums,validate-input",
                all_modes[] = "native,teemate,strawman,strawman-edmm", all_counts[] = "1,8,32,64",
                quick_fns[] = "dynamic-html,sleep,crypto-md5", quick_counts[] = "1,8";
    char *fns = NULL, *modes = NULL, *counts = NULL;
    unsigned warm = 20;
    bool fn_on[9];
    for (int i = 0; i < 9; i++)
        fn_names[i] = fnb_functions[i].name;
    r.runs = 10;
    /* before the lists are parsed: strtok_r cuts them in place */
    for (int i = 0, n = 0; i < argc && n >= 0 && (size_t)n < sizeof r.command; i++)
        n += snprintf(r.command + n, sizeof r.command - (size_t)n, "%s%s", i ? " " : "", argv[i]);
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
            if (tm_bench_parse_uint(optarg, 1, FNB_MAX_RUNS, &r.runs) < 0)
                return fprintf(stderr, "functions: --runs takes 1 to %d\n", FNB_MAX_RUNS), 2;
            break;
        case 'w':
            if (tm_bench_parse_uint(optarg, 0, FNB_MAX_RUNS, &warm) < 0)
                return fprintf(stderr, "functions: --warm takes 0 to %d\n", FNB_MAX_RUNS), 2;
            break;
        case 'f': fns = optarg; break;
        case 'm': modes = optarg; break;
        case 'i': counts = optarg; break;
        case 'q':
            r.runs = 2, warm = 3;
            fns = fns ? fns : quick_fns;
            counts = counts ? counts : quick_counts;
            break;
        case 't': teemate = optarg; break;
        case 'o': out = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return fputs(usage, stderr), 2;
        }
    }
    if (optind != argc)
        return fputs(usage, stderr), 2;
    if (tm_bench_pick(fns ? fns : all_fns, fn_names, 9, fn_on, "functions", "--functions") < 0 ||
        tm_bench_pick(modes ? modes : all_modes, fnb_mode_names, FNB_MODES, r.mode_on, "functions",
                      "--modes") < 0 ||
        tm_bench_counts(counts ? counts : all_counts, 1, FNB_MAX_INSTANCES, FNB_MAX_COUNTS, r.counts,
                        &r.ncounts, "functions", "--instances") < 0)
        return 2;
    for (unsigned i = 0; i < 9; i++)
        if (fn_on[i])
            r.fns[r.nfns++] = i;
    if (geteuid() != 0)
        return fprintf(stderr, "functions: needs root (containers, enclaves)\n"), 1;
    tm_error err = { 0 };
    if (fnb_setup(&c, teemate, &err) < 0) {
        fprintf(stderr, "functions: %s\n", err.msg);
        fnb_teardown(&c);
        return 1;
    }
    /* A CLI with only --stats refuses --stats=json as a usage error (2). */
    char probe[64];
    snprintf(probe, sizeof probe, "no-such-fn-%d", (int)getpid());
    char *pargv[] = { c.teemate, "fn", "invoke", probe, "--stats=json", NULL };
    r.stats_text = c.stats_text = fnb_system(pargv, NULL) == 2;
    if (c.stats_text)
        fprintf(stderr, "functions: this teemate has no --stats=json: parsing its --stats line\n");
    bool memory = r.ncounts > 0;
    int ret = fnb_create_all(&c, &r, memory);
    for (unsigned k = 0; k < r.nfns; k++)
        for (int m = 0; m < FNB_MODES; m++)
            r.cold[r.fns[k]][m] = r.mode_on[m] ? calloc(r.runs, sizeof(struct fnb_sample)) : NULL;
    if (ret == 0) {
        fnb_cold(&c, &r);
        r.warm_on = warm > 0 && r.mode_on[FNB_NATIVE] && r.mode_on[FNB_TEEMATE];
        for (unsigned k = 0; r.warm_on && k < r.nfns; k++)
            for (int m = 0; m < 2; m++)
                r.warm_ms[r.fns[k]][m] = fnb_warm(&c, &fnb_functions[r.fns[k]], (enum fnb_mode)m, warm);
        fnb_memory_all(&c, &r);
        ret = fnb_report(&r, out, &err);
        if (ret < 0)
            fprintf(stderr, "functions: %s\n", err.msg);
    }
    fnb_teardown(&c);
    for (unsigned k = 0; k < r.nfns; k++)
        for (int m = 0; m < FNB_MODES; m++)
            free(r.cold[r.fns[k]][m]);
    return ret < 0 ? 1 : 0;
}
