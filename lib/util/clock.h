#ifndef TM_CLOCK_H
#define TM_CLOCK_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* Monotonic milliseconds, for timing phases. */
static inline double tm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Now in RFC 3339, UTC, with nanoseconds ("2026-11-21T06:47:01.123456789Z"),
 * as Go's time.RFC3339Nano reads it (engines parse the state's "created"). */
static inline void tm_rfc3339_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

#endif
