/* The exception entry: EENTER with CSSA > 0 after an AEX (tm_entry.S calls
 * this on the upper part of the thread data page).
 *
 * The interrupted state is GPRSGX at the end of SSA frame CSSA-1, EXINFO just
 * below it. The image's handler may fix the state and resume; otherwise the
 * frame is rewritten so that ERESUME lands in longjmp to the ecall's unwind
 * point, and the ecall ends with TM_STATUS_FAULT. Either way the host learns
 * what happened from the fault report in its argument block. */
#include <setjmp.h>

#include "sgx_arch.h"
#include "teemate_enclave.h"
#include "tm_runtime.h"

#define TM_VECTOR_UD 6
#define TM_VECTOR_PF 14
#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_DF (1ULL << 10)
#define RFLAGS_AC (1ULL << 18)

static tm_exception_handler tm_exception_handler_fn;

/* tm_cpuid.c: a #UD on CPUID answered in the frame (through the host). */
bool tm_cpuid_emulate(struct sgx_ssa_gpr *gpr);

tm_exception_handler tm_set_exception_handler(tm_exception_handler handler)
{
    return __atomic_exchange_n(&tm_exception_handler_fn, handler, __ATOMIC_ACQ_REL);
}

/* SYSCALL (0f 05), SYSENTER (0f 34), INT 0x80 (cd 80) at rip, read only if
 * the two bytes lie in the enclave. */
static bool tm_exception_is_syscall(const struct tm_thread_data *td, uint64_t rip)
{
    if (rip < td->enclave_base || rip + 2 > td->enclave_base + td->regions.image_size)
        return false;
    const uint8_t *code = (const uint8_t *)rip;
    return (code[0] == 0x0f && (code[1] == 0x05 || code[1] == 0x34)) ||
           (code[0] == 0xcd && code[1] == 0x80);
}

struct sgx_ssa_gpr *tm_exception_frame(const struct tm_thread_data *td, uintptr_t enclave_base,
                                       uint64_t cssa)
{
    uintptr_t frame = enclave_base + td->ssa_offset + (cssa - 1) * td->ssa_frame_size;
    return (struct sgx_ssa_gpr *)(frame + td->ssa_frame_size - sizeof(struct sgx_ssa_gpr));
}

struct tm_entry_result tm_exception_entry(uint64_t cssa, uintptr_t enclave_base)
{
    struct tm_thread_data *td = tm_thread_current();
    struct tm_ecall_context *ctx = tm_ecall_current();
    if (ctx == NULL || cssa == 0 || cssa > td->nssa || td->enclave_base != enclave_base)
        return (struct tm_entry_result){ .status = TM_STATUS_EXCEPTION_ENTRY };

    struct sgx_ssa_gpr *gpr = tm_exception_frame(td, enclave_base, cssa);
    const struct sgx_ssa_exinfo *exinfo =
        (const struct sgx_ssa_exinfo *)((uintptr_t)gpr - sizeof(struct sgx_ssa_exinfo));

    /* EXITINFO is valid only for the exceptions SGX reports (#PF and #GP
     * only with MISCSELECT.EXINFO): without it, the fault is fatal and the
     * host fills in the vector from what it saw of the AEX. */
    bool known = gpr->exit_info & SGX_EXITINFO_VALID;
    struct tm_fault_report report = {
        .flags = TM_FAULT_VALID | (known ? 0 : TM_FAULT_NO_VECTOR),
        .vector = known ? SGX_EXITINFO_VECTOR(gpr->exit_info) : 0,
        .exit_type = SGX_EXITINFO_TYPE(gpr->exit_info),
        .rip = gpr->rip,
    };
    if (known && report.vector == TM_VECTOR_PF) {
        report.flags |= TM_FAULT_ADDR;
        report.addr = exinfo->maddr;
        report.errcd = exinfo->errcd;
    }
    if (known && report.vector == TM_VECTOR_UD && tm_exception_is_syscall(td, gpr->rip))
        report.flags |= TM_FAULT_SYSCALL;

    struct tm_entry_result result = { .status = TM_EXCEPTION_UNWIND, .value = report.vector };
    tm_exception_handler handler = __atomic_load_n(&tm_exception_handler_fn, __ATOMIC_ACQUIRE);
    struct tm_exception_info info = {
        .vector = report.vector,
        .errcd = report.errcd,
        .addr = report.addr,
        .is_syscall = !!(report.flags & TM_FAULT_SYSCALL),
        .gpr = gpr,
    };
    if ((known && report.vector == TM_VECTOR_UD && tm_cpuid_emulate(gpr)) ||
        (known && handler && handler(&info) == TM_EXCEPTION_CONTINUE)) {
        report.flags |= TM_FAULT_HANDLED;
        result.status = TM_EXCEPTION_RESUME;
    } else {
        /* ERESUME becomes longjmp(ctx->unwind, 1); longjmp uses no stack,
         * but RSP must still be a sane enclave address. */
        ctx->unwind_status = TM_STATUS_FAULT;
        ctx->unwind_value = report.vector;
        gpr->rip = (uintptr_t)longjmp;
        gpr->rdi = (uintptr_t)&ctx->unwind;
        gpr->rsi = 1;
        gpr->rsp = ((uintptr_t)ctx & ~(uintptr_t)15) - 8;
        gpr->rflags &= ~(RFLAGS_TF | RFLAGS_DF | RFLAGS_AC);
    }
    tm_host_copy_out(ctx->args_address + offsetof(struct tm_ecall_args, fault), &report,
                     sizeof report);
    return result;
}
