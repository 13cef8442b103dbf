/* Compile-time only: the constants in tm_entry_asm.h match the C ABI. */
#include <stddef.h>

#include "sgx_arch.h"
#include "tm_ecall.h"
#include "tm_entry_asm.h"
#include "tm_image.h"

_Static_assert(TM_TD_STACK_TOP == offsetof(struct tm_thread_data, stack_top), "stack_top");
_Static_assert(0x28 == offsetof(struct tm_thread_data, stack_guard), "canary at %fs:0x28");
_Static_assert(TM_TD_HOST_RSP == offsetof(struct tm_thread_data, host_rsp), "host_rsp");
_Static_assert(TM_TD_HOST_RBP == offsetof(struct tm_thread_data, host_rbp), "host_rbp");
_Static_assert(TM_TD_HOST_RETURN == offsetof(struct tm_thread_data, host_return), "host_return");
_Static_assert(TM_ASM_EXIT_RETURN == TM_EXIT_RETURN, "exit kind");
_Static_assert(TM_ASM_STATUS_EXCEPTION_ENTRY == TM_STATUS_EXCEPTION_ENTRY, "status");
_Static_assert(TM_ASM_ENCLU_EEXIT == SGX_EEXIT, "EEXIT leaf");
