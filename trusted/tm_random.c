/* Randomness inside the enclave comes from the CPU, never from the host. */
#include "tm_runtime.h"

uint64_t tm_random_u64(void)
{
    /* RDRAND may transiently fail (CF = 0); Intel advises ten retries. */
    for (int i = 0; i < 10; i++) {
        uint64_t v;
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
        if (ok)
            return v;
    }
    __builtin_trap();
}
