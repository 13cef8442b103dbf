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

void tm_handle_list(struct tm_daemon *d, struct tm_daemon_answer *a)
{
    struct tm_proto_list head = { .count = d->nenclaves };
    memcpy(d->payload, &head, sizeof head);
    for (uint32_t i = 0; i < d->nenclaves; i++) {
        struct tm_proto_enclave e;
        tm_registry_describe(d->enclaves[i], &e);
        memcpy(d->payload + sizeof head + i * sizeof e, &e, sizeof e);
    }
    a->payload = d->payload;
    a->payload_len = sizeof head + d->nenclaves * sizeof(struct tm_proto_enclave);
}

void tm_handle_inspect(struct tm_daemon *d, const struct tm_request *req, struct tm_daemon_answer *a)
{
    struct tm_denclave *e = find_or_fail(d, req->u.inspect.name, a);
    if (!e)
        return;
    struct tm_proto_inspect *out = (struct tm_proto_inspect *)d->payload;
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
    };
    memcpy(d->payload, &st, sizeof st);
    a->payload = d->payload;
    a->payload_len = sizeof st;
}

void tm_handle_remove(struct tm_daemon *d, const struct tm_request *req, struct tm_daemon_answer *a)
{
    struct tm_denclave *e = find_or_fail(d, req->u.remove.name, a);
    if (!e)
        return;
    struct tm_proto_remove_reply r = { 0 };
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
