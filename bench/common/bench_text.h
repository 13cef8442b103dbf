/* A growing text (a benchmark's Markdown report): printf onto its end. */
#ifndef TM_BENCH_TEXT_H
#define TM_BENCH_TEXT_H

#include <stddef.h>

struct tm_bench_text {
    char *s;
    size_t len, cap;
};
void tm_bench_cat(struct tm_bench_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
