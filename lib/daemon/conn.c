/* teemated's connections: who may connect, how many, and for how long.
 *
 * A crowd of idle connections must not lock other clients out: each process
 * and each user has a cap below the total, a connection that holds no lease
 * and sends nothing is closed after the idle limit, and when the total is
 * reached the longest-idle connection of the process holding the most is
 * closed to make room. Whoever is refused or closed gets a notice saying why
 * (protocol.h), which the client prints instead of a bare "Broken pipe". */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/state.h"
#include "daemon/wire.h"
#include "util/clock.h"

#define ACCEPTS_PER_WAKEUP 64

struct tm_conn *tm_conn_find(struct tm_daemon *d, uint64_t id)
{
    for (struct tm_conn *c = d->conns; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

void tm_conn_close(struct tm_daemon *d, struct tm_conn *c)
{
    for (struct tm_conn **p = &d->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    d->nconns--;
    struct tm_log_bucket once = { 0 };   /* under the clients' limit: reconnecting buys no lines */
    if (c->log.dropped)
        tm_daemon_log_limited(&once, &d->client_log, &d->log_dropped,
                              "pid %d: %llu log lines about its connection were dropped (rate limit)",
                              (int)c->pid, (unsigned long long)c->log.dropped);
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* The notice, sent without waiting (a client that does not read loses it). */
static void notice_fd(int fd, int status, const char *msg)
{
    uint8_t buf[sizeof(struct tm_proto_header) + sizeof(struct tm_proto_reply_head)];
    size_t len = tm_proto_encode_notice(status, msg, buf, sizeof buf);
    tm_wire_send(fd, buf, len, NULL, 0, true);
}

static void refuse_fd(struct tm_daemon *d, int fd, pid_t pid, int status, const char *msg)
{
    d->conns_refused++;
    tm_daemon_log_limited(&d->refusal_log, NULL, &d->log_dropped, "pid %d: %s", (int)pid, msg);
    notice_fd(fd, -status, msg);
    close(fd);
}

void tm_conn_refuse(struct tm_daemon *d, struct tm_conn *c, int status, const char *fmt, ...)
{
    char msg[TM_PROTO_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->conns_refused++;
    tm_daemon_log_limited(&d->refusal_log, NULL, &d->log_dropped, "pid %d: %s", (int)c->pid, msg);
    notice_fd(c->fd, -status, msg);
    tm_conn_close(d, c);
}

/* A lease made on c keeps it open: the attached process detaches through it. */
static bool holds_lease(const struct tm_daemon *d, const struct tm_conn *c)
{
    for (uint32_t i = 0; i < d->nenclaves; i++)
        for (const struct tm_lease *l = d->enclaves[i]->leases; l; l = l->next)
            if (l->conn_id == c->id)
                return true;
    return false;
}

static uint32_t count(const struct tm_daemon *d, bool by_pid, pid_t pid, uid_t uid)
{
    uint32_t n = 0;
    for (const struct tm_conn *c = d->conns; c; c = c->next)
        n += by_pid ? c->pid == pid : c->uid == uid;
    return n;
}

/* The longest-idle connection that may be closed (no lease, no build) of the
 * process holding the most connections (of uid, unless all), if that process
 * holds more than the newcomer's (mine) would after it: room is made by the
 * heaviest, and two processes never take turns evicting each other. */
static struct tm_conn *eviction_victim(struct tm_daemon *d, bool all, uid_t uid, uint32_t mine)
{
    pid_t heaviest = 0;
    uint32_t most = 0;
    for (const struct tm_conn *c = d->conns; c; c = c->next) {
        uint32_t n = all || c->uid == uid ? count(d, true, c->pid, 0) : 0;
        if (n > most) {
            most = n;
            heaviest = c->pid;
        }
    }
    if (most <= mine + 1)
        return NULL;
    struct tm_conn *victim = NULL;
    for (struct tm_conn *c = d->conns; c; c = c->next)
        if (c->pid == heaviest && !c->building && (!victim || c->last_ms < victim->last_ms) &&
            !holds_lease(d, c))
            victim = c;
    return victim;
}

/* 0 when a connection from cred may be added (after making room), else
 * the notice's errno with msg filled. */
static int admit(struct tm_daemon *d, const struct ucred *cred, char *msg, size_t len)
{
    const struct tm_daemon_limits *lim = &d->limits;
    if (cred->uid != geteuid() && cred->uid != 0) {
        snprintf(msg, len, "teemated of uid %u serves that user and root only, not uid %u",
                 (unsigned)geteuid(), (unsigned)cred->uid);
        return EACCES;
    }
    uint32_t mine = count(d, true, cred->pid, 0);
    if (mine >= lim->conns_per_pid) {
        snprintf(msg, len, "teemated is full: %u connections from pid %d (limit %u per process); "
                 "close some", mine, (int)cred->pid, lim->conns_per_pid);
        return EUSERS;
    }
    uint32_t of_uid = count(d, false, 0, cred->uid);
    bool uid_full = of_uid >= lim->conns_per_uid;
    if (!uid_full && d->nconns < lim->max_conns)
        return 0;
    struct tm_conn *victim = eviction_victim(d, !uid_full, cred->uid, mine);
    if (!victim) {
        if (uid_full)
            snprintf(msg, len, "teemated is full: %u connections from uid %u (limit %u per user)",
                     of_uid, (unsigned)cred->uid, lim->conns_per_uid);
        else
            snprintf(msg, len, "teemated is full: %u connections (limit %u)", d->nconns,
                     lim->max_conns);
        return EUSERS;
    }
    tm_conn_refuse(d, victim, EUSERS, "teemated closed this idle connection to make room for "
                   "pid %d: pid %d holds %u connections", (int)cred->pid, (int)victim->pid,
                   count(d, true, victim->pid, 0));
    return 0;
}

static void accept_one(struct tm_daemon *d, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        close(fd);
        return;
    }
    char msg[TM_PROTO_MESSAGE_MAX];
    int why = admit(d, &cred, msg, sizeof msg);
    struct tm_conn *c = why ? NULL : calloc(1, sizeof *c);
    if (!why && !c)
        why = ENOMEM, snprintf(msg, sizeof msg, "teemated is out of memory");
    if (why) {
        refuse_fd(d, fd, cred.pid, why, msg);
        return;
    }
    *c = (struct tm_conn){ .id = ++d->next_id, .fd = fd, .uid = cred.uid, .pid = cred.pid,
                           .last_ms = tm_now_ms() };
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

/* Out of fds: give up the spare one to accept, tell the client, close. */
static void accept_without_fds(struct tm_daemon *d)
{
    if (d->spare_fd < 0)
        return;
    close(d->spare_fd);
    int fd = accept4(d->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0)
        refuse_fd(d, fd, 0, EMFILE, "teemated is out of file descriptors (RLIMIT_NOFILE)");
    d->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void tm_conn_accept_all(struct tm_daemon *d)
{
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        int fd = accept4(d->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            accept_without_fds(d);
            continue;
        }
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                tm_daemon_log_limited(&d->refusal_log, NULL, &d->log_dropped, "accept: %s",
                                      strerror(errno));
            return;
        }
        accept_one(d, fd);
    }
}

int tm_conn_expire_idle(struct tm_daemon *d)
{
    double now = tm_now_ms(), next = -1;
    for (struct tm_conn *c = d->conns, *after; c; c = after) {
        after = c->next;
        if (c->building)
            continue;
        double due = c->last_ms + d->limits.idle_ms;
        if (due > now) {
            next = next < 0 || due < next ? due : next;
            continue;
        }
        if (holds_lease(d, c)) {   /* open by design: look again one limit later */
            c->last_ms = now;
            due = now + d->limits.idle_ms;
            next = next < 0 || due < next ? due : next;
            continue;
        }
        tm_conn_refuse(d, c, ETIMEDOUT, "teemated closed this connection: no request for %u s "
                       "(its idle limit)", (d->limits.idle_ms + 999) / 1000);
    }
    return next < 0 ? -1 : (int)(next - now) + 1;
}
