/* tm_trusted_entry: every new ecall (EENTER with CSSA 0, not an ocall's
 * return) arrives here, on the thread's own stack, from tm_entry.S. */
#include "tm_ecall.h"
#include "tm_runtime.h"

struct tm_entry_result tm_trusted_entry(uint64_t ecall, uint64_t args, uintptr_t enclave_base,
                                        uintptr_t tcs_address)
{
    /* Neither needs relocated data: they only use RIP-relative addresses. */
    tm_thread_bind(enclave_base, tcs_address);
    tm_reloc_apply_once(enclave_base);

    /* No ecall is in progress on this TCS, so a runtime lock it holds was
     * left by a thread that died before its ecall began (tm_lock.h). */
    tm_locks_drop_mine();
    /* tm_ecall_run checks the TCS lease (tm_lease_gate) on the trusted copy
     * of the argument block before anything else runs. */
    return tm_ecall_run(ecall, args);
}
