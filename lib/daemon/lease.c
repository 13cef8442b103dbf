/* Leases inside the enclave: the daemon enters the TCSs itself (it built the
 * enclave, so all of ELRANGE is mapped here) to bind them to a slot, and on
 * detach or death to unbind them, trim the slot and take the pages back, in
 * the order abi/tm_lease.h gives. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "daemon/state.h"
#include "enclave/ecall.h"

int tm_lease_supported(const struct tm_denclave *e, tm_error *err)
{
    const struct tm_backend_ops *o = e->enclave->ops;
    if (!o->export_fds || !o->attach || !o->map || !o->unmap || !o->trim || !o->remove ||
        !o->tcs_reclaim)
        return tm_error_set(err, ENOSYS, "the %s backend cannot share enclaves (yet)", o->name);
    return 0;
}

int tm_lease_ecall(struct tm_denclave *e, uint32_t tcs, uint32_t ecall, const void *in,
                       size_t in_len, void *out, size_t out_len, const uint8_t *token, tm_error *err)
{
    struct tm_enclave *en = e->enclave;
    struct tm_ecall_call call = { .ecall = ecall, .in = in, .in_len = in_len, .out = out,
                                  .out_cap = out_len };
    if (token)
        memcpy(call.lease_token, token, sizeof call.lease_token);
    int ret = tm_ecall(en->ops, en->be, en->base, en->size, tm_enclave_tcs_offset(en, tcs), &call, err);
    if (ret == 0 && (call.exited || call.out_len != out_len))
        ret = tm_error_set(err, EPROTO, "the enclave answered ecall %u with %zu of %zu bytes%s",
                           ecall, call.out_len, out_len, call.exited ? " and exited" : "");
    return ret;
}

static uint64_t slot_offset(const struct tm_denclave *e, uint32_t slot)
{
    const struct tm_enclave_regions *g = &e->image->layout.regions;
    return g->slots_offset + (uint64_t)slot * g->slot_size;
}

/* The lease's TCSs not made yet are made now (SGX2), within epc_left pages;
 * one that cannot be is quarantined (past the budget: it stays unmade) and
 * the lease undone. */
static int make_tcss(struct tm_denclave *e, struct tm_lease *l, uint64_t epc_left, tm_error *err)
{
    for (uint32_t i = 0; i < l->nthreads; i++) {
        if (e->pool.made[l->tcs[i]])
            continue;
        int ret = tm_tcs_make(e, l->tcs[i], &epc_left, err);
        if (ret == 0)
            continue;
        if (ret != -ENOSPC) {
            tm_daemon_log("%s: TCS %u quarantined: %s", e->name, l->tcs[i], err->msg);
            tm_pool_tcs_quarantine(&e->pool, l->tcs[i], err->msg);
        }
        for (uint32_t k = 0; k < l->nthreads; k++)
            tm_pool_tcs_put(&e->pool, l->tcs[k]);   /* not the quarantined one */
        tm_error undo = { 0 };
        tm_lease_end(e, l, true, &undo);   /* nothing bound: the slot goes back */
        return ret;
    }
    return 0;
}

int tm_lease_bind(struct tm_denclave *e, struct tm_lease *l, const struct tm_lease *parent,
                  uint64_t epc_left, tm_error *err)
{
    int made = make_tcss(e, l, epc_left, err);
    if (made < 0)
        return made;
    for (uint32_t i = 0; i < l->nthreads; i++) {
        /* The cap goes with the first bind (NEW or FORK); a JOIN inherits it. */
        struct tm_lease_bind_in in = { .slot = l->slot, .mode = TM_LEASE_NEW,
                                       .limit_pages = i == 0 ? l->limit_pages : 0 };
        const uint8_t *call_token = NULL;
        if (i == 0 && parent) {
            in.mode = TM_LEASE_FORK;
            in.parent_slot = parent->slot;
            memcpy(in.token, parent->token, sizeof in.token);
        } else if (i > 0) {
            in.mode = TM_LEASE_JOIN;
            memcpy(in.token, l->token, sizeof in.token);
            call_token = l->token;
        }
        struct tm_lease_bind_out out;
        int ret = tm_lease_ecall(e, l->tcs[i], TM_ECALL_LEASE_BIND, &in, sizeof in, &out, sizeof out,
                              call_token, err);
        if (ret == 0) {
            l->bound[i] = true;
            if (i == 0)
                memcpy(l->token, out.token, sizeof l->token);
            else if (memcmp(out.token, l->token, sizeof out.token))
                ret = tm_error_set(err, EPROTO, "the enclave joined TCS %u to slot %u under "
                                   "another token", l->tcs[i], l->slot);
        }
        if (ret < 0) {
            tm_error_prefix(err, "binding TCS %u to slot %u", l->tcs[i], l->slot);
            /* Undo: TCSs never bound go straight back; the bound ones are unbound. */
            for (uint32_t k = 0; k < l->nthreads; k++)
                if (!l->bound[k])
                    tm_pool_tcs_put(&e->pool, l->tcs[k]);
            tm_error undo = { 0 };
            if (tm_lease_end(e, l, true, &undo) < 0)
                tm_daemon_log("%s: undoing lease %" PRIu64 ": %s", e->name, l->id, undo.msg);
            return ret;
        }
    }
    return 0;
}

/* Trim a slot nothing refers to any more, on an unbound TCS, and take its
 * pages back: host EMODT, the enclave's EACCEPTs, host EREMOVE of the whole
 * slot. The slot is mapped here as an attached process maps it, so that the
 * enclave's EACCEPT of a page its dead owner never got (one it died
 * accepting) adds it rather than faults, as the driver does. Every page must
 * be gone after: one that stays makes the slot unfit to hand out. */
static int slot_trim(struct tm_denclave *e, uint32_t slot, uint32_t tcs, tm_error *err)
{
    struct tm_enclave *en = e->enclave;
    const struct tm_enclave_regions *g = &e->image->layout.regions;
    uint64_t off = slot_offset(e, slot), committed = e->pool.slots[slot].committed;
    if (committed % SGX_PAGE_SIZE || committed > g->slot_size)
        return tm_error_set(err, EPROTO, "the enclave reported 0x%" PRIx64 " bytes to trim in slot %u",
                            committed, slot);
    int ret = en->ops->map(en->be, off, g->slot_size, PROT_READ | PROT_WRITE, err);
    if (ret == 0 && committed)
        ret = en->ops->trim(en->be, off, committed, err);
    struct tm_slot_trim_in in = { .slot = slot };
    struct tm_slot_trim_out out;
    if (ret == 0)
        ret = tm_lease_ecall(e, tcs, TM_ECALL_SLOT_TRIM, &in, sizeof in, &out, sizeof out, NULL, err);
    uint64_t removed = 0;
    if (ret == 0)
        ret = en->ops->remove(en->be, off, g->slot_size, &removed, err);
    if (ret == 0 && en->ops->epc_pages_in && en->ops->epc_pages_in(en->be, off, g->slot_size))
        ret = tm_error_set(err, EBUSY, "%" PRIu64 " pages stay after EREMOVE",
                           en->ops->epc_pages_in(en->be, off, g->slot_size));
    if (ret < 0)
        return tm_error_prefix(err, "trimming slot %u", slot);
    return 0;
}

/* Trim slot, then each parent that loses its last reference on the way. */
static void slot_free_chain(struct tm_denclave *e, int32_t slot, int32_t tcs)
{
    while (slot >= 0) {
        tm_error err = { 0 };
        int32_t t = tcs >= 0 ? tcs : tm_pool_tcs_for_daemon(&e->pool);
        int ret = t >= 0 ? slot_trim(e, (uint32_t)slot, (uint32_t)t, &err)
                         : tm_error_set(&err, EBUSY, "no unbound TCS to trim slot %d on", slot);
        if (ret < 0) {
            tm_daemon_log("%s: slot %d quarantined: %s", e->name, slot, err.msg);
            slot = tm_pool_slot_quarantine(&e->pool, (uint32_t)slot, err.msg);
        } else {
            slot = tm_pool_slot_trimmed(&e->pool, (uint32_t)slot);
        }
    }
}

int tm_lease_end(struct tm_denclave *e, struct tm_lease *l, bool dead, tm_error *err)
{
    struct tm_enclave *en = e->enclave;
    bool any = false, released = false;
    tm_error lost = { 0 };   /* why the slot cannot be handed out again */
    uint64_t committed = 0;
    int32_t last_tcs = -1;
    for (uint32_t i = 0; i < l->nthreads; i++) {
        if (!l->bound[i])
            continue;
        any = true;
        if (dead)   /* its thread may have died inside: the TCS must be enterable again */
            en->ops->tcs_reclaim(en->be, tm_enclave_tcs_offset(en, l->tcs[i]));
        struct tm_lease_unbind_out out;
        tm_error e2 = { 0 };
        int ret = tm_lease_ecall(e, l->tcs[i], TM_ECALL_LEASE_UNBIND, NULL, 0, &out, sizeof out,
                              l->token, &e2);
        if (ret == -EBUSY && !dead)
            return tm_error_set(err, EBUSY, "a thread of pid %d is still inside the enclave on TCS %u",
                                (int)l->pid, l->tcs[i]);
        l->bound[i] = false;
        if (ret < 0 || out.slot != l->slot) {
            tm_error_set(&lost, EPROTO, "unbinding TCS %u: %s", l->tcs[i],
                         ret < 0 ? e2.msg : "the enclave named another slot");
            tm_daemon_log("%s: TCS %u quarantined: %s", e->name, l->tcs[i], lost.msg);
            tm_pool_tcs_quarantine(&e->pool, l->tcs[i], lost.msg);
            continue;
        }
        tm_pool_tcs_put(&e->pool, l->tcs[i]);
        last_tcs = (int32_t)l->tcs[i];
        if (out.released) {
            released = true;
            committed = out.committed;
        }
    }
    if (any && !released && !lost.msg[0])
        tm_error_set(&lost, EPROTO, "the enclave did not release it");
    if (lost.msg[0]) {
        tm_daemon_log("%s: slot %u quarantined: %s", e->name, l->slot, lost.msg);
        int32_t parent = tm_pool_slot_quarantine(&e->pool, l->slot, lost.msg);
        slot_free_chain(e, parent, last_tcs);
    } else if (tm_pool_slot_release(&e->pool, l->slot, committed)) {
        if (!any)   /* never bound inside: nothing to trim */
            slot_free_chain(e, tm_pool_slot_trimmed(&e->pool, l->slot), -1);
        else
            slot_free_chain(e, (int32_t)l->slot, last_tcs);
    }
    return 0;
}
