/* A first-fit allocator over one arena of enclave memory: the enclave-global
 * heap (its pages added at build time, but for its top on-demand part, which
 * grows like a slot) or a container slot (grows on
 * demand: pages are EACCEPTed at its top as allocations need them, up to its
 * limit: the slot's end, or the container's cap (abi/tm_lease.h); never a
 * page past it, so the cap bounds what the slot ever accepts). The arena's
 * bookkeeping lives with its owner (a global for the heap, the slot record
 * for a slot); its blocks live inside the arena. */
#ifndef TM_ARENA_H
#define TM_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "tm_lock.h"

struct tm_block;

struct tm_arena {
    struct tm_lock lock;
    uintptr_t start;          /* the first block */
    uintptr_t top;            /* end of the committed part; its last 16 bytes are the end marker */
    uintptr_t limit;          /* top may grow up to here (== top: fixed size) */
    uintptr_t accepted;       /* end of the pages known EACCEPTed, >= top */
    uintptr_t reach;          /* end of the pages that may be EACCEPTed, >= accepted: moved
                               * before each EACCEPT, so a process killed between the EACCEPT
                               * and the count leaves no page the trim does not cover */
    uintptr_t dirty;          /* pages below it may be accepted already, a former owner's
                               * that no trim took: zeroed when grown over; a page already
                               * there above it is not ours and stops the growth */
    struct tm_block *hint;    /* no free block lies below it (NULL: nothing committed) */
    struct tm_block *big;     /* NULL or a free block of TM_ARENA_BIG bytes or more, the last
                               * one released: a big request tries it before the first fit */
};

/* The heap: [start, start + size) all committed. */
void tm_arena_init_fixed(struct tm_arena *a, uintptr_t start, uint64_t size);
/* The heap: [start, start + size), all committed but its top on_demand
 * bytes, which are EACCEPTed as it grows (SGX2). */
void tm_arena_init_heap(struct tm_arena *a, uintptr_t start, uint64_t size, uint64_t on_demand);
/* A slot: nothing committed yet, may grow to [start, start + size) (whole
 * pages: the slot's size, or less for a capped container); dirty as the
 * slot's last trim left it. */
void tm_arena_init_growable(struct tm_arena *a, uintptr_t start, uint64_t size, uintptr_t dirty);

/* Does p lie in the arena's range (committed or not)? */
static inline int tm_arena_contains(const struct tm_arena *a, const void *p)
{
    return (uintptr_t)p >= a->start && (uintptr_t)p < a->limit;
}

/* Bytes accepted into the arena from start. */
static inline uint64_t tm_arena_committed(const struct tm_arena *a)
{
    return __atomic_load_n(&a->accepted, __ATOMIC_RELAXED) - a->start;
}

/* End of every page the arena's range may hold: what a trim must cover. */
static inline uintptr_t tm_arena_reach_end(const struct tm_arena *a)
{
    uintptr_t reach = __atomic_load_n(&a->reach, __ATOMIC_ACQUIRE);
    return reach > a->dirty ? reach : a->dirty;
}

/* The usual contracts; NULL / ENOMEM when nothing fits (the caller sets
 * errno). A bad pointer (not a live block of this arena) traps. */
void *tm_arena_alloc(struct tm_arena *a, size_t n);
void tm_arena_free(struct tm_arena *a, void *p);
void *tm_arena_realloc(struct tm_arena *a, void *p, size_t n);
int tm_arena_memalign(struct tm_arena *a, void **out, size_t align, size_t n);
size_t tm_arena_usable_size(struct tm_arena *a, void *p);

#endif
