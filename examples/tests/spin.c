/* For the busy-TCS test: ecall 16 spins until the host word whose address is
 * the ecall's input (8 bytes, an address outside ELRANGE) becomes non-zero,
 * and returns the number of spins (capped). While it spins, its TCS is busy. */
#include <string.h>

#include "layout.h"

TM_TEST_LAYOUT();

extern const char __tm_enclave_base[] __attribute__((visibility("hidden")));

TM_ECALL(spin_until_flag, 16)
{
    uint64_t flag;
    if (in_len != sizeof flag)
        return -1;
    memcpy(&flag, in, sizeof flag);
    /* The flag is host memory: it must lie outside ELRANGE. */
    uint64_t base = (uintptr_t)__tm_enclave_base;
    if (flag + 8 < flag || (flag + 8 > base && flag < base + TM_MiB(16)))
        return -2;
    uint64_t spins = 0;
    while (__atomic_load_n((volatile uint64_t *)(uintptr_t)flag, __ATOMIC_ACQUIRE) == 0) {
        __builtin_ia32_pause();
        spins++;
    }
    return spins > 0x7fffffff ? 0x7fffffff : (int)spins;
}
