/* The function's code sealed for the host to keep: at create the scripts are
 * compiled and sealed in one ecall (the blob holds exactly what compiled);
 * after the enclave is gone (daemon restart), a rebuilt enclave of the same
 * image unseals them inside and compiles them again. MRENCLAVE policy: no
 * other image (and no host) can read or alter them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fn_runtime.h"
#include "teemate_enclave.h"

_Static_assert(FN_SEALED_OVERHEAD == sizeof(struct tm_sealed_header), "fn_abi.h's seal overhead");

TM_ECALL(fn_ecall_load_seal, FN_ECALL_LOAD_SEAL)
{
    if (out_cap < tm_sealed_size(in_len))
        return -ENOBUFS;
    int r = fn_code_load(in, in_len, out, out_cap, out_len);
    if (r != FN_RESULT_OK)
        return r;
    return tm_seal(SGX_KEYPOLICY_MRENCLAVE, in, in_len, out, out_cap, out_len);
}

TM_ECALL(fn_ecall_load_sealed, FN_ECALL_LOAD_SEALED)
{
    if (in_len < FN_SEALED_OVERHEAD)
        return -EBADMSG;
    size_t cap = in_len - FN_SEALED_OVERHEAD, len = 0;
    char *plain = malloc(cap ? cap : 1);
    if (!plain)
        return -ENOMEM;
    int r = tm_unseal(in, in_len, plain, cap, &len);
    if (r == 0)
        r = fn_code_load(plain, len, out, out_cap, out_len);
    memset(plain, 0, cap);   /* the slot's pages go back to the pool */
    free(plain);
    return r;
}
