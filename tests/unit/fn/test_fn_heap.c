/* The per-instance JS heap allocator (apps/functions/enclave/fn_engine.c),
 * natively under ASan: small blocks by size class, large ones tracked,
 * realloc across the two keeps the contents, the cap refuses what would pass
 * it, and a release frees everything (LeakSanitizer checks). */
#include <stdint.h>

#include "../harness.h"
#include "fn_engine.h"

static void test_small_and_large(void)
{
    struct fn_heap h = { 0 };
    char *a = fn_heap_alloc(&h, 1), *b = fn_heap_alloc(&h, 16), *c = fn_heap_alloc(&h, 600);
    REQUIRE(a && b && c);
    CHECK(((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) % 16 == 0);
    CHECK_EQ_INT(h.bytes, 16 + 16 + 600);
    memset(a, 1, 1), memset(b, 2, 16), memset(c, 3, 600);
    fn_heap_free(&h, b);
    CHECK_EQ_INT(h.bytes, 16 + 600);
    char *d = fn_heap_alloc(&h, 9);   /* the freed block of its class comes back */
    CHECK(d == b);
    fn_heap_free(&h, d);
    CHECK(fn_heap_alloc(&h, 0) == NULL);
    fn_heap_release(&h);
    CHECK_EQ_INT(h.bytes, 0);
    CHECK(h.blocks == NULL && h.chunks == NULL);
}

static void test_realloc_keeps_contents(void)
{
    struct fn_heap h = { 0 };
    unsigned char *p = fn_heap_alloc(&h, 20);
    for (int i = 0; i < 20; i++)
        p[i] = (unsigned char)i;
    CHECK(fn_heap_realloc(&h, p, 32) == p);            /* still its class */
    p = fn_heap_realloc(&h, p, 300);                    /* a larger class */
    REQUIRE(p);
    p = fn_heap_realloc(&h, p, 5000);                   /* small -> large */
    REQUIRE(p);
    p = fn_heap_realloc(&h, p, 9000);                   /* large -> large */
    REQUIRE(p);
    CHECK_EQ_INT(h.bytes, 9000);
    p = fn_heap_realloc(&h, p, 40);                     /* large -> small */
    REQUIRE(p);
    CHECK_EQ_INT(h.bytes, 48);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(p[i], i);
    CHECK(fn_heap_realloc(&h, p, 0) == NULL);
    CHECK_EQ_INT(h.bytes, 0);
    fn_heap_release(&h);
}

static void test_cap(void)
{
    struct fn_heap h = { .limit = 100000 };
    int n = 0;
    while (fn_heap_alloc(&h, 512))
        n++;
    CHECK_EQ_INT(n, 100000 / 512);
    CHECK(fn_heap_alloc(&h, 50000) == NULL);
    CHECK(h.bytes <= h.limit);
    CHECK_EQ_INT(h.peak, h.bytes);
    fn_heap_release(&h);
    /* Many chunks' worth, released whole (as after a fatal error). */
    for (int i = 0; i < 20000; i++)
        CHECK(fn_heap_alloc(&h, (size_t)(i % 700) + 1) != NULL || h.limit);
    fn_heap_release(&h);
}

int main(void)
{
    RUN(test_small_and_large);
    RUN(test_realloc_keeps_contents);
    RUN(test_cap);
    TEST_EXIT();
}
