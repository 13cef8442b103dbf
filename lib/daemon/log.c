/* One line per event on stderr (a log file when the daemon was started in
 * the background), written with one write(2) so lines never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "daemon/state.h"

void tm_daemon_log(const char *fmt, ...)
{
    char line[1400];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld teemated[%d]: ", (long)tv.tv_usec / 1000,
                          (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    n = m < 0 ? n : n + (size_t)m < sizeof line - 1 ? n + (size_t)m : sizeof line - 2;
    line[n++] = '\n';
    ssize_t ignored = write(2, line, n);
    (void)ignored;
}
