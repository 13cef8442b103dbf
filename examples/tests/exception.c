/* An exception handler that fixes the fault: it skips a faulting UD2 (2
 * bytes) and resumes, so the ecall goes on.
 *   ecall 16: returns the number of times the handler ran (1 expected) */
#include "layout.h"

TM_TEST_LAYOUT();

static volatile int handled;

static int skip_ud2(struct tm_exception_info *info)
{
    const uint8_t *code = (const uint8_t *)(uintptr_t)info->gpr->rip;
    if (info->vector != 6 || code[0] != 0x0f || code[1] != 0x0b)
        return TM_EXCEPTION_NOT_HANDLED;
    info->gpr->rip += 2;
    handled++;
    return TM_EXCEPTION_CONTINUE;
}

TM_ECALL(trap_and_continue, 16)
{
    handled = 0;
    tm_set_exception_handler(skip_ud2);
    __asm__ volatile("ud2");
    tm_set_exception_handler(NULL);
    return handled;
}
