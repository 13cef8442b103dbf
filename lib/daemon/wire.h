/* One message over a SOCK_SEQPACKET socket, with open files beside it
 * (SCM_RIGHTS). Shared by the daemon and its clients. */
#ifndef TM_DAEMON_WIRE_H
#define TM_DAEMON_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Room for fds in one received message; more than this is a truncation
 * (the kernel closes what does not fit). */
#define TM_WIRE_FDS_CAP 8

/* Send one message and nfds fds (borrowed). MSG_NOSIGNAL: a closed peer is
 * -EPIPE, never SIGPIPE; with nonblock a full socket is -EAGAIN. Returns 0 or -errno. */
int tm_wire_send(int sock, const void *buf, size_t len, const int *fds, int nfds, bool nonblock);

/* Receive one message into buf (cap bytes). Returns its length, 0 when the
 * peer closed, or -errno. The fds that came with it (O_CLOEXEC) go to fds
 * (TM_WIRE_FDS_CAP entries), their count to *nfds; *truncated says the message
 * was longer than cap, had more fds than fit, or carried other control data.
 * The caller owns and closes the fds whatever it decides. */
ssize_t tm_wire_recv(int sock, void *buf, size_t cap, int fds[TM_WIRE_FDS_CAP], int *nfds,
                     bool *truncated, bool nonblock);

/* Close n fds of an array and mark them -1. */
void tm_wire_close_fds(int *fds, int n);

#endif
