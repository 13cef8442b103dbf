/* Compile-time only: the constants in tm_entry_asm.h match the C ABI. */
#include <stddef.h>

#include "sgx_arch.h"
#include "tm_ecall.h"
#include "tm_entry_asm.h"
#include "tm_image.h"
#include "tm_runtime.h"

_Static_assert(TM_TD_SELF == offsetof(struct tm_thread_data, self), "self");
_Static_assert(TM_TD_STACK_TOP == offsetof(struct tm_thread_data, stack_top), "stack_top");
_Static_assert(0x28 == offsetof(struct tm_thread_data, stack_guard), "canary at %fs:0x28");
_Static_assert(TM_TD_HOST_RSP == offsetof(struct tm_thread_data, host_rsp), "host_rsp");
_Static_assert(TM_TD_HOST_RBP == offsetof(struct tm_thread_data, host_rbp), "host_rbp");
_Static_assert(TM_TD_HOST_RETURN == offsetof(struct tm_thread_data, host_return), "host_return");
_Static_assert(TM_TD_ECALL_CONTEXT == offsetof(struct tm_thread_data, ecall_context), "ecall_context");
_Static_assert(TM_CTX_OCALL_RSP == offsetof(struct tm_ecall_context, ocall_rsp), "ocall_rsp");
/* The exception entry and tm_entry_abandon run on the rest of the thread data page. */
_Static_assert(sizeof(struct tm_thread_data) <= TM_EXCEPTION_STACK_LOW, "exception stack");
_Static_assert(TM_ASM_ECALL_OCALL_RETURN == TM_ECALL_OCALL_RETURN, "ocall return");
_Static_assert(TM_ASM_ECALL_LEASE_UNBIND == TM_ECALL_LEASE_UNBIND, "lease unbind");
_Static_assert(TM_ASM_EXIT_RETURN == TM_EXIT_RETURN, "exit kind");
_Static_assert(TM_ASM_EXIT_OCALL == TM_EXIT_OCALL, "exit kind");
_Static_assert(TM_ASM_EXIT_EXCEPTION == TM_EXIT_EXCEPTION, "exit kind");
_Static_assert(TM_ASM_STATUS_EXCEPTION_ENTRY == TM_STATUS_EXCEPTION_ENTRY, "status");
_Static_assert(TM_ASM_STATUS_BUSY == TM_STATUS_BUSY, "status");
_Static_assert(TM_ASM_STATUS_NO_OCALL == TM_STATUS_NO_OCALL, "status");
_Static_assert(TM_ASM_ENCLU_EEXIT == SGX_EEXIT, "EEXIT leaf");
