/* A running enclave built from an image: ECREATE, EADD/EEXTEND of every range
 * that is not added on demand, EINIT, through whichever backend was chosen. */
#ifndef TM_ENCLAVE_H
#define TM_ENCLAVE_H

#include <stdint.h>

#include "backend/backend.h"
#include "enclave/image.h"
#include "sgx_arch.h"
#include "util/error.h"

/* Where the time of a fresh enclave goes (milliseconds), and what it holds. */
struct tm_enclave_stats {
    double create_ms;        /* ECREATE: reserve ELRANGE, EPC and CPU state */
    double add_ms;           /* EADD + EEXTEND: copy and measure every page */
    double init_ms;          /* EINIT: check the SIGSTRUCT against the measurement */
    uint64_t pages_added;
    uint64_t pages_measured;
};

struct tm_enclave {
    const struct tm_backend_ops *ops;
    struct tm_backend_enclave *be;
    uint64_t base;
    uint64_t size;
    const struct tm_layout *layout;   /* borrowed from the image */
    struct tm_enclave_stats stats;
};

/* Build an enclave from image, initialised with sigstruct (which must be for
 * this image: EINIT refuses otherwise). */
int tm_enclave_build(const struct tm_image *image, const struct sgx_sigstruct *sigstruct,
                     const struct tm_backend_ops *ops, struct tm_enclave **out, tm_error *err);
/* Told after every chunk of pages added (and before the first): pages added
 * so far of those the build adds. A negative return stops the build, which
 * fails with it (err set by the callback). */
typedef int (*tm_enclave_progress_fn)(void *ctx, uint64_t pages_done, uint64_t pages_total,
                                      tm_error *err);
/* tm_enclave_build, reporting progress (for a daemon that builds in a thread). */
int tm_enclave_build_watched(const struct tm_image *image, const struct sgx_sigstruct *sigstruct,
                             const struct tm_backend_ops *ops, tm_enclave_progress_fn progress,
                             void *ctx, struct tm_enclave **out, tm_error *err);
/* Pages the build of a layout adds (those not added on demand). */
uint64_t tm_enclave_build_pages(const struct tm_layout *l);
/* Offset of TCS number index from the base (index < tcs_count). */
uint64_t tm_enclave_tcs_offset(const struct tm_enclave *e, uint32_t index);
void tm_enclave_destroy(struct tm_enclave *e);
void tm_enclave_destroyp(struct tm_enclave **e);
#define _cleanup_enclave_ __attribute__((cleanup(tm_enclave_destroyp)))

#endif
