/* Output: tm_print and write(2) for stdout/stderr, through the write ocall. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "teemate_enclave.h"
#include "tm_runtime.h"

ssize_t write(int fd, const void *buf, size_t len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    long r = tm_ocall_write(fd, buf, len);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

int tm_print(const char *s)
{
    size_t len = strlen(s);
    return write(1, s, len) == (ssize_t)len ? 0 : -1;
}
