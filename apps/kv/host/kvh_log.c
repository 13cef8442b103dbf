/* Redis's log lines: "pid:M dd Mon yyyy hh:mm:ss.mmm <level> message", with
 * its level marks (. debug, - verbose, * notice, # warning), to stderr or
 * the logfile. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kvh.h"
#include "kvh_serve.h"

static enum kvh_loglevel kvh_log_level = KVH_LOG_NOTICE;
static int kvh_log_fd = 2;
static pid_t kvh_log_pid;

void kvh_log_set_pid(pid_t pid)
{
    kvh_log_pid = pid;
}

void kvh_log_open(const struct kvh_settings *s)
{
    kvh_log_level = s->loglevel;
    if (kvh_log_fd != 2)
        close(kvh_log_fd);
    kvh_log_fd = 2;
    if (s->logfile[0]) {
        int fd = open(s->logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0)
            kvh_log_fd = fd;
        else
            kvh_log(KVH_LOG_WARNING, "Can't open the log file %s: %m (logging to stderr)", s->logfile);
    }
}

void kvh_log(enum kvh_loglevel level, const char *fmt, ...)
{
    if (level < kvh_log_level)
        return;
    static const char marks[] = ".-*#";
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char line[1024], when[64];
    strftime(when, sizeof when, "%d %b %Y %H:%M:%S", &tm);
    int n = snprintf(line, sizeof line, "%d:M %s.%03d %c ", (int)(kvh_log_pid ? kvh_log_pid : getpid()), when,
                     (int)(tv.tv_usec / 1000), marks[level]);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(kvh_log_fd, line, (size_t)n);
    (void)w;
}
