/* bench/functions: the parts (cold start, warm path, memory, report) share
 * these: the functions and modes, one invocation's figures, the bench's
 * private daemon and HTTP server. */
#ifndef FNBENCH_H
#define FNBENCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/error.h"

#define FNB_MAX_RUNS 1000
#define FNB_MAX_INSTANCES 64

enum fnb_mode { FNB_NATIVE, FNB_TEEMATE, FNB_STRAWMAN, FNB_STRAWMAN_EDMM, FNB_MODES };
extern const char *const fnb_mode_names[FNB_MODES];

/* The fields of `fn invoke --stats=json` (g-contract.md) and the command's wall time. */
enum fnb_field {
    FNB_CONTAINER, FNB_BUILD, FNB_ALIAS, FNB_EXPAND, FNB_HEAP, FNB_LOAD, FNB_RUN,
    FNB_TOTAL, FNB_WALL, FNB_EPC, FNB_MEMPEAK, FNB_FIELDS
};
extern const char *const fnb_field_keys[FNB_FIELDS];
/* The breakdown stacked in a bar: container .. run. */
#define FNB_STACKED 7

struct fnb_sample {
    bool ok;                   /* exit 0 and "ok" */
    double v[FNB_FIELDS];
    bool have[FNB_FIELDS];     /* the field was there */
    double exit_s;             /* when it was reaped (tm_bench_now_s) */
};

/* The nine functions: name, extra create arguments, params (URL: uploader's). */
struct fnb_function {
    const char *name;
    const char *params;
    bool run_dominates;
};
extern const struct fnb_function fnb_functions[9];

/* What every part uses: paths, the private daemon, the HTTP server. */
struct fnb_ctx {
    char teemate[4096];        /* absolute */
    char js_dir[4096];         /* apps/functions/js, absolute */
    char tmp[256];             /* state dir, socket, logs */
    char socket[320];
    char url[128];             /* uploader's download */
    pid_t daemon_pid, http_pid;
    bool stats_text;           /* the CLI has only --stats (before --stats=json): parse its line */
    unsigned seq;              /* unique file names */
};

/* Setup (fnb_setup.c): tmp dir, env, daemon, HTTP server; and stopping them. */
int fnb_setup(struct fnb_ctx *c, const char *teemate, tm_error *err);
void fnb_teardown(struct fnb_ctx *c);
/* `teemate fn create NAME-MODE` of a function in a mode: 0, or the command's exit status. */
int fnb_create(struct fnb_ctx *c, const struct fnb_function *f, enum fnb_mode m);
void fnb_fn_name(const struct fnb_function *f, enum fnb_mode m, char buf[96]);
/* The params of f with uploader's URL put in; malloc'ed. */
char *fnb_params(const struct fnb_ctx *c, const struct fnb_function *f, const char *override);
/* A command's exit status (stdio to /dev/null unless log is set). */
int fnb_system(char *const argv[], const char *log);

/* One `teemate fn invoke` (fnb_invoke.c), started and then reaped and parsed. */
struct fnb_proc {
    pid_t pid;
    double t0;
    char out[320], errf[320];
    const char *argv[12];
    char name[96];
};
int fnb_invoke_start(struct fnb_ctx *c, const char *name, const char *params, struct fnb_proc *p);
int fnb_invoke_wait(struct fnb_ctx *c, struct fnb_proc *p, struct fnb_sample *s);
/* Run once, waiting: 0, or -1 (the reason on stderr). */
int fnb_invoke(struct fnb_ctx *c, const char *name, const char *params, struct fnb_sample *s);
/* Parse the stats line(s) of one invocation's stderr into s. */
void fnb_parse_stats(const char *text, struct fnb_sample *s);

/* Warm path (fnb_warm.c): median ms of n requests after the first in one
 * running instance; -1 on failure. */
double fnb_warm(struct fnb_ctx *c, const struct fnb_function *f, enum fnb_mode m, unsigned n);

/* Memory (fnb_memory.c) with k concurrent instances of sleep in mode m. */
struct fnb_memory {
    bool measured;
    char why[160];             /* not measured: why */
    bool all_alive;            /* every instance alive at one moment */
    unsigned ok;               /* instances with a result */
    double sleep_s;
    bool have_epc;             /* native: 0 by definition; else the figures had it */
    unsigned long long epc_pages;
    unsigned long long host_bytes;   /* sum of the containers' memory peaks */
    unsigned long long daemon_rss;   /* teemate: the daemon's VmRSS while all were alive */
};
void fnb_memory_run(struct fnb_ctx *c, enum fnb_mode m, unsigned k, double start_s,
                    unsigned long long epc_each, struct fnb_memory *out);

/* Everything a run measured, for the report (fnb_report.c). */
#define FNB_MAX_COUNTS 8
struct fnb_results {
    unsigned runs;
    unsigned nfns, fns[9];                 /* indexes into fnb_functions */
    bool mode_on[FNB_MODES];               /* measured */
    char skipped[FNB_MODES][96];           /* asked for but not measured: why */
    struct fnb_sample *cold[9][FNB_MODES]; /* runs samples each */
    bool warm_on;
    double warm_ms[9][2];                  /* native, teemate; < 0: failed */
    unsigned ncounts, counts[FNB_MAX_COUNTS];
    struct fnb_memory mem[FNB_MAX_COUNTS][FNB_MODES];
    bool stats_text;
    char command[512];                     /* how it was run, for the report */
};
/* Print the tables and write DIR/functions.{json,md} and the two SVGs. */
int fnb_report(const struct fnb_results *res, const char *dir, tm_error *err);

#endif
