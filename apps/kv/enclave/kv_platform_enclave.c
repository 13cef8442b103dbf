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

/* Persistence in the enclave: a snapshot child is attached to this same
 * enclave and reads its parent's slot in place; files are sealed; file
 * calls are ocalls. */
bool kv_platform_snapshot_shared(void) { return true; }
const struct kv_server *kv_platform_snapshot_parent(void) { return tm_slot_parent_root(); }
bool kv_platform_seals(void) { return true; }

long kv_platform_host_call(uint32_t number, const void *in, size_t in_len, void *out,
                           size_t out_cap, size_t *out_len)
{
    size_t got = 0;
    long r = tm_ocall_app(number, in, in_len, out, out_cap, &got);
    if (out_len)
        *out_len = got;
    return r;
}
