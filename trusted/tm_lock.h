/* Spinlocks of the trusted runtime (heap, slot arenas, lease table). They
 * live in enclave memory shared by every attached process, so a holder may
 * die with its process: each lock records its holder (TCS index + 1), and a
 * lock this TCS holds when a new ecall starts on it, or when an ecall is
 * unwound or abandoned, can only be stale (no runtime lock is held across an
 * ocall, and a TCS runs one ecall at a time): tm_lock_drop_mine frees it. */
#ifndef TM_LOCK_H
#define TM_LOCK_H

#include "tm_runtime.h"

struct tm_lock {
    uint32_t owner;   /* 0 free, else TCS index + 1 */
};

static inline uint32_t tm_lock_me(void)
{
    return (uint32_t)tm_thread_current()->tcs_index + 1;
}

static inline void tm_lock_acquire(struct tm_lock *l)
{
    uint32_t me = tm_lock_me();
    for (;;) {
        uint32_t expected = 0;
        if (__atomic_compare_exchange_n(&l->owner, &expected, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        /* Taking a lock this thread holds (an exception handler calling
         * malloc inside malloc) would spin forever: stop instead. */
        if (expected == me)
            __builtin_trap();
        while (__atomic_load_n(&l->owner, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
    }
}

static inline void tm_lock_release(struct tm_lock *l)
{
    __atomic_store_n(&l->owner, 0, __ATOMIC_RELEASE);
}

/* Free the lock if this TCS holds it (see above for when that is stale). */
static inline void tm_lock_drop_mine(struct tm_lock *l)
{
    uint32_t me = tm_lock_me();
    __atomic_compare_exchange_n(&l->owner, &me, 0, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

#endif
