/* teemated: the daemon that owns shared enclaves, their slots and TCS leases,
 * and answers requests on a unix socket (lib/daemon/protocol.h). */
#ifndef TM_DAEMON_H
#define TM_DAEMON_H

#include "util/error.h"

struct tm_daemon_options {
    const char *socket_path;   /* NULL: tm_daemon_socket_path() */
    int ready_fd;              /* -1, or where to report readiness (daemon/ready.h) */
};

/* Listen and serve until SIGTERM, SIGINT or SIGHUP; then destroy the
 * enclaves (processes attached keep the memory they map) and remove the
 * socket. Returns 0, or -errno when it could not start (-EALREADY: another
 * daemon listens on that socket). */
int tm_daemon_run(const struct tm_daemon_options *o, tm_error *err);

#endif
