#ifndef TM_CLOCK_H
#define TM_CLOCK_H

#include <time.h>

/* Monotonic milliseconds, for timing phases. */
static inline double tm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
