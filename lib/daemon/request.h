/* One request to teemated and its reply, for the client side (client.c,
 * lib/shared/attach.c). */
#ifndef TM_DAEMON_REQUEST_H
#define TM_DAEMON_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/protocol.h"
#include "daemon/wire.h"
#include "util/error.h"

struct tm_daemon_reply {
    const void *payload;            /* inside buf, checked for its size */
    size_t payload_len;
    int fds[TM_WIRE_FDS_CAP];       /* owned until taken (set to -1) */
    int nfds;
    char note[TM_PROTO_MESSAGE_MAX];
    uint8_t buf[TM_PROTO_MAX_MESSAGE + 1] __attribute__((aligned(16)));
};

/* Send a request (with fds, borrowed) and wait for its reply. A refusal is
 * returned as its -errno with the daemon's message in err. *reply is
 * malloc'ed (also on a refusal: NULL then). */
int tm_daemon_request(int conn, enum tm_proto_type type, const void *payload, size_t len,
                      const int *fds, int nfds, struct tm_daemon_reply **reply, tm_error *err);
/* Closes the fds not taken. NULL is fine. */
void tm_daemon_reply_free(struct tm_daemon_reply *r);
void tm_daemon_reply_freep(struct tm_daemon_reply **r);
#define _cleanup_reply_ __attribute__((cleanup(tm_daemon_reply_freep)))

#endif
