/* Attaching this process to an enclave teemated owns: ask for a lease, take
 * the enclave's fds, map the views the daemon names at the same addresses as
 * every other process, and enter only through the leased TCSs. */
#include "shared/attach.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/client.h"
#include "daemon/request.h"
#include "shared/attach_internal.h"
#include "util/clock.h"

static const struct tm_backend_ops *ops_named(const char *name)
{
    if (!strcmp(name, tm_backend_sim.name))
        return &tm_backend_sim;
    if (!strcmp(name, tm_backend_sgx.name))
        return &tm_backend_sgx;
    return NULL;
}

struct tm_attachment *tm_attachment_new(void)
{
    struct tm_attachment *a = calloc(1, sizeof *a);
    if (a) {
        a->conn = -1;
        a->parent_slot = -1;
        a->stats.first_entry_ms = -1;
    }
    return a;
}

/* The reply's fields into a (checked already). */
static void take_reply(struct tm_attachment *a, const struct tm_proto_attach_reply *r)
{
    a->attach_id = r->attach_id;
    a->base = r->base;
    a->size = r->size;
    a->regions = r->regions;
    memcpy(a->mrenclave, r->mrenclave, sizeof a->mrenclave);
    memcpy(a->name, r->name, sizeof a->name);
    a->slot = r->slot;
    a->slot_offset = r->slot_offset;
    a->slot_size = r->slot_size;
    a->slot_limit = (uint64_t)r->slot_limit_pages * SGX_PAGE_SIZE;
    a->parent_slot = r->parent_slot;
    memcpy(a->token, r->token, sizeof a->token);
    a->nthreads = r->nthreads;
    memcpy(a->tcs_offsets, r->tcs_offsets, sizeof(uint64_t) * r->nthreads);
    a->nviews = r->nviews;
    for (uint32_t i = 0; i < r->nviews; i++)
        a->views[i] = (struct tm_attach_view){ .offset = r->views[i].offset, .len = r->views[i].len,
                                               .prot = (int)r->views[i].prot };
}

static int map_views(struct tm_attachment *a, const struct tm_proto_attach_reply *r,
                     const int *fds, int nfds, tm_error *err)
{
    a->ops = ops_named(r->backend);
    if (!a->ops)
        return tm_error_set(err, EPROTO, "teemated named an unknown backend '%s'", r->backend);
    if (!a->ops->attach || !a->ops->map)
        return tm_error_set(err, ENOSYS, "the %s backend cannot attach to shared enclaves (yet)",
                            a->ops->name);
    /* The backend dups the fds; ours close with the reply. */
    int ret = a->ops->attach(fds, nfds, a->base, a->size, &a->be, err);
    for (size_t i = 0; ret == 0 && i < a->nviews; i++)
        ret = a->ops->map(a->be, a->views[i].offset, a->views[i].len, a->views[i].prot, err);
    if (ret < 0)
        tm_error_prefix(err, "attaching to enclave '%s'", a->name);
    return ret;
}

int tm_attach_request(struct tm_attachment *a, enum tm_proto_type type, const void *req,
                      size_t req_len, tm_error *err)
{
    double t0 = tm_now_ms();
    _cleanup_reply_ struct tm_daemon_reply *reply = NULL;
    int ret = tm_daemon_request(a->conn, type, req, req_len, NULL, 0, &reply, err);
    if (ret < 0)
        return ret;
    double t1 = tm_now_ms();
    /* Aligned copy: the reply buffer is bytes. */
    struct tm_proto_attach_reply *r = malloc(sizeof *r);
    if (!r)
        return tm_error_set(err, ENOMEM, "out of memory");
    memcpy(r, reply->payload, sizeof *r);
    ret = tm_proto_check_attach_reply(r, reply->nfds, err);
    if (ret == 0) {
        take_reply(a, r);
        ret = map_views(a, r, reply->fds, reply->nfds, err);
    }
    free(r);
    a->stats.request_ms = t1 - t0;
    a->stats.map_ms = tm_now_ms() - t1;
    return ret;
}

uint32_t tm_attach_limit_pages(uint64_t bytes)
{
    uint64_t pages = bytes / SGX_PAGE_SIZE + (bytes % SGX_PAGE_SIZE != 0);
    return pages > UINT32_MAX ? UINT32_MAX : (uint32_t)pages;   /* the daemon clamps to the slot */
}

int tm_attach(const char *name, const struct tm_attach_options *opts, struct tm_attachment **out,
              tm_error *err)
{
    static const struct tm_attach_options defaults = { 0 };
    if (!opts)
        opts = &defaults;
    struct tm_proto_attach req = { .threads = opts->threads ? opts->threads : 1,
                                   .slot_limit_pages = tm_attach_limit_pages(opts->slot_limit) };
    int ret = tm_enclave_name_check(name, err);
    if (ret < 0)
        return ret;
    memcpy(req.name, name, strlen(name));
    struct tm_attachment *a = tm_attachment_new();
    if (!a)
        return tm_error_set(err, ENOMEM, "out of memory");
    ret = tm_daemon_socket_resolve(opts->socket_path, a->socket_path, sizeof a->socket_path, err);
    if (ret < 0) {
        tm_detach(a);
        return ret;
    }
    double t0 = tm_now_ms();
    a->conn = tm_daemon_connect(a->socket_path, !opts->no_autostart, &a->stats.daemon_started, err);
    a->stats.connect_ms = tm_now_ms() - t0;
    ret = a->conn < 0 ? a->conn : tm_attach_request(a, TM_REQ_ATTACH, &req, sizeof req, err);
    if (ret < 0) {
        tm_detach(a);
        return ret;
    }
    *out = a;
    return 0;
}

int tm_attach_ecall(struct tm_attachment *a, uint32_t thread, struct tm_ecall_call *call,
                    tm_error *err)
{
    if (!a->be)
        return tm_error_set(err, ENOTCONN, "not attached");
    if (thread >= a->nthreads)
        return tm_error_set(err, EINVAL, "thread %u: this attachment leases %u", thread, a->nthreads);
    memcpy(call->lease_token, a->token, sizeof call->lease_token);
    return tm_ecall(a->ops, a->be, a->base, a->size, a->tcs_offsets[thread], call, err);
}

int tm_attach_first_entry(struct tm_attachment *a, tm_error *err)
{
    struct tm_ecall_call ping = { .ecall = TM_ECALL_PING };
    double t0 = tm_now_ms();
    int ret = tm_attach_ecall(a, 0, &ping, err);
    a->stats.first_entry_ms = tm_now_ms() - t0;
    if (ret == 0 && ping.retval != 0)
        ret = tm_error_set(err, EPROTO, "the enclave answered PING with %lld", (long long)ping.retval);
    return ret;
}

void tm_detach(struct tm_attachment *a)
{
    if (!a)
        return;
    /* Unmap first: the daemon trims the slot, and the sim revokes only the
     * trimming process's mapping, so nothing here may still map it. */
    if (a->be)
        a->ops->destroy(a->be);
    a->be = NULL;
    if (a->conn >= 0 && a->attach_id) {
        /* Best effort: if the daemon is gone (or restarted) there is nothing to give back. */
        struct tm_proto_detach req = { .attach_id = a->attach_id };
        memcpy(req.token, a->token, sizeof req.token);
        struct tm_daemon_reply *reply = NULL;
        tm_error ignored;
        tm_daemon_request(a->conn, TM_REQ_DETACH, &req, sizeof req, NULL, 0, &reply, &ignored);
        tm_daemon_reply_free(reply);
    }
    if (a->conn >= 0)
        close(a->conn);
    explicit_bzero(a->token, sizeof a->token);
    free(a);
}

void tm_detachp(struct tm_attachment **a)
{
    tm_detach(*a);
}
