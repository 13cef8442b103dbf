/* teemated's event loop: one thread, epoll over the listening socket, the
 * connections, one pidfd per lease and a signalfd. Every request is answered
 * (malformed ones with an error) and nothing a client sends can stop it:
 * SIGPIPE is ignored, sends never block, sizes and counts are bounded. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/ready.h"
#include "daemon/state.h"
#include "daemon/wire.h"

#define MAX_EVENTS 64
#define ACCEPTS_PER_WAKEUP 64

static struct tm_conn *conn_find(struct tm_daemon *d, uint64_t id)
{
    for (struct tm_conn *c = d->conns; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static void conn_close(struct tm_daemon *d, struct tm_conn *c)
{
    for (struct tm_conn **p = &d->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    d->nconns--;
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

static void accept_one(struct tm_daemon *d, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        close(fd);
        return;
    }
    /* Only this user (or root) may use the enclaves of this daemon. */
    if (cred.uid != geteuid() && cred.uid != 0) {
        tm_daemon_log("refused a connection from uid %u (pid %d)", cred.uid, (int)cred.pid);
        close(fd);
        return;
    }
    struct tm_conn *c = calloc(1, sizeof *c);
    if (!c || d->nconns >= TM_DAEMON_MAX_CONNS) {
        tm_daemon_log("refused a connection from pid %d: %s", (int)cred.pid,
                      c ? "too many connections" : "out of memory");
        free(c);
        close(fd);
        return;
    }
    *c = (struct tm_conn){ .id = ++d->next_id, .fd = fd, .uid = cred.uid, .pid = cred.pid };
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TM_TAG(TM_TAG_CONN, c->id) };
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(c);
        close(fd);
        return;
    }
    c->next = d->conns;
    d->conns = c;
    d->nconns++;
}

static void accept_all(struct tm_daemon *d)
{
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        int fd = accept4(d->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                tm_daemon_log("accept: %s", strerror(errno));
            return;
        }
        accept_one(d, fd);
    }
}

/* Before answering anything, catch up with what already happened: end the
 * leases of processes that are gone, and close connections whose client hung
 * up with nothing left to read. A client that saw a process exit then finds
 * its slot and TCSs free, and STATUS counts what is really open, whatever
 * order epoll reports events in. */
static void tidy(struct tm_daemon *d, const struct tm_conn *current)
{
restart:
    for (uint32_t i = 0; i < d->nenclaves; i++) {
        struct tm_denclave *e = d->enclaves[i];
        for (struct tm_lease *l = e->leases, *next; l; l = next) {
            next = l->next;
            struct pollfd p = { .fd = l->pidfd, .events = POLLIN };
            if (poll(&p, 1, 0) != 1)
                continue;
            bool last = e->removing && e->nleases == 1;
            tm_daemon_lease_gone(d, l);
            if (last)   /* the enclave went with it, and the array moved */
                goto restart;
        }
    }
    for (struct tm_conn *c = d->conns, *next; c; c = next) {
        next = c->next;
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        if (c != current && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) &&
            !(p.revents & POLLIN))
            conn_close(d, c);
    }
}

static void dispatch(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                     const int *fds, struct tm_daemon_answer *a)
{
    switch (req->type) {
    case TM_REQ_CREATE: tm_handle_create(d, req, fds, a); break;
    case TM_REQ_LIST: tm_handle_list(d, a); break;
    case TM_REQ_INSPECT: tm_handle_inspect(d, req, a); break;
    case TM_REQ_REMOVE: tm_handle_remove(d, req, a); break;
    case TM_REQ_ATTACH:
    case TM_REQ_FORK: tm_handle_attach(d, c, req, a); break;
    case TM_REQ_DETACH: tm_handle_detach(d, c, req, a); break;
    case TM_REQ_STATUS: tm_handle_status(d, a); break;
    }
    if (a->status == 0 && req->type != TM_REQ_CREATE)
        a->err.msg[0] = '\0';   /* only CREATE has a note to pass on */
}

/* One message from c: parse, handle, answer. */
static void conn_message(struct tm_daemon *d, struct tm_conn *c)
{
    int fds[TM_WIRE_FDS_CAP], nfds;
    bool truncated;
    ssize_t n = tm_wire_recv(c->fd, d->msg, sizeof d->msg, fds, &nfds, &truncated, true);
    if (n == -EAGAIN || n == -EWOULDBLOCK) {
        tm_wire_close_fds(fds, nfds);
        return;
    }
    if (n <= 0) {   /* closed (its leases stay until the process exits) */
        tm_wire_close_fds(fds, nfds);
        conn_close(d, c);
        return;
    }
    d->requests++;
    struct tm_daemon_answer a = { 0 };
    struct tm_request req;
    struct tm_proto_header h = { 0 };
    memcpy(&h, d->msg, (size_t)n < sizeof h ? (size_t)n : sizeof h);
    uint32_t type = h.type & ~TM_PROTO_REPLY;
    if (truncated)
        a.status = tm_error_set(&a.err, EPROTO, "request too long (at most %u bytes and %d fds)",
                                TM_PROTO_MAX_MESSAGE, TM_PROTO_MAX_FDS);
    else
        a.status = tm_proto_parse_request(d->msg, (size_t)n, nfds, &req, &a.err);
    if (a.status < 0) {
        d->bad_requests++;
        tm_daemon_log("bad request from pid %d: %s", (int)c->pid, a.err.msg);
    } else {
        tidy(d, c);
        dispatch(d, c, &req, fds, &a);
    }
    tm_wire_close_fds(fds, nfds);   /* a request's files are never kept */
    size_t len = tm_proto_encode_reply((enum tm_proto_type)type, a.status,
                                       a.err.msg[0] ? a.err.msg : NULL, a.payload, a.payload_len,
                                       d->out, sizeof d->out);
    int ret = tm_wire_send(c->fd, d->out, len, a.fds, a.status < 0 ? 0 : a.nfds, true);
    if (ret < 0) {
        /* Gone, or not reading its replies: drop it rather than wait. */
        tm_daemon_log("cannot answer pid %d: %s", (int)c->pid, strerror(-ret));
        conn_close(d, c);
    }
}

static void handle_event(struct tm_daemon *d, const struct epoll_event *ev)
{
    uint64_t id = TM_TAG_ID(ev->data.u64);
    switch (TM_TAG_KIND(ev->data.u64)) {
    case TM_TAG_LISTEN:
        accept_all(d);
        break;
    case TM_TAG_SIGNAL: {
        struct signalfd_siginfo si;
        if (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
            tm_daemon_log("signal %u: shutting down", si.ssi_signo);
            d->stop = true;
        }
        break;
    }
    case TM_TAG_CONN: {
        struct tm_conn *c = conn_find(d, id);   /* gone already if an earlier event closed it */
        if (c)
            conn_message(d, c);
        break;
    }
    case TM_TAG_LEASE: {
        struct tm_lease *l = tm_registry_lease(d, id);
        if (l)
            tm_daemon_lease_gone(d, l);
        break;
    }
    }
}

static void shutdown_all(struct tm_daemon *d)
{
    while (d->conns)
        conn_close(d, d->conns);
    while (d->nenclaves) {
        struct tm_denclave *e = d->enclaves[d->nenclaves - 1];
        while (e->leases) {
            struct tm_lease *l = e->leases;
            e->leases = l->next;
            close(l->pidfd);
            free(l);
        }
        e->nleases = 0;
        tm_registry_remove(d, e);
    }
    tm_daemon_unlisten(&d->listener);
    if (d->epfd >= 0)
        close(d->epfd);
    if (d->sigfd >= 0)
        close(d->sigfd);
}

static int watch(struct tm_daemon *d, int fd, enum tm_daemon_tag tag, tm_error *err)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TM_TAG(tag, 0) };
    return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? tm_error_sys(err, "epoll") : 0;
}

static int start(struct tm_daemon *d, const char *path, int *other_pid, tm_error *err)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
        (d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
        return tm_error_sys(err, "cannot set up signals");
    /* One fd per connection and lease, two per enclave: take what we may. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int ret = tm_daemon_listen(path, &d->listener, other_pid, err);
    if (ret < 0)
        return ret;
    if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return tm_error_sys(err, "epoll");
    if ((ret = watch(d, d->listener.fd, TM_TAG_LISTEN, err)) < 0)
        return ret;
    return watch(d, d->sigfd, TM_TAG_SIGNAL, err);
}

int tm_daemon_run(const struct tm_daemon_options *o, tm_error *err)
{
    char path[PATH_MAX];
    int ret = tm_daemon_socket_resolve(o->socket_path, path, sizeof path, err);
    if (ret < 0) {
        tm_daemon_ready_report(o->ready_fd, ret, 0, err);
        return ret;
    }
    struct tm_daemon *d = calloc(1, sizeof *d);
    if (!d)
        return tm_error_set(err, ENOMEM, "out of memory");
    d->epfd = d->sigfd = -1;
    d->listener.fd = d->listener.lock_fd = -1;
    signal(SIGPIPE, SIG_IGN);
    sigset_t old;
    sigprocmask(SIG_SETMASK, NULL, &old);
    int other = 0;
    ret = start(d, path, &other, err);
    tm_daemon_ready_report(o->ready_fd, ret, ret == -EALREADY ? other : (int)getpid(), err);
    if (ret == 0) {
        tm_daemon_log("listening on %s", path);
        while (!d->stop) {
            struct epoll_event evs[MAX_EVENTS];
            int n = epoll_wait(d->epfd, evs, MAX_EVENTS, -1);
            if (n < 0 && errno != EINTR) {
                ret = tm_error_sys(err, "epoll_wait");
                break;
            }
            for (int i = 0; i < n && !d->stop; i++)
                handle_event(d, &evs[i]);
        }
        tm_daemon_log("stopped (%" PRIu64 " requests, %" PRIu64 " refused as malformed)",
                      d->requests, d->bad_requests);
    }
    shutdown_all(d);
    free(d);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return ret;
}
