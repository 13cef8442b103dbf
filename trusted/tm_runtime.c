/* tm_trusted_entry: every EENTER with CSSA 0 arrives here, on the thread's own
 * stack, from tm_entry.S. */
#include "tm_ecall.h"
#include "tm_runtime.h"

struct tm_entry_result tm_trusted_entry(uint64_t ecall, uint64_t args, uintptr_t enclave_base,
                                        uintptr_t tcs_address)
{
    /* Neither needs relocated data: they only use RIP-relative addresses. */
    tm_thread_bind(enclave_base, tcs_address);
    tm_reloc_apply_once(enclave_base);

    /* TODO(issue 3): the TCS lease check (which slot this TCS serves), nested
     * entries during ocalls, and a table of ecalls the image exports. */
    switch (ecall) {
    case TM_ECALL_MAIN:
        return tm_ecall_main(args);
    default:
        return (struct tm_entry_result){ .status = TM_STATUS_UNKNOWN_ECALL };
    }
}
