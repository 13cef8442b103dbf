/* teemated's event loop: one thread, epoll over the listening socket, the
 * connections, one pidfd per lease, one eventfd per CREATE building in its
 * thread (build.c) and a signalfd. Every request is answered (malformed ones
 * with an error) and nothing a client sends can stop it: SIGPIPE is ignored,
 * sends never block, sizes, counts, connections and log lines are bounded. */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/sysinfo.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/ready.h"
#include "daemon/state.h"
#include "daemon/wire.h"
#include "util/clock.h"

#define MAX_EVENTS 64
/* Defaults of the limits (struct tm_daemon_limits). */
#define DEFAULT_MAX_CONNS 1024
#define DEFAULT_CONNS_PER_PID 64
#define DEFAULT_IDLE_MS 30000
#define DEFAULT_MAX_BUILDS 4
/* ELRANGE is address space, not EPC (--max-epc counts that): as large as
 * the loader allows, so that a function enclave with 64 slots fits. */
#define DEFAULT_MAX_ENCLAVE_SIZE TM_LAYOUT_MAX_ENCLAVE_SIZE

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
            tm_conn_close(d, c);
    }
}

static void dispatch(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                     const int *fds, struct tm_daemon_answer *a)
{
    switch (req->type) {
    case TM_REQ_CREATE: tm_build_start(d, c, req, fds, a); break;
    case TM_REQ_LIST: tm_handle_list(d, a); break;
    case TM_REQ_INSPECT: tm_handle_inspect(d, req, a); break;
    case TM_REQ_REMOVE: tm_handle_remove(d, req, a); break;
    case TM_REQ_ATTACH:
    case TM_REQ_FORK: {
        const char *name = req->type == TM_REQ_ATTACH ? req->u.attach.name : req->u.fork.name;
        struct tm_build *b = tm_registry_find(d, name) ? NULL : tm_registry_find_build(d, name);
        if (b)
            a->status = tm_error_set(&a->err, EBUSY, "enclave '%s' is still being built (%llu of "
                                     "%llu pages added): attach once 'teemate enclave ls' lists it "
                                     "ready", name, (unsigned long long)atomic_load(&b->pages_done),
                                     (unsigned long long)atomic_load(&b->pages_total));
        else
            tm_handle_attach(d, c, req, a);
        break;
    }
    case TM_REQ_DETACH: tm_handle_detach(d, c, req, a); break;
    case TM_REQ_STATUS: tm_handle_status(d, a); break;
    }
    if (a->status == 0 && req->type != TM_REQ_CREATE)
        a->err.msg[0] = '\0';   /* only CREATE has a note to pass on */
}

void tm_daemon_reply(struct tm_daemon *d, struct tm_conn *c, enum tm_proto_type type,
                     const struct tm_daemon_answer *a)
{
    size_t len = tm_proto_encode_reply(type, a->status, a->err.msg[0] ? a->err.msg : NULL,
                                       a->payload, a->payload_len, d->out, sizeof d->out);
    int ret = tm_wire_send(c->fd, d->out, len, a->fds, a->status < 0 ? 0 : a->nfds, true);
    if (ret < 0) {
        /* Gone, or not reading its replies: drop it rather than wait. */
        tm_daemon_log_limited(&c->log, &d->client_log, &d->log_dropped, "cannot answer pid %d: %s",
                              (int)c->pid, strerror(-ret));
        tm_conn_close(d, c);
    }
}

/* recv gave 0: the peer hung up, or sent an empty message (which gets an
 * error reply like any malformed one). */
static bool peer_gone(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
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
    if (n < 0 || (n == 0 && peer_gone(c->fd))) {   /* closed (its leases stay until the process exits) */
        tm_wire_close_fds(fds, nfds);
        tm_conn_close(d, c);
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
        tm_daemon_log_limited(&c->log, &d->client_log, &d->log_dropped,
                              "bad request from pid %d: %s", (int)c->pid, a.err.msg);
    } else {
        tidy(d, c);
        dispatch(d, c, &req, fds, &a);
    }
    tm_wire_close_fds(fds, nfds);   /* a request's files are never kept (a build dup'ed its own) */
    c->last_ms = tm_now_ms();
    if (!a.deferred)
        tm_daemon_reply(d, c, (enum tm_proto_type)type, &a);
}

static void handle_event(struct tm_daemon *d, const struct epoll_event *ev)
{
    uint64_t id = TM_TAG_ID(ev->data.u64);
    switch (TM_TAG_KIND(ev->data.u64)) {
    case TM_TAG_LISTEN:
        tm_conn_accept_all(d);
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
        struct tm_conn *c = tm_conn_find(d, id);   /* gone already if an earlier event closed it */
        if (c && !c->building)
            conn_message(d, c);
        else if (c && (ev->events & (EPOLLHUP | EPOLLERR)))
            tm_conn_close(d, c);   /* the creator left; its build goes on */
        break;
    }
    case TM_TAG_BUILD: {
        struct tm_build *b = tm_build_find(d, id);
        if (b)
            tm_build_finish(d, b);
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
    tm_build_cancel_all(d);
    while (d->conns)
        tm_conn_close(d, d->conns);
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
    if (d->spare_fd >= 0)
        close(d->spare_fd);
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
    /* Connections get at most half of them: the rest is for leases, enclaves and builds. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 2 < d->limits.max_conns) {
        d->limits.max_conns = rl.rlim_cur / 2 > 8 ? (uint32_t)(rl.rlim_cur / 2) : 8;
        d->limits.conns_per_uid = d->limits.max_conns - d->limits.max_conns / 8;
    }
    d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);   /* given up to accept when out of fds */
    int ret = tm_daemon_listen(path, &d->listener, other_pid, err);
    if (ret < 0)
        return ret;
    if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return tm_error_sys(err, "epoll");
    if ((ret = watch(d, d->listener.fd, TM_TAG_LISTEN, err)) < 0)
        return ret;
    return watch(d, d->sigfd, TM_TAG_SIGNAL, err);
}

static struct tm_daemon_limits limits_from(const struct tm_daemon_options *o)
{
    struct tm_daemon_limits l = {
        .max_conns = o->max_conns ? o->max_conns : DEFAULT_MAX_CONNS,
        .conns_per_pid = o->conns_per_pid ? o->conns_per_pid : DEFAULT_CONNS_PER_PID,
        .idle_ms = o->idle_timeout_ms ? o->idle_timeout_ms : DEFAULT_IDLE_MS,
        .max_builds = DEFAULT_MAX_BUILDS,
        .max_enclave_size = o->max_enclave_size ? o->max_enclave_size : DEFAULT_MAX_ENCLAVE_SIZE,
    };
    l.conns_per_uid = l.max_conns - l.max_conns / 8;   /* the rest is kept for the other user (root) */
    uint64_t epc = o->max_epc;
    if (!epc) {   /* half of the RAM: the sim's EPC is memory */
        struct sysinfo si;
        epc = sysinfo(&si) == 0 ? (uint64_t)si.totalram * si.mem_unit / 2 : 8ULL << 30;
    }
    l.max_epc_pages = epc / SGX_PAGE_SIZE;
    return l;
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
    d->epfd = d->sigfd = d->spare_fd = -1;
    d->limits = limits_from(o);
    d->client_log = (struct tm_log_bucket){ .burst = TM_LOG_CLIENTS_BURST,
                                            .per_sec = TM_LOG_CLIENTS_PER_SEC };
    d->listener.fd = d->listener.lock_fd = -1;
    signal(SIGPIPE, SIG_IGN);
    sigset_t old;
    sigprocmask(SIG_SETMASK, NULL, &old);
    int other = 0;
    ret = start(d, path, &other, err);
    tm_daemon_ready_report(o->ready_fd, ret, ret == -EALREADY ? other : (int)getpid(), err);
    if (ret == 0) {
        tm_daemon_log("listening on %s (largest enclave %llu MiB, EPC %llu MiB, %u connections "
                      "per process, idle limit %u ms)", path,
                      (unsigned long long)(d->limits.max_enclave_size >> 20),
                      (unsigned long long)(d->limits.max_epc_pages >> 8), d->limits.conns_per_pid,
                      d->limits.idle_ms);
        while (!d->stop) {
            struct epoll_event evs[MAX_EVENTS];
            int n = epoll_wait(d->epfd, evs, MAX_EVENTS, tm_conn_expire_idle(d));
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
