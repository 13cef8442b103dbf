/* The store's platform natively (unit tests, the fuzz target, the host's
 * --no-enclave engine): one store per process, the C library's allocator,
 * randomness from the kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "kv_server.h"

static struct kv_server *kv_native_root;

struct kv_server *kv_platform_root(void) { return kv_native_root; }
void kv_platform_set_root(struct kv_server *s) { kv_native_root = s; }

uint64_t kv_platform_random_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != sizeof v)
        abort();   /* no seed, no keyed hash: refuse to run on a guessable one */
    return v;
}

void *kv_platform_alloc(size_t n) { return malloc(n); }
void *kv_platform_realloc(void *p, size_t n) { return realloc(p, n); }
void kv_platform_free(void *p) { free(p); }

void *kv_platform_alloc_aligned(size_t align, size_t n)
{
    void *p;
    return posix_memalign(&p, align, n) ? NULL : p;
}

size_t kv_platform_rss(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}
