/* The store's allocator. Per-key allocations are small and many: they come
 * from size classes (8..128 by 8, then four classes per power of two up to
 * 4 KiB), each with an O(1) free list and a bump pointer into its current
 * slab. Slabs are KV_MEM_CHUNK bytes aligned to their size, so the slab of a
 * pointer is found by masking; a small open-addressing map says which
 * addresses are slabs and of what class (no per-block header: a header would
 * cost 8-16 bytes on each of a key's four blocks). Anything larger than the
 * biggest class comes from the platform with a 16-byte header holding its
 * size. Slabs come from regions of up to KV_MEM_REGION_SLABS slabs (one
 * slab at first, doubling as the store grows), so the platform's own
 * allocator (the enclave's first-fit arena) is called once per MiB of small
 * blocks, not once per key nor per slab: each call there walks its blocks,
 * and each aligned block it cuts leaves a gap of up to a slab in front.
 *
 * `used` is exact: the class size of every live small block plus header and
 * size of every big one (what INFO's used_memory and maxmemory see). Slabs are
 * kept for reuse, not given back, as jemalloc keeps its runs. In direct mode
 * (ASan builds) every block comes from the platform, so the sanitizer sees
 * each one. */
#include <string.h>

#include "kv_server.h"

#define KV_MEM_BIG_HEADER 16u
#define KV_MEM_REGION_SLABS 16u
#define KV_MEM_BIG_MAGIC 0x6b76626967ULL   /* "kvbig" */

struct kv_mem_big {
    uint64_t size;     /* bytes taken from the platform, header included */
    uint64_t magic;
};

static unsigned kv_mem_class_of(size_t n)
{
    if (n <= 128)
        return n ? (unsigned)((n + 7) >> 3) - 1 : 0;
    size_t m = n - 1;
    unsigned p = 63u - (unsigned)__builtin_clzll(m);   /* 7..13 */
    return 16u + (p - 7u) * 4u + (unsigned)((m >> (p - 2)) & 3u);
}

static size_t kv_mem_class_size(unsigned cls)
{
    if (cls < 16)
        return (cls + 1) * 8;
    unsigned k = cls - 16, p = 7 + k / 4;
    return ((size_t)1 << p) + (size_t)(k % 4 + 1) * ((size_t)1 << (p - 2));
}

void kv_mem_init(struct kv_mem *m, bool direct)
{
    memset(m, 0, sizeof *m);
    m->direct = direct;
}

static size_t kv_mem_map_slot(uintptr_t base, size_t cap)
{
    uint64_t h = (uint64_t)(base / KV_MEM_CHUNK) * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 32) & (cap - 1);
}

static void kv_mem_map_put(uintptr_t *map, size_t cap, uintptr_t entry)
{
    size_t i = kv_mem_map_slot(entry & ~(uintptr_t)(KV_MEM_CHUNK - 1), cap);
    while (map[i])
        i = (i + 1) & (cap - 1);
    map[i] = entry;
}

/* The class + 1 of the slab holding p, 0 when p is not in a slab. */
static unsigned kv_mem_map_get(const struct kv_mem *m, const void *p)
{
    if (!m->chunk_map_cap)
        return 0;
    uintptr_t base = (uintptr_t)p & ~(uintptr_t)(KV_MEM_CHUNK - 1);
    size_t i = kv_mem_map_slot(base, m->chunk_map_cap);
    for (;;) {
        uintptr_t e = m->chunk_map[i];
        if (!e)
            return 0;
        if ((e & ~(uintptr_t)(KV_MEM_CHUNK - 1)) == base)
            return (unsigned)(e & (KV_MEM_CHUNK - 1));
        i = (i + 1) & (m->chunk_map_cap - 1);
    }
}

static void kv_mem_oom(void)
{
    /* As zmalloc's OOM handler: the store cannot go on without memory
     * (maxmemory refuses writes long before this). */
    __builtin_trap();
}

/* Remembers a region taken from the platform, to give it back. */
static void kv_mem_keep_region(struct kv_mem *m, void *region)
{
    if (m->region_count == m->chunk_list_cap) {
        size_t cap = m->chunk_list_cap ? m->chunk_list_cap * 2 : 64;
        void **list = kv_platform_alloc(cap * sizeof *list);
        if (!list)
            kv_mem_oom();
        if (m->region_count)
            memcpy(list, m->chunk_list, m->region_count * sizeof *list);
        kv_platform_free(m->chunk_list);
        m->chunk_list = list;
        m->chunk_list_cap = cap;
    }
    m->chunk_list[m->region_count++] = region;
}

/* The next free slab of the current region, or of a new one: as many slabs
 * as the store has so far, at least 1 and at most KV_MEM_REGION_SLABS. */
static char *kv_mem_slab(struct kv_mem *m)
{
    if (m->region_next == m->region_end) {
        size_t slabs = 1;
        while (slabs * 2 <= m->chunk_count && slabs < KV_MEM_REGION_SLABS)
            slabs *= 2;
        size_t bytes = slabs * KV_MEM_CHUNK;
        char *region = kv_platform_alloc_aligned(KV_MEM_CHUNK, bytes);
        if (!region)
            kv_mem_oom();
        kv_mem_keep_region(m, region);
        m->region_next = region;
        m->region_end = region + bytes;
        m->chunks_bytes += bytes;
    }
    char *slab = m->region_next;
    m->region_next += KV_MEM_CHUNK;
    return slab;
}

static void kv_mem_register(struct kv_mem *m, void *chunk, unsigned cls)
{
    if ((m->chunk_count + 1) * 2 > m->chunk_map_cap) {
        size_t cap = m->chunk_map_cap ? m->chunk_map_cap * 2 : 256;
        uintptr_t *map = kv_platform_alloc(cap * sizeof *map);
        if (!map)
            kv_mem_oom();
        memset(map, 0, cap * sizeof *map);
        for (size_t i = 0; i < m->chunk_map_cap; i++)
            if (m->chunk_map[i])
                kv_mem_map_put(map, cap, m->chunk_map[i]);
        kv_platform_free(m->chunk_map);
        m->chunk_map = map;
        m->chunk_map_cap = cap;
    }
    kv_mem_map_put(m->chunk_map, m->chunk_map_cap, (uintptr_t)chunk | (cls + 1));
    m->chunk_count++;
}

static void *kv_mem_alloc_small(struct kv_mem *m, unsigned cls)
{
    size_t size = kv_mem_class_size(cls);
    void *p = m->free_list[cls];
    if (p) {
        m->free_list[cls] = *(void **)p;
    } else {
        if (!m->bump[cls] || (size_t)(m->bump_end[cls] - m->bump[cls]) < size) {
            char *chunk = kv_mem_slab(m);
            kv_mem_register(m, chunk, cls);
            m->bump[cls] = chunk;
            m->bump_end[cls] = chunk + KV_MEM_CHUNK;
        }
        p = m->bump[cls];
        m->bump[cls] += size;
    }
    m->used += size;
    return p;
}

static void *kv_mem_alloc_big(struct kv_mem *m, size_t n)
{
    size_t total;
    if (__builtin_add_overflow(n, (size_t)KV_MEM_BIG_HEADER, &total))
        kv_mem_oom();
    struct kv_mem_big *h = kv_platform_alloc(total);
    if (!h)
        kv_mem_oom();
    h->size = total;
    h->magic = KV_MEM_BIG_MAGIC;
    m->used += total;
    return (char *)h + KV_MEM_BIG_HEADER;
}

void *kv_mem_alloc(struct kv_mem *m, size_t n)
{
    if (!m->direct && n <= KV_MEM_SMALL_MAX)
        return kv_mem_alloc_small(m, kv_mem_class_of(n));
    return kv_mem_alloc_big(m, n);
}

static struct kv_mem_big *kv_mem_big_of(const void *p)
{
    struct kv_mem_big *h = (struct kv_mem_big *)((char *)p - KV_MEM_BIG_HEADER);
    if (h->magic != KV_MEM_BIG_MAGIC)
        __builtin_trap();   /* not ours: a corrupt free must not go on */
    return h;
}

size_t kv_mem_usable(struct kv_mem *m, const void *p)
{
    unsigned cls = kv_mem_map_get(m, p);
    if (cls)
        return kv_mem_class_size(cls - 1);
    return kv_mem_big_of(p)->size - KV_MEM_BIG_HEADER;
}

void kv_mem_free(struct kv_mem *m, void *p)
{
    if (!p)
        return;
    unsigned cls = kv_mem_map_get(m, p);
    if (cls) {
        cls--;
        *(void **)p = m->free_list[cls];
        m->free_list[cls] = p;
        m->used -= kv_mem_class_size(cls);
        return;
    }
    struct kv_mem_big *h = kv_mem_big_of(p);
    m->used -= h->size;
    h->magic = 0;
    kv_platform_free(h);
}

void *kv_mem_realloc(struct kv_mem *m, void *p, size_t n)
{
    if (!p)
        return kv_mem_alloc(m, n);
    size_t old = kv_mem_usable(m, p);
    unsigned cls = kv_mem_map_get(m, p);
    if (cls && n <= KV_MEM_SMALL_MAX && kv_mem_class_of(n) + 1 == cls)
        return p;   /* same class */
    if (!cls && n > KV_MEM_SMALL_MAX) {
        struct kv_mem_big *h = kv_mem_big_of(p);
        size_t total;
        if (__builtin_add_overflow(n, (size_t)KV_MEM_BIG_HEADER, &total))
            kv_mem_oom();
        size_t before = h->size;
        h->magic = 0;
        struct kv_mem_big *nh = kv_platform_realloc(h, total);
        if (!nh)
            kv_mem_oom();
        nh->size = total;
        nh->magic = KV_MEM_BIG_MAGIC;
        m->used = m->used - before + total;
        return (char *)nh + KV_MEM_BIG_HEADER;
    }
    void *q = kv_mem_alloc(m, n);
    memcpy(q, p, old < n ? old : n);
    kv_mem_free(m, p);
    return q;
}

void kv_mem_destroy(struct kv_mem *m)
{
    for (size_t i = 0; i < m->region_count; i++)
        kv_platform_free(m->chunk_list[i]);
    kv_platform_free(m->chunk_list);
    kv_platform_free(m->chunk_map);
    bool direct = m->direct;
    kv_mem_init(m, direct);
}

/* ---- kv.h's interface: the server's allocator. Before a server exists (or
 * after kv_stop) nothing of the store may allocate. */
void *kv_alloc(size_t n) { return kv_mem_alloc(&kv_server()->mem, n); }

void *kv_calloc(size_t n)
{
    void *p = kv_alloc(n);
    memset(p, 0, n);
    return p;
}

void *kv_realloc(void *p, size_t n) { return kv_mem_realloc(&kv_server()->mem, p, n); }
void kv_free(void *p) { kv_mem_free(&kv_server()->mem, p); }
size_t kv_used_memory(void) { return kv_server()->mem.used; }
size_t kv_usable(const void *p) { return kv_mem_usable(&kv_server()->mem, p); }
