/* The EPC budget (--max-epc) counts what enclaves commit, not what their
 * layouts could hold: a 64-slot enclave reserves its build and its heap, and
 * its slots and made TCSs count as their pages are added. What a slot may
 * still add is not reserved (instances use a fraction of their slot): a new
 * lease's slot is capped at what is left of the budget when it comes, so an
 * instance that would go past it finds malloc failing at its cap inside the
 * enclave, and nothing else is touched. Leases that attach at once may each
 * be granted that rest: the budget bounds every slot, not their sum. */
#include "daemon/state.h"

#include "daemon/pool.h"
#include "enclave/enclave.h"

uint64_t tm_budget_create_pages(const struct tm_layout *l)
{
    uint64_t n = tm_enclave_build_pages(l);
    for (size_t i = 0; i < l->nranges; i++)
        if (l->ranges[i].kind == TM_RANGE_HEAP && l->ranges[i].on_demand)
            n += l->ranges[i].size / SGX_PAGE_SIZE;
    return n;
}

/* Pages e holds beyond its reservation: slots, and TCSs made at run time. */
static uint64_t beyond_reservation(const struct tm_denclave *e)
{
    const struct tm_enclave *en = e->enclave;
    const struct tm_layout *l = &e->image->layout;
    uint64_t held = en->ops->epc_pages(en->be), reserved = tm_enclave_build_pages(l);
    for (size_t i = 0; i < l->nranges && en->ops->epc_pages_in; i++)
        if (l->ranges[i].kind == TM_RANGE_HEAP && l->ranges[i].on_demand)
            reserved += en->ops->epc_pages_in(en->be, l->ranges[i].offset, l->ranges[i].size);
    return held > reserved ? held - reserved : 0;
}

uint64_t tm_budget_thread_pages(const struct tm_layout *l)
{
    uint64_t off, len;
    return tm_layout_thread_span(l, 0, &off, &len) == 0 ? len / SGX_PAGE_SIZE : 0;
}

/* The most e can hold beyond its reservation, from the pool alone: every slot
 * not free in full, every TCS made (or quarantined while being made) whole. */
static uint64_t beyond_reservation_bound(const struct tm_denclave *e)
{
    const struct tm_layout *l = &e->image->layout;
    const struct tm_pool *p = &e->pool;
    uint64_t built = p->ntcs - l->settings.tcs_on_demand, grown = 0;
    for (uint32_t t = built; t < p->ntcs; t++)
        grown += p->made[t] || p->tcs[t] == TM_POOL_TCS_QUARANTINED;
    return (uint64_t)tm_pool_slots_in_use(p) * (l->regions.slot_size / SGX_PAGE_SIZE) +
           grown * tm_budget_thread_pages(l);
}

uint64_t tm_budget_left(const struct tm_daemon *d, uint64_t enough)
{
    uint64_t max = d->limits.max_epc_pages, committed = atomic_load(&d->epc_committed);
    /* The exact count scans every enclave's EPCM (a few hundred microseconds
     * on an attach's path); the pool's bound answers when it leaves enough. */
    uint64_t bound = committed;
    for (uint32_t i = 0; i < d->nenclaves; i++)
        bound += beyond_reservation_bound(d->enclaves[i]);
    if (bound < max && max - bound >= enough)
        return max - bound;
    uint64_t used = committed;
    for (uint32_t i = 0; i < d->nenclaves; i++)
        used += beyond_reservation(d->enclaves[i]);
    return used < max ? max - used : 0;
}
