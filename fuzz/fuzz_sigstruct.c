/* libFuzzer target: a SIGSTRUCT is untrusted input (read from disk, sent by
 * clients). Parsing must refuse garbage cleanly; what parses must verify and
 * print without trouble. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "enclave/sigstruct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        return 0;
    struct sgx_sigstruct ss;
    tm_error err = { 0 };
    if (tm_sigstruct_parse(&ss, data, size, &err) < 0)
        return 0;
    tm_sigstruct_verify(&ss, &err);
    tm_sigstruct_print(devnull, &ss, false, &err);
    tm_sigstruct_print(devnull, &ss, true, &err);
    return 0;
}
