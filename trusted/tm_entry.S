/* tm_entry: the image's ELF entry point = TCS.OENTRY, where EENTER lands, and
 * tm_ocall_exit, the way out to the host and back for an ocall.
 *
 * The CPU gives RAX = CSSA, RBX = TCS address, RCX = the address EEXIT goes
 * back to, and FS/GS based at this thread's data page (struct tm_thread_data).
 * Everything else is the host's and untrusted: RSP and RBP are saved and put
 * back for EEXIT (the Linux vDSO needs its RBP), never used inside. Register
 * convention: abi/tm_ecall.h. */
#include "tm_entry_asm.h"

#define RFLAGS_DF (1 << 10)
#define RFLAGS_AC (1 << 18)

/* Host-chosen flags and FPU modes must not change enclave code: clear DF and
 * AC, reset x87/SSE to a clean state (rounding, exceptions). */
.macro clean_cpu_state
    pushfq
    andq $~(RFLAGS_DF | RFLAGS_AC), (%rsp)
    popfq
    fxrstor64 tm_fx_clean_state(%rip)
.endm

    .section .text.tm_entry, "ax", @progbits
    .globl tm_entry
    .hidden tm_entry
    .type tm_entry, @function
tm_entry:
    /* Every entry is a new host call: EEXIT goes back to this one. */
    mov %rcx, %fs:TM_TD_HOST_RETURN
    mov %rsp, %fs:TM_TD_HOST_RSP
    mov %rbp, %fs:TM_TD_HOST_RBP

    test %rax, %rax
    jnz .Lexception_entry
    cmp $TM_ASM_ECALL_OCALL_RETURN, %rdi
    je .Locall_return

    /* A new ecall starts at the top of the stack: refused while another
     * ecall of this thread waits there (in an ocall, or abandoned). */
    cmpq $0, %fs:TM_TD_ECALL_CONTEXT
    jne .Lecall_in_progress

.Lnew_ecall:
    /* tm_trusted_entry(ecall = RDI, args = RSI, enclave base, TCS address)
     * on this thread's stack; the image is linked at 0, so its first byte
     * (sdk/enclave.lds) is the enclave base. */
    lea __tm_enclave_base(%rip), %rdx
    mov %rbx, %rcx
    mov %fs:TM_TD_STACK_TOP, %rsp
    add %rdx, %rsp
    xor %ebp, %ebp
    clean_cpu_state
    call tm_trusted_entry       /* returns status in RAX, value in RDX */
    mov %rax, %rsi
    mov $TM_ASM_EXIT_RETURN, %edi

/* EEXIT with RDI, RSI, RDX as results and nothing else left: x87/SSE
 * registers may hold secrets (memcpy, printf of doubles). */
.Leexit:
    fxrstor64 tm_fx_clean_state(%rip)
    mov %fs:TM_TD_HOST_RETURN, %rbx
    mov %fs:TM_TD_HOST_RBP, %rbp
    mov %fs:TM_TD_HOST_RSP, %rsp
    xor %ecx, %ecx
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    mov $TM_ASM_ENCLU_EEXIT, %eax
    .byte 0x0f, 0x01, 0xd7      /* ENCLU[EEXIT] */
    ud2

    /* Only LEASE_UNBIND may drop an ecall a dead process left on this
     * thread, and only with the slot's token: tm_entry_abandon(args, enclave
     * base, TCS address) decides on the free part of the thread data page
     * (the exception entry's stack, unused while CSSA is 0), leaving the
     * thread's stack as it is. 0: dropped, go on as a new ecall. */
.Lecall_in_progress:
    cmp $TM_ASM_ECALL_LEASE_UNBIND, %rdi
    jne .Lbusy
    mov %fs:TM_TD_SELF, %rax
    test %rax, %rax
    jz .Lbusy
    lea 4096(%rax), %rsp
    xor %ebp, %ebp
    push %rdi
    push %rsi
    mov %rsi, %rdi
    lea __tm_enclave_base(%rip), %rsi
    mov %rbx, %rdx
    clean_cpu_state
    call tm_entry_abandon
    pop %rsi
    pop %rdi
    test %rax, %rax
    jz .Lnew_ecall
    mov %rax, %rsi
    jmp .Lrefuse

.Lbusy:
    mov $TM_ASM_STATUS_BUSY, %rsi
    jmp .Lrefuse
.Lno_ocall:
    mov $TM_ASM_STATUS_NO_OCALL, %rsi
.Lrefuse:
    xor %edx, %edx
    mov $TM_ASM_EXIT_RETURN, %edi
    jmp .Leexit

    /* The host answers the ocall this thread waits on: back onto the stack
     * tm_ocall_exit left, with RSI (the result) as its return value. */
.Locall_return:
    mov %fs:TM_TD_ECALL_CONTEXT, %rax
    test %rax, %rax
    jz .Lno_ocall
    mov TM_CTX_OCALL_RSP(%rax), %rcx
    test %rcx, %rcx
    jz .Lno_ocall
    movq $0, TM_CTX_OCALL_RSP(%rax)   /* one answer per ocall */
    mov %rcx, %rsp
    mov %rsi, %rax
    jmp .Locall_resume

    /* CSSA > 0: an AEX interrupted this thread, its frame is in the SSA and
     * its stack is live. The handler runs on the free part of the thread data
     * page (bound at the ecall's entry; never bound = nothing to report).
     * The handler may itself wait in an ocall (CPUID, tm_cpuid.c): CSSA stays
     * > 0 until the ERESUME, so the answer to that ocall lands here too. */
.Lexception_entry:
    cmp $TM_ASM_ECALL_OCALL_RETURN, %rdi
    jne 1f
    mov %fs:TM_TD_ECALL_CONTEXT, %rcx
    test %rcx, %rcx
    jz 1f
    cmpq $0, TM_CTX_OCALL_RSP(%rcx)
    jne .Locall_return
1:
    mov %fs:TM_TD_SELF, %rcx
    test %rcx, %rcx
    jz .Lno_exception_handler
    lea 4096(%rcx), %rsp
    xor %ebp, %ebp
    cmp $TM_ASM_ECALL_LEASE_UNBIND, %rdi
    je .Labandon_exception
    mov %rax, %rdi
    lea __tm_enclave_base(%rip), %rsi
    clean_cpu_state
    call tm_exception_entry     /* RAX = action or status, RDX = vector */
    mov %rax, %rsi
    mov $TM_ASM_EXIT_EXCEPTION, %edi
    jmp .Leexit
.Lno_exception_handler:
    mov $TM_ASM_STATUS_EXCEPTION_ENTRY, %rsi
    xor %edx, %edx
    mov $TM_ASM_EXIT_EXCEPTION, %edi
    jmp .Leexit

    /* LEASE_UNBIND with an exception pending: a dead process left it (no
     * live host enters a TCS whose exception it is still handling with
     * anything but the handler's call). tm_entry_abandon_exception(args,
     * enclave base, TCS address, CSSA) checks the token and, if it may,
     * points the pending frame at tm_entry_resume_unbind: the host's ERESUME
     * then runs the unbind as a new ecall. On the thread data page already. */
.Labandon_exception:
    mov %rax, %rcx
    mov %rsi, %rdi
    lea __tm_enclave_base(%rip), %rsi
    mov %rbx, %rdx
    clean_cpu_state
    call tm_entry_abandon_exception
    mov %rax, %rsi
    xor %edx, %edx
    mov $TM_ASM_EXIT_EXCEPTION, %edi
    jmp .Leexit

    /* Where that ERESUME lands: RDI, RSI, RBX as a new EENTER gives them. */
    .globl tm_entry_resume_unbind
    .hidden tm_entry_resume_unbind
tm_entry_resume_unbind:
    jmp .Lnew_ecall
    .size tm_entry, . - tm_entry

/* int64_t tm_ocall_exit(uint64_t number, uint64_t block): EEXIT with
 * TM_EXIT_OCALL; returns the RSI of the TM_ECALL_OCALL_RETURN that answers.
 * Callee-saved registers, MXCSR and FCW stay on this stack meanwhile; only
 * the stack pointer is kept, in the ecall context (which must exist). */
    .globl tm_ocall_exit
    .hidden tm_ocall_exit
    .type tm_ocall_exit, @function
tm_ocall_exit:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    sub $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    mov %fs:TM_TD_ECALL_CONTEXT, %rax
    mov %rsp, TM_CTX_OCALL_RSP(%rax)
    mov %rsi, %rdx
    mov %rdi, %rsi
    mov $TM_ASM_EXIT_OCALL, %edi
    jmp .Leexit
.Locall_resume:
    clean_cpu_state
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    add $8, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size tm_ocall_exit, . - tm_ocall_exit

/* FXSAVE image of a freshly reset x87/SSE unit: FCW 0x037F (all exceptions
 * masked, round to nearest, 64-bit precision), MXCSR 0x1F80, registers zero. */
    .section .rodata.tm_fx_clean_state, "a", @progbits
    .balign 16
    .type tm_fx_clean_state, @object
tm_fx_clean_state:
    .word 0x037f                /* FCW */
    .fill 22, 1, 0              /* FSW, FTW, FOP, FIP, FDP */
    .long 0x1f80                /* MXCSR */
    .long 0x0000ffff            /* MXCSR_MASK (ignored by FXRSTOR) */
    .fill 512 - 32, 1, 0        /* ST0-7, XMM0-15, reserved */
    .size tm_fx_clean_state, . - tm_fx_clean_state

    .section .note.GNU-stack, "", @progbits
