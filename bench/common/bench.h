/* What every benchmark shares: time, medians, the machine's description, and
 * writing results as DIR/NAME.json + DIR/NAME.md. */
#ifndef TM_BENCH_H
#define TM_BENCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define MIB (1024.0 * 1024.0)

double tm_bench_now_s(void);
/* Sorts v. */
double tm_bench_median(double *v, unsigned n);
/* The p-th percentile (0..100, nearest rank) of v; sorts v. */
double tm_bench_percentile(double *v, unsigned n, double p);
void tm_bench_cpu_model(char *out, size_t len);
bool tm_bench_cpu_flag(const char *flag);
/* mkdir -p dir, then write dir/name.json (pretty) and dir/name.md. */
int tm_bench_write_results(const char *dir, const char *name, const char *md, const json_t *j,
                           tm_error *err);
/* A decimal option value in [lo, hi]: 0, or -1 if it is not one. */
int tm_bench_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out);
/* A comma list of names from table (n of them) into on[]; -1 (said on
 * stderr as "PROG: OPT: unknown name 'x'") on an unknown one. */
int tm_bench_pick(char *list, const char *const *table, unsigned n, bool *on, const char *prog,
                  const char *opt);
/* A comma list of 1..max counts, each in [lo, hi], into out[] (*n of them);
 * -1 (said on stderr) if not one. */
int tm_bench_counts(char *list, unsigned lo, unsigned hi, unsigned max, unsigned *out, unsigned *n,
                    const char *prog, const char *opt);
/* mkdir -p dir, then write dir/name (a plot, say). */
int tm_bench_write_file(const char *dir, const char *name, const char *text, tm_error *err);

#endif
