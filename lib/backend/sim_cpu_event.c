/* The simulated CPU while a thread is inside an enclave: each signal the
 * enclave's code raises is an ENCLU instruction to emulate (EEXIT, EREPORT,
 * EGETKEY, EACCEPT, EMODPE, EACCEPTCOPY) or an exception, delivered as SGX
 * does: an AEX (state to the SSA frame, CSSA + 1, back to the host).
 *
 * Runs in the signal handler, called by tm_sim_cpu_signal with the host's
 * FS/GS base and system calls allowed again. The fault is synchronous and
 * the thread was in enclave code, not inside libc, so calling libc and
 * OpenSSL from here reenters nothing. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "backend/sim.h"
#include "backend/sim_cpu.h"

#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

#define X86_DE 0
#define X86_DB 1
#define X86_BP 3
#define X86_UD 6
#define X86_GP 13
#define X86_PF 14

#define PFEC_P 0x1U
#define PFEC_W 0x2U
#define PFEC_U 0x4U
#define PFEC_I 0x10U
#define PFEC_SGX 0x8000U

#define RFLAGS_CF 0x1ULL
#define RFLAGS_PF 0x4ULL
#define RFLAGS_AF 0x10ULL
#define RFLAGS_ZF 0x40ULL
#define RFLAGS_SF 0x80ULL
#define RFLAGS_OF 0x800ULL

/* An exception as the CPU would raise it. */
struct tm_sim_fault {
    int known;          /* 0: an interrupt-like event, no vector to report */
    uint32_t vector, type;
    uint64_t rip;       /* what the SSA frame gets: the faulting RIP, or after a trap */
    uint64_t maddr;     /* #PF address */
    uint32_t errcd;
};

/* ucontext index of each GPRSGX register, in GPRSGX order. */
static const int tm_sim_gpr_reg[16] = {
    REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
    REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void tm_sim_fault_gp(struct tm_sim_fault *f, uint64_t rip)
{
    *f = (struct tm_sim_fault){ .known = 1, .vector = X86_GP, .type = SGX_EXIT_TYPE_HARDWARE,
                                .rip = rip };
}

static void tm_sim_fault_pf(struct tm_sim_fault *f, uint64_t rip, uint64_t addr, uint32_t errcd)
{
    *f = (struct tm_sim_fault){ .known = 1, .vector = X86_PF, .type = SGX_EXIT_TYPE_HARDWARE,
                                .rip = rip, .maddr = addr, .errcd = errcd };
}

static int tm_sim_in_elrange(const struct tm_sim_enclave *e, uint64_t addr, uint64_t len)
{
    return addr >= e->base && len <= e->size && addr - e->base <= e->size - len;
}

/* An ENCLU memory operand: alignment and ELRANGE as the SDM checks them
 * (#GP), then the page tables and the EPCM (#PF): a page mapped in this
 * process with the access, and an accepted regular page allowing it. */
static int tm_sim_operand(struct tm_sim_enclave *e, uint64_t rip, uint64_t addr,
                          uint64_t len, uint64_t align, uint8_t perm, struct tm_sim_fault *f)
{
    if ((addr & (align - 1)) || !tm_sim_in_elrange(e, addr, len)) {
        tm_sim_fault_gp(f, rip);
        return 0;
    }
    int need = (perm & SGX_SECINFO_R ? PROT_READ : 0) | (perm & SGX_SECINFO_W ? PROT_WRITE : 0);
    for (uint64_t p = addr & ~(SGX_PAGE_SIZE - 1); p < addr + len; p += SGX_PAGE_SIZE) {
        struct tm_sim_epcm m = tm_sim_epcm_load(&e->epcm[(p - e->base) / SGX_PAGE_SIZE]);
        struct tm_sim_view v;
        bool mapped = tm_sim_view_at(e, p - e->base, &v) && (v.cap & need) == need;
        if (!mapped || !m.valid || m.type != SGX_PT_REG || m.pending || m.modified || (perm & ~m.perm)) {
            uint32_t errcd = PFEC_SGX | PFEC_U | PFEC_P | (perm & SGX_SECINFO_W ? PFEC_W : 0);
            tm_sim_fault_pf(f, rip, p > addr ? p : addr, errcd);
            return 0;
        }
    }
    return 1;
}

static void *tm_sim_view(const struct tm_sim_enclave *e, uint64_t addr)
{
    return e->cpu_view + (addr - e->base);
}

/* A leaf's negative result is a fault (or a failure of the sim itself, which
 * the enclave can only see as #GP). */
static void tm_sim_leaf_fault(int r, uint64_t rip, uint64_t page, struct tm_sim_fault *f)
{
    if (r == TM_SIM_FAULT_PF)
        tm_sim_fault_pf(f, rip, page, PFEC_SGX | PFEC_U | PFEC_P);
    else
        tm_sim_fault_gp(f, rip);
}

/* RAX and the flags of a leaf that reports an error code: ZF set on error. */
static void tm_sim_leaf_status(greg_t *g, int r)
{
    g[REG_RAX] = r;
    uint64_t fl = g[REG_EFL] & ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
    g[REG_EFL] = fl | (r ? RFLAGS_ZF : 0);
}

static int tm_sim_ereport_leaf(struct tm_sim_enclave *e, greg_t *g, struct tm_sim_fault *f)
{
    uint64_t rip = g[REG_RIP], ti = g[REG_RBX], rd = g[REG_RCX], out = g[REG_RDX];
    if (!tm_sim_operand(e, rip, ti, sizeof(struct sgx_targetinfo), 512, SGX_SECINFO_R, f) ||
        !tm_sim_operand(e, rip, rd, 64, 128, SGX_SECINFO_R, f) ||
        !tm_sim_operand(e, rip, out, sizeof(struct sgx_report), 512, SGX_SECINFO_W, f))
        return 0;
    struct sgx_targetinfo target;
    uint8_t data[64];
    struct sgx_report report;
    memcpy(&target, tm_sim_view(e, ti), sizeof(target));
    memcpy(data, tm_sim_view(e, rd), sizeof(data));
    int r = tm_sim_ereport(e, &target, data, &report);
    if (r != 0) {
        tm_sim_leaf_fault(r, rip, out, f);
        return 0;
    }
    memcpy(tm_sim_view(e, out), &report, sizeof(report));
    return 1;
}

static int tm_sim_egetkey_leaf(struct tm_sim_enclave *e, greg_t *g, struct tm_sim_fault *f)
{
    uint64_t rip = g[REG_RIP], kr = g[REG_RBX], out = g[REG_RCX];
    if (!tm_sim_operand(e, rip, kr, sizeof(struct sgx_keyrequest), 512, SGX_SECINFO_R, f) ||
        !tm_sim_operand(e, rip, out, 16, 16, SGX_SECINFO_W, f))
        return 0;
    struct sgx_keyrequest req;
    uint8_t key[16];
    memcpy(&req, tm_sim_view(e, kr), sizeof(req));
    int r = tm_sim_egetkey(e, &req, key);
    if (r < 0) {
        tm_sim_leaf_fault(r, rip, out, f);
        return 0;
    }
    if (r == 0)
        memcpy(tm_sim_view(e, out), key, sizeof(key));
    explicit_bzero(key, sizeof(key));
    tm_sim_leaf_status(g, r);
    return 1;
}

/* EACCEPT, EMODPE, EACCEPTCOPY: RBX = SECINFO, RCX = the page, RDX = the
 * source page (EACCEPTCOPY). The page's own EPCM checks are the leaf's. */
static int tm_sim_page_leaf(struct tm_sim_enclave *e, greg_t *g, uint64_t leaf,
                            struct tm_sim_fault *f)
{
    uint64_t rip = g[REG_RIP], secinfo = g[REG_RBX], page = g[REG_RCX], src = g[REG_RDX];
    if (!tm_sim_operand(e, rip, secinfo, sizeof(struct sgx_secinfo), 64, SGX_SECINFO_R, f))
        return 0;
    if ((page & (SGX_PAGE_SIZE - 1)) || !tm_sim_in_elrange(e, page, SGX_PAGE_SIZE)) {
        tm_sim_fault_gp(f, rip);
        return 0;
    }
    if (leaf == SGX_EACCEPTCOPY &&
        !tm_sim_operand(e, rip, src, SGX_PAGE_SIZE, SGX_PAGE_SIZE, SGX_SECINFO_R, f))
        return 0;
    struct sgx_secinfo si;
    memcpy(&si, tm_sim_view(e, secinfo), sizeof(si));
    int r = leaf == SGX_EACCEPT ? tm_sim_eaccept(e, page, &si)
          : leaf == SGX_EMODPE  ? tm_sim_emodpe(e, page, &si)
                                : tm_sim_eacceptcopy(e, page, src, &si);
    if (r < 0) {
        tm_sim_leaf_fault(r, rip, page, f);
        return 0;
    }
    tm_sim_leaf_status(g, r);
    return 1;
}

/* Go on inside the enclave with the registers in uc: the signal return lands
 * on the load stub, which blocks system calls and IRETQs into the enclave. */
static int tm_sim_continue(struct tm_sim_cpu *cpu, ucontext_t *uc)
{
    greg_t *g = uc->uc_mcontext.gregs;
    struct tm_sim_cpu_load *l = &cpu->load;
    for (int i = 0; i < 16; i++)
        l->gpr[i] = g[tm_sim_gpr_reg[i]];
    l->rip = g[REG_RIP];
    l->rsp = g[REG_RSP];
    l->rflags = tm_sim_cpu_rflags(g[REG_EFL]);
    tm_sim_cpu_segments(l);
    g[REG_RIP] = (greg_t)(uintptr_t)tm_sim_cpu_load_stub;
    g[REG_RSP] = (greg_t)(uintptr_t)l;
    return 1;
}

/* x87/SSE/AVX state of a fresh CPU (what AEX loads), so no vector register of
 * the enclave reaches the host. Keeps the kernel's own words (sw_reserved)
 * and PKRU, which is the host's. */
static void tm_sim_fp_clean(ucontext_t *uc)
{
    uint8_t *fx = (uint8_t *)uc->uc_mcontext.fpregs;
    if (!fx)
        return;
    uint32_t mask;
    memcpy(&mask, fx + 28, 4);
    memset(fx, 0, 416);   /* control, status, ST0-7, XMM0-15 */
    uint16_t fcw = 0x037f;
    uint32_t mxcsr = 0x1f80;
    memcpy(fx, &fcw, 2);
    memcpy(fx + 24, &mxcsr, 4);
    memcpy(fx + 28, &mask, 4);
    uint32_t magic1;
    memcpy(&magic1, fx + 464, 4);
    if (magic1 == 0x46505853U) {   /* FP_XSTATE_MAGIC1: an XSAVE header follows */
        uint64_t bv;
        memcpy(&bv, fx + 512, 8);
        bv &= 1ULL << 9;
        memcpy(fx + 512, &bv, 8);
    }
}

/* Send the thread back to the trampoline's return point with nothing of the
 * enclave in its registers. */
static int tm_sim_to_host(struct tm_sim_cpu *cpu, ucontext_t *uc, int clean_fp)
{
    greg_t *g = uc->uc_mcontext.gregs;
    for (int i = 0; i < 16; i++)
        g[tm_sim_gpr_reg[i]] = 0;
    g[REG_RSP] = (greg_t)cpu->host_rsp;
    g[REG_RIP] = (greg_t)cpu->host_return;
    g[REG_EFL] = (greg_t)TM_SIM_RFLAGS_FIXED_HOST;
    g[REG_ERR] = g[REG_TRAPNO] = g[REG_CR2] = 0;
    if (clean_fp)
        tm_sim_fp_clean(uc);
    return 0;
}

static int tm_sim_eexit(struct tm_sim_cpu *cpu, ucontext_t *uc)
{
    greg_t *g = uc->uc_mcontext.gregs;
    struct tm_enter_result *res = cpu->res;
    res->outcome = TM_ENTER_EEXIT;
    res->rdi = g[REG_RDI];
    res->rsi = g[REG_RSI];
    res->rdx = g[REG_RDX];
    /* EEXIT would jump to RBX; the host behind this CPU is always the
     * trampoline that entered, so control goes there whatever RBX says. */
    tm_sim_tcs_release(cpu->enclave, cpu->tcs_offset);
    return tm_sim_to_host(cpu, uc, 0);
}

/* Whether SGX reports the vector in EXITINFO (SDM 37.x: #PF and #GP only
 * with MISCSELECT.EXINFO). */
static int tm_sim_reported(uint32_t vector, int exinfo)
{
    switch (vector) {
    case 0: case 1: case 3: case 5: case 6: case 16: case 17: case 19: case 21:
        return 1;
    case X86_GP: case X86_PF:
        return exinfo;
    default:
        return 0;
    }
}

/* AEX: the enclave's state into SSA[CSSA], CSSA + 1, the TCS idle, and the
 * host gets control with a synthetic state. */
static int tm_sim_aex(struct tm_sim_cpu *cpu, ucontext_t *uc, const struct tm_sim_fault *f)
{
    struct tm_sim_enclave *e = cpu->enclave;
    greg_t *g = uc->uc_mcontext.gregs;
    struct sgx_tcs *tcs = tm_sim_tcs(e, cpu->tcs_offset);
    uint64_t frame_size = (uint64_t)e->state->secs.ssa_frame_size * SGX_PAGE_SIZE;
    int exinfo = (e->state->secs.miscselect & SGX_MISC_EXINFO) != 0;
    uint32_t exit_info = f->known ? (f->vector | f->type << 8 | SGX_EXITINFO_VALID) : 0;
    if (tcs && tcs->cssa < tcs->nssa && frame_size >= SGX_PAGE_SIZE &&
        tcs->ossa + (tcs->cssa + 1ULL) * frame_size <= e->size) {
        uint8_t *frame = e->cpu_view + tcs->ossa + tcs->cssa * frame_size;
        /* XSAVE area (XFRM x87|SSE): the legacy region and its header. */
        if (uc->uc_mcontext.fpregs)
            memcpy(frame, uc->uc_mcontext.fpregs, 464);
        memset(frame + 464, 0, 512 + 64 - 464);
        uint64_t bv = SGX_XFRM_LEGACY;
        memcpy(frame + 512, &bv, 8);

        struct sgx_ssa_gpr gpr = { 0 };
        uint64_t regs[16];
        for (int i = 0; i < 16; i++)
            regs[i] = g[tm_sim_gpr_reg[i]];
        memcpy(&gpr, regs, sizeof(regs));   /* rax..r15 open GPRSGX */
        gpr.rflags = g[REG_EFL];
        gpr.rip = f->rip;
        gpr.ursp = cpu->host_rsp;
        gpr.exit_info = tm_sim_reported(f->vector, exinfo) && f->known ? exit_info : 0;
        gpr.fsbase = cpu->encl_fs;
        gpr.gsbase = cpu->encl_gs;
        memcpy(frame + frame_size - sizeof(gpr), &gpr, sizeof(gpr));
        if (exinfo && f->known && (f->vector == X86_PF || f->vector == X86_GP)) {
            struct sgx_ssa_exinfo ex = { .maddr = f->maddr, .errcd = f->errcd };
            memcpy(frame + frame_size - sizeof(gpr) - sizeof(ex), &ex, sizeof(ex));
        }
        tcs->cssa++;
    }
    tm_sim_tcs_release(e, cpu->tcs_offset);
    struct tm_enter_result *res = cpu->res;
    res->outcome = TM_ENTER_AEX;
    res->exit_info = exit_info;
    res->fault_addr = f->known && f->vector == X86_PF ? f->maddr : 0;
    return tm_sim_to_host(cpu, uc, 1);
}

/* What exception a signal stands for. */
static void tm_sim_classify(int sig, const siginfo_t *si, const greg_t *g, struct tm_sim_fault *f)
{
    *f = (struct tm_sim_fault){ .rip = g[REG_RIP] };
    if (si->si_code <= 0)
        return;   /* sent by a process: an interrupt to SGX, nothing to report */
    f->known = 1;
    f->type = SGX_EXIT_TYPE_HARDWARE;
    if (sig == SIGSYS) {
        /* SYSCALL (or INT 0x80) inside an enclave is #UD on hardware; the
         * kernel stopped it before it ran and left RIP after its 2 bytes. */
        f->vector = X86_UD;
        f->rip -= 2;
        return;
    }
    f->vector = (uint32_t)g[REG_TRAPNO];
    if (f->vector == X86_PF) {
        f->maddr = (uint64_t)(uintptr_t)si->si_addr;
        f->errcd = (uint32_t)g[REG_ERR];
    }
    if (f->vector == X86_BP)
        f->type = SGX_EXIT_TYPE_SOFTWARE;
}

/* A #PF on an ELRANGE page another process has just accepted: this
 * process's mapping only lags the EPCM, so bring it in line and retry. */
static int tm_sim_page_lags(struct tm_sim_cpu *cpu, const struct tm_sim_fault *f)
{
    struct tm_sim_enclave *e = cpu->enclave;
    if (!f->known || f->vector != X86_PF || !tm_sim_in_elrange(e, f->maddr, 1))
        return 0;
    uint64_t page = (f->maddr - e->base) & ~(SGX_PAGE_SIZE - 1);
    if (page == cpu->retried_page && f->rip == cpu->retried_rip)
        return 0;   /* retried once already: a real fault */
    int prot = f->errcd & PFEC_I ? PROT_EXEC : f->errcd & PFEC_W ? PROT_WRITE : PROT_READ;
    if (!tm_sim_sync_page(e, page, prot))
        return 0;
    cpu->retried_page = page;
    cpu->retried_rip = f->rip;
    return 1;
}

static int tm_sim_is_enclu(const struct tm_sim_enclave *e, uint64_t rip)
{
    static const uint8_t enclu[3] = SGX_ENCLU_BYTES;
    return tm_sim_in_elrange(e, rip, 3) && memcmp(tm_sim_view(e, rip), enclu, 3) == 0;
}

int tm_sim_cpu_event(struct tm_sim_cpu *cpu, int sig, siginfo_t *si, ucontext_t *uc)
{
    struct tm_sim_enclave *e = cpu->enclave;
    greg_t *g = uc->uc_mcontext.gregs;
    struct tm_sim_fault f;
    /* ENCLU on a CPU without SGX: #UD (SIGILL) on most, but #GP (SIGSEGV,
     * SI_KERNEL) on some Intel parts where SGX exists but is off */
    bool enclu_trap = (sig == SIGILL && si->si_code > 0) || (sig == SIGSEGV && si->si_code == SI_KERNEL);
    if (enclu_trap && tm_sim_is_enclu(e, g[REG_RIP])) {
        uint64_t leaf = g[REG_RAX];
        int done = 0;
        switch (leaf) {
        case SGX_EEXIT:
            cpu->retried_page = UINT64_MAX;
            return tm_sim_eexit(cpu, uc);
        case SGX_EREPORT:
            done = tm_sim_ereport_leaf(e, g, &f);
            break;
        case SGX_EGETKEY:
            done = tm_sim_egetkey_leaf(e, g, &f);
            break;
        case SGX_EACCEPT:
        case SGX_EMODPE:
        case SGX_EACCEPTCOPY:
            done = tm_sim_page_leaf(e, g, leaf, &f);
            break;
        default:   /* EENTER/ERESUME inside an enclave, or no such leaf */
            tm_sim_fault_gp(&f, g[REG_RIP]);
            break;
        }
        if (done) {
            g[REG_RIP] += 3;
            return tm_sim_continue(cpu, uc);
        }
    } else {
        tm_sim_classify(sig, si, g, &f);
        if (tm_sim_page_lags(cpu, &f))
            return tm_sim_continue(cpu, uc);
    }
    cpu->retried_page = UINT64_MAX;
    return tm_sim_aex(cpu, uc, &f);
}
