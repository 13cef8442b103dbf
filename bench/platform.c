/* The function platform under load (issue 11, "bench/platform"): closed-loop
 * clients invoking actions through `teemate gateway`, per function, mode and
 * scheduling setting.
 *
 *   platform [--duration S] [--warmup S] [--clients 1,8,32,64]
 *            [--modes native,strawman,teemate] [--functions empty,crypto-md5]
 *            [--settings cold,warm] [--workers N] [--timeout S] [--quick]
 *            [--teemate PATH] [--out DIR]
 *
 * Runs its own teemated and gateway (state on tmpfs, own socket, a free
 * loopback port, the key from --show-key), creates one action per function,
 * mode and setting through the REST API (cold: annotation teemate-reuse
 * false), and for each client count measures requests/s, p50/p99 latency,
 * errors, and the peak enclave and host memory (pfb_load.c, pfb_memory.c).
 * Output: tables on stdout (Markdown), DIR/platform.json, platform.md,
 * platform-cold.svg, platform-warm.svg (default DIR: bench/results). Stops
 * all it started at the end, on an error and on SIGINT. Needs root. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "pfb.h"

static const char usage[] =
    "Usage: platform [--duration S] [--warmup S] [--clients 1,8,32,64]\n"
    "                [--modes native,strawman,teemate] [--functions empty,crypto-md5]\n"
    "                [--settings cold,warm] [--workers N] [--timeout S] [--quick]\n"
    "                [--teemate PATH] [--out DIR]\n";

static void pfb_on_signal(int sig)
{
    (void)sig;
    pfb_interrupted = 1;
}

/* Seconds, 0.1 to 600, as a decimal; -1 if not. */
static int pfb_seconds(const char *s, double lo, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= 600))
        return -1;
    *out = v;
    return 0;
}

static void pfb_loadavg(double v[3])
{
    FILE *f = fopen("/proc/loadavg", "re");
    if (!f || fscanf(f, "%lf %lf %lf", &v[0], &v[1], &v[2]) != 3)
        v[0] = v[1] = v[2] = -1;
    if (f)
        fclose(f);
}

/* Wait (up to 10 s) for the containers of the last configuration to go, so
 * that one configuration's memory is not the next one's. */
static void pfb_settle(struct pfb_ctx *c)
{
    for (double end = tm_bench_now_s() + 10; pfb_containers(c) && tm_bench_now_s() < end;)
        nanosleep(&(struct timespec){ 0, 50000000 }, NULL);   /* polling their removal */
}

static int pfb_run_all(struct pfb_ctx *c, struct pfb_results *r)
{
    tm_error err = { 0 };
    for (unsigned fi = 0; fi < PFB_FUNCTIONS; fi++)
        for (int m = 0; m < PFB_MODES; m++)
            for (int s = 0; s < PFB_SETTINGS; s++)
                if (r->fn_on[fi] && r->mode_on[m] && (r->setting_on[s] || (m == PFB_STRAWMAN && s == PFB_COLD))) {
                    fprintf(stderr, "platform: creating %s %s %s\n", pfb_functions[fi].name,
                            pfb_mode_names[m], pfb_setting_names[s]);
                    if (pfb_action_create(c, fi, (enum pfb_mode)m, (enum pfb_setting)s, &err) < 0)
                        return fprintf(stderr, "platform: %s\n", err.msg), -1;
                }
    for (unsigned fi = 0; fi < PFB_FUNCTIONS; fi++)
        if (r->fn_on[fi] && r->mode_on[PFB_STRAWMAN])
            r->strawman_epc[fi] = pfb_strawman_epc(c, fi);
    for (unsigned fi = 0; fi < PFB_FUNCTIONS; fi++)
        for (int s = 0; s < PFB_SETTINGS; s++)
            for (unsigned k = 0; k < r->ncounts; k++)
                for (int m = 0; m < PFB_MODES; m++) {
                    if (!r->fn_on[fi] || !r->setting_on[s] || !r->mode_on[m] || pfb_interrupted)
                        continue;
                    char name[96];
                    pfb_action_name(fi, (enum pfb_mode)m, (enum pfb_setting)s, name);
                    struct pfb_load l = { name, (enum pfb_mode)m, r->counts[k],
                                          s == PFB_WARM ? r->warmup_s : 0, r->duration_s,
                                          s == PFB_WARM, r->strawman_epc[fi] };
                    struct pfb_result *x = &r->r[fi][m][s][k];
                    pfb_settle(c);
                    pfb_load_run(c, &l, x);
                    fprintf(stderr, "platform: %-10s %-4s %-8s %2u clients: %8.1f req/s, p50 %8.2f ms, "
                                    "p99 %8.2f ms, %lu ok, %lu errors\n", pfb_functions[fi].name,
                            pfb_setting_names[s], pfb_mode_names[m], r->counts[k], x->rps, x->p50_ms,
                            x->p99_ms, x->ok, x->errors);
                    /* a warm setting's containers go with an update of the action */
                    if (s == PFB_WARM && pfb_action_create(c, fi, (enum pfb_mode)m, PFB_WARM, &err) < 0)
                        return fprintf(stderr, "platform: %s\n", err.msg), -1;
                }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "duration", required_argument, NULL, 'd' }, { "warmup", required_argument, NULL, 'W' },
        { "clients", required_argument, NULL, 'c' },  { "modes", required_argument, NULL, 'm' },
        { "functions", required_argument, NULL, 'f' }, { "settings", required_argument, NULL, 's' },
        { "workers", required_argument, NULL, 'w' },  { "timeout", required_argument, NULL, 'T' },
        { "quick", no_argument, NULL, 'q' },          { "teemate", required_argument, NULL, 't' },
        { "out", required_argument, NULL, 'o' },      { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    static struct pfb_results r;
    static struct pfb_ctx c;
    static char all_counts[] = "1,8,32,64", all_modes[] = "native,strawman,teemate",
                all_fns[] = "empty,crypto-md5", all_settings[] = "cold,warm", quick_counts[] = "1,2";
    const char *fn_names[PFB_FUNCTIONS], *teemate = "build/teemate", *out = "bench/results";
    char *counts = NULL, *modes = NULL, *fns = NULL, *settings = NULL;
    for (int i = 0; i < PFB_FUNCTIONS; i++)
        fn_names[i] = pfb_functions[i].name;
    r.duration_s = 5, r.warmup_s = 1, r.workers = 4, r.timeout_s = 65;
    for (int i = 0, n = 0; i < argc && n >= 0 && (size_t)n < sizeof r.command; i++)
        n += snprintf(r.command + n, sizeof r.command - (size_t)n, "%s%s", i ? " " : "", argv[i]);
    int o;
    bool quick = false;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            if (pfb_seconds(optarg, 0.1, &r.duration_s) < 0)
                return fprintf(stderr, "platform: --duration takes 0.1 to 600 seconds\n"), 2;
            break;
        case 'W':
            if (pfb_seconds(optarg, 0, &r.warmup_s) < 0)
                return fprintf(stderr, "platform: --warmup takes 0 to 600 seconds\n"), 2;
            break;
        case 'w':
            if (tm_bench_parse_uint(optarg, 1, 64, &r.workers) < 0)
                return fprintf(stderr, "platform: --workers takes 1 to 64\n"), 2;
            break;
        case 'T':
            if (tm_bench_parse_uint(optarg, 1, 600, &r.timeout_s) < 0)
                return fprintf(stderr, "platform: --timeout takes 1 to 600 seconds\n"), 2;
            break;
        case 'c': counts = optarg; break;
        case 'm': modes = optarg; break;
        case 'f': fns = optarg; break;
        case 's': settings = optarg; break;
        case 'q': quick = true; break;
        case 't': teemate = optarg; break;
        case 'o': out = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return fputs(usage, stderr), 2;
        }
    }
    if (optind != argc)
        return fputs(usage, stderr), 2;
    if (quick) {   /* the test's run: every configuration once, briefly */
        r.duration_s = 0.5, r.warmup_s = 0.2, r.timeout_s = 20;
        counts = counts ? counts : quick_counts;
    }
    if (tm_bench_counts(counts ? counts : all_counts, 1, PFB_MAX_CLIENTS, PFB_MAX_COUNTS, r.counts,
                        &r.ncounts, "platform", "--clients") < 0 ||
        tm_bench_pick(modes ? modes : all_modes, pfb_mode_names, PFB_MODES, r.mode_on, "platform",
                      "--modes") < 0 ||
        tm_bench_pick(fns ? fns : all_fns, fn_names, PFB_FUNCTIONS, r.fn_on, "platform", "--functions") < 0 ||
        tm_bench_pick(settings ? settings : all_settings, pfb_setting_names, PFB_SETTINGS, r.setting_on,
                      "platform", "--settings") < 0)
        return 2;
    if (geteuid() != 0)
        return fprintf(stderr, "platform: needs root (containers, enclaves)\n"), 1;
    struct sigaction sa = { .sa_handler = pfb_on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    c.workers = r.workers, c.timeout_s = r.timeout_s;
    pfb_loadavg(r.load_before);
    tm_error err = { 0 };
    int ret = pfb_setup(&c, teemate, &err);
    if (ret < 0)
        fprintf(stderr, "platform: %s\n", err.msg);
    else
        ret = pfb_run_all(&c, &r);
    r.tmp_tmpfs = c.tmp_tmpfs;
    snprintf(r.tmp_dir, sizeof r.tmp_dir, "%s", strncmp(c.tmp, "/dev/shm", 8) ? "/tmp" : "/dev/shm");
    pfb_teardown(&c);
    pfb_loadavg(r.load_after);
    r.interrupted = pfb_interrupted;
    if (r.interrupted)
        fprintf(stderr, "platform: interrupted; everything it started is stopped\n");
    if (ret == 0 && !r.interrupted && pfb_report(&r, out, &err) < 0) {
        fprintf(stderr, "platform: %s\n", err.msg);
        ret = -1;
    }
    return ret < 0 || r.interrupted ? 1 : 0;
}
