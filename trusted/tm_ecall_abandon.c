/* An ecall abandoned by a dead process. When a process dies inside an ecall
 * (or while its ecall waits in an ocall), the host makes the TCS enterable
 * again, but the thread's ecall context still says an ecall is in progress
 * and every new ecall is refused (TM_STATUS_BUSY). Only LEASE_UNBIND, with
 * the token of the slot this TCS serves, may drop it: the thread's stack is
 * then free for the unbind. tm_entry.S runs this on the thread data page, so
 * that the abandoned frames on the thread's stack stay intact when the token
 * does not check (an ocall's answer may still resume them).
 *
 * A process may also die with an exception pending (CSSA > 0: between the
 * AEX and the ERESUME, or inside the handler; on hardware every SIGKILL of a
 * thread inside the enclave is such an AEX). Only ERESUME brings CSSA down,
 * so the pending frame is pointed at the start of the unbind: the host
 * resumes it and the unbind runs as a new ecall at CSSA 0. Nothing of the
 * dead ecall runs again (its epilogue would write to host addresses of the
 * dead process, which here belong to whoever entered). */
#include "sgx_arch.h"
#include "tm_runtime.h"

#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_DF (1ULL << 10)
#define RFLAGS_AC (1ULL << 18)

/* tm_entry.S: a new ecall with RDI = ecall, RSI = args, RBX = TCS address. */
extern char tm_entry_resume_unbind[] TM_HIDDEN;

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

int64_t tm_entry_abandon_exception(uint64_t args_address, uintptr_t enclave_base, uintptr_t tcs_address,
                                   uint64_t cssa)
{
    struct tm_thread_data *td = tm_thread_bind(enclave_base, tcs_address);
    if (cssa != 1 || cssa > td->nssa)
        return TM_STATUS_EXCEPTION_ENTRY;   /* nested exceptions: not dropped here */
    int64_t status = tm_entry_abandon(args_address, enclave_base, tcs_address);
    if (status != 0)
        return status;
    struct sgx_ssa_gpr *gpr = tm_exception_frame(td, enclave_base, cssa);
    gpr->rip = (uintptr_t)tm_entry_resume_unbind;
    gpr->rdi = TM_ECALL_LEASE_UNBIND;
    gpr->rsi = args_address;
    gpr->rbx = tcs_address;
    gpr->rsp = enclave_base + td->stack_top;
    gpr->rflags &= ~(RFLAGS_TF | RFLAGS_DF | RFLAGS_AC);
    return TM_EXCEPTION_RESUME;
}
