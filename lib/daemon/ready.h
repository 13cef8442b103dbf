/* How a starting daemon tells whoever started it that it listens (or why it
 * could not), on a pipe: one line, then the pipe is closed.
 *   "R<pid>"             listening
 *   "A<pid>"             another daemon already listens on that socket
 *   "E<errno> <message>" could not start */
#ifndef TM_DAEMON_READY_H
#define TM_DAEMON_READY_H

#include "util/error.h"

#define TM_READY_REPORT_MAX 1200

/* Write the report for status (0, -EALREADY with pid = the other daemon, or
 * -errno with err's message) to fd and close it. fd < 0: nothing. */
void tm_daemon_ready_report(int fd, int status, int pid, const tm_error *err);
/* Parse a report: 0 (pid set), -EALREADY (pid = the other daemon), or the
 * error it carries (err filled); an empty report means the daemon died. */
int tm_daemon_ready_parse(const char *report, int *pid, tm_error *err);

#endif
