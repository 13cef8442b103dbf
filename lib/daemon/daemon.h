/* teemated: the daemon that owns shared enclaves, their slots and TCS leases,
 * and answers requests on a unix socket (lib/daemon/protocol.h). */
#ifndef TM_DAEMON_H
#define TM_DAEMON_H

#include "util/error.h"

#include <stdint.h>

/* Limits an operator sets; 0 takes the default (tm_daemon_run says which). */
struct tm_daemon_options {
    const char *socket_path;   /* NULL: tm_daemon_socket_path() */
    int ready_fd;              /* -1, or where to report readiness (daemon/ready.h) */
    uint64_t max_enclave_size; /* ELRANGE bytes of one enclave (default 4 GiB) */
    uint64_t max_epc;          /* bytes all enclaves may commit (default half the RAM) */
    uint32_t idle_timeout_ms;  /* close a connection without lease or request (default 30 s) */
    uint32_t conns_per_pid;    /* connections from one process (default 64) */
    uint32_t max_conns;        /* all connections (default 1024; one user: 7/8 of them) */
};

/* Listen and serve until SIGTERM, SIGINT or SIGHUP; then destroy the
 * enclaves (processes attached keep the memory they map) and remove the
 * socket. Returns 0, or -errno when it could not start (-EALREADY: another
 * daemon listens on that socket). */
int tm_daemon_run(const struct tm_daemon_options *o, tm_error *err);

#endif
