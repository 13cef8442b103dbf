#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_text.h"

void tm_bench_cat(struct tm_bench_text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = t->s ? vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 65536;
        char *s = realloc(t->s, cap);
        if (!s)
            abort();   /* a report bigger than memory: nothing sensible to do */
        t->s = s, t->cap = cap;
    }
}
