/* malloc & co over the enclave-global heap (tm_enclave_regions.heap_*).
 *
 * First fit over an implicit list of blocks with boundary tags: every block
 * starts with {size of the previous block, own size | used bit}, so free()
 * merges with both neighbours in O(1). A hint remembers the lowest block that
 * may be free. One spinlock guards the heap: the heap is shared by every
 * thread and every process attached to the enclave, and so is the lock.
 * Small and readable over fast; a corrupted header or a double free traps
 * rather than carrying on with a broken heap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tm_runtime.h"

#define TM_ALIGN 16
#define TM_USED 1ULL
#define TM_MIN_BLOCK 32

struct tm_block {
    uint64_t prev_size;   /* 0 for the first block */
    uint64_t size;        /* header included, multiple of 16; bit 0 = used */
};

static struct {
    uint32_t lock;
    bool ready;
    uintptr_t start, end;     /* [start, end): blocks, then an end marker of size 0 */
    struct tm_block *hint;    /* no free block lies below it */
} tm_heap;

static void tm_heap_lock(void)
{
    while (__atomic_exchange_n(&tm_heap.lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&tm_heap.lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}

static void tm_heap_unlock(void)
{
    __atomic_store_n(&tm_heap.lock, 0, __ATOMIC_RELEASE);
}

static uint64_t tm_size(const struct tm_block *b) { return b->size & ~TM_USED; }
static bool tm_used(const struct tm_block *b) { return b->size & TM_USED; }
static struct tm_block *tm_next(struct tm_block *b) { return (struct tm_block *)((uintptr_t)b + tm_size(b)); }

static void tm_heap_init(void)
{
    const struct tm_thread_data *td = tm_thread_current();
    uintptr_t start = td->enclave_base + td->regions.heap_offset;
    uintptr_t end = start + td->regions.heap_size - sizeof(struct tm_block);
    struct tm_block *first = (struct tm_block *)start, *marker = (struct tm_block *)end;
    first->prev_size = 0;
    first->size = end - start;
    marker->prev_size = first->size;
    marker->size = TM_USED;   /* size 0, used: never merged, ends every walk */
    tm_heap.start = start;
    tm_heap.end = end;
    tm_heap.hint = first;
    tm_heap.ready = true;
}

/* Header of an allocated pointer, checked: a bad free must not write anywhere. */
static struct tm_block *tm_block_of(void *p)
{
    struct tm_block *b = (struct tm_block *)((uintptr_t)p - sizeof(struct tm_block));
    if ((uintptr_t)p % TM_ALIGN || (uintptr_t)b < tm_heap.start || (uintptr_t)b >= tm_heap.end ||
        !tm_used(b) || tm_size(b) < TM_MIN_BLOCK || (uintptr_t)tm_next(b) > tm_heap.end)
        __builtin_trap();
    return b;
}

/* Cut b to size bytes if the rest makes a block of its own (left free). */
static void tm_block_split(struct tm_block *b, uint64_t size)
{
    uint64_t total = tm_size(b);
    if (total - size < TM_MIN_BLOCK)
        return;
    struct tm_block *rest = (struct tm_block *)((uintptr_t)b + size);
    rest->prev_size = size;
    rest->size = total - size;
    tm_next(rest)->prev_size = rest->size;
    b->size = size | (b->size & TM_USED);
    if (rest < tm_heap.hint)
        tm_heap.hint = rest;
}

/* Mark b free and merge it with free neighbours. */
static void tm_block_release(struct tm_block *b)
{
    b->size &= ~TM_USED;
    struct tm_block *next = tm_next(b);
    if (!tm_used(next)) {
        b->size += tm_size(next);
        tm_next(b)->prev_size = b->size;
    }
    if (b->prev_size) {
        struct tm_block *prev = (struct tm_block *)((uintptr_t)b - b->prev_size);
        if (!tm_used(prev)) {
            prev->size += tm_size(b);
            tm_next(prev)->prev_size = prev->size;
            b = prev;
        }
    }
    if (b < tm_heap.hint)
        tm_heap.hint = b;
}

static uint64_t tm_block_need(size_t n)
{
    if (n > (1ULL << 40))
        return 0;
    uint64_t need = (n + sizeof(struct tm_block) + TM_ALIGN - 1) & ~(uint64_t)(TM_ALIGN - 1);
    return need < TM_MIN_BLOCK ? TM_MIN_BLOCK : need;
}

static void *tm_alloc_locked(size_t n)
{
    uint64_t need = tm_block_need(n);
    if (need == 0)
        return NULL;
    if (!tm_heap.ready)
        tm_heap_init();
    struct tm_block *b = tm_heap.hint;
    while (tm_used(b) && tm_size(b))   /* move the hint past used blocks */
        b = tm_next(b);
    tm_heap.hint = b;
    for (; tm_size(b); b = tm_next(b)) {
        if (tm_used(b) || tm_size(b) < need)
            continue;
        b->size |= TM_USED;
        tm_block_split(b, need);
        return b + 1;
    }
    return NULL;
}

void *malloc(size_t n)
{
    tm_heap_lock();
    void *p = tm_alloc_locked(n);
    tm_heap_unlock();
    if (!p)
        errno = ENOMEM;
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    tm_heap_lock();
    tm_block_release(tm_block_of(p));
    tm_heap_unlock();
}

void *calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    uint64_t need = tm_block_need(n);
    tm_heap_lock();
    struct tm_block *b = tm_block_of(p);
    uint64_t have = tm_size(b);
    struct tm_block *next = tm_next(b);
    if (need && need > have && !tm_used(next) && have + tm_size(next) >= need) {
        /* Grow in place into the free block that follows. */
        if (tm_heap.hint == next)
            tm_heap.hint = b;
        b->size += tm_size(next);
        tm_next(b)->prev_size = tm_size(b);
        have = tm_size(b);
    }
    if (need && need <= have) {
        tm_block_split(b, need);
        struct tm_block *rest = tm_next(b);
        if (!tm_used(rest))
            tm_block_release(rest);   /* merge the cut-off tail with what follows */
        tm_heap_unlock();
        return p;
    }
    tm_heap_unlock();
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, have - sizeof(struct tm_block));
        free(p);
    }
    return q;
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    if (align <= TM_ALIGN) {
        *out = malloc(n);
        return *out ? 0 : ENOMEM;
    }
    if (n > (1ULL << 40) || align > (1ULL << 30))
        return ENOMEM;
    tm_heap_lock();
    /* Room for a free block of at least TM_MIN_BLOCK in front of the aligned one. */
    char *p = tm_alloc_locked(n + align + TM_MIN_BLOCK);
    if (!p) {
        tm_heap_unlock();
        return ENOMEM;
    }
    uintptr_t aligned = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    if (aligned != (uintptr_t)p && aligned - (uintptr_t)p < TM_MIN_BLOCK)
        aligned += align;
    if (aligned != (uintptr_t)p) {
        struct tm_block *b = tm_block_of(p);
        struct tm_block *a = (struct tm_block *)(aligned - sizeof(struct tm_block));
        uint64_t front = (uintptr_t)a - (uintptr_t)b;
        a->prev_size = front;
        a->size = (tm_size(b) - front) | TM_USED;
        tm_next(a)->prev_size = tm_size(a);
        b->size = front | TM_USED;
        tm_block_release(b);
    }
    struct tm_block *a = tm_block_of((void *)aligned);
    tm_block_split(a, tm_block_need(n));
    struct tm_block *rest = tm_next(a);
    if (!tm_used(rest))
        tm_block_release(rest);
    tm_heap_unlock();
    *out = (void *)aligned;
    return 0;
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
    if (!p)
        return 0;
    tm_heap_lock();
    size_t n = tm_size(tm_block_of(p)) - sizeof(struct tm_block);
    tm_heap_unlock();
    return n;
}
