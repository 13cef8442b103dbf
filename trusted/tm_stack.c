/* Stack room left on this enclave thread, for code that bounds its own
 * recursion (Duktape's native stack check): a thread's stack is fixed by the
 * image's layout, and running off it faults into the guard page. */
#include "teemate_enclave.h"
#include "tm_runtime.h"

size_t tm_stack_left(void)
{
    const struct tm_thread_data *td = tm_thread_current();
    uintptr_t low = td->enclave_base + td->stack_bottom;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return sp > low ? sp - low : 0;
}
