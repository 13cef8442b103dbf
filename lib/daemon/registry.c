/* The daemon's enclaves by name, and what it tells about them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/state.h"

struct tm_denclave *tm_registry_find(struct tm_daemon *d, const char *name)
{
    for (uint32_t i = 0; i < d->nenclaves; i++)
        if (!strcmp(d->enclaves[i]->name, name))
            return d->enclaves[i];
    return NULL;
}

struct tm_build *tm_registry_find_build(struct tm_daemon *d, const char *name)
{
    for (struct tm_build *b = d->builds; b; b = b->next)
        if (!strcmp(b->req.name, name) && !atomic_load(&b->cancel))
            return b;
    return NULL;
}

struct tm_lease *tm_registry_lease(struct tm_daemon *d, uint64_t id)
{
    for (uint32_t i = 0; i < d->nenclaves; i++)
        for (struct tm_lease *l = d->enclaves[i]->leases; l; l = l->next)
            if (l->id == id)
                return l;
    return NULL;
}

int tm_registry_add(struct tm_daemon *d, struct tm_denclave *e, tm_error *err)
{
    if (tm_registry_find(d, e->name))
        return tm_error_set(err, EEXIST, "an enclave named '%s' already exists", e->name);
    if (d->nenclaves == TM_PROTO_MAX_ENCLAVES)
        return tm_error_set(err, ENOSPC, "teemated holds %d enclaves already (remove one first)",
                            TM_PROTO_MAX_ENCLAVES);
    d->enclaves[d->nenclaves++] = e;
    return 0;
}

/* A build in progress: what is known before EINIT (no measurement yet). */
void tm_registry_describe_build(const struct tm_build *b, struct tm_proto_enclave *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->name, b->req.name, sizeof out->name);
    strncpy(out->backend, b->ops->name, sizeof out->backend - 1);
    memcpy(out->image, b->req.image_name, sizeof out->image);
    uint64_t size = atomic_load(&b->size);
    out->size = size & (size - 1) ? 0 : size;
    out->building = 1;
    out->build_pages_total = atomic_load(&b->pages_total);
    uint64_t done = atomic_load(&b->pages_done);
    out->build_pages_done = done < out->build_pages_total ? done : out->build_pages_total;
}

void tm_denclave_free(struct tm_denclave *e)
{
    if (!e)
        return;
    tm_enclave_destroy(e->enclave);
    tm_image_free(e->image);
    tm_pool_free(&e->pool);
    free(e);
}

void tm_registry_remove(struct tm_daemon *d, struct tm_denclave *e)
{
    atomic_fetch_sub(&d->epc_committed, e->epc_commit);
    for (uint32_t i = 0; i < d->nenclaves; i++) {
        if (d->enclaves[i] == e) {
            d->enclaves[i] = d->enclaves[--d->nenclaves];
            d->enclaves[d->nenclaves] = NULL;
            break;
        }
    }
    tm_denclave_free(e);
}

uint32_t tm_registry_leases(const struct tm_daemon *d)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->nenclaves; i++)
        n += d->enclaves[i]->nleases;
    return n;
}

uint64_t tm_registry_epc_pages(const struct tm_daemon *d)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < d->nenclaves; i++) {
        const struct tm_enclave *en = d->enclaves[i]->enclave;
        n += en->ops->epc_pages(en->be);
    }
    return n;
}

static uint64_t slot_pages(const struct tm_denclave *e, uint32_t slot)
{
    const struct tm_enclave *en = e->enclave;
    const struct tm_enclave_regions *g = &e->image->layout.regions;
    if (!en->ops->epc_pages_in || slot >= g->slot_count)
        return 0;
    return en->ops->epc_pages_in(en->be, g->slots_offset + (uint64_t)slot * g->slot_size,
                                 g->slot_size);
}

void tm_registry_describe(const struct tm_denclave *e, struct tm_proto_enclave *out)
{
    const struct tm_enclave *en = e->enclave;
    const struct tm_enclave_regions *g = &e->image->layout.regions;
    memset(out, 0, sizeof *out);
    memcpy(out->name, e->name, sizeof out->name);
    strncpy(out->backend, en->ops->name, sizeof out->backend - 1);
    memcpy(out->image, e->image_name, sizeof out->image);
    memcpy(out->mrenclave, e->mrenclave, 32);
    memcpy(out->mrsigner, e->mrsigner, 32);
    out->base = en->base;
    out->size = en->size;
    out->tcs_total = e->pool.ntcs;
    out->tcs_leased = tm_pool_tcs_in_use(&e->pool);
    out->tcs_made = tm_pool_tcs_made(&e->pool);
    out->slots_total = e->pool.nslots;
    out->slots_in_use = tm_pool_slots_in_use(&e->pool);
    out->epc_total = en->ops->epc_pages(en->be);
    uint64_t in_slots = en->ops->epc_pages_in && g->slot_count
                            ? en->ops->epc_pages_in(en->be, g->slots_offset,
                                                    (uint64_t)g->slot_count * g->slot_size)
                            : 0;
    out->epc_shared = in_slots <= out->epc_total ? out->epc_total - in_slots : 0;
    out->removing = e->removing;
    out->nattached = e->nleases;
    out->create_ms = e->create_ms;
    out->tcs_quarantined = tm_pool_tcs_quarantined(&e->pool);
    out->slots_quarantined = tm_pool_slots_quarantined(&e->pool);
}

static void quarantined(struct tm_proto_inspect *out, uint32_t tcs, uint32_t index, const char *why)
{
    if (out->nquarantined == TM_PROTO_MAX_QUARANTINED)
        return;
    struct tm_proto_quarantined *q = &out->quarantined[out->nquarantined++];
    q->tcs = tcs;
    q->index = index;
    snprintf(q->why, sizeof q->why, "%s", why);
}

void tm_registry_inspect(const struct tm_denclave *e, struct tm_proto_inspect *out)
{
    memset(out, 0, sizeof *out);
    tm_registry_describe(e, &out->enclave);
    for (const struct tm_lease *l = e->leases; l && out->nattached < 64; l = l->next) {
        struct tm_proto_attached *a = &out->attached[out->nattached++];
        a->attach_id = l->id;
        a->pid = l->pid;
        a->slot = l->slot;
        a->parent_slot = l->parent_slot;
        a->threads = l->nthreads;
        a->epc_pages = slot_pages(e, l->slot);
        a->epc_limit_pages = l->limit_pages;
    }
    for (uint32_t i = 0; i < e->pool.nslots; i++)
        if (e->pool.slots[i].state == TM_SLOT_QUARANTINED)
            quarantined(out, 0, i, e->pool.slots[i].why);
    for (uint32_t i = 0; i < e->pool.ntcs; i++)
        if (e->pool.tcs[i] == TM_POOL_TCS_QUARANTINED)
            quarantined(out, 1, i, e->pool.tcs_why[i]);
}
