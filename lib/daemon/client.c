/* The management requests: CREATE, REMOVE, LIST, INSPECT, STATUS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/client.h"
#include "daemon/request.h"

static void info_from(struct tm_enclave_info *info, const struct tm_proto_enclave *e)
{
    memset(info, 0, sizeof *info);
    memcpy(info->name, e->name, sizeof info->name);
    snprintf(info->backend, sizeof info->backend, "%s", e->backend);
    snprintf(info->image, sizeof info->image, "%s", e->image);
    memcpy(info->mrenclave, e->mrenclave, 32);
    memcpy(info->mrsigner, e->mrsigner, 32);
    info->base = e->base;
    info->size = e->size;
    info->tcs_total = e->tcs_total;
    info->tcs_leased = e->tcs_leased;
    info->tcs_made = e->tcs_made;
    info->slots_total = e->slots_total;
    info->slots_in_use = e->slots_in_use;
    info->epc_shared = e->epc_shared;
    info->epc_total = e->epc_total;
    info->removing = e->removing;
    info->create_ms = e->create_ms;
    info->nattached = e->nattached;
    info->building = e->building != 0;
    info->build_pages_done = e->build_pages_done;
    info->build_pages_total = e->build_pages_total;
    info->tcs_quarantined = e->tcs_quarantined;
    info->slots_quarantined = e->slots_quarantined;
}

int tm_daemon_create(int conn, const char *name, int image_fd, int sig_fd, const char *backend,
                     const char *image_name, struct tm_enclave_info *info, char *note,
                     size_t note_len, tm_error *err)
{
    struct tm_proto_create c = { 0 };
    int ret = tm_enclave_name_check(name, err);
    if (ret < 0)
        return ret;
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.backend, sizeof c.backend, "%s", backend ? backend : "auto");
    if (image_name)
        snprintf(c.image_name, sizeof c.image_name, "%s", image_name);
    c.flags = sig_fd >= 0 ? TM_CREATE_HAS_SIG : 0;
    int fds[2] = { image_fd, sig_fd };
    _cleanup_reply_ struct tm_daemon_reply *r = NULL;
    ret = tm_daemon_request(conn, TM_REQ_CREATE, &c, sizeof c, fds, sig_fd >= 0 ? 2 : 1, &r, err);
    if (ret < 0)
        return ret;
    struct tm_proto_enclave e;
    memcpy(&e, r->payload, sizeof e);
    if ((ret = tm_proto_check_enclave(&e, err)) < 0)
        return ret;
    if (info)
        info_from(info, &e);
    if (note && note_len)
        snprintf(note, note_len, "%s", r->note);
    return 0;
}

static int name_request(const char *name, char out[TM_ENCLAVE_NAME_MAX + 1], tm_error *err)
{
    int ret = tm_enclave_name_check(name, err);
    if (ret == 0) {
        memset(out, 0, TM_ENCLAVE_NAME_MAX + 1);
        memcpy(out, name, strlen(name));
    }
    return ret;
}

int tm_daemon_remove(int conn, const char *name, bool force, bool *pending, tm_error *err)
{
    struct tm_proto_remove req = { .flags = force ? TM_REMOVE_FORCE : 0 };
    int ret = name_request(name, req.name, err);
    _cleanup_reply_ struct tm_daemon_reply *r = NULL;
    if (ret == 0)
        ret = tm_daemon_request(conn, TM_REQ_REMOVE, &req, sizeof req, NULL, 0, &r, err);
    if (ret < 0)
        return ret;
    struct tm_proto_remove_reply rr;
    memcpy(&rr, r->payload, sizeof rr);
    if (pending)
        *pending = rr.pending != 0;
    return 0;
}

int tm_daemon_list(int conn, struct tm_enclave_info **infos, size_t *count, tm_error *err)
{
    _cleanup_reply_ struct tm_daemon_reply *r = NULL;
    int ret = tm_daemon_request(conn, TM_REQ_LIST, NULL, 0, NULL, 0, &r, err);
    if (ret < 0)
        return ret;
    struct tm_proto_list head;
    memcpy(&head, r->payload, sizeof head);
    struct tm_enclave_info *out = calloc(head.count ? head.count : 1, sizeof *out);
    if (!out)
        return tm_error_set(err, ENOMEM, "out of memory");
    for (uint32_t i = 0; i < head.count; i++) {
        struct tm_proto_enclave e;
        memcpy(&e, (const uint8_t *)r->payload + sizeof head + i * sizeof e, sizeof e);
        info_from(&out[i], &e);
    }
    *infos = out;
    *count = head.count;
    return 0;
}

int tm_daemon_inspect(int conn, const char *name, struct tm_enclave_info *info, tm_error *err)
{
    struct tm_proto_name_req req;
    int ret = name_request(name, req.name, err);
    _cleanup_reply_ struct tm_daemon_reply *r = NULL;
    if (ret == 0)
        ret = tm_daemon_request(conn, TM_REQ_INSPECT, &req, sizeof req, NULL, 0, &r, err);
    if (ret < 0)
        return ret;
    struct tm_proto_inspect in;
    memcpy(&in, r->payload, sizeof in);
    if ((ret = tm_proto_check_inspect(&in, err)) < 0)
        return ret;
    info_from(info, &in.enclave);
    for (uint32_t i = 0; i < in.nattached; i++) {
        const struct tm_proto_attached *a = &in.attached[i];
        info->attached[i] = (struct tm_attached_info){
            .attach_id = a->attach_id, .pid = a->pid, .slot = a->slot,
            .parent_slot = a->parent_slot, .threads = a->threads, .epc_pages = a->epc_pages,
            .epc_limit_pages = a->epc_limit_pages,
        };
    }
    info->nquarantined = in.nquarantined;
    for (uint32_t i = 0; i < in.nquarantined; i++) {
        const struct tm_proto_quarantined *q = &in.quarantined[i];
        info->quarantined[i] = (struct tm_quarantined_info){ .tcs = q->tcs, .index = q->index };
        snprintf(info->quarantined[i].why, sizeof info->quarantined[i].why, "%s", q->why);
    }
    return 0;
}

int tm_daemon_status(int conn, struct tm_daemon_status *st, tm_error *err)
{
    _cleanup_reply_ struct tm_daemon_reply *r = NULL;
    int ret = tm_daemon_request(conn, TM_REQ_STATUS, NULL, 0, NULL, 0, &r, err);
    if (ret < 0)
        return ret;
    struct tm_proto_status s;
    memcpy(&s, r->payload, sizeof s);
    *st = (struct tm_daemon_status){
        .pid = s.pid, .enclaves = s.enclaves, .open_fds = s.open_fds, .leases = s.leases,
        .epc_pages = s.epc_pages, .requests = s.requests, .bad_requests = s.bad_requests,
        .conns = s.conns, .builds = s.builds, .conns_refused = s.conns_refused,
        .log_dropped = s.log_dropped, .epc_committed = s.epc_committed, .epc_limit = s.epc_limit,
    };
    return 0;
}
