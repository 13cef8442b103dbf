/* Argument checking at the boundary: the host test passes in/out buffers
 * (or the argument block itself) inside ELRANGE and expects
 * TM_STATUS_BAD_ARGUMENTS, with the secret untouched.
 *   ecall 16: echo: out = in
 *   ecall 17: returns the offset of `secret` from the enclave base (a target
 *             for the test's hostile out pointer)
 *   ecall 18: returns 1 if `secret` still holds its initial value */
#include <string.h>

#include "layout.h"

TM_TEST_LAYOUT();

static char secret[64] = "the enclave's secret: never leaves, never overwritten";
extern const char __tm_enclave_base[] __attribute__((visibility("hidden")));

TM_ECALL(echo, 16)
{
    size_t n = in_len < out_cap ? in_len : out_cap;
    memcpy(out, in, n);
    *out_len = n;
    return (int)n;
}

TM_ECALL(secret_offset, 17)
{
    return (int)((uintptr_t)secret - (uintptr_t)__tm_enclave_base);
}

TM_ECALL(secret_intact, 18)
{
    return strcmp(secret, "the enclave's secret: never leaves, never overwritten") == 0;
}
