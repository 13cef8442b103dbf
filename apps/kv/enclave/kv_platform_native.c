/* The store's platform natively (unit tests, the fuzz target, the host's
 * --no-enclave engine): one store per process, the C library's allocator,
 * randomness from the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "kv_entry.h"
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

/* Persistence natively: a snapshot child is a fork(2) with its own copy of
 * the store; files are plain (nothing to seal them with); the host serves
 * the file calls through the function it registered. */
bool kv_platform_snapshot_shared(void) { return false; }
const struct kv_server *kv_platform_snapshot_parent(void) { return kv_native_root; }
bool kv_platform_seals(void) { return false; }

static kv_host_call_fn kv_native_host;

void kv_platform_native_set_host(kv_host_call_fn fn) { kv_native_host = fn; }

long kv_platform_host_call(uint32_t number, const void *in, size_t in_len, void *out,
                           size_t out_cap, size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if (!kv_native_host)
        return -ENOSYS;
    return kv_native_host(number, in, in_len, out, out_cap, out_len);
}
