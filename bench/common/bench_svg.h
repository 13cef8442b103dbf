/* Plots for benchmark results: small hand-written SVG line charts. */
#ifndef TM_BENCH_SVG_H
#define TM_BENCH_SVG_H

#include <stddef.h>

struct tm_svg_series {
    const char *label;
    const double *x, *y;   /* n points; values <= 0 are left out (log axes) */
    size_t n;
};

/* A line chart with logarithmic x and y axes; malloc'ed SVG text or NULL. */
char *tm_svg_loglog(const char *title, const char *xlabel, const char *ylabel,
                    const struct tm_svg_series *series, size_t nseries);

/* Grouped bars (ngroups groups of nbars, each labelled above by bars[b]),
 * each bar a stack of nseg segments, on a logarithmic y axis (the lowest
 * segment starts at the axis). v[(g * nbars + b) * nseg + s]; values <= 0
 * are left out. Malloc'ed SVG text or NULL. */
char *tm_svg_stacked_bars(const char *title, const char *ylabel, const char *const *groups,
                          size_t ngroups, const char *const *bars, size_t nbars,
                          const char *const *segments, size_t nseg, const double *v);

#endif
