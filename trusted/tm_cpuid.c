/* CPUID inside the enclave. The instruction faults (#UD) in an SGX enclave,
 * so, as SGX SDKs do, the runtime answers it: the exception entry sees a #UD
 * on the bytes 0F A2, asks the host (TM_OCALL_CPUID), writes EAX..EDX into
 * the interrupted frame and resumes after the instruction.
 *
 * The answer is untrusted and is used as such: CPUID only selects code paths
 * (mbedTLS's AES-NI and PCLMUL), so a lying host can at worst make the
 * enclave take a slower path or fault on an instruction the CPU lacks.
 *
 * Leaves 0, 1 and 7.0 (what feature checks read) are kept once per enclave:
 * the first answer stands, later ones cost no exit. Leaf 1's EBX carries the
 * initial APIC id of whichever CPU answered; nothing inside relies on it. */
#include <errno.h>
#include <stdbool.h>

#include "sgx_arch.h"
#include "teemate_enclave.h"
#include "tm_runtime.h"

enum { TM_CPUID_EMPTY, TM_CPUID_FILLING, TM_CPUID_READY };

struct tm_cpuid_cached {
    uint32_t leaf, subleaf;
    uint32_t state;   /* TM_CPUID_*: regs are read only once READY (release/acquire) */
    uint32_t regs[4];
};

static struct tm_cpuid_cached tm_cpuid_cache[] = {
    { .leaf = 0 }, { .leaf = 1 }, { .leaf = 7, .subleaf = 0 },
};

static struct tm_cpuid_cached *tm_cpuid_slot(uint32_t leaf, uint32_t subleaf)
{
    for (size_t i = 0; i < sizeof tm_cpuid_cache / sizeof tm_cpuid_cache[0]; i++) {
        struct tm_cpuid_cached *c = &tm_cpuid_cache[i];
        /* leaves 0 and 1 ignore ECX */
        if (c->leaf == leaf && (leaf < 7 || c->subleaf == subleaf))
            return c;
    }
    return NULL;
}

/* The ocall itself: runs inside an ecall (its scratch buffer carries the
 * block), also from the exception entry's small stack. */
static int tm_cpuid_ask_host(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    struct tm_ecall_context *ctx = tm_ecall_current();
    if (ctx == NULL || ctx->args.scratch_size < TM_OCALL_SCRATCH_MIN)
        return -ENOSYS;
    struct tm_ocall_cpuid req = { .leaf = leaf, .subleaf = subleaf };
    tm_host_copy_out(ctx->args.scratch, &req, sizeof req);
    int64_t r = tm_ocall_exit(TM_OCALL_CPUID, ctx->args.scratch);
    if (r != 0)
        return r < 0 && r >= -4095 ? (int)r : -EIO;
    struct tm_ocall_cpuid reply;
    tm_host_copy_in(&reply, ctx->args.scratch, sizeof reply);
    regs[0] = reply.eax;
    regs[1] = reply.ebx;
    regs[2] = reply.ecx;
    regs[3] = reply.edx;
    return 0;
}

int tm_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    struct tm_cpuid_cached *c = tm_cpuid_slot(leaf, subleaf);
    if (c && __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == TM_CPUID_READY) {
        for (int i = 0; i < 4; i++)
            regs[i] = c->regs[i];
        return 0;
    }
    int r = tm_cpuid_ask_host(leaf, subleaf, regs);
    uint32_t empty = TM_CPUID_EMPTY;
    /* One thread fills the entry; the others just use their own answer. */
    if (r == 0 && c &&
        __atomic_compare_exchange_n(&c->state, &empty, TM_CPUID_FILLING, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
        for (int i = 0; i < 4; i++)
            c->regs[i] = regs[i];
        __atomic_store_n(&c->state, TM_CPUID_READY, __ATOMIC_RELEASE);
    }
    return r;
}

/* tm_exception.c, for a #UD: if the instruction at RIP is CPUID (0F A2, read
 * only inside the image), answer it in the frame and step over it. */
bool tm_cpuid_emulate(struct sgx_ssa_gpr *gpr)
{
    const struct tm_thread_data *td = tm_thread_current();
    uint64_t rip = gpr->rip;
    if (rip < td->enclave_base || rip + 2 > td->enclave_base + td->regions.image_size)
        return false;
    const uint8_t *code = (const uint8_t *)(uintptr_t)rip;
    if (code[0] != 0x0f || code[1] != 0xa2)
        return false;
    uint32_t regs[4];
    if (tm_cpuid(gpr->rax, gpr->rcx, regs) < 0)
        return false;
    /* CPUID writes the low halves and zeroes the high ones */
    gpr->rax = regs[0];
    gpr->rbx = regs[1];
    gpr->rcx = regs[2];
    gpr->rdx = regs[3];
    gpr->rip = rip + 2;
    return true;
}
