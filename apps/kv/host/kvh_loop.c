/* The store's event loop: it only moves bytes. Each iteration: epoll_wait
 * (until the next cron tick), accept, one read per readable client, then ONE
 * batch ecall with every client that has news (new, bytes, gone, or a
 * request for replies kept inside), then the replies written back.
 *
 * Backpressure: a client whose replies are not all written (it does not
 * read), or whose replies the store still keeps (KV_OUT_PENDING), is not
 * read until they are out; the store keeps the rest, so neither side grows
 * without bound. Level-triggered epoll: what is not read this time is
 * reported again. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kvh.h"
#include "kvh_conn.h"
#include "kvh_persist.h"
#include "util/cleanup.h"

#define KVH_MAX_EVENTS 1024
#define KVH_DEFAULT_READ_CHUNK (64U << 10)
#define KVH_BATCH_IN_SOFT_MAX (8U << 20)     /* stop reading more clients this iteration */
#define KVH_OUT_MIN (16U << 10)
#define KVH_OUT_MAX (16U << 20)              /* TM_ECALL_MAX_OUT */
/* Batches whose replies use under a quarter of the room before it halves. */
#define KVH_OUT_QUIET 64
#define KVH_ACCEPTS_PER_ITERATION 1000
#define KVH_MAXCLIENTS_ERR "-ERR max number of clients reached\r\n"

/* epoll's data: a listener, the stop eventfd, or a client. */
struct kvh_source {
    int kind;   /* KVH_SRC_* */
    int fd;
};
enum { KVH_SRC_LISTENER = 1, KVH_SRC_STOP = 2, KVH_SRC_CHILD = 3 };

struct kvh_loop {
    struct kvh_loop_options o;
    int ep, stop_fd;
    struct kvh_source *sources;   /* listeners, then the stop eventfd */
    uint64_t next_id;
    /* clients in id order (ids only grow): found by binary search */
    struct kvh_conn **conns;
    size_t nconns, conns_cap;
    struct kvh_conn *queued;      /* clients with news for the next batch */
    char *in;                     /* the batch being built */
    size_t in_len, in_cap;
    uint32_t in_count;            /* its records */
    char *out;
    size_t out_cap;
    /* The room a batch offers for replies (<= out_cap). The enclave zeroes an
     * ecall's whole output buffer when it makes it and again once it is
     * copied out, so room kept at the size of the biggest burst ever seen
     * (an LRANGE run) would cost every later batch that much memset: it
     * doubles when replies stay inside for want of it, and halves after
     * KVH_OUT_QUIET batches that used less than a quarter. */
    size_t out_room;
    unsigned out_quiet;
    uint64_t next_cron_ms;
    bool stopping, shutdown;
    bool bgsave;                  /* the store began one: fork its child */
    struct kvh_source child;      /* the BGSAVE child's status pipe (fd -1: none) */
    struct kvh_loop_stats st;
};

static uint64_t kvh_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t kvh_wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

int kvh_loop_new(const struct kvh_loop_options *o, struct kvh_loop **out, tm_error *err)
{
    struct kvh_loop *l = calloc(1, sizeof *l);
    if (!l)
        return tm_error_set(err, ENOMEM, "out of memory");
    l->o = *o;
    if (!l->o.hz)
        l->o.hz = KVH_DEFAULT_HZ;
    if (!l->o.maxclients)
        l->o.maxclients = KVH_MAX_CLIENTS;
    if (!l->o.read_chunk)
        l->o.read_chunk = KVH_DEFAULT_READ_CHUNK;
    l->next_id = 1;
    l->child = (struct kvh_source){ KVH_SRC_CHILD, -1 };
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    l->sources = calloc(o->nlisteners + 1, sizeof *l->sources);
    l->out_cap = l->out_room = KVH_OUT_MIN;
    l->out = malloc(l->out_cap);
    int r = 0;
    if (l->ep < 0 || l->stop_fd < 0)
        r = tm_error_sys(err, "epoll/eventfd");
    else if (!l->sources || !l->out)
        r = tm_error_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; r == 0 && i <= o->nlisteners; i++) {
        struct kvh_source *s = &l->sources[i];
        *s = i < o->nlisteners ? (struct kvh_source){ KVH_SRC_LISTENER, o->listeners[i] }
                               : (struct kvh_source){ KVH_SRC_STOP, l->stop_fd };
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
            r = tm_error_sys(err, "epoll_ctl");
    }
    if (r < 0) {
        kvh_loop_free(l);
        return r;
    }
    *out = l;
    return 0;
}

void kvh_loop_stop(struct kvh_loop *l)
{
    uint64_t one = 1;
    ssize_t w = write(l->stop_fd, &one, sizeof one);
    (void)w;
}

void kvh_loop_get_stats(const struct kvh_loop *l, struct kvh_loop_stats *st)
{
    *st = l->st;
    st->clients = l->nconns;
}

static struct kvh_conn *kvh_loop_find(struct kvh_loop *l, uint64_t id)
{
    size_t lo = 0, hi = l->nconns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->conns[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->nconns && l->conns[lo]->id == id ? l->conns[lo] : NULL;
}

static void kvh_loop_queue(struct kvh_loop *l, struct kvh_conn *c)
{
    if (c->queued)
        return;
    c->queued = true;
    c->next_queued = l->queued;
    l->queued = c;
}

/* Registers what c wants now: input unless output waits (backpressure) or
 * it is closing; output while some is unwritten. */
static void kvh_loop_arm(struct kvh_loop *l, struct kvh_conn *c)
{
    if (c->fd < 0)
        return;
    uint32_t want = 0;
    if (kvh_conn_has_output(c))
        want |= EPOLLOUT;
    else if (!c->closing && !c->pending_inside)
        want |= EPOLLIN;
    if (want == c->events)
        return;
    struct epoll_event ev = { .events = want, .data.ptr = c };
    epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = want;
}

/* The client is gone from here (EOF, error, timeout, stop): its fd closed,
 * the store told in the next batch. */
static void kvh_loop_drop(struct kvh_loop *l, struct kvh_conn *c)
{
    if (c->gone || c->dead)
        return;
    if (c->fd >= 0)
        epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    kvh_conn_close(c);
    c->gone = true;
    l->st.closed++;
    kvh_loop_queue(l, c);
}

/* Room for one more record of len bytes in the batch. */
static char *kvh_loop_record(struct kvh_loop *l, size_t len)
{
    size_t need = l->in_len + KV_RECORD_SIZE(len);
    if (need > l->in_cap) {
        size_t cap = l->in_cap ? l->in_cap : 65536;
        while (cap < need)
            cap *= 2;
        char *n = realloc(l->in, cap);
        if (!n)
            return NULL;
        l->in = n;
        l->in_cap = cap;
    }
    return l->in + l->in_len;
}

static void kvh_loop_close_record(struct kvh_loop *l, struct kvh_conn *c, uint32_t flags, uint32_t len)
{
    char *rec = l->in + l->in_len;
    struct kv_client_in h = { .id = c->id, .flags = flags, .len = len };
    memcpy(rec, &h, sizeof h);
    size_t size = KV_RECORD_SIZE(len);
    memset(rec + sizeof h + len, 0, size - sizeof h - len);
    l->in_len += size;
    l->in_count++;
    c->recorded = true;
    l->st.records_in++;
}

/* The flags a client's record carries besides DATA; marks them sent. */
static uint32_t kvh_loop_news(struct kvh_conn *c)
{
    uint32_t f = 0;
    if (c->is_new)
        f |= KV_IN_NEW, c->is_new = false;
    if (c->gone)
        f |= KV_IN_GONE, c->gone = false, c->dead = true;
    if (c->ask)
        c->ask = false;
    return f;
}

/* A readable client: one read, straight into its batch record. A client
 * accepted this iteration is not read before its NEW has gone in. */
static void kvh_loop_read(struct kvh_loop *l, struct kvh_conn *c)
{
    if (c->recorded || c->is_new || c->fd < 0 || l->in_len > KVH_BATCH_IN_SOFT_MAX)
        return;   /* read next iteration (level-triggered) */
    size_t chunk = l->o.read_chunk;
    char *rec = kvh_loop_record(l, chunk);
    if (!rec)
        return;
    ssize_t n;
    do
        n = read(c->fd, rec + sizeof(struct kv_client_in), chunk);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        kvh_loop_drop(l, c);
        return;
    }
    c->last_ms = kvh_monotonic_ms();
    l->st.bytes_in += (uint64_t)n;
    kvh_loop_queue(l, c);
    kvh_loop_close_record(l, c, KV_IN_DATA | kvh_loop_news(c), (uint32_t)n);
}

static void kvh_loop_accept(struct kvh_loop *l, int lfd)
{
    for (int i = 0; i < KVH_ACCEPTS_PER_ITERATION; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;   /* EAGAIN, or out of fds: the rest wait in the backlog */
        if (l->nconns >= l->o.maxclients) {
            ssize_t w = send(fd, KVH_MAXCLIENTS_ERR, strlen(KVH_MAXCLIENTS_ERR),
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
            close(fd);
            l->st.refused++;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* fails on unix: fine */
        if (l->nconns == l->conns_cap) {
            size_t cap = l->conns_cap ? l->conns_cap * 2 : 64;
            struct kvh_conn **n = realloc(l->conns, cap * sizeof *n);
            if (!n) {
                close(fd);
                return;
            }
            l->conns = n;
            l->conns_cap = cap;
        }
        struct kvh_conn *c = kvh_conn_new(l->next_id, fd);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (!c || epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            if (c)
                kvh_conn_free(c);
            else
                close(fd);
            return;
        }
        l->next_id++;
        c->events = EPOLLIN;
        c->last_ms = kvh_monotonic_ms();
        l->conns[l->nconns++] = c;
        l->st.accepted++;
        kvh_loop_queue(l, c);
    }
}

/* Writes what c holds; arms it for the rest, or closes it. */
static void kvh_loop_write(struct kvh_loop *l, struct kvh_conn *c)
{
    if (c->fd < 0)
        return;
    int r = kvh_conn_flush(c);
    if (r < 0) {
        kvh_loop_drop(l, c);
        return;
    }
    if (r == 1 && c->closing) {
        kvh_loop_drop(l, c);
        return;
    }
    if (r == 1 && c->pending_inside) {
        c->ask = true;
        kvh_loop_queue(l, c);
    }
    kvh_loop_arm(l, c);
}

/* The records of clients that have news but no data this time. */
static int kvh_loop_finish_batch(struct kvh_loop *l)
{
    for (struct kvh_conn *c = l->queued; c; c = c->next_queued) {
        if (c->recorded || (!c->is_new && !c->gone && !c->ask))
            continue;
        size_t addr_len = c->is_new ? strlen(c->addr) : 0;
        char *rec = kvh_loop_record(l, addr_len);
        if (!rec)
            return -ENOMEM;
        if (c->ask)
            l->st.pending_asks++;
        memcpy(rec + sizeof(struct kv_client_in), c->addr, addr_len);
        kvh_loop_close_record(l, c, kvh_loop_news(c), (uint32_t)addr_len);
    }
    return 0;
}

/* Replies were kept inside for want of room: more next time; or they have
 * used little of it for a while: less. */
static void kvh_loop_size_room(struct kvh_loop *l, size_t out_len, bool pending)
{
    if (pending) {
        l->out_quiet = 0;
        if (l->out_room >= KVH_OUT_MAX)
            return;
        size_t room = l->out_room * 2;
        if (room > l->out_cap) {
            char *n = realloc(l->out, room);
            if (!n)
                return;
            l->out = n;
            l->out_cap = room;
        }
        l->out_room = room;
    } else if (l->out_room > KVH_OUT_MIN && out_len < l->out_room / 4) {
        if (++l->out_quiet >= KVH_OUT_QUIET) {
            l->out_room /= 2;
            l->out_quiet = 0;
        }
    } else {
        l->out_quiet = 0;
    }
}

/* The store's answer: each record's bytes to its client, in order. */
static int kvh_loop_replies(struct kvh_loop *l, size_t out_len, tm_error *err)
{
    if (out_len < sizeof(struct kv_batch_out))
        return tm_error_set(err, EPROTO, "the store answered a batch with %zu bytes", out_len);
    struct kv_batch_out h;
    memcpy(&h, l->out, sizeof h);
    if (h.flags & KV_SERVER_SHUTDOWN)
        l->shutdown = true;
    if (h.flags & KV_SERVER_BGSAVE)
        l->bgsave = true;
    size_t at = sizeof h;
    bool pending = false;
    for (uint32_t i = 0; i < h.count; i++) {
        struct kv_client_out r;
        if (out_len - at < sizeof r)
            return tm_error_set(err, EPROTO, "the store's record %u is truncated", i);
        memcpy(&r, l->out + at, sizeof r);
        if (r.len > out_len - at - sizeof r)
            return tm_error_set(err, EPROTO, "the store's record %u claims %u bytes", i, r.len);
        l->st.records_out++;
        struct kvh_conn *c = kvh_loop_find(l, r.id);
        if (c && c->fd >= 0 && !c->gone && !c->dead) {
            if (!kvh_conn_append(c, l->out + at + sizeof r, r.len))
                return tm_error_set(err, ENOMEM, "out of memory for a client's replies");
            l->st.bytes_out += r.len;
            if (r.flags & KV_OUT_CLOSE)
                c->closing = true;
            c->pending_inside = (r.flags & KV_OUT_PENDING) != 0;
            pending |= c->pending_inside;
            kvh_loop_write(l, c);
        }
        at += KV_RECORD_SIZE(r.len);
        if (at > out_len)
            at = out_len;
    }
    kvh_loop_size_room(l, out_len, pending);
    return 0;
}

/* One batch ecall with what was gathered (plus the cron flag). */
static int kvh_loop_batch(struct kvh_loop *l, bool cron, tm_error *err)
{
    int r = kvh_loop_finish_batch(l);
    if (r < 0)
        return tm_error_set(err, -r, "out of memory for the batch");
    uint32_t count = l->in_count;
    if (count == 0 && !cron)
        return 0;
    struct kv_batch_in bh = { .now_us = kvh_wall_us(), .count = count, .flags = cron ? KV_BATCH_CRON : 0 };
    memcpy(l->in, &bh, sizeof bh);
    size_t out_len = 0;
    int rc = 0;
    r = l->o.engine->call(l->o.engine, KV_ECALL_BATCH, l->in, l->in_len, l->out, l->out_room,
                          &out_len, &rc, err);
    l->st.batches++;
    if (r < 0)
        return r;
    if (rc < 0)
        return tm_error_set(err, -rc, "the store refused a batch of %u records (%s)", count,
                            strerror(-rc));
    return kvh_loop_replies(l, out_len, err);
}

/* The batch starts with its header; clients' records follow. A client that
 * got news after its record went in (gone while its replies were written,
 * replies kept inside) stays queued for the next one. */
static int kvh_loop_reset_batch(struct kvh_loop *l)
{
    struct kvh_conn *keep = NULL;
    for (struct kvh_conn *c = l->queued, *next; c; c = next) {
        next = c->next_queued;
        c->recorded = false;
        c->queued = c->is_new || c->gone || c->ask;
        if (c->queued) {
            c->next_queued = keep;
            keep = c;
        }
    }
    l->queued = keep;
    l->in_len = 0;
    l->in_count = 0;
    if (!kvh_loop_record(l, 0))
        return -ENOMEM;
    l->in_len = sizeof(struct kv_batch_in);
    return 0;
}

/* Frees the clients the store has been told are gone. */
static void kvh_loop_reap(struct kvh_loop *l)
{
    size_t k = 0;
    for (size_t i = 0; i < l->nconns; i++) {
        struct kvh_conn *c = l->conns[i];
        if (c->dead && !c->queued)
            kvh_conn_free(c);
        else
            l->conns[k++] = c;
    }
    l->nconns = k;
}

static void kvh_loop_idle(struct kvh_loop *l, uint64_t now)
{
    if (!l->o.timeout)
        return;
    for (size_t i = 0; i < l->nconns; i++) {
        struct kvh_conn *c = l->conns[i];
        if (c->fd >= 0 && !kvh_conn_has_output(c) && now - c->last_ms > l->o.timeout * 1000ULL)
            kvh_loop_drop(l, c);
    }
}

static bool kvh_loop_asks(const struct kvh_loop *l)
{
    for (const struct kvh_conn *c = l->queued; c; c = c->next_queued)
        if (c->ask || c->gone || c->is_new)
            return true;
    return false;
}

/* In the snapshot child: the listeners, clients and the loop's own fds are
 * the parent's (a child that outlives it must not hold the port). */
static void kvh_loop_close_in_child(void *ctx)
{
    struct kvh_loop *l = ctx;
    for (size_t i = 0; i < l->o.nlisteners; i++)
        close(l->o.listeners[i]);
    for (size_t i = 0; i < l->nconns; i++)
        if (l->conns[i]->fd >= 0)
            close(l->conns[i]->fd);
    close(l->ep);
    close(l->stop_fd);
}

/* The child of the BGSAVE the store began; its pipe joins the loop. */
static int kvh_loop_fork(struct kvh_loop *l, tm_error *err)
{
    l->bgsave = false;
    int fd = -1;
    if (kvh_persist_bgsave(l->o.engine, &fd, err) < 0)
        return 0;   /* told to the store: INFO says it failed; keep serving */
    l->child.fd = fd;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->child };
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        return tm_error_sys(err, "epoll_ctl");
    return 0;
}

/* Stop or SHUTDOWN: what is written is written, every client goes. */
static int kvh_loop_end(struct kvh_loop *l, tm_error *err)
{
    for (size_t i = 0; i < l->nconns; i++) {
        struct kvh_conn *c = l->conns[i];
        if (c->fd >= 0 && kvh_conn_has_output(c))
            kvh_conn_flush(c);
        kvh_loop_drop(l, c);
    }
    int r = l->shutdown ? 0 : kvh_loop_batch(l, false, err);
    kvh_loop_reset_batch(l);
    kvh_loop_reap(l);
    return r;
}

int kvh_loop_run(struct kvh_loop *l, tm_error *err)
{
    struct epoll_event ev[KVH_MAX_EVENTS];
    uint64_t tick = 1000 / l->o.hz;
    l->next_cron_ms = kvh_monotonic_ms() + tick;
    if (kvh_loop_reset_batch(l) < 0)
        return tm_error_set(err, ENOMEM, "out of memory");
    if (l->o.persist)
        kvh_persist_start(l->o.engine, kvh_loop_close_in_child, l);
    while (!l->stopping && !l->shutdown) {
        uint64_t now = kvh_monotonic_ms();
        int timeout = kvh_loop_asks(l) ? 0 : now >= l->next_cron_ms ? 0 : (int)(l->next_cron_ms - now);
        int n = epoll_wait(l->ep, ev, KVH_MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR)
            return tm_error_sys(err, "epoll_wait");
        for (int i = 0; i < n; i++) {
            struct kvh_source *s = ev[i].data.ptr;
            if (s == &l->child) {
                if (kvh_persist_child_event(l->o.engine, err))
                    l->child.fd = -1;   /* closed: out of epoll */
                continue;
            }
            if (s >= l->sources && s <= l->sources + l->o.nlisteners) {
                if (s->kind == KVH_SRC_STOP)
                    l->stopping = true;
                else
                    kvh_loop_accept(l, s->fd);
                continue;
            }
            struct kvh_conn *c = ev[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (ev[i].events & EPOLLOUT)
                kvh_loop_write(l, c);
            if (c->fd >= 0 && (ev[i].events & EPOLLIN))
                kvh_loop_read(l, c);
            else if (c->fd >= 0 && (ev[i].events & (EPOLLHUP | EPOLLERR)) && !(ev[i].events & EPOLLOUT))
                kvh_loop_drop(l, c);
        }
        if (l->stopping)
            break;
        now = kvh_monotonic_ms();
        bool cron = now >= l->next_cron_ms;
        if (cron) {
            l->next_cron_ms = now + tick;
            kvh_loop_idle(l, now);
        }
        int r = kvh_loop_batch(l, cron, err);
        if (kvh_loop_reset_batch(l) < 0 && r == 0)
            r = tm_error_set(err, ENOMEM, "out of memory");
        if (r < 0)
            return r;
        if (l->bgsave && (r = kvh_loop_fork(l, err)) < 0)
            return r;
        kvh_loop_reap(l);
    }
    return kvh_loop_end(l, err);
}

void kvh_loop_free(struct kvh_loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nconns; i++)
        kvh_conn_free(l->conns[i]);
    free(l->conns);
    if (l->ep >= 0)
        close(l->ep);
    if (l->stop_fd >= 0)
        close(l->stop_fd);
    free(l->sources);
    free(l->in);
    free(l->out);
    free(l);
}
