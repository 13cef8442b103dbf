/* exit() and abort() end the ecall and tell the host.
 *   ecall 16: exit(in[0])  -> the host sees exited, retval = in[0]
 *   ecall 17: abort()      -> the host reports "enclave called abort()"
 *   ecall 18: returns 5 (the thread is usable after either) */
#include <stdlib.h>

#include "layout.h"

TM_TEST_LAYOUT();

TM_ECALL(call_exit, 16)
{
    exit(in_len ? ((const unsigned char *)in)[0] : 0);
}

TM_ECALL(call_abort, 17)
{
    abort();
}

TM_ECALL(after, 18)
{
    return 5;
}
