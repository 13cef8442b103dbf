/* LIST, INSPECT, STATUS and REMOVE. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemon/state.h"

static struct tm_denclave *find_or_fail(struct tm_daemon *d, const char *name,
                                        struct tm_daemon_answer *a)
{
    struct tm_denclave *e = tm_registry_find(d, name);
    if (!e)
        a->status = tm_error_set(&a->err, ENOENT, "no enclave named '%s' (teemate enclave ls)", name);
    return e;
}

/* The enclaves, then the builds in progress (their progress read as it is now). */
void tm_handle_list(struct tm_daemon *d, struct tm_daemon_answer *a)
{
    struct tm_proto_list head = { 0 };
    struct tm_proto_enclave e;
    for (uint32_t i = 0; i < d->nenclaves; i++) {
        tm_registry_describe(d->enclaves[i], &e);
        memcpy(d->payload + sizeof head + head.count++ * sizeof e, &e, sizeof e);
    }
    for (const struct tm_build *b = d->builds; b && head.count < TM_PROTO_MAX_ENCLAVES; b = b->next) {
        if (atomic_load(&b->cancel))
            continue;
        tm_registry_describe_build(b, &e);
        memcpy(d->payload + sizeof head + head.count++ * sizeof e, &e, sizeof e);
    }
    memcpy(d->payload, &head, sizeof head);
    a->payload = d->payload;
    a->payload_len = sizeof head + head.count * sizeof(struct tm_proto_enclave);
}

void tm_handle_inspect(struct tm_daemon *d, const struct tm_request *req, struct tm_daemon_answer *a)
{
    struct tm_proto_inspect *out = (struct tm_proto_inspect *)d->payload;
    struct tm_build *b = tm_registry_find(d, req->u.inspect.name)
                             ? NULL : tm_registry_find_build(d, req->u.inspect.name);
    if (b) {
        memset(out, 0, sizeof *out);
        tm_registry_describe_build(b, &out->enclave);
        a->payload = out;
        a->payload_len = sizeof *out;
        return;
    }
    struct tm_denclave *e = find_or_fail(d, req->u.inspect.name, a);
    if (!e)
        return;
    tm_registry_inspect(e, out);
    a->payload = out;
    a->payload_len = sizeof *out;
}

/* Open fds of this process: the leak check's measure. */
static uint32_t open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 0;
    uint32_t n = 0;
    for (struct dirent *de; (de = readdir(dir));)
        n += de->d_name[0] != '.';
    closedir(dir);
    return n ? n - 1 : 0;   /* not the directory's own fd */
}

void tm_handle_status(struct tm_daemon *d, struct tm_daemon_answer *a)
{
    struct tm_proto_status st = {
        .pid = (int32_t)getpid(), .enclaves = d->nenclaves, .open_fds = open_fds(),
        .leases = tm_registry_leases(d), .epc_pages = tm_registry_epc_pages(d),
        .requests = d->requests, .bad_requests = d->bad_requests,
        .conns = d->nconns, .builds = d->nbuilds, .conns_refused = d->conns_refused,
        .log_dropped = d->log_dropped, .epc_committed = atomic_load(&d->epc_committed),
        .epc_limit = d->limits.max_epc_pages,
    };
    memcpy(d->payload, &st, sizeof st);
    a->payload = d->payload;
    a->payload_len = sizeof st;
}

void tm_handle_remove(struct tm_daemon *d, const struct tm_request *req, struct tm_daemon_answer *a)
{
    struct tm_proto_remove_reply r = { 0 };
    struct tm_build *b = tm_registry_find(d, req->u.remove.name)
                             ? NULL : tm_registry_find_build(d, req->u.remove.name);
    if (b) {   /* the build stops at its next chunk of pages; its creator is told */
        atomic_store(&b->cancel, true);
        tm_daemon_log("cancelled the build of enclave %s", b->req.name);
        memcpy(d->payload, &r, sizeof r);
        a->payload = d->payload;
        a->payload_len = sizeof r;
        return;
    }
    struct tm_denclave *e = find_or_fail(d, req->u.remove.name, a);
    if (!e)
        return;
    if (e->nleases && !(req->u.remove.flags & TM_REMOVE_FORCE)) {
        a->status = tm_error_set(&a->err, EBUSY, "enclave '%s' is in use by %u process%s "
                                 "(--force removes it after the last one detaches)",
                                 e->name, e->nleases, e->nleases == 1 ? "" : "es");
        return;
    }
    if (e->nleases) {
        e->removing = true;
        r.pending = 1;
        tm_daemon_log("removing enclave %s after its %u attached process%s", e->name, e->nleases,
                      e->nleases == 1 ? "" : "es");
    } else {
        tm_daemon_log("removed enclave %s", e->name);
        tm_registry_remove(d, e);
    }
    memcpy(d->payload, &r, sizeof r);
    a->payload = d->payload;
    a->payload_len = sizeof r;
}
