/* An ecall abandoned by a dead process. When a process dies inside an ecall
 * (or while its ecall waits in an ocall), the host makes the TCS enterable
 * again, but the thread's ecall context still says an ecall is in progress
 * and every new ecall is refused (TM_STATUS_BUSY). Only LEASE_UNBIND, with
 * the token of the slot this TCS serves, may drop it: the thread's stack is
 * then free for the unbind. tm_entry.S runs this on the thread data page, so
 * that the abandoned frames on the thread's stack stay intact when the token
 * does not check (an ocall's answer may still resume them). */
#include "tm_runtime.h"

int64_t tm_entry_abandon(uint64_t args_address, uintptr_t enclave_base, uintptr_t tcs_address)
{
    struct tm_thread_data *td = tm_thread_bind(enclave_base, tcs_address);
    struct tm_ecall_args args;
    if (!tm_host_range_is_outside(args_address, sizeof args))
        return TM_STATUS_BAD_ARGUMENTS;
    tm_host_copy_in(&args, args_address, sizeof args);
    if (args.ecall != TM_ECALL_LEASE_UNBIND)
        return TM_STATUS_BUSY;
    int64_t status = tm_lease_may_abandon(args.lease_token);
    if (status != TM_STATUS_OK)
        return status;
    /* Runtime locks the dead ecall held are stale; its buffers stay in the
     * slot's arena until the slot is trimmed. */
    tm_locks_drop_mine();
    td->ecall_context = 0;
    return 0;
}
