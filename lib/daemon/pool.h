/* The slots and TCSs of one shared enclave as the daemon hands them out:
 * pure bookkeeping (no enclave calls), so it can be tested alone.
 *
 * A slot has a reference for its own lease and one for each live forked
 * child whose parent it is (the child maps it read-only). It is trimmed and
 * freed when the last reference goes; its parent then loses one. */
#ifndef TM_DAEMON_POOL_H
#define TM_DAEMON_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

enum tm_slot_state {
    TM_SLOT_FREE,
    TM_SLOT_LEASED,     /* a lease's TCSs serve it */
    TM_SLOT_RELEASED,   /* its lease ended; forked children still read it */
    TM_SLOT_QUARANTINED,   /* could not be given back whole: never handed out again */
};

/* Why a slot or TCS is quarantined (a log-style message, cut to fit). */
#define TM_POOL_WHY_MAX 120

struct tm_pool_slot {
    enum tm_slot_state state;
    uint32_t refs;
    int32_t parent;       /* forked child: the parent's slot; else -1 */
    uint64_t committed;   /* bytes to trim, reported when its lease ended */
    char why[TM_POOL_WHY_MAX];   /* QUARANTINED: why */
};

#define TM_POOL_TCS_FREE (-1)
#define TM_POOL_TCS_QUARANTINED (-2)
#define TM_POOL_TCS_DAEMON (-3)   /* the daemon's own: TCSs are made on it */

/* TCSs may be made at run time (tm_image.h tcs_on_demand): the first ntcs -
 * on_demand are built; a made TCS stays made. With any on demand, TCS 0 is
 * the daemon's (never leased): a TCS is made from inside the enclave, on a
 * TCS that is free even when every leasable one is leased. */
struct tm_pool {
    uint32_t nslots, ntcs;
    struct tm_pool_slot *slots;
    int32_t *tcs;         /* the slot each TCS serves, or TM_POOL_TCS_FREE / _QUARANTINED / _DAEMON */
    bool *made;           /* per TCS: built, or made since */
    char (*tcs_why)[TM_POOL_WHY_MAX];   /* per TCS: why it is quarantined */
};

int tm_pool_init(struct tm_pool *p, uint32_t nslots, uint32_t ntcs, uint32_t on_demand, tm_error *err);
void tm_pool_free(struct tm_pool *p);

/* Take a free slot and `threads` free TCSs (made ones first, then the lowest
 * unmade: the caller makes those before use) for a lease; with
 * parent >= 0 (a fork) that slot must be LEASED and gains a reference.
 * -EBUSY with the counts in err when not enough is free. */
int tm_pool_take(struct tm_pool *p, uint32_t threads, int32_t parent, uint32_t *slot,
                 uint32_t *tcs, tm_error *err);
/* A TCS of the lease is unbound (back to the pool; a quarantined one stays
 * so), or could not be (quarantined: never leased again; why says so). */
void tm_pool_tcs_put(struct tm_pool *p, uint32_t tcs);
void tm_pool_tcs_quarantine(struct tm_pool *p, uint32_t tcs, const char *why);
/* The lease on slot ended: drop its reference (committed = bytes to trim).
 * Returns true when nothing refers to the slot any more: trim it now. */
bool tm_pool_slot_release(struct tm_pool *p, uint32_t slot, uint64_t committed);
/* The slot was trimmed: FREE again. Returns its parent when that lost its
 * last reference (trim it next), else -1. */
int32_t tm_pool_slot_trimmed(struct tm_pool *p, uint32_t slot);
/* It could not be released or given back whole: never hand it out again
 * (why says so). Returns like tm_pool_slot_trimmed (the parent reference is
 * dropped all the same). */
int32_t tm_pool_slot_quarantine(struct tm_pool *p, uint32_t slot, const char *why);

uint32_t tm_pool_tcs_in_use(const struct tm_pool *p);     /* leased or quarantined */
uint32_t tm_pool_tcs_made(const struct tm_pool *p);       /* built or made */
/* The TCS the daemon runs its own ecalls on when no lease holds it (making
 * TCSs, trimming slots): its own, else a free made one; -1 if none. */
int32_t tm_pool_tcs_for_daemon(const struct tm_pool *p);
uint32_t tm_pool_slots_in_use(const struct tm_pool *p);   /* not FREE */
uint32_t tm_pool_tcs_quarantined(const struct tm_pool *p);
uint32_t tm_pool_slots_quarantined(const struct tm_pool *p);

#endif
