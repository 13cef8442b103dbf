/* The runtime log (runc's --log): one line per message, in logrus's text
 * format or its JSON format, which conmon and containerd's shim read back. */
#ifndef TM_RUNTIME_LOG_H
#define TM_RUNTIME_LOG_H

#include <stdbool.h>

/* Open the log at path for appending (O_CLOEXEC; made 0644 if missing);
 * -1 when path is NULL or it cannot be opened. */
int tm_runtime_log_open(const char *path);

/* Append one "error" line for msg to fd (open with O_APPEND) in one write,
 * so lines stay whole when several processes share the log. fd < 0: nothing. */
void tm_runtime_log_error(int fd, bool json, const char *msg);

#endif
