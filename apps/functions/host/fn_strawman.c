/* The strawman mode: what a conventional confidential platform does for a
 * cold start. A fresh enclave per instance, sized for that one instance
 * and fully committed before EINIT (SGX1), the code compiled inside it, one
 * run, then the enclave goes. No daemon, nothing shared. The EDMM strawman
 * (strawman-edmm) adds only the image and its TCS before EINIT; the heap is
 * EAUGed as the allocator EACCEPTs it (SGX2), which the stats count. */
#include <errno.h>

#include "enclave/devkey.h"
#include "fn_host.h"
#include "sgx_arch.h"
#include "util/cleanup.h"
#include "util/clock.h"

int fn_strawman_image(const struct tm_image *base, uint64_t memory, bool heap_on_demand,
                      struct tm_image **out, tm_error *err)
{
    struct tm_layout_settings s = base->layout.settings;
    uint64_t heap = (s.heap_size + memory + SGX_PAGE_SIZE - 1) & ~(uint64_t)(SGX_PAGE_SIZE - 1);
    s.tcs_count = 1;
    s.slot_count = 0;
    s.slot_size = 0;
    s.heap_size = 0;
    struct tm_image *bare = NULL;
    int r = tm_image_with_settings(base, &s, &bare, err);
    if (r < 0)
        return r;
    /* everything below the heap, the heap, its guard page; ELRANGE is a
     * power of two (the rest of it is never added) */
    uint64_t need = bare->layout.regions.heap_offset + heap + 2 * SGX_PAGE_SIZE;
    tm_image_free(bare);
    s.enclave_size = tm_image_elrange_for(need);
    s.heap_size = heap;
    s.heap_on_demand = heap_on_demand ? heap : 0;
    return tm_image_with_settings(base, &s, out, err);
}

/* Build, load, run, stats on one fresh enclave. */
static int fn_strawman_once(const struct tm_image *image, const struct sgx_sigstruct *ss,
                            const struct tm_backend_ops *ops, const struct fn_services *services,
                            const void *wire, size_t len, const struct fn_run_request *req,
                            const char *params, struct fn_result *result,
                            struct fn_strawman_stats *st, tm_error *err)
{
    struct tm_enclave *e = NULL;
    int r = tm_enclave_build(image, ss, ops, &e, err);
    if (r < 0)
        return r;
    st->create_ms = e->stats.create_ms;
    st->add_ms = e->stats.add_ms;
    st->init_ms = e->stats.init_ms;
    st->pages_added = e->stats.pages_added;
    st->enclave_size = e->size;
    struct fn_target t = { .enclave = e };
    struct fn_stats fs = { 0 };
    double t0 = tm_now_ms();
    r = fn_target_load(&t, services, wire, len, NULL, err);
    double t1 = tm_now_ms();
    if (r == 0)
        r = fn_target_run(&t, services, req, params, result, err);
    double t2 = tm_now_ms();
    if (r == 0)
        r = fn_target_stats(&t, &fs, err);
    st->load_ms = t1 - t0;
    struct tm_expand_stats xs = { 0 };
    if (e->ops->expand_stats)
        e->ops->expand_stats(e->be, &xs);
    st->expand_pages = xs.pages;
    st->expand_ms = xs.ms;
    st->epc_pages = e->ops->epc_pages_in(e->be, 0, e->size);
    st->heap_ms = (double)fs.create_ns / 1e6;
    st->code_ms = (double)fs.load_ns / 1e6;
    st->run_ms = t2 - t1 - st->heap_ms;
    double t3 = tm_now_ms();
    tm_enclave_destroy(e);
    st->destroy_ms = tm_now_ms() - t3;
    if (r < 0)
        fn_result_free(result);
    return r;
}

/* The one-instance image of image_path (*image: the caller frees it),
 * signed with the development key (*sign_ms: the signing's time). */
static int fn_strawman_signed(const char *image_path, uint64_t memory, bool heap_on_demand,
                              struct tm_image **image, struct sgx_sigstruct *ss,
                              const struct tm_backend_ops **ops, double *sign_ms, tm_error *err)
{
    _cleanup_image_ struct tm_image *base = NULL;
    char key_path[4200];
    *image = NULL;
    int r = tm_backend_select(TM_BACKEND_AUTO, ops, err);
    if (r == 0)
        r = tm_image_load(image_path, &base, err);
    if (r == 0)
        r = fn_strawman_image(base, memory, heap_on_demand, image, err);
    double t0 = tm_now_ms();
    if (r == 0)
        r = tm_devkey_sign(*image, ss, key_path, sizeof key_path, err);
    *sign_ms = tm_now_ms() - t0;
    return r;
}

int fn_strawman_build(const char *image_path, uint64_t memory, bool heap_on_demand,
                      struct tm_image **image_out, struct tm_enclave **e, tm_error *err)
{
    _cleanup_image_ struct tm_image *image = NULL;
    const struct tm_backend_ops *ops;
    struct sgx_sigstruct ss;
    double sign_ms;
    int r = fn_strawman_signed(image_path, memory, heap_on_demand, &image, &ss, &ops, &sign_ms, err);
    if (r == 0)
        r = tm_enclave_build(image, &ss, ops, e, err);
    if (r == 0) {
        *image_out = image;   /* the enclave borrows its layout */
        image = NULL;
    }
    return r;
}

static int fn_strawman_invoke_with(const char *image_path, uint64_t memory, bool heap_on_demand,
                                   const struct fn_services *services, const void *wire, size_t len,
                                   const struct fn_run_request *req, const char *params,
                                   struct fn_result *result, struct fn_strawman_stats *st,
                                   tm_error *err)
{
    _cleanup_image_ struct tm_image *image = NULL;
    const struct tm_backend_ops *ops;
    struct sgx_sigstruct ss;
    int r = fn_strawman_signed(image_path, memory, heap_on_demand, &image, &ss, &ops, &st->sign_ms,
                               err);
    if (r == 0)
        r = fn_strawman_once(image, &ss, ops, services, wire, len, req, params, result, st, err);
    return r;
}

int fn_strawman_invoke(const char *image_path, uint64_t memory, const struct fn_services *services,
                       const void *wire, size_t len, const struct fn_run_request *req,
                       const char *params, struct fn_result *result, struct fn_strawman_stats *st,
                       tm_error *err)
{
    return fn_strawman_invoke_with(image_path, memory, false, services, wire, len, req, params,
                                   result, st, err);
}

int fn_strawman_edmm_invoke(const char *image_path, uint64_t memory, const struct fn_services *services,
                            const void *wire, size_t len, const struct fn_run_request *req,
                            const char *params, struct fn_result *result,
                            struct fn_strawman_stats *st, tm_error *err)
{
    return fn_strawman_invoke_with(image_path, memory, true, services, wire, len, req, params,
                                   result, st, err);
}
