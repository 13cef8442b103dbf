#include "enclave/enclave.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/clock.h"

/* The SECS the enclave is created with: the layout's size and SSA frame size,
 * and the attributes the SIGSTRUCT asks for (EINIT compares them under its
 * masks), INIT cleared. */
static void secs_for(struct sgx_secs *secs, const struct tm_layout *l, const struct sgx_sigstruct *ss)
{
    memset(secs, 0, sizeof(*secs));
    secs->size = l->settings.enclave_size;
    secs->ssa_frame_size = l->settings.ssa_frame_pages;
    secs->miscselect = ss->body.miscselect;
    secs->attributes.flags = ss->body.attributes.flags & ~SGX_ATTR_INIT;
    secs->attributes.xfrm = ss->body.attributes.xfrm;
}

/* Progress of a build: EADDs go in chunks so that a watcher hears often. */
#define PROGRESS_CHUNK (1024 * SGX_PAGE_SIZE)

struct watch {
    tm_enclave_progress_fn fn;
    void *ctx;
    uint64_t done, total;
};

static int add_pages(struct tm_enclave *e, struct watch *w, uint64_t off, const uint8_t *src,
                     uint64_t len, const struct tm_page_range *r, tm_error *err)
{
    uint64_t chunk = w->fn ? PROGRESS_CHUNK : len;
    for (uint64_t at = 0; at < len; at += chunk) {
        uint64_t n = len - at < chunk ? len - at : chunk;
        int ret = e->ops->add_pages(e->be, off + at, src ? src + at : NULL, n, r->secinfo_flags,
                                    r->measured, err);
        w->done += n / SGX_PAGE_SIZE;
        if (ret == 0 && w->fn)
            ret = w->fn(w->ctx, w->done, w->total, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* EADD a range: its data pages straight from the image, a last partial data
 * page padded with zeros, then zero pages. */
static int add_range(struct tm_enclave *e, struct watch *w, const struct tm_page_range *r,
                     tm_error *err)
{
    uint64_t data = r->data ? (r->data_len < r->size ? r->data_len : r->size) : 0;
    uint64_t full = data & ~(SGX_PAGE_SIZE - 1);
    uint64_t off = r->offset;
    int ret = 0;
    if (full)
        ret = add_pages(e, w, off, r->data, full, r, err);
    off += full;
    if (ret == 0 && data > full) {
        uint8_t page[SGX_PAGE_SIZE] __attribute__((aligned(SGX_PAGE_SIZE))) = { 0 };
        memcpy(page, r->data + full, data - full);
        ret = add_pages(e, w, off, page, SGX_PAGE_SIZE, r, err);
        off += SGX_PAGE_SIZE;
    }
    if (ret == 0 && off < r->offset + r->size)
        ret = add_pages(e, w, off, NULL, r->offset + r->size - off, r, err);
    return ret;
}

/* The heap's on-demand part, mapped so that it may grow: an EACCEPT there of a
 * page never added EAUGs it (the build's own mapping never expands). Attached
 * processes map it with the rest of the heap (handle_attach.c). */
static int map_on_demand_heap(struct tm_enclave *e, tm_error *err)
{
    for (size_t i = 0; i < e->layout->nranges; i++) {
        const struct tm_page_range *r = &e->layout->ranges[i];
        if (r->kind != TM_RANGE_HEAP || !r->on_demand)
            continue;
        if (!e->ops->map)
            return tm_error_set(err, ENOSYS, "the %s backend cannot add heap pages on demand",
                                e->ops->name);
        int ret = e->ops->map(e->be, r->offset, r->size, PROT_READ | PROT_WRITE, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

uint64_t tm_enclave_build_pages(const struct tm_layout *l)
{
    uint64_t n = 0;
    for (size_t i = 0; i < l->nranges; i++)
        n += l->ranges[i].on_demand ? 0 : l->ranges[i].size / SGX_PAGE_SIZE;
    return n;
}

int tm_enclave_build(const struct tm_image *image, const struct sgx_sigstruct *sigstruct,
                     const struct tm_backend_ops *ops, struct tm_enclave **out, tm_error *err)
{
    return tm_enclave_build_watched(image, sigstruct, ops, NULL, NULL, out, err);
}

int tm_enclave_build_watched(const struct tm_image *image, const struct sgx_sigstruct *sigstruct,
                             const struct tm_backend_ops *ops, tm_enclave_progress_fn progress,
                             void *ctx, struct tm_enclave **out, tm_error *err)
{
    const struct tm_layout *l = &image->layout;
    struct tm_enclave *e = calloc(1, sizeof(*e));
    if (!e)
        return tm_error_set(err, ENOMEM, "out of memory");
    e->ops = ops;
    e->layout = l;
    e->size = l->settings.enclave_size;

    struct sgx_secs secs;
    secs_for(&secs, l, sigstruct);
    double t0 = tm_now_ms();
    struct watch w = { .fn = progress, .ctx = ctx, .total = tm_enclave_build_pages(l) };
    int ret = progress ? progress(ctx, 0, w.total, err) : 0;
    if (ret == 0)
        ret = ops->create(&secs, &e->be, &e->base, err);
    double t1 = tm_now_ms();
    for (size_t i = 0; ret == 0 && i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        if (r->on_demand)
            continue;
        ret = add_range(e, &w, r, err);
        e->stats.pages_added += r->size / SGX_PAGE_SIZE;
        e->stats.pages_measured += r->measured ? r->size / SGX_PAGE_SIZE : 0;
    }
    double t2 = tm_now_ms();
    if (ret == 0)
        ret = ops->init(e->be, sigstruct, err);
    if (ret == 0)
        ret = map_on_demand_heap(e, err);
    double t3 = tm_now_ms();
    if (ret < 0) {
        tm_error_prefix(err, "%s (%s backend)", image->path, ops->name);
        tm_enclave_destroy(e);
        return ret;
    }
    e->stats.create_ms = t1 - t0;
    e->stats.add_ms = t2 - t1;
    e->stats.init_ms = t3 - t2;
    *out = e;
    return 0;
}

uint64_t tm_enclave_tcs_offset(const struct tm_enclave *e, uint32_t index)
{
    for (size_t i = 0; i < e->layout->nranges; i++) {
        const struct tm_page_range *r = &e->layout->ranges[i];
        if (r->kind == TM_RANGE_TCS && r->index == index)
            return r->offset;
    }
    return UINT64_MAX;
}

void tm_enclave_destroy(struct tm_enclave *e)
{
    if (!e)
        return;
    if (e->be)
        e->ops->destroy(e->be);
    free(e);
}

void tm_enclave_destroyp(struct tm_enclave **e)
{
    tm_enclave_destroy(*e);
}
