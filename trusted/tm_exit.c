/* exit() and abort() inside an ecall: tell the host (exit ocall), then end
 * the ecall (TM_STATUS_EXIT, value = the status). Outside an ecall there is
 * nobody to return to: trap. */
#include <stdlib.h>

#include "tm_runtime.h"

__attribute__((noreturn)) static void tm_exit_now(uint64_t kind, int status, const char *why)
{
    if (tm_ecall_current() == NULL)
        __builtin_trap();
    tm_ocall_exit_report(kind, status, why);
    tm_ecall_unwind(TM_STATUS_EXIT, status);
}

/* No atexit handlers or stdio flushing: an ecall is not a process. */
__attribute__((noreturn)) void exit(int status)
{
    tm_exit_now(TM_EXIT_KIND_EXIT, status, NULL);
}

__attribute__((noreturn)) void _Exit(int status)
{
    tm_exit_now(TM_EXIT_KIND_EXIT, status, NULL);
}

/* 134 = 128 + SIGABRT, what a shell shows for an aborted process. */
__attribute__((noreturn)) void abort(void)
{
    tm_exit_now(TM_EXIT_KIND_ABORT, 134, "abort() called");
}
