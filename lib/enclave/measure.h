/* MRENCLAVE, computed exactly as the CPU does it (SDM 38.7): SHA-256 over a
 * 64-byte block per ECREATE and EADD and a 64-byte header plus 256 bytes of data
 * per EEXTEND. The same bytes, written out, are the canonical SGXS stream. */
#ifndef TM_MEASURE_H
#define TM_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "enclave/layout.h"
#include "util/error.h"

/* Receives every byte hashed, in order (used to write SGXS). */
typedef int (*tm_measure_sink)(void *arg, const void *data, size_t len, tm_error *err);

struct tm_measure {
    void *ctx;               /* EVP_MD_CTX */
    tm_measure_sink sink;
    void *sink_arg;
};

int tm_measure_init(struct tm_measure *m, tm_measure_sink sink, void *sink_arg, tm_error *err);
int tm_measure_ecreate(struct tm_measure *m, uint32_t ssa_frame_pages, uint64_t enclave_size,
                       tm_error *err);
int tm_measure_eadd(struct tm_measure *m, uint64_t offset, uint64_t secinfo_flags, tm_error *err);
/* EEXTEND all 16 chunks of one page at offset (page aligned). */
int tm_measure_eextend_page(struct tm_measure *m, uint64_t offset, const uint8_t *page,
                            tm_error *err);
int tm_measure_final(struct tm_measure *m, uint8_t mrenclave[32], tm_error *err);
void tm_measure_free(struct tm_measure *m);

/* Measure a whole layout: ECREATE, then EADD (+EEXTEND where measured) of every
 * range that is not added on demand, in ascending order. */
int tm_measure_layout(const struct tm_layout *layout, tm_measure_sink sink, void *sink_arg,
                      uint8_t mrenclave[32], tm_error *err);

#endif
