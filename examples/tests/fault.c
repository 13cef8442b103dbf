/* Faults inside the enclave end the ecall with a report to the host.
 *   ecall 16: read through a NULL pointer     -> "enclave fault: #PF at 0x0 ..."
 *   ecall 17: divide by zero                  -> "enclave fault: #DE ..."
 *   ecall 18: return 0 (the thread still works after a fault)
 * main(): same as ecall 16 (for `teemate enclave run`). */
#include "layout.h"

TM_TEST_LAYOUT();

static int *volatile nowhere;
static volatile int zero;

TM_ECALL(null_deref, 16)
{
    return *nowhere;
}

TM_ECALL(divide_by_zero, 17)
{
    return 42 / zero;
}

TM_ECALL(still_alive, 18)
{
    return 0;
}

int main(__attribute__((unused)) int argc, __attribute__((unused)) char **argv)
{
    tm_print("about to dereference NULL\n");
    return *nowhere;
}
