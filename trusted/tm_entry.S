/* tm_entry: the image's ELF entry point = TCS.OENTRY, where EENTER lands.
 *
 * The CPU gives RAX = CSSA, RBX = TCS address, RCX = the address EEXIT goes
 * back to, and FS/GS based at this thread's data page (struct tm_thread_data).
 * Everything else is the host's and untrusted: RSP and RBP are saved and put
 * back for EEXIT (the Linux vDSO needs its RBP), never used inside. Register
 * convention: abi/tm_ecall.h. */
#include "tm_entry_asm.h"

#define RFLAGS_DF (1 << 10)
#define RFLAGS_AC (1 << 18)

    .section .text.tm_entry, "ax", @progbits
    .globl tm_entry
    .hidden tm_entry
    .type tm_entry, @function
tm_entry:
    /* CSSA > 0: an exception is pending on this thread. Its interrupted frame
     * is still on the thread's stack, so touch nothing and say so. */
    test %rax, %rax
    jnz .Lexception_entry

    mov %rcx, %fs:TM_TD_HOST_RETURN
    mov %rsp, %fs:TM_TD_HOST_RSP
    mov %rbp, %fs:TM_TD_HOST_RBP

    /* tm_trusted_entry(ecall = RDI, args = RSI, enclave base, TCS address)
     * on this thread's stack; the image is linked at 0, so its first byte
     * (sdk/enclave.lds) is the enclave base. */
    lea __tm_enclave_base(%rip), %rdx
    mov %rbx, %rcx
    mov %fs:TM_TD_STACK_TOP, %rsp
    add %rdx, %rsp
    xor %ebp, %ebp

    /* Host-chosen flags and FPU modes must not change enclave code: clear
     * DF and AC, reset x87/SSE to a clean state (rounding, exceptions). */
    pushfq
    andq $~(RFLAGS_DF | RFLAGS_AC), (%rsp)
    popfq
    fxrstor64 tm_fx_clean_state(%rip)

    call tm_trusted_entry       /* returns status in RAX, value in RDX */
    mov %rax, %rsi
    mov $TM_ASM_EXIT_RETURN, %edi

    /* Back to the host with RDI, RSI, RDX as results and nothing else left:
     * x87/SSE registers may hold secrets (memcpy, printf of doubles). */
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

.Lexception_entry:
    /* Every register still holds what the host put there: only the results. */
    mov %rcx, %rbx
    mov $TM_ASM_EXIT_RETURN, %edi
    mov $TM_ASM_STATUS_EXCEPTION_ENTRY, %rsi
    xor %edx, %edx
    mov $TM_ASM_ENCLU_EEXIT, %eax
    .byte 0x0f, 0x01, 0xd7      /* ENCLU[EEXIT] */
    ud2
    .size tm_entry, . - tm_entry

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
