/* Replies: checks of what the daemon sent before a client relies on it (the
 * daemon is trusted, but a client must not map or index by a broken reply). */
#include "daemon/protocol.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096ULL

static bool backend_known(const char *b, size_t size)
{
    return tm_proto_field_terminated(b, size) && (!strcmp(b, "sim") || !strcmp(b, "sgx"));
}

static bool range_inside(uint64_t offset, uint64_t len, uint64_t size)
{
    return len <= size && offset <= size - len;
}

int tm_proto_check_enclave(const struct tm_proto_enclave *e, tm_error *err)
{
    if (!tm_proto_field_terminated(e->name, sizeof e->name) || !tm_enclave_name_valid(e->name) ||
        !backend_known(e->backend, sizeof e->backend) ||
        !tm_proto_field_terminated(e->image, sizeof e->image))
        return tm_error_set(err, EPROTO, "malformed enclave entry in a reply: bad name or backend");
    if (e->building > 1 || e->tcs_made > e->tcs_total || e->build_pages_done > e->build_pages_total)
        return tm_error_set(err, EPROTO, "malformed enclave entry '%s' in a reply: build progress",
                            e->name);
    if (e->tcs_leased > e->tcs_total || e->slots_in_use > e->slots_total || e->removing > 1 ||
        e->tcs_quarantined > e->tcs_leased || e->slots_quarantined > e->slots_in_use ||
        e->epc_shared > e->epc_total || (e->size & (e->size - 1)) || (e->base & (e->size - 1)))
        return tm_error_set(err, EPROTO, "malformed enclave entry '%s' in a reply: counts out of range",
                            e->name);
    return 0;
}

int tm_proto_check_list(const void *payload, size_t len, tm_error *err)
{
    struct tm_proto_list head;
    if (len < sizeof head)
        return tm_error_set(err, EPROTO, "truncated LIST reply");
    memcpy(&head, payload, sizeof head);
    if (head.count > TM_PROTO_MAX_ENCLAVES || head.reserved ||
        len != sizeof head + (size_t)head.count * sizeof(struct tm_proto_enclave))
        return tm_error_set(err, EPROTO, "LIST reply of %zu bytes does not hold %u entries", len,
                            head.count);
    for (uint32_t i = 0; i < head.count; i++) {
        struct tm_proto_enclave e;
        memcpy(&e, (const uint8_t *)payload + sizeof head + i * sizeof e, sizeof e);
        int ret = tm_proto_check_enclave(&e, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

int tm_proto_check_inspect(const struct tm_proto_inspect *in, tm_error *err)
{
    int ret = tm_proto_check_enclave(&in->enclave, err);
    if (ret < 0)
        return ret;
    if (in->nattached > 64 || in->nattached > in->enclave.nattached || in->reserved)
        return tm_error_set(err, EPROTO, "INSPECT reply with %u attached entries", in->nattached);
    for (uint32_t i = 0; i < in->nattached; i++) {
        const struct tm_proto_attached *a = &in->attached[i];
        if (a->slot >= in->enclave.slots_total || a->parent_slot < -1 ||
            (a->parent_slot >= 0 && (uint32_t)a->parent_slot >= in->enclave.slots_total) ||
            a->threads > TM_ATTACH_MAX_THREADS)
            return tm_error_set(err, EPROTO, "INSPECT reply: attached entry %u out of range", i);
    }
    if (in->nquarantined > TM_PROTO_MAX_QUARANTINED || in->reserved2 ||
        in->nquarantined > in->enclave.tcs_quarantined + in->enclave.slots_quarantined)
        return tm_error_set(err, EPROTO, "INSPECT reply with %u quarantined entries", in->nquarantined);
    for (uint32_t i = 0; i < in->nquarantined; i++) {
        const struct tm_proto_quarantined *q = &in->quarantined[i];
        if (q->tcs > 1 || q->index >= (q->tcs ? in->enclave.tcs_total : in->enclave.slots_total) ||
            !tm_proto_field_terminated(q->why, sizeof q->why))
            return tm_error_set(err, EPROTO, "INSPECT reply: quarantined entry %u malformed", i);
    }
    return 0;
}

static int check_views(const struct tm_proto_attach_reply *r, tm_error *err)
{
    if (r->nviews < 1 || r->nviews > TM_ATTACH_MAX_VIEWS)
        return tm_error_set(err, EPROTO, "attach reply with %u views", r->nviews);
    for (uint32_t i = 0; i < r->nviews; i++) {
        const struct tm_proto_view *v = &r->views[i];
        if (v->offset % PAGE || v->len % PAGE || !v->len || !range_inside(v->offset, v->len, r->size) ||
            v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC) || v->reserved)
            return tm_error_set(err, EPROTO, "attach reply: view %u [0x%llx +0x%llx] is not a "
                                "page range of the enclave", i, (unsigned long long)v->offset,
                                (unsigned long long)v->len);
    }
    return 0;
}

int tm_proto_check_attach_reply(const struct tm_proto_attach_reply *r, int nfds, tm_error *err)
{
    const struct tm_enclave_regions *g = &r->regions;
    if (r->size < 2 * PAGE || (r->size & (r->size - 1)) || !r->base || (r->base & (r->size - 1)) ||
        r->base + r->size < r->base)
        return tm_error_set(err, EPROTO, "attach reply: ELRANGE 0x%llx +0x%llx is not naturally aligned",
                            (unsigned long long)r->base, (unsigned long long)r->size);
    if (!tm_proto_field_terminated(r->name, sizeof r->name) || !tm_enclave_name_valid(r->name) ||
        !backend_known(r->backend, sizeof r->backend) || !r->attach_id)
        return tm_error_set(err, EPROTO, "attach reply: bad name, backend or id");
    if (g->enclave_size != r->size || r->slot >= g->slot_count || r->slot_size != g->slot_size ||
        r->slot_offset != g->slots_offset + (uint64_t)r->slot * g->slot_size ||
        !range_inside(r->slot_offset, r->slot_size, r->size) || r->slot_offset % PAGE ||
        r->slot_size % PAGE || !range_inside(g->heap_offset, g->heap_size, r->size) ||
        g->image_size > r->size)
        return tm_error_set(err, EPROTO, "attach reply: slot %u does not fit the layout", r->slot);
    if ((uint64_t)r->slot_limit_pages * PAGE > r->slot_size)
        return tm_error_set(err, EPROTO, "attach reply: a cap of %u pages on a slot of 0x%llx bytes",
                            r->slot_limit_pages, (unsigned long long)r->slot_size);
    if (r->parent_slot < -1 || (r->parent_slot >= 0 && ((uint32_t)r->parent_slot >= g->slot_count ||
                                                        (uint32_t)r->parent_slot == r->slot)))
        return tm_error_set(err, EPROTO, "attach reply: parent slot %d", r->parent_slot);
    if (r->nthreads < 1 || r->nthreads > TM_ATTACH_MAX_THREADS || r->nthreads > g->tcs_count)
        return tm_error_set(err, EPROTO, "attach reply with %u threads", r->nthreads);
    for (uint32_t i = 0; i < r->nthreads; i++)
        if (r->tcs_offsets[i] % PAGE || r->tcs_offsets[i] >= r->size)
            return tm_error_set(err, EPROTO, "attach reply: TCS %u offset 0x%llx", i,
                                (unsigned long long)r->tcs_offsets[i]);
    if (r->nfds < 1 || r->nfds > TM_PROTO_MAX_FDS || (int)r->nfds != nfds)
        return tm_error_set(err, EPROTO, "attach reply names %u fds, %d arrived", r->nfds, nfds);
    return check_views(r, err);
}
