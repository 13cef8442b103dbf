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

#endif
