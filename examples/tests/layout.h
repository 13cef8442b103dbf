/* The layout every test image uses: small, 4 threads, 2 SSA frames each
 * (one for the exception entry). */
#ifndef TM_TEST_LAYOUT_H
#define TM_TEST_LAYOUT_H

#include <teemate_enclave.h>

#define TM_TEST_LAYOUT()                  \
    TM_ENCLAVE_LAYOUT(                    \
        .enclave_size = TM_MiB(16),       \
        .tcs_count = 4,                   \
        .nssa = 2,                        \
        .ssa_frame_pages = 1,             \
        .stack_size = TM_KiB(64),         \
        .heap_size = TM_MiB(1),           \
        .slot_count = 2,                  \
        .slot_size = TM_MiB(1), )

#endif
