/* Duktape's hooks. The allocator sits on malloc, which inside an enclave on
 * a slot thread allocates in that container's slot (trusted/tm_malloc.c): an
 * instance's JS heap lives in its own slot. Each block is tracked so a fatal
 * error can drop the whole heap without asking Duktape. */
#include "fn_engine.h"

#include <stdlib.h>
#include <string.h>

#include "fn_platform.h"

struct fn_block {
    struct fn_block *prev, *next;
    size_t size;
    size_t pad;   /* keeps the payload 16-aligned */
};

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

void *fn_heap_alloc(void *udata, size_t size)
{
    struct fn_heap *h = udata;
    if (size > SIZE_MAX - sizeof(struct fn_block) || !fn_heap_room(h, size))
        return NULL;   /* Duktape collects garbage and tries again, then throws */
    struct fn_block *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->size = size;
    fn_block_link(h, b);
    h->bytes += size;
    if (h->bytes > h->peak)
        h->peak = h->bytes;
    return b + 1;
}

void fn_heap_free(void *udata, void *ptr)
{
    struct fn_heap *h = udata;
    if (!ptr)
        return;
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
    struct fn_block *b = (struct fn_block *)ptr - 1;
    if (size > b->size && !fn_heap_room(h, size - b->size))
        return NULL;
    if (size > SIZE_MAX - sizeof *b)
        return NULL;
    fn_block_unlink(h, b);
    struct fn_block *nb = realloc(b, sizeof *b + size);
    if (!nb) {
        fn_block_link(h, b);   /* the old block stays valid */
        return NULL;
    }
    h->bytes = h->bytes - nb->size + size;
    nb->size = size;
    fn_block_link(h, nb);
    if (h->bytes > h->peak)
        h->peak = h->bytes;
    return nb + 1;
}

void fn_heap_release(struct fn_heap *h)
{
    while (h->blocks) {
        struct fn_block *b = h->blocks;
        h->blocks = b->next;
        free(b);
    }
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
