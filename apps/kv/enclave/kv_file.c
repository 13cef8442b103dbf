/* Sinks and sources over the host's files of a persistence ecall
 * (kv_platform_file_read/write). */
#include <errno.h>

#include "kv_persist.h"
#include "kv_server.h"

static int kv_file_write(void *arg, const void *p, size_t n)
{
    (void)arg;
    return kv_platform_file_write(p, n);
}

static int kv_file_read(void *arg, void *p, size_t n)
{
    (void)arg;
    uint8_t *b = p;
    while (n) {
        long got = kv_platform_file_read(b, n);
        if (got < 0)
            return (int)got;
        if (got == 0)
            return -ENODATA;   /* the file ends before n */
        if ((size_t)got > n)
            return -EIO;
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

struct kv_sink kv_file_sink(void) { return (struct kv_sink){ .write = kv_file_write }; }
struct kv_source kv_file_source(void) { return (struct kv_source){ .read = kv_file_read }; }
