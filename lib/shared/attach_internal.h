/* Shared by attach.c and attach_fork.c. */
#ifndef TM_SHARED_ATTACH_INTERNAL_H
#define TM_SHARED_ATTACH_INTERNAL_H

#include "daemon/protocol.h"
#include "shared/attach.h"

struct tm_attachment *tm_attachment_new(void);
/* A cap in bytes as the protocol's pages: rounded up, saturated (the daemon
 * clamps it to the slot). */
uint32_t tm_attach_limit_pages(uint64_t bytes);
/* Send an ATTACH or FORK request on a->conn, fill a from the reply, attach
 * the backend and map the views; times go to a->stats. */
int tm_attach_request(struct tm_attachment *a, enum tm_proto_type type, const void *req,
                      size_t req_len, tm_error *err);

#endif
