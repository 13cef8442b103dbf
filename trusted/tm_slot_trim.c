/* TM_ECALL_SLOT_TRIM: the host has EMODTed a released slot's committed pages
 * to PT_TRIM; the enclave EACCEPTs each and frees the slot. The accepting runs
 * without the lease lock (a slot may be large); RELEASED slots change only
 * here, and the generation tells whether the slot was bound again meanwhile. */
#include <string.h>

#include "tm_runtime.h"
#include "tm_slot.h"

int tm_ecall_slot_trim(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    struct tm_slot_trim_in req;
    struct tm_slot_trim_out res = { 0 };
    if (in_len != sizeof req || out_cap < sizeof res)
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);
    memcpy(&req, in, sizeof req);
    if (req.reserved || req.slot >= tm_thread_current()->regions.slot_count)
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);
    if (tm_lease_current())
        tm_ecall_unwind(TM_STATUS_SLOT_STATE, 0);   /* only an unleased TCS trims */

    tm_lock_acquire(&tm_lease_lock);
    struct tm_slot *s = tm_lease_slot(req.slot);
    /* A parent's pages stay while a forked child may still read them. */
    bool ok = s && s->state == TM_SLOT_RELEASED && s->children == 0;
    uint64_t generation = ok ? s->generation : 0;
    uintptr_t start = ok ? s->arena.start : 0;
    uintptr_t end = ok ? tm_arena_reach_end(&s->arena) : 0;
    uintptr_t known = ok ? s->arena.accepted : 0;
    if (ok && s->arena.dirty > known)
        known = s->arena.dirty;
    tm_lock_release(&tm_lease_lock);
    if (!ok)
        tm_ecall_unwind(TM_STATUS_SLOT_STATE, 0);

    /* Every page the slot may hold, to its reach: one the last owner
     * accepted but died before counting is trimmed too. A page once accepted
     * whose trim fails stays in the enclave; the slot is freed all the same,
     * and its next owner zeroes such a page (below dirty) before using it. */
    uintptr_t dirty;
    res.pages = tm_expand_trim(start, end, known, &dirty);

    tm_lock_acquire(&tm_lease_lock);
    if (s->state == TM_SLOT_RELEASED && s->generation == generation) {
        s->state = TM_SLOT_FREE;
        s->root = NULL;
        memset(s->token, 0, sizeof s->token);
        tm_arena_init_growable(&s->arena, tm_lease_slot_start(req.slot), tm_lease_slot_size(), dirty);
    }
    tm_lock_release(&tm_lease_lock);
    memcpy(out, &res, sizeof res);
    *out_len = sizeof res;
    return 0;
}
