/* The enclave's own record of container slots and TCS leases (contract:
 * abi/tm_lease.h). It lives in enclave memory every attached process maps:
 * the per-TCS bindings in .bss, the slot table in the enclave-global heap
 * (allocated at the first bind). A slot's memory itself is mapped only in its
 * container's process (and read-only in a forked child's). */
#ifndef TM_SLOT_H
#define TM_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "tm_arena.h"
#include "tm_lease.h"
#include "tm_lock.h"

enum tm_slot_state {
    TM_SLOT_FREE = 0,       /* no container; its pages trimmed (or never added) */
    TM_SLOT_BOUND = 1,      /* one or more TCSs serve it */
    TM_SLOT_RELEASED = 2,   /* its last TCS was unbound; its pages wait for the trim */
};

struct tm_slot {
    uint32_t state;         /* enum tm_slot_state */
    uint32_t tcs_count;     /* TCSs serving it */
    uint32_t parent;        /* forked child: the parent slot + 1; else 0 */
    uint32_t children;      /* bound forked children: they read this slot's pages */
    uint64_t generation;    /* binds from FREE */
    uint8_t token[TM_LEASE_TOKEN_SIZE];
    void *root;             /* the application's anchor (tm_slot_set_root) */
    struct tm_arena arena;  /* malloc of the threads serving it; its limit is the slot's cap */
};

/* Guards every slot's state and the TCS bindings; never held while
 * application code runs. Taken before the heap's lock, never after. */
extern struct tm_lock tm_lease_lock TM_HIDDEN;

/* Slot index, or NULL before the first bind / out of range. */
struct tm_slot *tm_lease_slot(uint32_t index);
/* The slot this TCS serves, and its index (-1 none). */
struct tm_slot *tm_lease_current(void);
int tm_lease_current_index(void);
/* Under tm_lease_lock: the slot table, allocated at the first call (NULL: no heap for it). */
struct tm_slot *tm_lease_table_locked(void);
/* Under tm_lease_lock: bind / unbind this TCS (slot < slot_count). */
void tm_lease_tcs_set(int slot);
/* Start of slot index in ELRANGE, and the slots' size. */
uintptr_t tm_lease_slot_start(uint32_t index);
uint64_t tm_lease_slot_size(void);

bool tm_lease_token_equal(const uint8_t a[TM_LEASE_TOKEN_SIZE],
                          const uint8_t b[TM_LEASE_TOKEN_SIZE]);

/* The lease ecalls (tm_lease_bind.c, tm_slot_trim.c, tm_slot.c). */
int tm_ecall_lease_bind(const void *in, size_t in_len, void *out, size_t out_cap,
                        size_t *out_len);
int tm_ecall_lease_unbind(const void *in, size_t in_len, void *out, size_t out_cap,
                          size_t *out_len);
/* tm_tcs_make.c: TM_ECALL_TCS_MAKE and TM_ECALL_TCS_ACCEPT. */
int tm_ecall_tcs_make(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
int tm_ecall_tcs_accept(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
int tm_ecall_slot_trim(const void *in, size_t in_len, void *out, size_t out_cap,
                       size_t *out_len);
int tm_ecall_fork_child(const void *in, size_t in_len, void *out, size_t out_cap,
                        size_t *out_len);

#endif
