/* The JS runtime's engine side: Duktape's hooks (allocator, fatal handler,
 * deadline, random, time) over one tracked heap per instance. Shared by the
 * enclave image and the native build (the same source, two platforms). */
#ifndef FN_ENGINE_H
#define FN_ENGINE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One Duktape heap's memory: small blocks (up to FN_SMALL_MAX) carved from
 * chunks into per-size free lists, large ones from malloc, each tracked, so
 * that a fatal error can free the heap without Duktape (whose state is then
 * unknown) and a cap can hold. Duktape makes thousands of small allocations:
 * served here, they never walk the slot allocator's first-fit list. */
#define FN_SMALL_MAX 512
#define FN_SMALL_CLASSES (FN_SMALL_MAX / 16)

struct fn_block;
struct fn_chunk;
struct fn_free;
struct fn_heap {
    struct fn_block *blocks;   /* large blocks, doubly linked, newest first */
    struct fn_chunk *chunks;   /* the newest is carved from */
    struct fn_free *free[FN_SMALL_CLASSES];
    uint64_t bytes, peak;      /* live bytes (a small block counts its size class) */
    uint64_t limit;            /* 0: none */
    int64_t deadline_ms;       /* monotonic ms; 0: none */
    bool timed_out;
    jmp_buf *fatal;            /* where a fatal error lands (NULL: trap) */
    char fatal_msg[160];
};

void *fn_heap_alloc(void *udata, size_t size);
void *fn_heap_realloc(void *udata, void *ptr, size_t size);
void fn_heap_free(void *udata, void *ptr);
/* Free every block still live (after a fatal error, or after destroy). */
void fn_heap_release(struct fn_heap *heap);

/* Duktape's hooks (fn_duk_config.h). */
int fn_engine_timed_out(void *udata);
double fn_engine_random_double(void *udata);
double fn_engine_now_ms(void);
double fn_engine_monotonic_ms(void);
__attribute__((noreturn)) void fn_engine_fatal(void *udata, const char *msg);

#endif
