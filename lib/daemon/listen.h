/* The daemon's listening socket and its lock: one daemon per socket path.
 *
 * <socket>.lock holds two OFD locks: byte 0 while a daemon starts (taken
 * waiting), byte 1 while it runs (taken without waiting). A daemon that
 * finds byte 1 held refuses to start; since it looked only after the other
 * one finished starting, that one already listens. Holding byte 1, any socket
 * file left at the path is stale (its daemon died) and is replaced. */
#ifndef TM_DAEMON_LISTEN_H
#define TM_DAEMON_LISTEN_H

#include <sys/types.h>

#include "util/error.h"

struct tm_daemon_listener {
    int fd;            /* SOCK_SEQPACKET, non-blocking, listening */
    int lock_fd;
    dev_t dev;         /* the socket file we made: unlinked at exit only if still ours */
    ino_t ino;
    char path[108];
};

/* Listen on path (directory created 0700 if missing, and refused if others
 * can write it; socket 0600). -EALREADY with *other_pid when a daemon runs. */
int tm_daemon_listen(const char *path, struct tm_daemon_listener *l, int *other_pid,
                     tm_error *err);
void tm_daemon_unlisten(struct tm_daemon_listener *l);

#endif
