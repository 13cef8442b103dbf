/* Fork for a snapshot: the child becomes a container of its own on the same
 * enclave (a new slot and lease), reading its parent's slot read-only, with
 * no memory copied and no new enclave. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/client.h"
#include "shared/attach.h"
#include "shared/attach_internal.h"
#include "util/clock.h"

/* In the child: let go of what fork copied from the parent, then attach anew. */
static int child_attach(struct tm_attachment *parent, struct tm_attachment **out, tm_error *err)
{
    /* The inherited mappings and fds are the parent's view: drop them here
     * without a DETACH (the lease is the parent's), and close the inherited
     * connection rather than shut it down (the parent still uses it). */
    parent->ops->destroy(parent->be);
    parent->be = NULL;
    close(parent->conn);
    parent->conn = -1;

    struct tm_proto_fork req = { .threads = 1, .parent_id = parent->attach_id,
                                 .slot_limit_pages = tm_attach_limit_pages(parent->slot_limit) };
    memcpy(req.name, parent->name, strnlen(parent->name, sizeof req.name - 1));
    memcpy(req.parent_token, parent->token, sizeof req.parent_token);
    struct tm_attachment *a = tm_attachment_new();
    if (!a)
        return tm_error_set(err, ENOMEM, "out of memory");
    memcpy(a->socket_path, parent->socket_path, sizeof a->socket_path);
    double t0 = tm_now_ms();
    a->conn = tm_daemon_connect(a->socket_path, false, NULL, err);
    a->stats.connect_ms = tm_now_ms() - t0;
    int ret = a->conn < 0 ? a->conn : tm_attach_request(a, TM_REQ_FORK, &req, sizeof req, err);
    struct tm_ecall_call call = { .ecall = TM_ECALL_FORK_CHILD };
    if (ret == 0 && (ret = tm_attach_ecall(a, 0, &call, err)) < 0)
        tm_error_prefix(err, "the enclave's fork hook");
    if (ret < 0) {
        tm_detach(a);
        return ret;
    }
    *out = a;
    return 0;
}

pid_t tm_attach_fork(struct tm_attachment *parent, struct tm_attachment **child, tm_error *err)
{
    *child = NULL;
    if (!parent->be || parent->conn < 0)
        return tm_error_set(err, ENOTCONN, "not attached");
    fflush(NULL);   /* buffered output would otherwise come out twice */
    pid_t pid = fork();
    if (pid < 0)
        return tm_error_sys(err, "fork");
    if (pid > 0)
        return pid;
    int ret = child_attach(parent, child, err);
    return ret < 0 ? ret : 0;
}
