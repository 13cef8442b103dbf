/* One line per event on stderr (a log file when the daemon was started in
 * the background), written with one write(2) so lines never interleave (the
 * build threads log too). What clients can provoke goes through a rate limit,
 * so that no client can grow the log faster than a line a second. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "daemon/state.h"
#include "util/clock.h"

#define LOG_BURST 10.0       /* lines at once */
#define LOG_PER_SEC 1.0      /* then this many a second */

static void vlog(const char *suffix, const char *fmt, va_list ap)
{
    char line[1400];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld teemated[%d]: ", (long)tv.tv_usec / 1000,
                          (int)getpid());
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    n = m < 0 ? n : n + (size_t)m < sizeof line - 1 ? n + (size_t)m : sizeof line - 2;
    if (suffix[0]) {
        m = snprintf(line + n, sizeof line - n - 1, "%s", suffix);
        n = m < 0 ? n : n + (size_t)m < sizeof line - 1 ? n + (size_t)m : sizeof line - 2;
    }
    line[n++] = '\n';
    ssize_t ignored = write(2, line, n);
    (void)ignored;
}

void tm_daemon_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

/* Refill b to now; whether it has a line's worth. */
static bool bucket_ready(struct tm_log_bucket *b, double now)
{
    double burst = b->burst ? b->burst : LOG_BURST, rate = b->per_sec ? b->per_sec : LOG_PER_SEC;
    b->tokens = b->last_ms == 0 ? burst : b->tokens + (now - b->last_ms) / 1000.0 * rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->last_ms = now;
    return b->tokens >= 1.0;
}

void tm_daemon_log_limited(struct tm_log_bucket *b, struct tm_log_bucket *all, uint64_t *dropped,
                           const char *fmt, ...)
{
    double now = tm_now_ms();
    bool ready = bucket_ready(b, now);
    if (all && !bucket_ready(all, now))
        ready = false;
    if (!ready) {
        b->dropped++;
        (*dropped)++;
        return;
    }
    b->tokens -= 1.0;
    if (all)
        all->tokens -= 1.0;
    char suffix[96] = "";
    if (b->dropped)
        snprintf(suffix, sizeof suffix, " (%llu similar line%s dropped before this one)",
                 (unsigned long long)b->dropped, b->dropped == 1 ? "" : "s");
    b->dropped = 0;
    va_list ap;
    va_start(ap, fmt);
    vlog(suffix, fmt, ap);
    va_end(ap);
}
