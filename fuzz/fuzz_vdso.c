/* libFuzzer target: the vDSO ELF symbol parser. The bytes are the image; the
 * parser must refuse garbage cleanly and, when it finds a symbol, return an
 * offset inside the image. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "backend/sgx_vdso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { TM_VDSO_SGX_ENTER, "__vdso_clock_gettime", "time" };
    static const char *const versions[] = { TM_VDSO_VERSION, NULL };
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
        for (size_t v = 0; v < 2; v++) {
            tm_error err = { 0 };
            size_t off = SIZE_MAX;
            if (tm_vdso_find(data, size, names[n], versions[v], &off, &err) == 0 && off >= size)
                abort();
        }
    }
    return 0;
}
