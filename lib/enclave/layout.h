/* The enclave layout: the ordered list of page ranges that make up ELRANGE,
 * derived from an image's segments and its layout settings (see tm_image.h). */
#ifndef TM_LAYOUT_H
#define TM_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tm_image.h"
#include "util/error.h"

enum tm_range_kind {
    TM_RANGE_SEGMENT,
    TM_RANGE_STACK,
    TM_RANGE_TCS,
    TM_RANGE_SSA,
    TM_RANGE_THREAD_DATA,
    TM_RANGE_HEAP,
    TM_RANGE_SLOT,
};

struct tm_page_range {
    uint64_t offset;         /* from the enclave base, page aligned */
    uint64_t size;           /* page multiple */
    uint64_t secinfo_flags;  /* SGX page type | R/W/X */
    const uint8_t *data;     /* initial contents, NULL = zeros */
    uint64_t data_len;       /* bytes of data; the rest of the range is zero */
    bool measured;           /* EEXTEND every 256-byte chunk */
    bool on_demand;          /* not added at build time: EAUG'd per container */
    enum tm_range_kind kind;
    uint32_t index;          /* segment, thread or slot number */
};

struct tm_layout {
    struct tm_layout_settings settings;
    struct tm_enclave_regions regions;
    uint64_t entry;          /* OENTRY */
    size_t nranges;
    struct tm_page_range *ranges;  /* ascending offsets, no overlap */
    uint8_t *generated;      /* owned: TCS, thread data and segment pages */
};

struct tm_elf;

/* Check settings from an (untrusted) image note: limits, alignment, power of two. */
int tm_layout_settings_check(const struct tm_layout_settings *s, tm_error *err);

/* Lay out ELRANGE for a parsed image. On error nothing is left allocated. */
int tm_layout_build(struct tm_layout *layout, const struct tm_elf *elf, tm_error *err);

/* Lay out from an explicit segment list (used by tm_layout_build and tests). */
int tm_layout_build_from(struct tm_layout *layout, const struct tm_layout_settings *settings,
                         uint64_t entry, uint64_t image_end, const struct tm_page_range *segments,
                         size_t nsegments, tm_error *err);

const char *tm_range_kind_name(enum tm_range_kind kind);
/* "r-x", "rw-", "tcs" ... for display. */
const char *tm_range_perm_string(uint64_t secinfo_flags, char buf[8]);

/* Thread t's pages (stack, TCS, SSA frames, thread data: contiguous, one
 * thread as big as another); -EINVAL when there is no thread t. */
int tm_layout_thread_span(const struct tm_layout *layout, uint32_t t, uint64_t *offset, uint64_t *len);

/* Total bytes added before EINIT (not on demand) and of those, measured. */
uint64_t tm_layout_added_bytes(const struct tm_layout *layout);
uint64_t tm_layout_measured_bytes(const struct tm_layout *layout);

void tm_layout_free(struct tm_layout *layout);

#endif
