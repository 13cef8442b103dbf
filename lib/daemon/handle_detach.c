/* The end of a lease: DETACH from the process itself, or its death (its
 * pidfd became readable). Closing the connection alone ends nothing: the
 * process may still run threads inside, so the lease lives until it exits. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/state.h"

static void lease_unlink(struct tm_denclave *e, struct tm_lease *l)
{
    for (struct tm_lease **p = &e->leases; *p; p = &(*p)->next) {
        if (*p == l) {
            *p = l->next;
            e->nleases--;
            return;
        }
    }
}

/* Free a lease whose enclave side is done with; then the enclave if it was
 * waiting for its last lease to be removed. */
static void lease_free(struct tm_daemon *d, struct tm_lease *l)
{
    struct tm_denclave *e = l->enclave;
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, l->pidfd, NULL);
    close(l->pidfd);
    lease_unlink(e, l);
    free(l);
    if (e->removing && e->nleases == 0) {
        tm_daemon_log("removed enclave %s (its last process is gone)", e->name);
        tm_registry_remove(d, e);
    }
}

void tm_daemon_lease_gone(struct tm_daemon *d, struct tm_lease *l)
{
    tm_error err = { 0 };
    struct tm_denclave *e = l->enclave;
    tm_lease_end(e, l, true, &err);
    tm_daemon_log("%s: pid %d exited: attach %" PRIu64 " reclaimed (slot %u, %u TCS)", e->name,
                  (int)l->pid, l->id, l->slot, l->nthreads);
    lease_free(d, l);
}

void tm_handle_detach(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                      struct tm_daemon_answer *a)
{
    const struct tm_proto_detach *r = &req->u.detach;
    struct tm_lease *l = tm_registry_lease(d, r->attach_id);
    uint8_t diff = 0;
    for (size_t i = 0; l && i < sizeof l->token; i++)   /* constant time */
        diff |= l->token[i] ^ r->token[i];
    /* Only the connection that made the lease gives it back. */
    if (!l || diff || l->conn_id != c->id) {
        a->status = tm_error_set(&a->err, ENOENT, "this connection holds no attach %" PRIu64
                                 " with that token", r->attach_id);
        return;
    }
    struct tm_denclave *e = l->enclave;
    a->status = tm_lease_end(e, l, false, &a->err);
    if (a->status < 0) {
        tm_daemon_log("%s: detach %" PRIu64 " of pid %d refused: %s", e->name, l->id, (int)l->pid,
                      a->err.msg);
        return;
    }
    tm_daemon_log("%s: pid %d detached: attach %" PRIu64 " (slot %u)", e->name, (int)l->pid, l->id,
                  l->slot);
    lease_free(d, l);
}
