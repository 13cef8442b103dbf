/* TM_ECALL_LEASE_BIND and TM_ECALL_LEASE_UNBIND (abi/tm_lease.h): a TCS
 * starts or stops serving a container slot. A failed call changes nothing. */
#include <string.h>

#include "sgx_arch.h"
#include "tm_runtime.h"
#include "tm_slot.h"

/* The bytes of a slot its allocator may grow over: the host's cap, at most
 * the slot (a smaller cap only makes malloc fail sooner: always safe). */
static uint64_t tm_slot_capped_size(uint32_t limit_pages)
{
    uint64_t size = tm_lease_slot_size();
    uint64_t cap = (uint64_t)limit_pages * SGX_PAGE_SIZE;
    return limit_pages && cap < size ? cap : size;
}

/* A fresh lease on a FREE slot: new token, empty allocator, capped. */
static void tm_slot_open(struct tm_slot *s, uint32_t index, uint32_t parent, uint32_t limit_pages)
{
    do {
        uint64_t words[2] = { tm_random_u64(), tm_random_u64() };
        memcpy(s->token, words, sizeof s->token);
    } while (tm_lease_token_equal(s->token, (const uint8_t[TM_LEASE_TOKEN_SIZE]){ 0 }));
    s->generation++;
    s->tcs_count = 1;
    s->parent = parent;
    s->children = 0;
    s->root = NULL;
    /* The arena is all that accepts pages in a slot: its limit is the cap. */
    tm_arena_init_growable(&s->arena, tm_lease_slot_start(index), tm_slot_capped_size(limit_pages),
                           s->arena.dirty);
    s->state = TM_SLOT_BOUND;
}

static int64_t tm_lease_bind_locked(const struct tm_lease_bind_in *req,
                                    struct tm_lease_bind_out *res)
{
    if (tm_lease_current())
        return TM_STATUS_SLOT_STATE;   /* this TCS serves a slot already */
    struct tm_slot *table = tm_lease_table_locked();
    if (table == NULL)
        return TM_STATUS_NO_MEMORY;
    struct tm_slot *s = &table[req->slot];
    if (req->mode == TM_LEASE_JOIN) {
        if (s->state != TM_SLOT_BOUND)
            return TM_STATUS_SLOT_STATE;
        if (!tm_lease_token_equal(req->token, s->token))
            return TM_STATUS_NOT_LEASED;
        s->tcs_count++;
    } else if (req->mode == TM_LEASE_FORK) {
        struct tm_slot *parent = &table[req->parent_slot];
        if (s->state != TM_SLOT_FREE || parent->state != TM_SLOT_BOUND)
            return TM_STATUS_SLOT_STATE;
        if (!tm_lease_token_equal(req->token, parent->token))
            return TM_STATUS_NOT_LEASED;
        parent->children++;
        tm_slot_open(s, req->slot, req->parent_slot + 1, req->limit_pages);
    } else {
        if (s->state != TM_SLOT_FREE)
            return TM_STATUS_SLOT_STATE;
        tm_slot_open(s, req->slot, 0, req->limit_pages);
    }
    tm_lease_tcs_set((int)req->slot);
    memcpy(res->token, s->token, sizeof res->token);
    res->generation = s->generation;
    return TM_STATUS_OK;
}

int tm_ecall_lease_bind(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    struct tm_lease_bind_in req;
    struct tm_lease_bind_out res = { 0 };
    if (in_len != sizeof req || out_cap < sizeof res)
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);
    memcpy(&req, in, sizeof req);
    uint32_t slots = tm_thread_current()->regions.slot_count;
    /* A JOIN serves the slot as it is: its cap was set by the NEW or FORK. */
    if (req.mode > TM_LEASE_FORK || req.slot >= slots || (req.mode == TM_LEASE_JOIN && req.limit_pages) ||
        (req.mode == TM_LEASE_FORK && (req.parent_slot >= slots || req.parent_slot == req.slot)))
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);

    tm_lock_acquire(&tm_lease_lock);
    int64_t status = tm_lease_bind_locked(&req, &res);
    tm_lock_release(&tm_lease_lock);
    if (status != TM_STATUS_OK)
        tm_ecall_unwind(status, 0);
    memcpy(out, &res, sizeof res);
    *out_len = sizeof res;
    return 0;
}

/* The gate has checked the call's token against the slot this TCS serves. */
int tm_ecall_lease_unbind(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    struct tm_lease_unbind_out res = { 0 };
    if (in_len != 0 || out_cap < sizeof res)
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);

    tm_lock_acquire(&tm_lease_lock);
    int index = tm_lease_current_index();
    struct tm_slot *s = index < 0 ? NULL : tm_lease_slot((uint32_t)index);
    if (s == NULL) {
        tm_lock_release(&tm_lease_lock);
        tm_ecall_unwind(TM_STATUS_NOT_LEASED, 0);
    }
    tm_lease_tcs_set(-1);
    res.slot = (uint32_t)index;
    if (--s->tcs_count == 0) {
        s->state = TM_SLOT_RELEASED;
        res.released = 1;
        res.committed = tm_arena_reach_end(&s->arena) - s->arena.start;
        if (s->parent) {
            tm_lease_slot(s->parent - 1)->children--;   /* the parent's pages may go now */
            s->parent = 0;
        }
    }
    tm_lock_release(&tm_lease_lock);
    memcpy(out, &res, sizeof res);
    *out_len = sizeof res;
    return 0;
}
