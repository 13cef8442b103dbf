/* Lease records: which slot each TCS serves, the slot table, and the check
 * every ecall passes before it runs (tm_lease_gate). */
#include <string.h>

#include "tm_runtime.h"
#include "tm_slot.h"

struct tm_lock tm_lease_lock;

/* Per TCS (by index): the slot it serves + 1, 0 none. Changed only by an
 * ecall on that TCS (bind, unbind), so that TCS reads it without the lock. */
static uint32_t tm_tcs_slot[TM_LAYOUT_MAX_TCS];
static struct tm_slot *tm_slot_table;
/* Set at the first bind, never cleared: from then on, a TCS serving no slot
 * runs only the lease ecalls and PING. */
static uint32_t tm_lease_shared;

static uint32_t tm_lease_tcs_index(void)
{
    uint64_t index = tm_thread_current()->tcs_index;
    if (index >= TM_LAYOUT_MAX_TCS)
        __builtin_trap();   /* the measured layout says otherwise: a broken build */
    return (uint32_t)index;
}

struct tm_slot *tm_lease_slot(uint32_t index)
{
    struct tm_slot *table = __atomic_load_n(&tm_slot_table, __ATOMIC_ACQUIRE);
    if (table == NULL || index >= tm_thread_current()->regions.slot_count)
        return NULL;
    return &table[index];
}

int tm_lease_current_index(void)
{
    return (int)__atomic_load_n(&tm_tcs_slot[tm_lease_tcs_index()], __ATOMIC_ACQUIRE) - 1;
}

struct tm_slot *tm_lease_current(void)
{
    int index = tm_lease_current_index();
    return index < 0 ? NULL : tm_lease_slot((uint32_t)index);
}

uintptr_t tm_lease_slot_start(uint32_t index)
{
    const struct tm_thread_data *td = tm_thread_current();
    return td->enclave_base + td->regions.slots_offset + (uint64_t)index * td->regions.slot_size;
}

uint64_t tm_lease_slot_size(void)
{
    return tm_thread_current()->regions.slot_size;
}

struct tm_slot *tm_lease_table_locked(void)
{
    if (tm_slot_table)
        return tm_slot_table;
    uint32_t count = tm_thread_current()->regions.slot_count;
    if (count == 0 || count > TM_LAYOUT_MAX_SLOTS)
        return NULL;
    struct tm_slot *table = tm_arena_alloc(tm_heap_arena(), count * sizeof *table);
    if (table == NULL)
        return NULL;
    memset(table, 0, count * sizeof *table);   /* every slot FREE */
    __atomic_store_n(&tm_slot_table, table, __ATOMIC_RELEASE);
    return table;
}

void tm_lease_tcs_set(int slot)
{
    __atomic_store_n(&tm_tcs_slot[tm_lease_tcs_index()], (uint32_t)(slot + 1), __ATOMIC_RELEASE);
    if (slot >= 0)
        __atomic_store_n(&tm_lease_shared, 1, __ATOMIC_RELEASE);
}

/* Constant time: how much of a token matched must not show in the timing. */
bool tm_lease_token_equal(const uint8_t a[TM_LEASE_TOKEN_SIZE],
                          const uint8_t b[TM_LEASE_TOKEN_SIZE])
{
    uint8_t diff = 0;
    for (int i = 0; i < TM_LEASE_TOKEN_SIZE; i++) {
        diff |= a[i] ^ b[i];
        __asm__("" : "+r"(diff));   /* no early exit */
    }
    return diff == 0;
}

int64_t tm_lease_gate(uint64_t ecall, const uint8_t token[TM_LEASE_TOKEN_SIZE])
{
    struct tm_slot *slot = tm_lease_current();
    if (slot) {
        /* The token cannot change under us: it changes only from FREE, and
         * this TCS keeps the slot BOUND until an ecall on it unbinds it. */
        return tm_lease_token_equal(slot->token, token) ? TM_STATUS_OK : TM_STATUS_NOT_LEASED;
    }
    if (ecall == TM_ECALL_LEASE_UNBIND || ecall == TM_ECALL_FORK_CHILD)
        return TM_STATUS_NOT_LEASED;   /* nothing leased on this TCS */
    if (__atomic_load_n(&tm_lease_shared, __ATOMIC_ACQUIRE) && ecall != TM_ECALL_LEASE_BIND &&
        ecall != TM_ECALL_SLOT_TRIM && ecall != TM_ECALL_PING && ecall != TM_ECALL_TCS_MAKE &&
        ecall != TM_ECALL_TCS_ACCEPT)
        return TM_STATUS_NOT_LEASED;
    return TM_STATUS_OK;
}

int64_t tm_lease_may_abandon(const uint8_t token[TM_LEASE_TOKEN_SIZE])
{
    struct tm_slot *slot = tm_lease_current();
    if (slot)
        return tm_lease_token_equal(slot->token, token) ? TM_STATUS_OK : TM_STATUS_NOT_LEASED;
    /* A shared enclave's unleased TCS only ever runs lease ecalls and PING,
     * which never wait outside: an ecall left here is a dead one. In a
     * private enclave it may be one waiting in an ocall: busy, as always. */
    return __atomic_load_n(&tm_lease_shared, __ATOMIC_ACQUIRE) ? TM_STATUS_OK : TM_STATUS_BUSY;
}

void tm_locks_drop_mine(void)
{
    tm_lock_drop_mine(&tm_lease_lock);
    tm_heap_lock_drop_mine();
    struct tm_slot *slot = tm_lease_current();
    if (slot)
        tm_lock_drop_mine(&slot->arena.lock);
}
