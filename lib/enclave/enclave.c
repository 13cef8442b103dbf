#include "enclave/enclave.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* EADD a range: its data pages straight from the image, a last partial data
 * page padded with zeros, then zero pages. */
static int add_range(struct tm_enclave *e, const struct tm_page_range *r, tm_error *err)
{
    uint64_t data = r->data ? (r->data_len < r->size ? r->data_len : r->size) : 0;
    uint64_t full = data & ~(SGX_PAGE_SIZE - 1);
    uint64_t off = r->offset;
    int ret = 0;
    if (full)
        ret = e->ops->add_pages(e->be, off, r->data, full, r->secinfo_flags, r->measured, err);
    off += full;
    if (ret == 0 && data > full) {
        uint8_t page[SGX_PAGE_SIZE] __attribute__((aligned(SGX_PAGE_SIZE))) = { 0 };
        memcpy(page, r->data + full, data - full);
        ret = e->ops->add_pages(e->be, off, page, SGX_PAGE_SIZE, r->secinfo_flags, r->measured, err);
        off += SGX_PAGE_SIZE;
    }
    if (ret == 0 && off < r->offset + r->size)
        ret = e->ops->add_pages(e->be, off, NULL, r->offset + r->size - off, r->secinfo_flags,
                                r->measured, err);
    return ret;
}

int tm_enclave_build(const struct tm_image *image, const struct sgx_sigstruct *sigstruct,
                     const struct tm_backend_ops *ops, struct tm_enclave **out, tm_error *err)
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
    int ret = ops->create(&secs, &e->be, &e->base, err);
    double t1 = tm_now_ms();
    for (size_t i = 0; ret == 0 && i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        if (r->on_demand)
            continue;
        ret = add_range(e, r, err);
        e->stats.pages_added += r->size / SGX_PAGE_SIZE;
        e->stats.pages_measured += r->measured ? r->size / SGX_PAGE_SIZE : 0;
    }
    double t2 = tm_now_ms();
    if (ret == 0)
        ret = ops->init(e->be, sigstruct, err);
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
