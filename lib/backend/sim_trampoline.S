/* The simulated CPU's host side of EENTER/ERESUME and its signal entry.
 * Per-thread state: struct tm_sim_cpu (sim_cpu.h). Register conventions:
 * abi/tm_ecall.h; what each step stands for: the SGX EENTER/ERESUME/AEX flows. */
#include "backend/sim_cpu.h"

#define SYS_arch_prctl 158
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

/* ucontext_t: uc_flags, uc_link, then uc_stack { ss_sp, ss_flags, ss_size }. */
#define UC_STACK_SP 16
#define UC_STACK_SIZE 32

/* arch_prctl(code, RSI = `op off(%rbx)`) with the selector ALLOW (cpu in
 * rbx); clobbers rax, rcx, rsi, rdi, r11. */
.macro ARCH_PRCTL code, op, off
    mov $SYS_arch_prctl, %eax
    mov $\code, %edi
    \op \off(%rbx), %rsi
    syscall
.endm

/* Load the enclave's FS/GS base from the CPU state in rbx: WRFSBASE where
 * the kernel allows it, else arch_prctl; clobbers what ARCH_PRCTL does. */
.macro SET_ENCLAVE_FSGS
    cmpb $0, TM_SIM_CPU_OFF_FSGSBASE(%rbx)
    je .Lset_fsgs_syscall\@
    mov TM_SIM_CPU_OFF_ENCL_FS(%rbx), %rax
    wrfsbase %rax
    mov TM_SIM_CPU_OFF_ENCL_GS(%rbx), %rax
    wrgsbase %rax
    jmp .Lset_fsgs_done\@
.Lset_fsgs_syscall\@:
    ARCH_PRCTL ARCH_SET_FS, mov, TM_SIM_CPU_OFF_ENCL_FS
    ARCH_PRCTL ARCH_SET_GS, mov, TM_SIM_CPU_OFF_ENCL_GS
.Lset_fsgs_done\@:
.endm

    .text

/* void tm_sim_cpu_run(struct tm_sim_cpu *cpu, int restore_fx, int eenter)
 * Saves the host's callee-saved registers and control words on its stack,
 * records that frame as where EEXIT/AEX come back to, loads the enclave's
 * FS/GS base and goes in through the load stub. */
    .globl tm_sim_cpu_run
    .hidden tm_sim_cpu_run
    .type tm_sim_cpu_run, @function
tm_sim_cpu_run:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    sub $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    mov %rsp, TM_SIM_CPU_OFF_HOST_RSP(%rdi)
    lea .Lreturn(%rip), %rax
    mov %rax, TM_SIM_CPU_OFF_HOST_RETURN(%rdi)
    test %edx, %edx
    jz 1f
    /* EENTER: RCX = where EEXIT returns, RSP/RBP stay the host's. */
    mov %rax, TM_SIM_CPU_OFF_LOAD_RCX(%rdi)
    mov %rsp, TM_SIM_CPU_OFF_IRET_RSP(%rdi)
    mov %rbp, TM_SIM_CPU_OFF_LOAD_RBP(%rdi)
1:
    test %esi, %esi
    jz 2f
    fxrstor64 TM_SIM_CPU_OFF_FX(%rdi)
2:
    mov %rdi, %rbx
    SET_ENCLAVE_FSGS
    /* From here on a fault is the enclave's (the signal entry checks this). */
    movb $1, TM_SIM_CPU_OFF_INSIDE(%rbx)
    lea TM_SIM_CPU_OFF_LOAD(%rbx), %rsp
    jmp tm_sim_cpu_load_stub

    /* EEXIT and AEX land here (signal return with RSP = host_rsp, host FS/GS,
     * every other register zero). */
.Lreturn:
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    add $8, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
    .size tm_sim_cpu_run, . - tm_sim_cpu_run

/* RSP = &cpu->load: pop the enclave's GPRs, block system calls, then IRETQ
 * sets RIP, RFLAGS and RSP at once. The selector is switched here and not
 * before because the signal return (rt_sigreturn) that may lead here is a
 * system call itself and must still be allowed. */
    .globl tm_sim_cpu_load_stub
    .hidden tm_sim_cpu_load_stub
    .type tm_sim_cpu_load_stub, @function
tm_sim_cpu_load_stub:
    pop %rax
    pop %rcx
    pop %rdx
    pop %rbx
    lea 8(%rsp), %rsp           /* GPRSGX's rsp slot: RSP comes from the IRETQ frame */
    pop %rbp
    pop %rsi
    pop %rdi
    pop %r8
    pop %r9
    pop %r10
    pop %r11
    pop %r12
    pop %r13
    pop %r14
    pop %r15
    movb $TM_SIM_SELECTOR_BLOCK, (TM_SIM_CPU_OFF_SELECTOR - TM_SIM_CPU_OFF_IRET)(%rsp)
    iretq
    .size tm_sim_cpu_load_stub, . - tm_sim_cpu_load_stub

/* void tm_sim_cpu_signal(int sig, siginfo_t *si, void *uc)
 * The handler of every fault signal. An enclave event only if this thread's
 * signal stack is one of ours, we are on it and the thread is inside; then,
 * before any C code runs: syscalls allowed again, the enclave's FS/GS base
 * saved and the host's put back (glibc TLS works again). Anything else goes
 * untouched to tm_sim_cpu_chain. */
    .globl tm_sim_cpu_signal
    .hidden tm_sim_cpu_signal
    .type tm_sim_cpu_signal, @function
tm_sim_cpu_signal:
    mov UC_STACK_SP(%rdx), %rax
    test %rax, %rax
    jz .Lchain
    mov %rsp, %rcx
    sub %rax, %rcx
    cmp UC_STACK_SIZE(%rdx), %rcx
    jae .Lchain
    sub $TM_SIM_CPU_HEADER, %rax
    test $(TM_SIM_CPU_REGION - 1), %rax
    jnz .Lchain
    movabs $TM_SIM_CPU_MAGIC, %rcx
    cmp %rcx, TM_SIM_CPU_OFF_MAGIC(%rax)
    jne .Lchain
    cmpb $0, TM_SIM_CPU_OFF_INSIDE(%rax)
    je .Lchain

    push %rbx
    push %r12
    push %r13
    push %r14
    sub $8, %rsp
    mov %rax, %rbx
    mov %edi, %r12d
    mov %rsi, %r13
    mov %rdx, %r14
    movb $TM_SIM_SELECTOR_ALLOW, TM_SIM_CPU_OFF_SELECTOR(%rbx)
    cmpb $0, TM_SIM_CPU_OFF_FSGSBASE(%rbx)
    je 1f
    rdfsbase %rax
    mov %rax, TM_SIM_CPU_OFF_ENCL_FS(%rbx)
    rdgsbase %rax
    mov %rax, TM_SIM_CPU_OFF_ENCL_GS(%rbx)
    mov TM_SIM_CPU_OFF_HOST_FS(%rbx), %rax
    wrfsbase %rax
    mov TM_SIM_CPU_OFF_HOST_GS(%rbx), %rax
    wrgsbase %rax
    jmp 2f
1:
    ARCH_PRCTL ARCH_GET_FS, lea, TM_SIM_CPU_OFF_ENCL_FS
    ARCH_PRCTL ARCH_GET_GS, lea, TM_SIM_CPU_OFF_ENCL_GS
    ARCH_PRCTL ARCH_SET_FS, mov, TM_SIM_CPU_OFF_HOST_FS
    ARCH_PRCTL ARCH_SET_GS, mov, TM_SIM_CPU_OFF_HOST_GS
2:
    movb $0, TM_SIM_CPU_OFF_INSIDE(%rbx)
    mov %rbx, %rdi
    mov %r12d, %esi
    mov %r13, %rdx
    mov %r14, %rcx
    call tm_sim_cpu_event
    test %eax, %eax
    jz 4f
    /* Back into the enclave: its FS/GS base now; the signal return lands on
     * the load stub, which blocks system calls again. */
    SET_ENCLAVE_FSGS
    movb $1, TM_SIM_CPU_OFF_INSIDE(%rbx)
4:
    add $8, %rsp
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    ret
.Lchain:
    jmp tm_sim_cpu_chain
    .size tm_sim_cpu_signal, . - tm_sim_cpu_signal

    .section .note.GNU-stack, "", @progbits
