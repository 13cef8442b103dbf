/* The simulated CPU: EENTER and ERESUME, and each host thread's CPU state
 * (signal stack, syscall user dispatch). What happens inside the enclave
 * (ENCLU leaves, exceptions) is sim_cpu_event.c. */
#include <asm/prctl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend/sim.h"
#include "backend/sim_cpu.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

/* The signals a fault inside an enclave arrives as. */
static const int tm_sim_fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };

static pthread_once_t tm_sim_cpu_once = PTHREAD_ONCE_INIT;
static int tm_sim_cpu_init_errno;
static bool tm_sim_has_fsgsbase;
static pthread_key_t tm_sim_cpu_key;
static struct sigaction tm_sim_old_actions[NSIG];   /* written once, before any handler runs */
static atomic_bool tm_sim_sud_warned;
static __thread struct tm_sim_cpu *tm_sim_this_cpu;

uint64_t tm_sim_cpu_rflags(uint64_t rflags)
{
    return (rflags & TM_SIM_RFLAGS_USER) | TM_SIM_RFLAGS_FIXED_HOST;
}

/* The host's selectors for the IRETQ frame. */
void tm_sim_cpu_segments(struct tm_sim_cpu_load *load)
{
    uint16_t cs, ss;
    __asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
    load->cs = cs;
    load->ss = ss;
}

/* A thread that exits gives its state back: dispatch off first (the kernel
 * reads the selector on every system call), then the signal stack it had. */
static void tm_sim_cpu_free(void *p)
{
    struct tm_sim_cpu *cpu = p;
    if (cpu->sud_on)
        prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0UL, 0UL, 0UL);
    stack_t cur;
    uint8_t *altstack = (uint8_t *)cpu + TM_SIM_CPU_HEADER;
    if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == altstack) {
        sigaltstack(&cpu->old_altstack, NULL);
        munmap(cpu, TM_SIM_CPU_REGION);
    } else {
        /* Someone replaced our signal stack (ASan's thread exit unmaps the
         * stack it finds installed): leave that part alone. */
        munmap(cpu, TM_SIM_CPU_HEADER);
    }
    tm_sim_this_cpu = NULL;
}

/* A forked child starts without syscall user dispatch: turn it back on. */
static void tm_sim_cpu_atfork_child(void)
{
    struct tm_sim_cpu *cpu = tm_sim_this_cpu;
    if (cpu && cpu->sud_on &&
        prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0UL, 0UL, &cpu->selector) != 0)
        cpu->sud_on = 0;
}

static void tm_sim_cpu_global_init(void)
{
    tm_sim_has_fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
    if (pthread_key_create(&tm_sim_cpu_key, tm_sim_cpu_free) != 0) {
        tm_sim_cpu_init_errno = EAGAIN;
        return;
    }
    pthread_atfork(NULL, NULL, tm_sim_cpu_atfork_child);
    /* All signals blocked while the handler runs: it is short, and a host
     * handler must never run while FS is still the enclave's. */
    struct sigaction sa = { .sa_sigaction = tm_sim_cpu_signal, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(tm_sim_fault_signals) / sizeof(int); i++) {
        int sig = tm_sim_fault_signals[i];
        if (sigaction(sig, &sa, &tm_sim_old_actions[sig]) != 0)
            tm_sim_cpu_init_errno = errno;
    }
}

static void tm_sim_warn_no_sud(void)
{
    if (!atomic_exchange(&tm_sim_sud_warned, true))
        fprintf(stderr, "teemate: warning: this kernel has no syscall user dispatch "
                        "(PR_SET_SYSCALL_USER_DISPATCH): system calls inside sim enclaves "
                        "cannot be trapped and will run\n");
}

/* This thread's CPU state, set up on its first entry. */
static struct tm_sim_cpu *tm_sim_cpu_get(tm_error *err)
{
    if (tm_sim_this_cpu)
        return tm_sim_this_cpu;
    pthread_once(&tm_sim_cpu_once, tm_sim_cpu_global_init);
    if (tm_sim_cpu_init_errno) {
        tm_error_set(err, tm_sim_cpu_init_errno, "sim CPU: cannot install its signal handlers");
        return NULL;
    }
    /* Naturally aligned, so the handler finds it from its stack pointer. */
    uint8_t *raw = mmap(NULL, 2 * TM_SIM_CPU_REGION, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) {
        tm_error_sys(err, "sim CPU: cannot map a signal stack");
        return NULL;
    }
    uint8_t *region = (uint8_t *)(((uintptr_t)raw + TM_SIM_CPU_REGION - 1) &
                                  ~(uintptr_t)(TM_SIM_CPU_REGION - 1));
    if (region > raw)
        munmap(raw, region - raw);
    if (raw + TM_SIM_CPU_REGION > region)
        munmap(region + TM_SIM_CPU_REGION, raw + TM_SIM_CPU_REGION - region);

    struct tm_sim_cpu *cpu = (struct tm_sim_cpu *)region;
    cpu->magic = TM_SIM_CPU_MAGIC;
    cpu->has_fsgsbase = tm_sim_has_fsgsbase;
    cpu->selector = TM_SIM_SELECTOR_ALLOW;
    cpu->retried_page = UINT64_MAX;
    stack_t ss = { .ss_sp = region + TM_SIM_CPU_HEADER,
                   .ss_size = TM_SIM_CPU_REGION - TM_SIM_CPU_HEADER };
    if (sigaltstack(&ss, &cpu->old_altstack) != 0) {
        tm_error_sys(err, "sim CPU: cannot install a signal stack");
        munmap(region, TM_SIM_CPU_REGION);
        return NULL;
    }
    if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0UL, 0UL, &cpu->selector) == 0)
        cpu->sud_on = 1;
    else
        tm_sim_warn_no_sud();
    pthread_setspecific(tm_sim_cpu_key, cpu);
    tm_sim_this_cpu = cpu;
    return cpu;
}

static uint64_t tm_sim_read_fsbase(const struct tm_sim_cpu *cpu, int which)
{
    uint64_t v = 0;
    if (cpu->has_fsgsbase) {
        if (which == ARCH_GET_FS)
            __asm__ volatile("rdfsbase %0" : "=r"(v));
        else
            __asm__ volatile("rdgsbase %0" : "=r"(v));
    } else {
        syscall(SYS_arch_prctl, which, &v);
    }
    return v;
}

/* The part of EENTER and ERESUME before the TCS is touched. */
static struct tm_sim_cpu *tm_sim_cpu_prepare(struct tm_sim_enclave *e, uint64_t tcs_offset,
                                             struct tm_enter_result *res, tm_error *err)
{
    struct tm_sim_cpu *cpu = tm_sim_cpu_get(err);
    if (!cpu)
        return NULL;
    if (cpu->enclave) {
        tm_error_set(err, EDEADLK, "this thread is already inside an enclave");
        return NULL;
    }
    if (tcs_offset % SGX_PAGE_SIZE || tcs_offset >= e->size) {
        tm_error_set(err, EINVAL, "TCS offset %#llx is not a page in ELRANGE",
                     (unsigned long long)tcs_offset);
        return NULL;
    }
    memset(res, 0, sizeof(*res));
    memset(&cpu->load, 0, sizeof(cpu->load));
    tm_sim_cpu_segments(&cpu->load);
    cpu->host_fs = tm_sim_read_fsbase(cpu, ARCH_GET_FS);
    cpu->host_gs = tm_sim_read_fsbase(cpu, ARCH_GET_GS);
    cpu->enclave = e;
    cpu->tcs_offset = tcs_offset;
    cpu->res = res;
    return cpu;
}

/* EENTER/ERESUME reach the TCS through its linear address: on hardware a
 * TCS this process has not mapped (one not leased here) faults. */
static int sim_tcs_mapped(struct tm_sim_enclave *e, const char *what, uint64_t tcs_offset, tm_error *err)
{
    struct tm_sim_view v;
    if (!tm_sim_view_at(e, tcs_offset, &v) || v.cap == PROT_NONE)
        return tm_error_set(err, EFAULT, "%s: the TCS at 0x%llx (offset 0x%llx) is not mapped in this "
                            "process (not leased here)", what, (unsigned long long)(e->base + tcs_offset),
                            (unsigned long long)tcs_offset);
    return 0;
}

/* This thread's CPU, bound to the TCS, which is now busy; NULL with err set
 * if the thread cannot enter, the TCS is not mapped here or is busy. */
static struct tm_sim_cpu *sim_cpu_claim(struct tm_sim_enclave *e, const char *what, uint64_t tcs_offset,
                                        struct tm_enter_result *res, tm_error *err)
{
    struct tm_sim_cpu *cpu = tm_sim_cpu_prepare(e, tcs_offset, res, err);
    if (cpu && (sim_tcs_mapped(e, what, tcs_offset, err) < 0 || tm_sim_tcs_acquire(e, tcs_offset, err) < 0)) {
        cpu->enclave = NULL;
        return NULL;
    }
    return cpu;
}

int tm_sim_enter(struct tm_backend_enclave *be, uint64_t tcs_offset, uint64_t rdi, uint64_t rsi,
                 uint64_t rdx, struct tm_enter_result *res, tm_error *err)
{
    struct tm_sim_enclave *e = tm_sim_enclave_of(be);
    struct tm_sim_cpu *cpu = sim_cpu_claim(e, "EENTER", tcs_offset, res, err);
    if (!cpu)
        return -err->code;
    struct sgx_tcs *tcs = tm_sim_tcs(e, tcs_offset);
    if (!tcs || tcs->cssa >= tcs->nssa) {
        uint32_t cssa = tcs ? tcs->cssa : 0, nssa = tcs ? tcs->nssa : 0;
        tm_sim_tcs_release(e, tcs_offset);
        cpu->enclave = NULL;
        return tm_error_set(err, EINVAL, "EENTER: no free SSA frame (CSSA %u, NSSA %u)", cssa,
                            nssa);
    }
    struct tm_sim_cpu_load *l = &cpu->load;
    l->gpr[0] = tcs->cssa;                  /* RAX */
    l->gpr[3] = e->base + tcs_offset;       /* RBX; RCX, RSP, RBP: the trampoline */
    l->gpr[2] = rdx;
    l->gpr[6] = rsi;
    l->gpr[7] = rdi;
    l->rip = e->base + tcs->oentry;
    l->rflags = tm_sim_cpu_rflags(__builtin_ia32_readeflags_u64()) & ~0x100ULL;   /* no TF */
    cpu->encl_fs = e->base + tcs->ofsbase;
    cpu->encl_gs = e->base + tcs->ogsbase;
    tm_sim_cpu_run(cpu, 0, 1);
    cpu->enclave = NULL;
    return 0;
}

int tm_sim_resume(struct tm_backend_enclave *be, uint64_t tcs_offset, struct tm_enter_result *res,
                  tm_error *err)
{
    struct tm_sim_enclave *e = tm_sim_enclave_of(be);
    struct tm_sim_cpu *cpu = sim_cpu_claim(e, "ERESUME", tcs_offset, res, err);
    if (!cpu)
        return -err->code;
    struct sgx_tcs *tcs = tm_sim_tcs(e, tcs_offset);
    uint64_t frame_size = (uint64_t)e->state->secs.ssa_frame_size * SGX_PAGE_SIZE;
    uint32_t cssa = tcs ? tcs->cssa : 0;
    if (!tcs || cssa == 0 || cssa > tcs->nssa || frame_size < SGX_PAGE_SIZE ||
        tcs->ossa + (uint64_t)cssa * frame_size > e->size) {
        tm_sim_tcs_release(e, tcs_offset);
        cpu->enclave = NULL;
        return tm_error_set(err, EINVAL, "ERESUME: no exception to resume (CSSA %u)", cssa);
    }
    const uint8_t *frame = e->cpu_view + tcs->ossa + (uint64_t)(cssa - 1) * frame_size;
    struct sgx_ssa_gpr gpr;
    memcpy(&gpr, frame + frame_size - sizeof(gpr), sizeof(gpr));
    struct tm_sim_cpu_load *l = &cpu->load;
    memcpy(l->gpr, &gpr, sizeof(l->gpr));   /* rax..r15: GPRSGX starts with them, in order */
    l->rip = gpr.rip;
    l->rsp = gpr.rsp;
    l->rflags = tm_sim_cpu_rflags(gpr.rflags);
    cpu->encl_fs = gpr.fsbase;
    cpu->encl_gs = gpr.gsbase;
    /* The x87/SSE state the AEX saved; reserved MXCSR bits would fault FXRSTOR. */
    memcpy(cpu->fx, frame, sizeof(cpu->fx));
    uint32_t mxcsr;
    memcpy(&mxcsr, cpu->fx + 24, 4);
    mxcsr &= 0xffff;   /* bits 0-15 (DAZ too) exist on every CPU with FSGSBASE */
    memcpy(cpu->fx + 24, &mxcsr, 4);
    tcs->cssa = cssa - 1;
    tm_sim_cpu_run(cpu, 1, 0);
    cpu->enclave = NULL;
    return 0;
}

/* A signal that is not an enclave's goes where it went before we were here;
 * with no handler before, the default action happens (a host crash still
 * crashes, with its own signal). */
void tm_sim_cpu_chain(int sig, siginfo_t *si, void *uc)
{
    const struct sigaction *old = &tm_sim_old_actions[sig];
    if (old->sa_handler == SIG_IGN && si->si_code <= 0)
        return;   /* sent, and ignored as before */
    if (old->sa_handler != SIG_IGN && old->sa_handler != SIG_DFL) {
        if (old->sa_flags & SA_SIGINFO)
            old->sa_sigaction(sig, si, uc);
        else
            old->sa_handler(sig);
        return;
    }
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    sigaction(sig, &dfl, NULL);
    /* A fault comes back when the instruction runs again; a sent signal or a
     * trap (INT3) does not: raise it, delivered when the handler returns. */
    if (si->si_code <= 0 || sig == SIGTRAP || sig == SIGSYS)
        raise(sig);
}
