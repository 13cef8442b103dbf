#include "daemon/ready.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tm_daemon_ready_report(int fd, int status, int pid, const tm_error *err)
{
    if (fd < 0)
        return;
    char buf[TM_READY_REPORT_MAX];
    int n;
    if (status == 0)
        n = snprintf(buf, sizeof buf, "R%d\n", pid);
    else if (status == -EALREADY)
        n = snprintf(buf, sizeof buf, "A%d %s\n", pid, err->msg);
    else
        n = snprintf(buf, sizeof buf, "E%d %s\n", -status, err->msg);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    ssize_t ignored = write(fd, buf, (size_t)n);
    (void)ignored;
    close(fd);
}

int tm_daemon_ready_parse(const char *report, int *pid, tm_error *err)
{
    char *end;
    long v = report[0] ? strtol(report + 1, &end, 10) : 0;
    if (!report[0] || end == report + 1 || v <= 0 || v > 0x3fffffff)
        return tm_error_set(err, ECHILD, "it exited before it listened");
    const char *msg = *end == ' ' ? end + 1 : end;
    size_t len = strcspn(msg, "\n");
    switch (report[0]) {
    case 'R':
        *pid = (int)v;
        return 0;
    case 'A':
        *pid = (int)v;
        return tm_error_set(err, EALREADY, "%.*s", (int)len, msg);
    case 'E':
        return tm_error_set(err, (int)v < 4096 ? (int)v : EIO, "%.*s", (int)len, msg);
    default:
        return tm_error_set(err, EPROTO, "it sent an unreadable report");
    }
}
