/* Images for benchmarks: the same code in enclaves of other layouts. */
#ifndef TM_BENCH_IMAGE_H
#define TM_BENCH_IMAGE_H

#include <stdint.h>

#include "enclave/image.h"
#include "util/error.h"

/* A copy of image whose enclave-global heap fills an enclave of size bytes
 * and has no slots: a conventional SGX1 enclave, which commits its whole heap
 * before EINIT. */
int tm_bench_image_heap_fill(const struct tm_image *image, uint64_t size, struct tm_image **out,
                             tm_error *err);

/* Write image's file to dir/name (for the daemon, which takes an image fd). */
int tm_bench_image_write(const struct tm_image *image, const char *dir, const char *name,
                         char *path, size_t path_len, tm_error *err);

#endif
