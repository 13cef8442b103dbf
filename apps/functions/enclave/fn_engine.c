/* Duktape's hooks. The allocator sits on malloc, which inside an enclave on
 * a slot thread allocates in that container's slot (trusted/tm_malloc.c): an
 * instance's JS heap lives in its own slot. Every chunk and large block is
 * tracked so a fatal error can drop the whole heap without asking Duktape. */
#include "fn_engine.h"

#include <stdlib.h>
#include <string.h>

#include "fn_platform.h"

/* The word before every payload tells its kind: 0 a large block, else the
 * small size class + 1. Both headers keep payloads 16-aligned. */
struct fn_block {
    struct fn_block *prev, *next;
    size_t size;
    size_t tag;   /* 0 */
};

struct fn_small {
    size_t unused;
    size_t tag;   /* class + 1 */
};

struct fn_free {
    struct fn_free *next;
};

#define FN_CHUNK_SIZE (64U << 10)

struct fn_chunk {
    struct fn_chunk *next;
    size_t used;   /* bytes carved, from data */
    _Alignas(16) unsigned char data[];
};

static size_t fn_class_size(size_t cls)
{
    return (cls + 1) * 16;
}

static void fn_block_link(struct fn_heap *h, struct fn_block *b)
{
    b->prev = NULL;
    b->next = h->blocks;
    if (h->blocks)
        h->blocks->prev = b;
    h->blocks = b;
}

static void fn_block_unlink(struct fn_heap *h, struct fn_block *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        h->blocks = b->next;
    if (b->next)
        b->next->prev = b->prev;
}

static bool fn_heap_room(const struct fn_heap *h, size_t more)
{
    return !h->limit || (more <= h->limit && h->bytes <= h->limit - more);
}

static void fn_heap_count(struct fn_heap *h, size_t more)
{
    h->bytes += more;
    if (h->bytes > h->peak)
        h->peak = h->bytes;
}

static void *fn_small_alloc(struct fn_heap *h, size_t cls)
{
    size_t need = sizeof(struct fn_small) + fn_class_size(cls);
    if (!fn_heap_room(h, fn_class_size(cls)))
        return NULL;   /* Duktape collects garbage and tries again, then throws */
    void *p = h->free[cls];
    if (p) {
        h->free[cls] = h->free[cls]->next;
    } else {
        struct fn_chunk *c = h->chunks;
        if (!c || FN_CHUNK_SIZE - sizeof *c - c->used < need) {
            c = malloc(FN_CHUNK_SIZE);
            if (!c)
                return NULL;
            c->next = h->chunks;
            c->used = 0;
            h->chunks = c;
        }
        struct fn_small *s = (struct fn_small *)(c->data + c->used);
        c->used += need;
        s->tag = cls + 1;
        p = s + 1;
    }
    fn_heap_count(h, fn_class_size(cls));
    return p;
}

static void *fn_large_alloc(struct fn_heap *h, size_t size)
{
    if (size > SIZE_MAX - sizeof(struct fn_block) || !fn_heap_room(h, size))
        return NULL;
    struct fn_block *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->size = size;
    b->tag = 0;
    fn_block_link(h, b);
    fn_heap_count(h, size);
    return b + 1;
}

void *fn_heap_alloc(void *udata, size_t size)
{
    struct fn_heap *h = udata;
    if (size == 0)
        return NULL;   /* Duktape accepts NULL for a zero-size allocation */
    if (size <= FN_SMALL_MAX)
        return fn_small_alloc(h, (size - 1) / 16);
    return fn_large_alloc(h, size);
}

/* The payload's size: its class, or the large block's size. */
static size_t fn_heap_size_of(const void *ptr)
{
    size_t tag = ((const size_t *)ptr)[-1];
    return tag ? fn_class_size(tag - 1) : ((const struct fn_block *)ptr - 1)->size;
}

void fn_heap_free(void *udata, void *ptr)
{
    struct fn_heap *h = udata;
    if (!ptr)
        return;
    size_t tag = ((const size_t *)ptr)[-1];
    if (tag) {
        struct fn_free *f = ptr;
        f->next = h->free[tag - 1];
        h->free[tag - 1] = f;
        h->bytes -= fn_class_size(tag - 1);
        return;
    }
    struct fn_block *b = (struct fn_block *)ptr - 1;
    fn_block_unlink(h, b);
    h->bytes -= b->size;
    free(b);
}

void *fn_heap_realloc(void *udata, void *ptr, size_t size)
{
    struct fn_heap *h = udata;
    if (!ptr)
        return fn_heap_alloc(h, size);
    if (size == 0) {
        fn_heap_free(h, ptr);
        return NULL;
    }
    size_t tag = ((const size_t *)ptr)[-1];
    if (tag && size <= fn_class_size(tag - 1))
        return ptr;   /* still fits its class */
    if (!tag && size > FN_SMALL_MAX) {
        struct fn_block *b = (struct fn_block *)ptr - 1;
        if ((size > b->size && !fn_heap_room(h, size - b->size)) || size > SIZE_MAX - sizeof *b)
            return NULL;
        fn_block_unlink(h, b);
        struct fn_block *nb = realloc(b, sizeof *b + size);
        if (!nb) {
            fn_block_link(h, b);   /* the old block stays valid */
            return NULL;
        }
        h->bytes -= nb->size;
        nb->size = size;
        fn_block_link(h, nb);
        fn_heap_count(h, size);
        return nb + 1;
    }
    /* small <-> large, or a larger class: move */
    void *np = fn_heap_alloc(h, size);
    if (!np)
        return NULL;
    size_t old = fn_heap_size_of(ptr);
    memcpy(np, ptr, old < size ? old : size);
    fn_heap_free(h, ptr);
    return np;
}

void fn_heap_release(struct fn_heap *h)
{
    while (h->blocks) {
        struct fn_block *b = h->blocks;
        h->blocks = b->next;
        free(b);
    }
    while (h->chunks) {
        struct fn_chunk *c = h->chunks;
        h->chunks = c->next;
        free(c);
    }
    memset(h->free, 0, sizeof h->free);
    h->bytes = 0;
}

int fn_engine_timed_out(void *udata)
{
    struct fn_heap *h = udata;
    if (!h->deadline_ms)
        return 0;
    if (!h->timed_out && fn_platform_monotonic_ns() / 1000000 >= h->deadline_ms)
        h->timed_out = true;
    return h->timed_out;   /* stays true: the RangeError keeps propagating */
}

double fn_engine_random_double(void *udata)
{
    (void)udata;
    return (double)(fn_platform_random_u64() >> 11) * 0x1.0p-53;
}

double fn_engine_now_ms(void)
{
    return (double)(fn_platform_realtime_ns() / 1000000);
}

double fn_engine_monotonic_ms(void)
{
    return (double)fn_platform_monotonic_ns() / 1e6;
}

void fn_engine_fatal(void *udata, const char *msg)
{
    struct fn_heap *h = udata;
    if (h && h->fatal) {
        strncpy(h->fatal_msg, msg ? msg : "(no message)", sizeof h->fatal_msg - 1);
        h->fatal_msg[sizeof h->fatal_msg - 1] = '\0';
        longjmp(*h->fatal, 1);
    }
    __builtin_trap();   /* no instance to end: the ecall ends with a fault */
}
