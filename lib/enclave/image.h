/* An enclave image: the ELF file plus the layout it describes. */
#ifndef TM_IMAGE_LOAD_H
#define TM_IMAGE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "enclave/elf.h"
#include "enclave/layout.h"
#include "util/error.h"

#define TM_IMAGE_MAX_FILE_SIZE (256ULL << 20)

struct tm_image {
    char *path;
    uint8_t *file;           /* owned */
    size_t file_len;
    struct tm_elf elf;
    struct tm_layout layout;
};

/* Read, validate and lay out the image at path. */
int tm_image_load(const char *path, struct tm_image **out, tm_error *err);
/* Same from memory (the bytes are copied); name is used in messages. */
int tm_image_load_memory(const uint8_t *data, size_t len, const char *name,
                         struct tm_image **out, tm_error *err);
/* A copy of image with other layout settings (its note rewritten): the same
 * code in an enclave of another size, for benchmarks and tools. The copy
 * measures differently, so it needs its own SIGSTRUCT. */
int tm_image_with_settings(const struct tm_image *image, const struct tm_layout_settings *settings,
                           struct tm_image **out, tm_error *err);
/* tm_image_with_settings for an image whose slots end its layout: ELRANGE
 * (settings->enclave_size, overwritten) the smallest power of two holding
 * every slot. Fails as the largest enclave would: the slots do not fit. */
int tm_image_with_slots_fitted(const struct tm_image *image, struct tm_layout_settings *settings,
                               struct tm_image **out, tm_error *err);
/* The smallest power-of-two ELRANGE of at least need bytes. */
uint64_t tm_image_elrange_for(uint64_t need);
/* The image's file in a sealed-off memfd (at offset 0 after the writes: the
 * daemon reads it with pread), for a CREATE to teemated; name names it. */
int tm_image_memfd(const struct tm_image *image, const char *name, tm_error *err);
void tm_image_free(struct tm_image *image);
void tm_image_freep(struct tm_image **image);
#define _cleanup_image_ __attribute__((cleanup(tm_image_freep)))

#endif
