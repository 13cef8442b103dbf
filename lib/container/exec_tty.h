/* exec's terminal in the foreground (exec_tty.c). Private to lib/container. */
#ifndef TM_CONTAINER_EXEC_TTY_H
#define TM_CONTAINER_EXEC_TTY_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

/* Receive the pty master the process sends over sock, relay between it and
 * teemate's stdio until the process (a child of teemate) exits, passing the
 * forwarded signals on; *status as tm_container_wait's. */
int tm_exec_tty_relay(int sock, pid_t pid, const sigset_t *forwarded, int *status, tm_error *err);

#endif
