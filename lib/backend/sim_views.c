/* This process's views of a sim enclave's ELRANGE. ELRANGE is always
 * reserved; only the views are the EPC itself (MAP_SHARED of the EPC memfd at
 * the same offset), and inside a view each page is protected as the EPCM says,
 * within the view's cap. A page outside every view is not mapped here, as a
 * page of another container's slot is not in its address space on hardware.
 *
 * The view list is process-local and guarded by a rwlock: map/unmap write it;
 * faults and ENCLU leaves (signal handlers of threads inside the enclave,
 * which hold no lock) read it. */
#include "backend/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE SGX_PAGE_SIZE
#define PROT_RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

static int page_prot(struct tm_sim_epcm m)
{
    if (!m.valid || m.type != SGX_PT_REG || m.pending || m.modified)
        return PROT_NONE;
    return (m.perm & SGX_SECINFO_R ? PROT_READ : 0) | (m.perm & SGX_SECINFO_W ? PROT_WRITE : 0) |
           (m.perm & SGX_SECINFO_X ? PROT_EXEC : 0);
}

/* The view holding offset, or NULL; views_lock held. */
static const struct tm_sim_view *view_find(const struct tm_sim_enclave *e, uint64_t offset)
{
    size_t lo = 0, hi = e->nviews;
    while (lo < hi) {   /* the first view starting after offset */
        size_t mid = lo + (hi - lo) / 2;
        if (e->views[mid].offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct tm_sim_view *v = &e->views[lo - 1];
    return offset - v->offset < v->len ? v : NULL;
}

bool tm_sim_view_at(struct tm_sim_enclave *e, uint64_t offset, struct tm_sim_view *v)
{
    pthread_rwlock_rdlock(&e->views_lock);
    const struct tm_sim_view *found = view_find(e, offset);
    if (found)
        *v = *found;
    pthread_rwlock_unlock(&e->views_lock);
    return found != NULL;
}

/* [offset, end) inside one view, all protected from the EPCM within cap. */
static int protect_run(struct tm_sim_enclave *e, uint64_t offset, uint64_t end, int cap, tm_error *err)
{
    uint64_t run = offset;
    int run_prot = -1;
    for (uint64_t off = offset; off <= end; off += PAGE) {
        int prot = off < end ? page_prot(tm_sim_epcm_load(&e->epcm[off / PAGE])) & cap : -2;
        if (prot == run_prot)
            continue;
        if (run_prot >= 0 && mprotect((void *)(uintptr_t)(e->base + run), off - run, run_prot) < 0)
            return tm_error_sys(err, "cannot protect enclave pages 0x%llx-0x%llx",
                                (unsigned long long)run, (unsigned long long)off);
        run = off;
        run_prot = prot;
    }
    return 0;
}

/* views_lock held (either way). */
static int protect_locked(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err)
{
    uint64_t end = offset + len;
    for (size_t i = 0; i < e->nviews; i++) {
        const struct tm_sim_view *v = &e->views[i];
        uint64_t lo = v->offset > offset ? v->offset : offset;
        uint64_t hi = v->offset + v->len < end ? v->offset + v->len : end;
        if (lo < hi) {
            int ret = protect_run(e, lo, hi, v->cap, err);
            if (ret < 0)
                return ret;
        }
    }
    return 0;
}

int tm_sim_protect(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err)
{
    pthread_rwlock_rdlock(&e->views_lock);
    int ret = protect_locked(e, offset, len, err);
    pthread_rwlock_unlock(&e->views_lock);
    return ret;
}

bool tm_sim_sync_page(struct tm_sim_enclave *e, uint64_t offset, int prot)
{
    if (offset >= e->size)
        return false;
    offset &= ~(PAGE - 1);
    bool ok = false;
    pthread_rwlock_rdlock(&e->views_lock);
    const struct tm_sim_view *v = view_find(e, offset);
    if (v) {   /* outside the views the page is not ours to map */
        int have = page_prot(tm_sim_epcm_load(&e->epcm[offset / PAGE])) & v->cap;
        ok = mprotect((void *)(uintptr_t)(e->base + offset), PAGE, have) == 0 && have != PROT_NONE &&
             (have & prot) == prot;
    }
    pthread_rwlock_unlock(&e->views_lock);
    return ok;
}

/* The views with [offset, offset + len) taken out (splitting one that
 * straddles an end), plus add if given, in a new sorted array. */
static struct tm_sim_view *views_replaced(const struct tm_sim_enclave *e, uint64_t offset, uint64_t len,
                                          const struct tm_sim_view *add, size_t *count)
{
    struct tm_sim_view *nv = malloc((e->nviews + 2) * sizeof(*nv));
    if (!nv)
        return NULL;
    uint64_t end = offset + len;
    size_t n = 0;
    bool added = add == NULL;
    for (size_t i = 0; i < e->nviews; i++) {
        struct tm_sim_view v = e->views[i];
        uint64_t vend = v.offset + v.len;
        uint64_t left_end = vend < offset ? vend : offset;
        uint64_t right_start = v.offset > end ? v.offset : end;
        if (v.offset < left_end) {
            nv[n] = v;
            nv[n++].len = left_end - v.offset;
        }
        if (right_start < vend) {
            if (!added) {
                nv[n++] = *add;
                added = true;
            }
            nv[n] = v;
            nv[n].offset = right_start;
            nv[n++].len = vend - right_start;
        }
    }
    if (!added)
        nv[n++] = *add;
    *count = n;
    return nv;
}

/* Put the anonymous PROT_NONE reservation over the range. */
static int reserve(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err)
{
    if (mmap((void *)(uintptr_t)(e->base + offset), len, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
        return tm_error_sys(err, "cannot reserve enclave pages 0x%llx-0x%llx",
                            (unsigned long long)offset, (unsigned long long)(offset + len));
    return 0;
}


int tm_sim_views_init_full(struct tm_sim_enclave *e, tm_error *err)
{
    e->views = malloc(sizeof(*e->views));
    if (!e->views)
        return tm_error_set(err, ENOMEM, "out of memory");
    e->views[0] = (struct tm_sim_view){ .offset = 0, .len = e->size, .cap = PROT_RWX, .on_demand = false };
    e->nviews = 1;
    return 0;
}

/* Mapping a new view: runs of pages with equal protections (the EPCM's
 * within cap; holes in the EPCM's extents are PROT_NONE), each mmapped once
 * with its final protection, so a view costs one mmap per run and nothing
 * per page of ELRANGE. */
struct map_walk {
    struct tm_sim_enclave *e;
    int cap;
    uint64_t next;            /* the first offset not yet in a run */
    uint64_t run, run_end;    /* the pending run */
    int run_prot;
    tm_error *err;
};

static int walk_flush(struct map_walk *w)
{
    if (w->run_end == w->run)
        return 0;
    if (mmap((void *)(uintptr_t)(w->e->base + w->run), w->run_end - w->run, w->run_prot,
             MAP_SHARED | MAP_FIXED | MAP_NORESERVE, w->e->epc_fd, (off_t)w->run) == MAP_FAILED)
        return tm_error_sys(w->err, "map: cannot map the EPC at 0x%llx-0x%llx", (unsigned long long)w->run,
                            (unsigned long long)w->run_end);
    w->run = w->run_end;
    return 0;
}

static int walk_add(struct map_walk *w, uint64_t off, uint64_t len, int prot)
{
    if (w->run_end > w->run && prot != w->run_prot) {
        int ret = walk_flush(w);
        if (ret < 0)
            return ret;
    }
    if (w->run_end == w->run) {
        w->run = off;
        w->run_prot = prot;
    }
    w->run_end = off + len;
    w->next = off + len;
    return 0;
}

static int walk_extent(struct tm_sim_enclave *e, uint64_t off, uint64_t len, void *arg)
{
    struct map_walk *w = arg;
    int ret = off > w->next ? walk_add(w, w->next, off - w->next, PROT_NONE) : 0;
    /* A committed heap is thousands of identical entries: compare words, and
     * decode only where they change. */
    const uint64_t *words = (const uint64_t *)e->epcm;
    uint64_t p = off / PAGE, end = (off + len) / PAGE;
    while (ret == 0 && p < end) {
        uint64_t word = __atomic_load_n(&words[p], __ATOMIC_ACQUIRE), q = p + 1;
        while (q < end && __atomic_load_n(&words[q], __ATOMIC_RELAXED) == word)
            q++;
        struct tm_sim_epcm m;
        memcpy(&m, &word, sizeof m);
        ret = walk_add(w, p * PAGE, (q - p) * PAGE, page_prot(m) & w->cap);
        p = q;
    }
    return ret;
}

int tm_sim_map(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, int prot, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "map", offset, len, err);
    if (ret < 0)
        return ret;
    if (prot & ~PROT_RWX)
        return tm_error_set(err, EINVAL, "map: protection 0x%x is not PROT_READ/WRITE/EXEC", prot);
    struct tm_sim_view add = { .offset = offset, .len = len, .cap = prot, .on_demand = true };
    pthread_rwlock_wrlock(&e->views_lock);
    size_t n;
    struct tm_sim_view *nv = views_replaced(e, offset, len, &add, &n);
    if (!nv) {
        pthread_rwlock_unlock(&e->views_lock);
        return tm_error_set(err, ENOMEM, "map: out of memory");
    }
    /* Only pages the EPCM has can be accessible: walk the EPCM's data extents. */
    struct map_walk w = { .e = e, .cap = prot, .next = offset, .run = offset, .run_end = offset, .err = err };
    ret = tm_sim_epcm_scan(e, offset, len, walk_extent, &w, err);
    if (ret == 0 && w.next < offset + len)
        ret = walk_add(&w, w.next, offset + len - w.next, PROT_NONE);
    if (ret == 0)
        ret = walk_flush(&w);
    if (ret < 0) {
        free(nv);
        /* A failed MAP_FIXED may have unmapped part of the range: reserve it all again, no view there. */
        tm_error ignored;
        nv = views_replaced(e, offset, len, NULL, &n);
        if (nv && reserve(e, offset, len, &ignored) == 0) {
            free(e->views);
            e->views = nv;
            e->nviews = n;
        } else {
            free(nv);
        }
        pthread_rwlock_unlock(&e->views_lock);
        return ret;
    }
    free(e->views);
    e->views = nv;
    e->nviews = n;
    pthread_rwlock_unlock(&e->views_lock);
    return 0;
}

int tm_sim_unmap(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "unmap", offset, len, err);
    if (ret < 0)
        return ret;
    pthread_rwlock_wrlock(&e->views_lock);
    size_t n;
    struct tm_sim_view *nv = views_replaced(e, offset, len, NULL, &n);
    if (!nv)
        ret = tm_error_set(err, ENOMEM, "unmap: out of memory");
    else
        ret = reserve(e, offset, len, err);
    if (ret == 0) {
        free(e->views);
        e->views = nv;
        e->nviews = n;
    } else {
        free(nv);
    }
    pthread_rwlock_unlock(&e->views_lock);
    return ret;
}
