/* Reading and validating an enclave image's ELF file. Untrusted input: every
 * field is bounds-checked before use. */
#ifndef TM_ELF_H
#define TM_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "tm_image.h"
#include "util/error.h"

#define TM_ELF_MAX_SEGMENTS 32

struct tm_elf_segment {
    uint64_t vaddr;        /* offset from the enclave base */
    uint64_t memsz;
    uint64_t file_offset;
    uint64_t filesz;
    uint64_t secinfo_perm; /* SGX_SECINFO_R/W/X from p_flags */
};

struct tm_elf {
    const uint8_t *file;   /* borrowed */
    size_t file_len;
    uint64_t entry;        /* e_entry: offset of the enclave entry point */
    uint64_t image_end;    /* end of the last segment, page-rounded */
    size_t nsegments;
    struct tm_elf_segment segments[TM_ELF_MAX_SEGMENTS];
    struct tm_layout_settings settings;  /* from the TeeMate layout note */
    uint64_t settings_file_offset;       /* where the note's descriptor is in the file */
    size_t nrelocs;        /* R_X86_64_RELATIVE entries the runtime will apply */
};

/* Parse and validate. `name` is used in messages. The file stays borrowed. */
int tm_elf_parse(struct tm_elf *elf, const uint8_t *file, size_t len, const char *name,
                 tm_error *err);

#endif
