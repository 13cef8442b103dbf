/* What snb_report.c, snb_report_fork.c (stage 1) and snb_report_load.c
 * (stage 2) share: growing Markdown text, JSON numbers, "not run" reasons. */
#ifndef SNB_REPORT_H
#define SNB_REPORT_H

#include <jansson.h>

#include "bench_text.h"

#include "snb.h"

#define SNB_FORK_TARGET 1.0        /* attach fork / redis-server fork, at every size */
#define SNB_STRAWMAN_TARGET 1000.0 /* strawman fork / attach fork, at 1 GB */
#define SNB_TPUT_TARGET 0.70       /* with / without BGSAVEs */

/* v, or JSON null when v < 0 (no figure) */
json_t *snb_num(double v);
/* a / b, -1 when either is no figure */
double snb_ratio(double a, double b);
/* "not run: WHY" for a target that did not give figures (its skip reason first). */
void snb_why_not(const struct snb_results *res, int t, const char *why, char *out, size_t len);

/* Stage 1's tables into md, "fork" and "fork_summary" into j, two plots. */
void snb_fork_report(const struct snb_options *o, const struct snb_results *res, unsigned n, struct tm_bench_text *md,
                     json_t *j, char **svg_fork, char **svg_total);
/* Stage 2's tables into md, "workload" into j, the bars plot. */
void snb_workload_report(const struct snb_options *o, const struct snb_results *res, struct tm_bench_text *md, json_t *j,
                         char **svg);

#endif
