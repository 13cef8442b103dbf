/* malloc & co: on a thread serving a container slot, in that slot's arena
 * (it grows as needed: expand); otherwise in the enclave-global heap, which is
 * also what tm_shared_* always use. free() and realloc() find the arena from
 * the pointer: the heap, or the slot this thread serves (another container's
 * memory is not this thread's to free: that traps). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "teemate_enclave.h"
#include "tm_runtime.h"
#include "tm_slot.h"

enum { TM_HEAP_UNSET = 0, TM_HEAP_SETTING = 1, TM_HEAP_SET = 2 };

static struct tm_arena tm_heap;
static uint32_t tm_heap_state;

/* Laid out by the first caller in any process (the heap is shared). */
struct tm_arena *tm_heap_arena(void)
{
    if (__atomic_load_n(&tm_heap_state, __ATOMIC_ACQUIRE) == TM_HEAP_SET)
        return &tm_heap;
    uint32_t expected = TM_HEAP_UNSET;
    if (__atomic_compare_exchange_n(&tm_heap_state, &expected, TM_HEAP_SETTING, false,
                                    __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
        const struct tm_thread_data *td = tm_thread_current();
        tm_arena_init_heap(&tm_heap, td->enclave_base + td->regions.heap_offset,
                           td->regions.heap_size, td->heap_on_demand);
        __atomic_store_n(&tm_heap_state, TM_HEAP_SET, __ATOMIC_RELEASE);
    } else {
        while (__atomic_load_n(&tm_heap_state, __ATOMIC_ACQUIRE) != TM_HEAP_SET)
            __builtin_ia32_pause();
    }
    return &tm_heap;
}

void tm_heap_lock_drop_mine(void)
{
    tm_lock_drop_mine(&tm_heap.lock);
}

static struct tm_arena *tm_malloc_arena(void)
{
    struct tm_slot *slot = tm_lease_current();
    return slot ? &slot->arena : tm_heap_arena();
}

static struct tm_arena *tm_malloc_arena_of(const void *p)
{
    struct tm_arena *heap = tm_heap_arena();
    if (tm_arena_contains(heap, p))
        return heap;
    struct tm_slot *slot = tm_lease_current();
    if (slot && tm_arena_contains(&slot->arena, p))
        return &slot->arena;
    __builtin_trap();
}

static void *tm_malloc_result(void *p)
{
    if (!p)
        errno = ENOMEM;
    return p;
}

void *malloc(size_t n)
{
    return tm_malloc_result(tm_arena_alloc(tm_malloc_arena(), n));
}

void free(void *p)
{
    if (p)
        tm_arena_free(tm_malloc_arena_of(p), p);
}

static void *tm_calloc_in(struct tm_arena *a, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = tm_malloc_result(tm_arena_alloc(a, n));
    if (p)
        memset(p, 0, n);
    return p;
}

void *calloc(size_t count, size_t size)
{
    return tm_calloc_in(tm_malloc_arena(), count, size);
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    return tm_malloc_result(tm_arena_realloc(tm_malloc_arena_of(p), p, n));
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    return tm_arena_memalign(tm_malloc_arena(), out, align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    void *p;
    int r = posix_memalign(&p, align, n);
    if (r) {
        errno = r;
        return NULL;
    }
    return p;
}

void *memalign(size_t align, size_t n)
{
    return aligned_alloc(align, n);
}

size_t malloc_usable_size(void *p)
{
    return p ? tm_arena_usable_size(tm_malloc_arena_of(p), p) : 0;
}

void *tm_shared_malloc(size_t n)
{
    return tm_malloc_result(tm_arena_alloc(tm_heap_arena(), n));
}

void *tm_shared_calloc(size_t count, size_t size)
{
    return tm_calloc_in(tm_heap_arena(), count, size);
}

void tm_shared_free(void *p)
{
    if (!p)
        return;
    struct tm_arena *heap = tm_heap_arena();
    if (!tm_arena_contains(heap, p))
        __builtin_trap();
    tm_arena_free(heap, p);
}
