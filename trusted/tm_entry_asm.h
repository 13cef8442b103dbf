/* Constants the assembly entry stub needs. Assembly cannot include the C ABI
 * headers, so they are repeated here and tm_entry_check.c asserts that each
 * one equals its C definition. */
#ifndef TM_ENTRY_ASM_H
#define TM_ENTRY_ASM_H

/* struct tm_thread_data (abi/tm_image.h), read and written %fs-relative. */
#define TM_TD_SELF 0
#define TM_TD_STACK_TOP 32
#define TM_TD_HOST_RSP 136
#define TM_TD_HOST_RBP 144
#define TM_TD_HOST_RETURN 152
#define TM_TD_ECALL_CONTEXT 176

/* struct tm_ecall_context (tm_runtime.h) */
#define TM_CTX_OCALL_RSP 0

/* abi/tm_ecall.h and abi/sgx_arch.h */
#define TM_ASM_ECALL_OCALL_RETURN 1
#define TM_ASM_ECALL_LEASE_UNBIND 4
#define TM_ASM_EXIT_RETURN 0
#define TM_ASM_EXIT_OCALL 1
#define TM_ASM_EXIT_EXCEPTION 2
#define TM_ASM_STATUS_EXCEPTION_ENTRY (-3)
#define TM_ASM_STATUS_BUSY (-4)
#define TM_ASM_STATUS_NO_OCALL (-5)
#define TM_ASM_ENCLU_EEXIT 4

#endif
