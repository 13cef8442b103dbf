#include "daemon/pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tm_pool_init(struct tm_pool *p, uint32_t nslots, uint32_t ntcs, uint32_t on_demand, tm_error *err)
{
    memset(p, 0, sizeof *p);
    if (on_demand >= ntcs && on_demand)
        return tm_error_set(err, EINVAL, "%u TCSs on demand of %u: one must be built", on_demand, ntcs);
    p->slots = calloc(nslots ? nslots : 1, sizeof *p->slots);
    p->tcs = calloc(ntcs ? ntcs : 1, sizeof *p->tcs);
    p->made = calloc(ntcs ? ntcs : 1, sizeof *p->made);
    p->tcs_why = calloc(ntcs ? ntcs : 1, sizeof *p->tcs_why);
    if (!p->slots || !p->tcs || !p->made || !p->tcs_why) {
        tm_pool_free(p);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    p->nslots = nslots;
    p->ntcs = ntcs;
    for (uint32_t i = 0; i < nslots; i++)
        p->slots[i].parent = -1;
    for (uint32_t i = 0; i < ntcs; i++) {
        p->tcs[i] = TM_POOL_TCS_FREE;
        p->made[i] = i < ntcs - on_demand;
    }
    if (on_demand)
        p->tcs[0] = TM_POOL_TCS_DAEMON;
    return 0;
}

void tm_pool_free(struct tm_pool *p)
{
    free(p->slots);
    free(p->tcs);
    free(p->made);
    free(p->tcs_why);
    memset(p, 0, sizeof *p);
}

uint32_t tm_pool_tcs_in_use(const struct tm_pool *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->ntcs; i++)
        n += p->tcs[i] != TM_POOL_TCS_FREE && p->tcs[i] != TM_POOL_TCS_DAEMON;
    return n;
}

uint32_t tm_pool_tcs_made(const struct tm_pool *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->ntcs; i++)
        n += p->made[i];
    return n;
}

int32_t tm_pool_tcs_for_daemon(const struct tm_pool *p)
{
    for (uint32_t i = 0; i < p->ntcs; i++)
        if (p->tcs[i] == TM_POOL_TCS_DAEMON || (p->tcs[i] == TM_POOL_TCS_FREE && p->made[i]))
            return (int32_t)i;
    return -1;
}

/* Count of TCSs a lease may take: free ones (not the daemon's). */
static uint32_t tcs_free(const struct tm_pool *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->ntcs; i++)
        n += p->tcs[i] == TM_POOL_TCS_FREE;
    return n;
}

uint32_t tm_pool_slots_in_use(const struct tm_pool *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->nslots; i++)
        n += p->slots[i].state != TM_SLOT_FREE;
    return n;
}

uint32_t tm_pool_tcs_quarantined(const struct tm_pool *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->ntcs; i++)
        n += p->tcs[i] == TM_POOL_TCS_QUARANTINED;
    return n;
}

uint32_t tm_pool_slots_quarantined(const struct tm_pool *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->nslots; i++)
        n += p->slots[i].state == TM_SLOT_QUARANTINED;
    return n;
}

int tm_pool_take(struct tm_pool *p, uint32_t threads, int32_t parent, uint32_t *slot,
                 uint32_t *tcs, tm_error *err)
{
    if (parent >= 0 && ((uint32_t)parent >= p->nslots || p->slots[parent].state != TM_SLOT_LEASED))
        return tm_error_set(err, ESRCH, "the parent's slot %d is not leased", parent);
    uint32_t s = 0;
    while (s < p->nslots && p->slots[s].state != TM_SLOT_FREE)
        s++;
    if (s == p->nslots)
        return tm_error_set(err, EBUSY, "no free slot (%u of %u in use)", tm_pool_slots_in_use(p),
                            p->nslots);
    uint32_t free_tcs = tcs_free(p);
    if (threads > free_tcs)
        return tm_error_set(err, EBUSY, "not enough free TCSs: %u asked, %u of %u free", threads,
                            free_tcs, p->ntcs);
    uint32_t k = 0;
    for (int made = 1; made >= 0; made--) {   /* made ones first: no making unless needed */
        for (uint32_t i = 0; i < p->ntcs && k < threads; i++) {
            if (p->tcs[i] == TM_POOL_TCS_FREE && p->made[i] == made) {
                p->tcs[i] = (int32_t)s;
                tcs[k++] = i;
            }
        }
    }
    p->slots[s] = (struct tm_pool_slot){ .state = TM_SLOT_LEASED, .refs = 1, .parent = parent };
    if (parent >= 0)
        p->slots[parent].refs++;
    *slot = s;
    return 0;
}

void tm_pool_tcs_put(struct tm_pool *p, uint32_t tcs)
{
    if (tcs < p->ntcs && p->tcs[tcs] != TM_POOL_TCS_QUARANTINED && p->tcs[tcs] != TM_POOL_TCS_DAEMON)
        p->tcs[tcs] = TM_POOL_TCS_FREE;
}

void tm_pool_tcs_quarantine(struct tm_pool *p, uint32_t tcs, const char *why)
{
    if (tcs >= p->ntcs)
        return;
    p->tcs[tcs] = TM_POOL_TCS_QUARANTINED;
    snprintf(p->tcs_why[tcs], sizeof p->tcs_why[tcs], "%s", why);
}

bool tm_pool_slot_release(struct tm_pool *p, uint32_t slot, uint64_t committed)
{
    if (slot >= p->nslots || p->slots[slot].state != TM_SLOT_LEASED)
        return false;
    struct tm_pool_slot *s = &p->slots[slot];
    s->state = TM_SLOT_RELEASED;
    s->committed = committed;
    return --s->refs == 0;
}

/* Drop the reference a freed child slot held on its parent. */
static int32_t drop_parent(struct tm_pool *p, int32_t parent)
{
    if (parent < 0 || (uint32_t)parent >= p->nslots || p->slots[parent].refs == 0)
        return -1;
    struct tm_pool_slot *s = &p->slots[parent];
    return --s->refs == 0 && s->state == TM_SLOT_RELEASED ? parent : -1;
}

int32_t tm_pool_slot_trimmed(struct tm_pool *p, uint32_t slot)
{
    if (slot >= p->nslots)
        return -1;
    int32_t parent = p->slots[slot].parent;
    p->slots[slot] = (struct tm_pool_slot){ .state = TM_SLOT_FREE, .parent = -1 };
    return drop_parent(p, parent);
}

int32_t tm_pool_slot_quarantine(struct tm_pool *p, uint32_t slot, const char *why)
{
    if (slot >= p->nslots)
        return -1;
    int32_t parent = p->slots[slot].parent;
    p->slots[slot] = (struct tm_pool_slot){ .state = TM_SLOT_QUARANTINED, .parent = -1 };
    snprintf(p->slots[slot].why, sizeof p->slots[slot].why, "%s", why);
    return drop_parent(p, parent);
}
