/* The simulated CPU's per-thread state, shared by sim_cpu.c and
 * sim_trampoline.S (which cannot include C headers: offsets are repeated as
 * constants and checked below with _Static_assert).
 *
 * Each host thread that enters an enclave owns one naturally aligned region of
 * TM_SIM_CPU_REGION bytes: its first page is struct tm_sim_cpu, the rest is
 * its signal stack. While the thread is inside an enclave FS is the enclave's,
 * so the signal handler cannot use glibc TLS: it finds this state from its
 * stack pointer (rsp & ~(TM_SIM_CPU_REGION - 1)). */
#ifndef TM_SIM_CPU_H
#define TM_SIM_CPU_H

#define TM_SIM_CPU_REGION (128 * 1024)
#define TM_SIM_CPU_HEADER 4096          /* the state page, below the signal stack */
#define TM_SIM_CPU_MAGIC 0x5550437a4d53ULL   /* "SMzCPU" */

#define TM_SIM_CPU_OFF_MAGIC 0
#define TM_SIM_CPU_OFF_INSIDE 8         /* u8: 1 while enclave code may run */
#define TM_SIM_CPU_OFF_SELECTOR 9       /* u8: syscall user dispatch selector */
#define TM_SIM_CPU_OFF_FSGSBASE 10      /* u8: WRFSBASE usable */
#define TM_SIM_CPU_OFF_HOST_FS 16
#define TM_SIM_CPU_OFF_HOST_GS 24
#define TM_SIM_CPU_OFF_ENCL_FS 32
#define TM_SIM_CPU_OFF_ENCL_GS 40
#define TM_SIM_CPU_OFF_HOST_RSP 48
#define TM_SIM_CPU_OFF_HOST_RETURN 56
#define TM_SIM_CPU_OFF_LOAD 64          /* struct tm_sim_cpu_load */
#define TM_SIM_CPU_OFF_LOAD_RCX (64 + 8)
#define TM_SIM_CPU_OFF_LOAD_RSP (64 + 4 * 8)
#define TM_SIM_CPU_OFF_LOAD_RBP (64 + 5 * 8)
#define TM_SIM_CPU_OFF_IRET (64 + 16 * 8)   /* rip, cs, rflags, rsp, ss */
#define TM_SIM_CPU_OFF_IRET_RSP (TM_SIM_CPU_OFF_IRET + 3 * 8)
#define TM_SIM_CPU_OFF_FX 256           /* 512-byte FXSAVE image for ERESUME */

#define TM_SIM_SELECTOR_ALLOW 0         /* SYSCALL_DISPATCH_FILTER_ALLOW */
#define TM_SIM_SELECTOR_BLOCK 1         /* SYSCALL_DISPATCH_FILTER_BLOCK */

#ifndef __ASSEMBLER__
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

#include "backend/backend.h"

struct tm_sim_enclave;

/* What the trampoline loads before it goes into the enclave: the GPRs in
 * GPRSGX order (the rsp slot is unused), then an IRETQ frame, so RIP, RSP
 * and RFLAGS change in one instruction with every GPR already the enclave's. */
struct tm_sim_cpu_load {
    uint64_t gpr[16];
    uint64_t rip, cs, rflags, rsp, ss;
};

struct tm_sim_cpu {
    uint64_t magic;
    volatile uint8_t inside;
    volatile uint8_t selector;
    uint8_t has_fsgsbase;
    uint8_t sud_on;                 /* syscall user dispatch active for this thread */
    uint32_t reserved;
    uint64_t host_fs, host_gs;
    uint64_t encl_fs, encl_gs;      /* saved by the signal entry on a fault */
    uint64_t host_rsp;              /* the trampoline's frame: where EEXIT/AEX return */
    uint64_t host_return;           /* the trampoline's return point (RCX at EENTER) */
    struct tm_sim_cpu_load load;
    uint8_t pad[256 - 64 - sizeof(struct tm_sim_cpu_load)];
    uint8_t fx[512] __attribute__((aligned(16)));
    /* C only from here. */
    struct tm_sim_enclave *enclave; /* the enclave this thread is inside */
    uint64_t tcs_offset;
    struct tm_enter_result *res;
    stack_t old_altstack;           /* what the thread had before ours */
    uint64_t retried_rip, retried_page;   /* the last #PF retried after an EPCM sync */
};

_Static_assert(offsetof(struct tm_sim_cpu, magic) == TM_SIM_CPU_OFF_MAGIC, "magic");
_Static_assert(offsetof(struct tm_sim_cpu, inside) == TM_SIM_CPU_OFF_INSIDE, "inside");
_Static_assert(offsetof(struct tm_sim_cpu, selector) == TM_SIM_CPU_OFF_SELECTOR, "selector");
_Static_assert(offsetof(struct tm_sim_cpu, has_fsgsbase) == TM_SIM_CPU_OFF_FSGSBASE, "fsgsbase");
_Static_assert(offsetof(struct tm_sim_cpu, host_fs) == TM_SIM_CPU_OFF_HOST_FS, "host_fs");
_Static_assert(offsetof(struct tm_sim_cpu, host_gs) == TM_SIM_CPU_OFF_HOST_GS, "host_gs");
_Static_assert(offsetof(struct tm_sim_cpu, encl_fs) == TM_SIM_CPU_OFF_ENCL_FS, "encl_fs");
_Static_assert(offsetof(struct tm_sim_cpu, encl_gs) == TM_SIM_CPU_OFF_ENCL_GS, "encl_gs");
_Static_assert(offsetof(struct tm_sim_cpu, host_rsp) == TM_SIM_CPU_OFF_HOST_RSP, "host_rsp");
_Static_assert(offsetof(struct tm_sim_cpu, host_return) == TM_SIM_CPU_OFF_HOST_RETURN, "ret");
_Static_assert(offsetof(struct tm_sim_cpu, load) == TM_SIM_CPU_OFF_LOAD, "load");
_Static_assert(offsetof(struct tm_sim_cpu, load.gpr[1]) == TM_SIM_CPU_OFF_LOAD_RCX, "rcx");
_Static_assert(offsetof(struct tm_sim_cpu, load.gpr[4]) == TM_SIM_CPU_OFF_LOAD_RSP, "rsp");
_Static_assert(offsetof(struct tm_sim_cpu, load.gpr[5]) == TM_SIM_CPU_OFF_LOAD_RBP, "rbp");
_Static_assert(offsetof(struct tm_sim_cpu, load.rip) == TM_SIM_CPU_OFF_IRET, "iret frame");
_Static_assert(offsetof(struct tm_sim_cpu, load.rsp) == TM_SIM_CPU_OFF_IRET_RSP, "iret rsp");
_Static_assert(offsetof(struct tm_sim_cpu, fx) == TM_SIM_CPU_OFF_FX, "fx");
_Static_assert(sizeof(struct tm_sim_cpu) <= TM_SIM_CPU_HEADER, "state fits its page");

/* sim_trampoline.S */
/* Go into the enclave with cpu->load (FXRSTOR of cpu->fx first when
 * restore_fx); returns when the signal handler sends the thread back. When
 * eenter, RSP/RBP/RCX in cpu->load are filled with the host's values. */
void tm_sim_cpu_run(struct tm_sim_cpu *cpu, int restore_fx, int eenter);
/* The signal handler installed for the fault signals. */
void tm_sim_cpu_signal(int sig, siginfo_t *si, void *uc);
/* Where a signal return lands to go back into the enclave (RSP = &cpu->load). */
void tm_sim_cpu_load_stub(void);

/* sim_cpu.c, called by the signal entry with host FS/GS and ALLOW in place.
 * Returns 1 to continue inside the enclave (uc untouched, cpu->load filled),
 * 0 to go back to the host (uc points at the trampoline's return). */
int tm_sim_cpu_event(struct tm_sim_cpu *cpu, int sig, siginfo_t *si, ucontext_t *uc);
/* RFLAGS bits enclave code can set with POPF (CF PF AF ZF SF TF DF OF AC ID);
 * bit 1 and IF are always set. IRETQ in 64-bit mode must not see NT. */
#define TM_SIM_RFLAGS_USER 0x254dd5ULL
#define TM_SIM_RFLAGS_FIXED_HOST 0x202ULL

/* RFLAGS as enclave code may have them (no NT, IOPL; IF and bit 1 set). */
uint64_t tm_sim_cpu_rflags(uint64_t rflags);
/* The host's CS and SS into the IRETQ frame. */
void tm_sim_cpu_segments(struct tm_sim_cpu_load *load);
/* A signal that is no enclave's: hand it to whoever had it before. */
void tm_sim_cpu_chain(int sig, siginfo_t *si, void *uc);
#endif

#endif
