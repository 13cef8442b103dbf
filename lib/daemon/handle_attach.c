/* ATTACH and FORK: lease a slot and TCSs to the connecting process, bind them
 * inside the enclave, and answer with everything it needs to map its views:
 * the layout, the views, the TCS offsets, the token and the enclave's fds. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/state.h"
#include "enclave/elf.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77   /* Linux 6.5; older headers lack it */
#endif

_Static_assert(TM_ELF_MAX_SEGMENTS <= 32, "TM_ATTACH_MAX_VIEWS counts 32 segments");

/* A pidfd of the process at the other end: from the socket itself where the
 * kernel can (no pid reuse race), else pidfd_open of SO_PEERCRED's pid, then
 * a look at the connection: a peer that died before the pidfd_open (its pid
 * may be another process's now) has hung up. A peer that dies after it is
 * seen through the pidfd: its lease ends on the pidfd event, or before the
 * next request (server.c's tidy). */
static int peer_pidfd(const struct tm_conn *c, tm_error *err)
{
    int fd = -1;
    socklen_t len = sizeof fd;
    if (getsockopt(c->fd, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0 && fd >= 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    if (errno != ENOPROTOOPT && errno != EINVAL)
        return tm_error_sys(err, "the attaching process %d", (int)c->pid);
    fd = pidfd_open(c->pid, 0);
    if (fd < 0)
        return tm_error_sys(err, "cannot watch the attaching process %d", (int)c->pid);
    struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP))) {
        close(fd);
        return tm_error_set(err, ESRCH, "the attaching process %d is gone", (int)c->pid);
    }
    return fd;
}

static int prot_of(uint64_t secinfo)
{
    return (secinfo & SGX_SECINFO_R ? PROT_READ : 0) | (secinfo & SGX_SECINFO_W ? PROT_WRITE : 0) |
           (secinfo & SGX_SECINFO_X ? PROT_EXEC : 0);
}

static void add_view(struct tm_proto_attach_reply *r, uint64_t offset, uint64_t len, int prot)
{
    struct tm_proto_view *last = r->nviews ? &r->views[r->nviews - 1] : NULL;
    if (last && last->offset + last->len == offset && last->prot == (uint32_t)prot) {
        last->len += len;   /* adjacent and alike: one mapping */
        return;
    }
    if (r->nviews < TM_ATTACH_MAX_VIEWS)
        r->views[r->nviews++] = (struct tm_proto_view){ .offset = offset, .len = len,
                                                        .prot = (uint32_t)prot };
}

static bool leased_thread(const struct tm_lease *l, uint32_t index)
{
    for (uint32_t i = 0; i < l->nthreads; i++)
        if (l->tcs[i] == index)
            return true;
    return false;
}

/* The cap a request asks for as the enclave applies it: 0 (none), else at
 * most the slot's pages; and at most what is left of --max-epc (budget.c). */
static int slot_cap(struct tm_daemon *d, const struct tm_denclave *e, uint32_t pages,
                    uint32_t *cap, tm_error *err)
{
    uint64_t slot = e->image->layout.regions.slot_size / SGX_PAGE_SIZE;
    uint64_t asked = pages > slot ? slot : pages, left = tm_budget_left(d);
    if (slot && left == 0)
        return tm_error_set(err, ENOSPC, "enclave '%s': teemated's EPC limit (%llu MiB) is used up: "
                            "wait for instances to end, or start teemated with a larger --max-epc",
                            e->name, (unsigned long long)(d->limits.max_epc_pages >> 8));
    if (left < (asked ? asked : slot))
        asked = left;   /* clipped: malloc fails inside at the cap */
    *cap = (uint32_t)asked;
    return 0;
}

/* How much of a slot its process maps: the whole slot, or its cap. The
 * enclave's allocator grows from the slot's start and never past the cap
 * (abi/tm_lease.h), so nothing it uses lies beyond; and without a mapping
 * there the process cannot fault pages in (the driver EAUGs on any fault in
 * a mapped enclave range, from inside the enclave or not). */
static uint64_t slot_view_len(const struct tm_denclave *e, uint32_t limit_pages)
{
    return limit_pages ? (uint64_t)limit_pages * SGX_PAGE_SIZE : e->image->layout.regions.slot_size;
}

/* What this process may map: the image (each segment with its permissions),
 * the heap, its threads' pages, its slot (up to its cap), and a forked
 * child's parent slot read-only (up to the parent's cap: all it ever held).
 * Never another container's slot or thread. */
static void views_for(const struct tm_denclave *e, const struct tm_lease *l,
                      const struct tm_lease *parent, struct tm_proto_attach_reply *r)
{
    const struct tm_layout *lay = &e->image->layout;
    for (size_t i = 0; i < lay->nranges; i++) {
        const struct tm_page_range *g = &lay->ranges[i];
        switch (g->kind) {
        case TM_RANGE_SEGMENT:
            add_view(r, g->offset, g->size, prot_of(g->secinfo_flags));
            break;
        case TM_RANGE_HEAP:
            add_view(r, g->offset, g->size, PROT_READ | PROT_WRITE);
            break;
        case TM_RANGE_STACK:
        case TM_RANGE_TCS:
        case TM_RANGE_SSA:
        case TM_RANGE_THREAD_DATA:
            if (leased_thread(l, g->index))
                add_view(r, g->offset, g->size, PROT_READ | PROT_WRITE);
            break;
        case TM_RANGE_SLOT:
            if (g->index == l->slot)
                add_view(r, g->offset, slot_view_len(e, l->limit_pages), PROT_READ | PROT_WRITE);
            else if (parent && g->index == parent->slot)
                add_view(r, g->offset, slot_view_len(e, parent->limit_pages), PROT_READ);
            break;
        }
    }
}

static void reply_for(struct tm_daemon *d, const struct tm_denclave *e, const struct tm_lease *l,
                      const struct tm_lease *parent, struct tm_daemon_answer *a)
{
    const struct tm_enclave *en = e->enclave;
    const struct tm_enclave_regions *g = &e->image->layout.regions;
    struct tm_proto_attach_reply *r = (struct tm_proto_attach_reply *)d->payload;
    memset(r, 0, sizeof *r);
    r->attach_id = l->id;
    r->base = en->base;
    r->size = en->size;
    r->regions = *g;
    memcpy(r->mrenclave, e->mrenclave, sizeof r->mrenclave);
    strncpy(r->backend, en->ops->name, sizeof r->backend - 1);
    memcpy(r->name, e->name, sizeof r->name);
    r->slot = l->slot;
    r->parent_slot = l->parent_slot;
    r->slot_offset = g->slots_offset + (uint64_t)l->slot * g->slot_size;
    r->slot_size = g->slot_size;
    r->slot_limit_pages = l->limit_pages;
    memcpy(r->token, l->token, sizeof r->token);
    r->nthreads = l->nthreads;
    for (uint32_t i = 0; i < l->nthreads; i++)
        r->tcs_offsets[i] = tm_enclave_tcs_offset(en, l->tcs[i]);
    views_for(e, l, parent, r);
    a->nfds = en->ops->export_fds(en->be, a->fds);
    r->nfds = (uint32_t)a->nfds;
    a->payload = r;
    a->payload_len = sizeof *r;
}

/* The parent of a FORK: a live lease of this enclave, proven by its token. */
static int fork_parent(struct tm_daemon *d, const struct tm_denclave *e,
                       const struct tm_proto_fork *f, struct tm_lease **parent, tm_error *err)
{
    struct tm_lease *p = tm_registry_lease(d, f->parent_id);
    uint8_t diff = 0;
    for (size_t i = 0; p && i < sizeof p->token; i++)   /* constant time */
        diff |= p->token[i] ^ f->parent_token[i];
    if (!p || p->enclave != e || diff)
        return tm_error_set(err, EPERM, "enclave '%s' has no attach %" PRIu64 " with that token",
                            e->name, f->parent_id);
    *parent = p;
    return 0;
}

static int attach(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                  struct tm_daemon_answer *a)
{
    bool fork = req->type == TM_REQ_FORK;
    const char *name = fork ? req->u.fork.name : req->u.attach.name;
    uint32_t threads = fork ? req->u.fork.threads : req->u.attach.threads;
    uint32_t limit = fork ? req->u.fork.slot_limit_pages : req->u.attach.slot_limit_pages;
    tm_error *err = &a->err;
    struct tm_denclave *e = tm_registry_find(d, name);
    if (!e)
        return tm_error_set(err, ENOENT, "no enclave named '%s' (teemate enclave ls)", name);
    if (e->removing)
        return tm_error_set(err, ENOENT, "enclave '%s' is being removed", name);
    int ret = tm_lease_supported(e, err);
    if (ret < 0)
        return ret;
    if (threads > e->pool.ntcs)
        return tm_error_set(err, EINVAL, "enclave '%s' has %u TCSs: %u threads cannot be leased",
                            name, e->pool.ntcs, threads);
    struct tm_lease *parent = NULL;
    if (fork && (ret = fork_parent(d, e, &req->u.fork, &parent, err)) < 0)
        return ret;
    struct tm_lease *l = calloc(1, sizeof *l);
    if (!l)
        return tm_error_set(err, ENOMEM, "out of memory");
    l->id = ++d->next_id;
    l->enclave = e;
    l->pid = c->pid;
    l->conn_id = c->id;
    l->parent_slot = parent ? (int32_t)parent->slot : -1;
    if ((ret = slot_cap(d, e, limit, &l->limit_pages, err)) < 0) {
        free(l);
        return ret;
    }
    l->pidfd = peer_pidfd(c, err);
    if (l->pidfd < 0) {
        free(l);
        return -err->code;
    }
    ret = tm_pool_take(&e->pool, threads, l->parent_slot, &l->slot, l->tcs, err);
    if (ret < 0) {
        close(l->pidfd);
        free(l);
        return tm_error_prefix(err, "enclave '%s'", name);
    }
    l->nthreads = threads;
    ret = tm_lease_bind(e, l, parent, tm_budget_left(d), err);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TM_TAG(TM_TAG_LEASE, l->id) };
    if (ret == 0 && epoll_ctl(d->epfd, EPOLL_CTL_ADD, l->pidfd, &ev) < 0) {
        ret = tm_error_sys(err, "cannot watch process %d", (int)l->pid);
        tm_error undo = { 0 };
        tm_lease_end(e, l, true, &undo);
    }
    if (ret < 0) {
        close(l->pidfd);
        free(l);
        return ret;
    }
    l->next = e->leases;
    e->leases = l;
    e->nleases++;
    reply_for(d, e, l, parent, a);
    char cap[48] = "";
    if (l->limit_pages)
        snprintf(cap, sizeof cap, ", capped at %u pages", l->limit_pages);
    tm_daemon_log("%s %s: pid %d, attach %" PRIu64 ", slot %u%s%s, %u TCS from %u", fork ? "fork" : "attach",
                  name, (int)l->pid, l->id, l->slot, parent ? " (child)" : "", cap, l->nthreads, l->tcs[0]);
    return 0;
}

void tm_handle_attach(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                      struct tm_daemon_answer *a)
{
    a->status = attach(d, c, req, a);
}
