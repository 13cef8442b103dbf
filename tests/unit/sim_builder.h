/* Builds small sim enclaves for the sim backend's tests: a synthetic image
 * (elf_builder.h), measured and signed here, added page range by page range
 * through tm_backend_sim's ops. Each test binary points TEEMATE_STATE_DIR at a
 * fresh temporary directory first (sb_setup). */
#ifndef TM_SIM_BUILDER_H
#define TM_SIM_BUILDER_H

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/sim.h"
#include "elf_builder.h"
#include "enclave/image.h"
#include "enclave/key.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "probe.h"

/* Until sim_cpu.c provides them: these tests never enter an enclave. */
__attribute__((weak)) int tm_sim_enter(struct tm_backend_enclave *be, uint64_t tcs_offset, uint64_t rdi,
                                       uint64_t rsi, uint64_t rdx, struct tm_enter_result *res, tm_error *err)
{
    (void)be, (void)tcs_offset, (void)rdi, (void)rsi, (void)rdx, (void)res;
    return tm_error_set(err, ENOSYS, "EENTER is not linked in");
}

__attribute__((weak)) int tm_sim_resume(struct tm_backend_enclave *be, uint64_t tcs_offset,
                                        struct tm_enter_result *res, tm_error *err)
{
    (void)be, (void)tcs_offset, (void)res;
    return tm_error_set(err, ENOSYS, "ERESUME is not linked in");
}

static char sb_state_dir[256];
static EVP_PKEY *sb_key;   /* one signing key per binary: RSA-3072 generation is slow */

static void sb_cleanup(void)
{
    EVP_PKEY_free(sb_key);
    if (sb_state_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sb_state_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", sb_state_dir);
    }
}

static void sb_setup(void)
{
    snprintf(sb_state_dir, sizeof(sb_state_dir), "/tmp/teemate-sim-test.XXXXXX");
    if (!mkdtemp(sb_state_dir)) {
        perror("mkdtemp");
        exit(2);
    }
    setenv("TEEMATE_STATE_DIR", sb_state_dir, 1);
    tm_error err = { 0 };
    if (tm_key_generate(&sb_key, &err) < 0) {
        fprintf(stderr, "key: %s\n", err.msg);
        exit(2);
    }
    atexit(sb_cleanup);
}

/* The synthetic image, with heap_size changed to make "another enclave". */
static struct tm_image *sb_image(uint64_t heap_size)
{
    static struct eb_image im;
    eb_build(&im);
    im.settings->heap_size = heap_size;
    struct tm_image *image = NULL;
    tm_error err = { 0 };
    if (tm_image_load_memory(im.bytes, sizeof(im.bytes), "synthetic.elf", &image, &err) < 0)
        fprintf(stderr, "  image: %s\n", err.msg);
    return image;
}

static int sb_sign(const struct tm_image *image, EVP_PKEY *key, const struct tm_sign_options *o,
                   struct sgx_sigstruct *ss)
{
    uint8_t mr[32];
    tm_error err = { 0 };
    struct tm_sign_options def;
    if (!o) {
        tm_sign_options_default(&def);
        def.isv_prod_id = 7;
        def.isv_svn = 3;
        o = &def;
    }
    int ret = tm_measure_layout(&image->layout, NULL, NULL, mr, &err);
    if (ret == 0)
        ret = tm_sigstruct_sign(ss, mr, o, key, &err);
    if (ret < 0)
        fprintf(stderr, "  sign: %s\n", err.msg);
    return ret;
}

static void sb_secs(struct sgx_secs *secs, const struct tm_image *image)
{
    memset(secs, 0, sizeof(*secs));
    secs->size = image->layout.settings.enclave_size;
    secs->ssa_frame_size = image->layout.settings.ssa_frame_pages;
    secs->attributes.flags = SGX_ATTR_MODE64BIT;
    secs->attributes.xfrm = SGX_XFRM_LEGACY;
}

/* ECREATE + EADD/EEXTEND of every range that is not on demand. */
static int sb_create_and_add(const struct tm_image *image, struct tm_sim_enclave **out, tm_error *err)
{
    const struct tm_backend_ops *ops = &tm_backend_sim;
    struct sgx_secs secs;
    sb_secs(&secs, image);
    struct tm_backend_enclave *be = NULL;
    uint64_t base;
    int ret = ops->create(&secs, &be, &base, err);
    if (ret < 0)
        return ret;
    static uint8_t page[SGX_PAGE_SIZE];
    const struct tm_layout *l = &image->layout;
    for (size_t i = 0; ret == 0 && i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        if (r->on_demand)
            continue;
        /* A page at a time, data padded with zeros, like the enclave builder. */
        for (uint64_t off = 0; ret == 0 && off < r->size; off += SGX_PAGE_SIZE) {
            const void *src = NULL;
            if (r->data && off < r->data_len) {
                memset(page, 0, sizeof(page));
                uint64_t n = r->data_len - off < SGX_PAGE_SIZE ? r->data_len - off : SGX_PAGE_SIZE;
                memcpy(page, r->data + off, n);
                src = page;
            }
            ret = ops->add_pages(be, r->offset + off, src, SGX_PAGE_SIZE, r->secinfo_flags, r->measured, err);
        }
    }
    if (ret < 0) {
        ops->destroy(be);
        return ret;
    }
    *out = tm_sim_enclave_of(be);
    return 0;
}

static int sb_build(const struct tm_image *image, const struct sgx_sigstruct *ss, struct tm_sim_enclave **out,
                    tm_error *err)
{
    struct tm_sim_enclave *e;
    int ret = sb_create_and_add(image, &e, err);
    if (ret < 0)
        return ret;
    ret = tm_backend_sim.init((struct tm_backend_enclave *)e, ss, err);
    if (ret < 0) {
        tm_sim_destroy(e);
        return ret;
    }
    *out = e;
    return 0;
}

static void sb_destroyp(struct tm_sim_enclave **e)
{
    tm_sim_destroy(*e);
}
#define _cleanup_sim_ __attribute__((cleanup(sb_destroyp)))

/* First range of a kind. */
static inline const struct tm_page_range *sb_range(const struct tm_image *image, enum tm_range_kind kind)
{
    for (size_t i = 0; i < image->layout.nranges; i++)
        if (image->layout.ranges[i].kind == kind)
            return &image->layout.ranges[i];
    return NULL;
}

#endif
