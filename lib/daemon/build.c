/* CREATE off the main loop: each build runs in a thread of its own, so that
 * adding gigabytes of pages never delays another client. The thread owns its
 * struct tm_build; the loop reads only its atomics (progress for LIST and
 * INSPECT, the cancel flag it sets on rm) until the thread signals its
 * eventfd, and then joins it, registers the enclave and answers the creator.
 * The creator's connection is not read meanwhile (one reply per request, in
 * order). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/state.h"
#include "util/clock.h"

static void *build_thread(void *arg)
{
    struct tm_build *b = arg;
    b->status = tm_create_build(b);
    uint64_t one = 1;
    ssize_t ignored = write(b->efd, &one, sizeof one);   /* never blocks: one write, a counter */
    (void)ignored;
    return NULL;
}

static void build_free(struct tm_build *b)
{
    for (int i = 0; i < TM_PROTO_MAX_FDS; i++)
        if (b->fds[i] >= 0)
            close(b->fds[i]);
    if (b->efd >= 0)
        close(b->efd);
    free(b);
}

static void watch_conn(struct tm_daemon *d, struct tm_conn *c, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.u64 = TM_TAG(TM_TAG_CONN, c->id) };
    epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static int refuse(struct tm_daemon *d, const struct tm_proto_create *c, tm_error *err)
{
    if (tm_registry_find(d, c->name) || tm_registry_find_build(d, c->name))
        return tm_error_set(err, EEXIST, "an enclave named '%s' already exists", c->name);
    if (d->nenclaves + d->nbuilds >= TM_PROTO_MAX_ENCLAVES)
        return tm_error_set(err, ENOSPC, "teemated holds %d enclaves already (remove one first)",
                            TM_PROTO_MAX_ENCLAVES);
    if (d->nbuilds >= d->limits.max_builds)
        return tm_error_set(err, EBUSY, "teemated is building %u enclaves already (at most %u at "
                            "once): try again when one is ready", d->nbuilds, d->limits.max_builds);
    return 0;
}

void tm_build_start(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                    const int *fds, struct tm_daemon_answer *a)
{
    const struct tm_proto_create *cr = &req->u.create;
    enum tm_backend_kind kind;
    const struct tm_backend_ops *ops;
    if ((a->status = refuse(d, cr, &a->err)) < 0)
        return;
    if (tm_backend_parse(cr->backend, &kind) < 0) {
        a->status = tm_error_set(&a->err, EINVAL, "unknown backend '%s'", cr->backend);
        return;
    }
    if ((a->status = tm_backend_select(kind, &ops, &a->err)) < 0)
        return;
    struct tm_build *b = calloc(1, sizeof *b);
    if (!b) {
        a->status = tm_error_set(&a->err, ENOMEM, "out of memory");
        return;
    }
    *b = (struct tm_build){ .id = ++d->next_id, .conn_id = c->id, .req = *cr, .ops = ops,
                            .fds = { -1, -1 }, .limits = d->limits,
                            .epc_committed = &d->epc_committed };
    for (int i = 0; i < req->nfds && i < TM_PROTO_MAX_FDS; i++)
        b->fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
    b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TM_TAG(TM_TAG_BUILD, b->id) };
    if (b->fds[0] < 0 || (req->nfds > 1 && b->fds[1] < 0) || b->efd < 0 ||
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, b->efd, &ev) < 0) {
        a->status = tm_error_sys(&a->err, "cannot start building enclave '%s'", cr->name);
        build_free(b);
        return;
    }
    int ret = pthread_create(&b->thread, NULL, build_thread, b);
    if (ret) {
        a->status = tm_error_set(&a->err, ret, "cannot start a thread to build enclave '%s': %s",
                                 cr->name, strerror(ret));
        epoll_ctl(d->epfd, EPOLL_CTL_DEL, b->efd, NULL);
        build_free(b);
        return;
    }
    b->started = true;
    b->next = d->builds;
    d->builds = b;
    d->nbuilds++;
    c->building = b->id;
    watch_conn(d, c, 0);   /* hang-ups still arrive (EPOLLHUP is always reported) */
    a->deferred = true;
    tm_daemon_log("building enclave %s (%s, %s backend)", cr->name, cr->image_name, ops->name);
}

struct tm_build *tm_build_find(struct tm_daemon *d, uint64_t id)
{
    for (struct tm_build *b = d->builds; b; b = b->next)
        if (b->id == id)
            return b;
    return NULL;
}

/* Join and take b out of the list; its enclave (if any) is the caller's. */
static void build_end(struct tm_daemon *d, struct tm_build *b)
{
    pthread_join(b->thread, NULL);
    for (struct tm_build **p = &d->builds; *p; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            break;
        }
    }
    d->nbuilds--;
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, b->efd, NULL);
}

static void drop_enclave(struct tm_daemon *d, struct tm_build *b)
{
    if (!b->e)
        return;
    atomic_fetch_sub(&d->epc_committed, b->e->epc_commit);
    tm_denclave_free(b->e);
    b->e = NULL;
}

void tm_build_finish(struct tm_daemon *d, struct tm_build *b)
{
    build_end(d, b);
    struct tm_daemon_answer a = { .status = b->status, .err = b->err };
    if (a.status == 0 && atomic_load(&b->cancel))
        a.status = tm_error_set(&a.err, ECANCELED, "enclave '%s' was removed while it was being "
                                "built", b->req.name);
    if (a.status == 0)
        a.status = tm_registry_add(d, b->e, &a.err);
    struct tm_proto_enclave *out = (struct tm_proto_enclave *)d->payload;
    if (a.status == 0) {
        tm_registry_describe(b->e, out);
        a.payload = out;
        a.payload_len = sizeof *out;
        a.err = b->note;   /* the development key note, if any */
        tm_daemon_log("created enclave %s (%s, %s backend) in %.1f ms", b->req.name,
                      b->req.image_name, b->ops->name, b->e->create_ms);
        b->e = NULL;   /* the registry's now */
    } else {
        drop_enclave(d, b);
        tm_daemon_log("enclave %s not created: %s", b->req.name, a.err.msg);
    }
    struct tm_conn *c = tm_conn_find(d, b->conn_id);
    if (c) {
        c->building = 0;
        c->last_ms = tm_now_ms();
        watch_conn(d, c, EPOLLIN);
        tm_daemon_reply(d, c, TM_REQ_CREATE, &a);
    }
    build_free(b);
}

void tm_build_cancel_all(struct tm_daemon *d)
{
    for (struct tm_build *b = d->builds; b; b = b->next)
        atomic_store(&b->cancel, true);
    while (d->builds) {
        struct tm_build *b = d->builds;
        build_end(d, b);
        drop_enclave(d, b);
        build_free(b);
    }
}
