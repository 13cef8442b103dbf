/* Time through the clock ocall. The host's clock is untrusted: it can lie
 * about the time, but CLOCK_MONOTONIC never goes backwards here (the largest
 * value seen so far, enclave-wide, is a floor). */
#include <errno.h>
#include <sys/time.h>
#include <time.h>

#include "tm_runtime.h"

static uint64_t tm_time_monotonic_floor;   /* nanoseconds; shared by all threads */

static int tm_time_get(clockid_t id, struct timespec *ts)
{
    uint64_t clock;
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        clock = TM_CLOCK_REALTIME;
        break;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        clock = TM_CLOCK_MONOTONIC;
        break;
    default:
        return -EINVAL;
    }
    int64_t sec, nsec;
    int r = tm_ocall_clock(clock, &sec, &nsec);
    if (r < 0)
        return r;
    if (clock == TM_CLOCK_MONOTONIC) {
        uint64_t now = (uint64_t)sec * 1000000000u + (uint64_t)nsec;
        uint64_t floor = __atomic_load_n(&tm_time_monotonic_floor, __ATOMIC_RELAXED);
        while (now > floor && !__atomic_compare_exchange_n(&tm_time_monotonic_floor, &floor, now,
                                                           true, __ATOMIC_RELAXED,
                                                           __ATOMIC_RELAXED))
            ;
        if (now < floor)
            now = floor;
        sec = (int64_t)(now / 1000000000u);
        nsec = (int64_t)(now % 1000000000u);
    }
    ts->tv_sec = sec;
    ts->tv_nsec = nsec;
    return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int r = tm_time_get(id, ts);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}

/* musl's own functions (timespec_get...) call it by this name. */
int __clock_gettime(clockid_t id, struct timespec *ts) __attribute__((alias("clock_gettime")));

time_t time(time_t *t)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return (time_t)-1;
    if (t)
        *t = ts.tv_sec;
    return ts.tv_sec;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return -1;
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}
