/* TeeMate SDK: the header an enclave application includes. Enclave code only.
 *
 * An image is one static-pie ELF: your code + the trusted runtime + musl's
 * libc.a, linked by sdk/enclave.mk with sdk/enclave.lds. Each image states its
 * enclave layout once, with TM_ENCLAVE_LAYOUT:
 *
 *     #include <teemate_enclave.h>
 *
 *     TM_ENCLAVE_LAYOUT(
 *         .enclave_size    = TM_MiB(64),   // ELRANGE, a power of two
 *         .tcs_count       = 4,            // threads that can be inside at once
 *         .nssa            = 2,            // SSA frames per thread
 *         .ssa_frame_pages = 1,
 *         .stack_size      = TM_KiB(64),   // per thread
 *         .heap_size       = TM_MiB(1),    // enclave-global
 *         .slot_count      = 8,            // container slots
 *         .slot_size       = TM_MiB(1),
 *     );
 *
 *     int main(int argc, char **argv) { tm_print("hi\n"); return 0; }
 *
 * The loader checks the settings (sizes are page multiples, everything fits
 * in enclave_size, limits in tm_image.h); `teemate layout IMAGE` shows where
 * everything lands. The linker refuses an image without exactly one layout.
 *
 * What the runtime gives the application today:
 *   - main(argc, argv), run by the TM_ECALL_MAIN ecall (abi/tm_ecall.h) on one
 *     of the image's threads. argv and its strings are copies inside the
 *     enclave; argv[argc] is NULL. Several threads may be in main at once.
 *   - tm_print(), output to the host for the ecall in progress.
 *   - musl's pure functions: string, memory, formatting (snprintf & co), ctype,
 *     strto*, math, setjmp/longjmp, qsort/bsearch, and errno (per thread).
 *     Locale functions behave as in the "C" locale (setlocale/uselocale: no).
 * Not yet (they fault: there are no system calls inside an enclave):
 *   malloc & co (the slot allocator comes later), stdio on FILEs (printf,
 *   fopen...), exit/abort, time, threads, signals. Also refused at link time:
 *   thread-local variables and constructors. */
#ifndef TEEMATE_ENCLAVE_H
#define TEEMATE_ENCLAVE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_image.h"

#define TM_KiB(n) ((uint64_t)(n) << 10)
#define TM_MiB(n) ((uint64_t)(n) << 20)
#define TM_GiB(n) ((uint64_t)(n) << 30)

/* An ELF note as it sits in the file: header, name padded to 4, descriptor. */
struct tm_layout_note {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char name[8];
    struct tm_layout_settings desc;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct tm_layout_note) == 12 + 8 + 56, "layout note size");

/* Emits the image's layout note. Arguments are designated initializers of
 * struct tm_layout_settings (version and flags are filled in for you; naming
 * a field twice is an error with -Wextra -Werror). */
#define TM_ENCLAVE_LAYOUT(...)                                                   \
    __attribute__((used, section(".note.teemate"), aligned(4)))                \
    static const struct tm_layout_note tm_enclave_layout_note = {              \
        .namesz = sizeof(TM_NOTE_NAME),                                         \
        .descsz = sizeof(struct tm_layout_settings),                            \
        .type = TM_NOTE_LAYOUT,                                                 \
        .name = TM_NOTE_NAME,                                                   \
        .desc = { .version = TM_LAYOUT_VERSION, .flags = 0, __VA_ARGS__ },      \
    }

/* The application's entry, called by the runtime for TM_ECALL_MAIN. Its return
 * value reaches the host (RDX at EEXIT). */
int main(int argc, char **argv);

/* Appends the NUL-terminated string s to the host-visible output of the ecall
 * in progress. Returns 0, or -1 when it did not fit (the host sees the output
 * truncated) or when there is no ecall output to write to. */
int tm_print(const char *s);

#endif
