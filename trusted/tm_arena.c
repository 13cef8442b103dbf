/* First fit over an implicit list of blocks with boundary tags: every block
 * starts with {size of the previous block, own size | used bit}, so free()
 * merges with both neighbours in O(1). A hint remembers the lowest block that
 * may be free. A big request first tries the last big block released, then
 * the free block at the top, then the first fit: big blocks come and go
 * (an ecall's buffers, an application's slabs), and a first fit reaches
 * them only after walking every block below, a cache miss each: thousands
 * per ecall once a slot holds a large data set. One lock per arena: the heap is shared by every thread and
 * every attached process, a slot by the threads of one container.
 *
 * A growable arena commits pages at its top when nothing fits (tm_expand.c):
 * the end marker becomes a free block of the new size, merged with a free
 * block before it. Small and readable over fast; a corrupted header or a
 * double free traps rather than carrying on with a broken arena. */
#include <errno.h>
#include <string.h>

#include "tm_arena.h"
#include "tm_runtime.h"

#define TM_ALIGN 16
#define TM_USED 1ULL
#define TM_MIN_BLOCK 32
/* A slot grows by at least this much at a time: fewer, larger expands. */
#define TM_ARENA_CHUNK (64ULL * 1024)
#define TM_PAGE 4096ULL
/* From this size on, the top free block is tried before the first fit. */
#define TM_ARENA_BIG (32ULL * 1024)

struct tm_block {
    uint64_t prev_size;   /* 0 for the first block */
    uint64_t size;        /* header included, multiple of 16; bit 0 = used */
};

static uint64_t tm_size(const struct tm_block *b) { return b->size & ~TM_USED; }
static bool tm_used(const struct tm_block *b) { return b->size & TM_USED; }
static struct tm_block *tm_next(struct tm_block *b) { return (struct tm_block *)((uintptr_t)b + tm_size(b)); }

static struct tm_block *tm_arena_marker(const struct tm_arena *a)
{
    return (struct tm_block *)(a->top - sizeof(struct tm_block));
}

void tm_arena_init_fixed(struct tm_arena *a, uintptr_t start, uint64_t size)
{
    memset(a, 0, sizeof *a);
    a->start = start;
    a->top = a->limit = a->accepted = a->reach = start + size;
    struct tm_block *first = (struct tm_block *)start, *marker = tm_arena_marker(a);
    first->prev_size = 0;
    first->size = (uintptr_t)marker - start;
    marker->prev_size = first->size;
    marker->size = TM_USED;   /* size 0, used: never merged, ends every walk */
    a->hint = first;
}

void tm_arena_init_growable(struct tm_arena *a, uintptr_t start, uint64_t size, uintptr_t dirty)
{
    memset(a, 0, sizeof *a);
    a->start = a->top = a->accepted = a->reach = start;
    a->limit = start + size;
    a->dirty = dirty;
}

static void tm_arena_extend(struct tm_arena *a, uint64_t len);

void tm_arena_init_heap(struct tm_arena *a, uintptr_t start, uint64_t size, uint64_t on_demand)
{
    if (on_demand == 0) {
        tm_arena_init_fixed(a, start, size);
        return;
    }
    tm_arena_init_growable(a, start, size, start);
    uint64_t built = size - on_demand;
    if (built) {
        a->accepted = a->reach = start + built;
        tm_arena_extend(a, built);
    }
}

/* Header of an allocated pointer, checked: a bad free must not write anywhere. */
static struct tm_block *tm_block_of(struct tm_arena *a, void *p)
{
    struct tm_block *b = (struct tm_block *)((uintptr_t)p - sizeof(struct tm_block));
    if ((uintptr_t)p % TM_ALIGN || a->top == a->start || (uintptr_t)b < a->start ||
        b >= tm_arena_marker(a) || !tm_used(b) || tm_size(b) < TM_MIN_BLOCK ||
        tm_next(b) > tm_arena_marker(a))
        __builtin_trap();
    return b;
}

static void tm_hint_lower(struct tm_arena *a, struct tm_block *b)
{
    if (a->hint == NULL || b < a->hint)
        a->hint = b;
}

/* Cut b to size bytes if the rest makes a block of its own (left free). */
static void tm_block_split(struct tm_arena *a, struct tm_block *b, uint64_t size)
{
    uint64_t total = tm_size(b);
    if (total - size < TM_MIN_BLOCK)
        return;
    struct tm_block *rest = (struct tm_block *)((uintptr_t)b + size);
    rest->prev_size = size;
    rest->size = total - size;
    tm_next(rest)->prev_size = rest->size;
    b->size = size | (b->size & TM_USED);
    tm_hint_lower(a, rest);
}

/* Mark b free and merge it with free neighbours. */
static void tm_block_release(struct tm_arena *a, struct tm_block *b)
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
    tm_hint_lower(a, b);
    /* b is now the only header of its range: a big block merged into it
     * (the former a->big among them) is no longer one */
    if (tm_size(b) >= TM_ARENA_BIG)
        a->big = b;
}

/* b (free until now) is taken: no longer a candidate for big requests. */
static void tm_block_take(struct tm_arena *a, struct tm_block *b)
{
    b->size |= TM_USED;
    if (a->big == b)
        a->big = NULL;
}

static uint64_t tm_block_need(size_t n)
{
    if (n > (1ULL << 40))
        return 0;
    uint64_t need = (n + sizeof(struct tm_block) + TM_ALIGN - 1) & ~(uint64_t)(TM_ALIGN - 1);
    return need < TM_MIN_BLOCK ? TM_MIN_BLOCK : need;
}

/* Add len committed bytes at the top: the end marker becomes a free block
 * (the first block when nothing was committed) and a new marker ends it. */
static void tm_arena_extend(struct tm_arena *a, uint64_t len)
{
    struct tm_block *b;
    if (a->top == a->start) {
        b = (struct tm_block *)a->start;
        b->prev_size = 0;
        b->size = len - sizeof(struct tm_block);
    } else {
        b = tm_arena_marker(a);
        b->size = len;
    }
    a->top += len;
    struct tm_block *marker = tm_arena_marker(a);
    marker->prev_size = tm_size(b);
    marker->size = TM_USED;
    b->size |= TM_USED;
    tm_block_release(a, b);   /* merges with a free last block */
}

/* Commit enough pages for a block of need bytes; false if the arena cannot
 * grow that far (what was committed stays committed). */
static bool tm_arena_grow(struct tm_arena *a, uint64_t need)
{
    uint64_t have = 0, room = a->limit - a->top;
    if (a->top == a->start) {
        need += sizeof(struct tm_block);   /* the first commit also holds the marker */
    } else {
        struct tm_block *marker = tm_arena_marker(a);
        struct tm_block *last = (struct tm_block *)((uintptr_t)marker - marker->prev_size);
        if (marker->prev_size && !tm_used(last))
            have = tm_size(last);
    }
    uint64_t want = (need - have + TM_PAGE - 1) & ~(TM_PAGE - 1);
    if (want > room)
        return false;
    uint64_t chunk = want < TM_ARENA_CHUNK ? TM_ARENA_CHUNK : want;
    if (chunk > room)
        chunk = room;   /* never a page past the limit: a capped slot's cap is exact */
    uint64_t got = tm_expand_commit(a, a->top, chunk);
    if (got)
        tm_arena_extend(a, got);
    return got >= want;
}

static void *tm_arena_fit(struct tm_arena *a, uint64_t need)
{
    if (a->top == a->start)
        return NULL;
    struct tm_block *b = a->hint;
    while (tm_used(b) && tm_size(b))   /* move the hint past used blocks */
        b = tm_next(b);
    a->hint = b;
    for (; tm_size(b); b = tm_next(b)) {
        if (tm_used(b) || tm_size(b) < need)
            continue;
        tm_block_take(a, b);
        tm_block_split(a, b, need);
        return b + 1;
    }
    return NULL;
}

/* b if it is free and holds need bytes: taken, cut to need. */
static void *tm_arena_fit_at(struct tm_arena *a, struct tm_block *b, uint64_t need)
{
    if (!b || tm_used(b) || tm_size(b) < need)
        return NULL;
    tm_block_take(a, b);
    tm_block_split(a, b, need);
    struct tm_block *rest = tm_next(b);
    if (!tm_used(rest) && tm_size(rest) >= TM_ARENA_BIG)
        a->big = rest;   /* what is left of it */
    return b + 1;
}

/* A big request: the last big block released, else the block at the top. */
static void *tm_arena_fit_big(struct tm_arena *a, uint64_t need)
{
    if (a->top == a->start)
        return NULL;
    void *p = tm_arena_fit_at(a, a->big, need);
    if (p)
        return p;
    struct tm_block *marker = tm_arena_marker(a);
    if (!marker->prev_size)
        return NULL;
    return tm_arena_fit_at(a, (struct tm_block *)((uintptr_t)marker - marker->prev_size), need);
}

static void *tm_arena_alloc_locked(struct tm_arena *a, size_t n)
{
    uint64_t need = tm_block_need(n);
    if (need == 0)
        return NULL;
    bool big = need >= TM_ARENA_BIG;
    void *p = big ? tm_arena_fit_big(a, need) : NULL;
    if (p == NULL)
        p = tm_arena_fit(a, need);
    if (p == NULL && a->top < a->limit && tm_arena_grow(a, need)) {
        p = big ? tm_arena_fit_big(a, need) : NULL;   /* the grown top block */
        if (p == NULL)
            p = tm_arena_fit(a, need);
    }
    return p;
}

void *tm_arena_alloc(struct tm_arena *a, size_t n)
{
    tm_lock_acquire(&a->lock);
    void *p = tm_arena_alloc_locked(a, n);
    tm_lock_release(&a->lock);
    return p;
}

void tm_arena_free(struct tm_arena *a, void *p)
{
    tm_lock_acquire(&a->lock);
    tm_block_release(a, tm_block_of(a, p));
    tm_lock_release(&a->lock);
}

void *tm_arena_realloc(struct tm_arena *a, void *p, size_t n)
{
    uint64_t need = tm_block_need(n);
    tm_lock_acquire(&a->lock);
    struct tm_block *b = tm_block_of(a, p);
    uint64_t have = tm_size(b);
    struct tm_block *next = tm_next(b);
    if (need && need > have && !tm_used(next) && have + tm_size(next) >= need) {
        /* Grow in place into the free block that follows. */
        if (a->hint == next)
            a->hint = b;
        if (a->big == next)
            a->big = NULL;
        b->size += tm_size(next);
        tm_next(b)->prev_size = tm_size(b);
        have = tm_size(b);
    }
    if (need && need <= have) {
        tm_block_split(a, b, need);
        struct tm_block *rest = tm_next(b);
        if (!tm_used(rest))
            tm_block_release(a, rest);   /* merge the cut-off tail with what follows */
        tm_lock_release(&a->lock);
        return p;
    }
    tm_lock_release(&a->lock);
    void *q = tm_arena_alloc(a, n);
    if (q) {
        memcpy(q, p, have - sizeof(struct tm_block));
        tm_arena_free(a, p);
    }
    return q;
}

int tm_arena_memalign(struct tm_arena *a, void **out, size_t align, size_t n)
{
    if (align <= TM_ALIGN) {
        *out = tm_arena_alloc(a, n);
        return *out ? 0 : ENOMEM;
    }
    if (n > (1ULL << 40) || align > (1ULL << 30))
        return ENOMEM;
    tm_lock_acquire(&a->lock);
    /* Room for a free block of at least TM_MIN_BLOCK in front of the aligned one. */
    char *p = tm_arena_alloc_locked(a, n + align + TM_MIN_BLOCK);
    if (!p) {
        tm_lock_release(&a->lock);
        return ENOMEM;
    }
    uintptr_t aligned = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    if (aligned != (uintptr_t)p && aligned - (uintptr_t)p < TM_MIN_BLOCK)
        aligned += align;
    if (aligned != (uintptr_t)p) {
        struct tm_block *b = tm_block_of(a, p);
        struct tm_block *al = (struct tm_block *)(aligned - sizeof(struct tm_block));
        uint64_t front = (uintptr_t)al - (uintptr_t)b;
        al->prev_size = front;
        al->size = (tm_size(b) - front) | TM_USED;
        tm_next(al)->prev_size = tm_size(al);
        b->size = front | TM_USED;
        tm_block_release(a, b);
    }
    struct tm_block *al = tm_block_of(a, (void *)aligned);
    tm_block_split(a, al, tm_block_need(n));
    struct tm_block *rest = tm_next(al);
    if (!tm_used(rest))
        tm_block_release(a, rest);
    tm_lock_release(&a->lock);
    *out = (void *)aligned;
    return 0;
}

size_t tm_arena_usable_size(struct tm_arena *a, void *p)
{
    tm_lock_acquire(&a->lock);
    size_t n = tm_size(tm_block_of(a, p)) - sizeof(struct tm_block);
    tm_lock_release(&a->lock);
    return n;
}
