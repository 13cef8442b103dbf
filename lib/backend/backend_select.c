/* Choosing the backend at run time: one image runs on either. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/sgx.h"

int tm_backend_parse(const char *name, enum tm_backend_kind *kind)
{
    static const struct {
        const char *name;
        enum tm_backend_kind kind;
    } names[] = { { "sim", TM_BACKEND_SIM }, { "sgx", TM_BACKEND_SGX }, { "auto", TM_BACKEND_AUTO } };
    for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *kind = names[i].kind;
            return 0;
        }
    }
    return -EINVAL;
}

int tm_backend_select(enum tm_backend_kind kind, const struct tm_backend_ops **ops, tm_error *err)
{
    switch (kind) {
    case TM_BACKEND_AUTO:
        /* The device decides; once it exists, sgx must work (a half-working
         * SGX machine is reported, not silently simulated). */
        if (access(tm_sgx_device_path(), F_OK) < 0) {
            *ops = &tm_backend_sim;
            return 0;
        }
        /* fall through */
    case TM_BACKEND_SGX: {
        int ret = tm_sgx_check(err);
        if (ret < 0)
            return ret;
        *ops = &tm_backend_sgx;
        return 0;
    }
    case TM_BACKEND_SIM:
        *ops = &tm_backend_sim;
        return 0;
    }
    return tm_error_set(err, EINVAL, "unknown backend kind %d", (int)kind);
}

int tm_backend_range_check(uint64_t size, const char *what, uint64_t offset, uint64_t len, tm_error *err)
{
    if ((offset | len) & (SGX_PAGE_SIZE - 1) || len == 0 || offset >= size || len > size - offset)
        return tm_error_set(err, EINVAL, "%s: %#llx bytes at %#llx is not a page-aligned range of ELRANGE "
                            "(%#llx bytes)", what, (unsigned long long)len, (unsigned long long)offset,
                            (unsigned long long)size);
    return 0;
}
