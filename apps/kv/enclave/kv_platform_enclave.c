/* The store's platform inside the enclave: the store is anchored in the
 * container slot this thread serves (tm_slot_root), so every attached server
 * process has its own, and a snapshot child finds its parent's; malloc lands
 * in that slot; randomness from RDRAND, never from the host. */
#include <stdlib.h>

#include "kv_server.h"
#include "teemate_enclave.h"

/* A private enclave (teemate exec) has no slot: one store for the enclave. */
static struct kv_server *kv_no_slot_root;

struct kv_server *kv_platform_root(void)
{
    void *root = tm_slot_root();
    return root ? root : (tm_slot_current() < 0 ? kv_no_slot_root : NULL);
}

void kv_platform_set_root(struct kv_server *s)
{
    if (tm_slot_current() >= 0)
        tm_slot_set_root(s);
    else
        kv_no_slot_root = s;
}

uint64_t kv_platform_random_u64(void) { return tm_random_u64(); }
void *kv_platform_alloc(size_t n) { return malloc(n); }
void *kv_platform_realloc(void *p, size_t n) { return realloc(p, n); }
void kv_platform_free(void *p) { free(p); }

void *kv_platform_alloc_aligned(size_t align, size_t n)
{
    void *p;
    return posix_memalign(&p, align, n) ? NULL : p;
}

/* The slot's committed pages: what the store takes of the enclave's memory. */
size_t kv_platform_rss(void) { return tm_slot_committed(); }
