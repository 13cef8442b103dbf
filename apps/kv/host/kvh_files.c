/* Serving the store's file ocalls: reads fill what was asked unless the
 * file ends (fewer ocalls for the same bytes), writes are all or -errno
 * (EINTR and short writes resumed; a full disk is -ENOSPC). The enclave's
 * requests are checked as any ocall's: sizes against the scratch room. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "enclave/ecall.h"
#include "kv_abi.h"
#include "kv_server.h"
#include "kvh_files.h"
#include "util/file.h"

static int kvh_in_fd = -1, kvh_out_fd = -1;
static struct kvh_files_stats kvh_stats;

long kvh_files_read(void *p, size_t n)
{
    if (kvh_in_fd < 0)
        return -EBADF;
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(kvh_in_fd, (char *)p + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (!kvh_stats.read_error)
                kvh_stats.read_error = -errno;
            return -errno;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    kvh_stats.read += done;
    return (long)done;
}

int kvh_files_write(const void *p, size_t n)
{
    int e = kvh_out_fd < 0 ? -EBADF : tm_write_full(kvh_out_fd, p, n);
    if (!e)
        kvh_stats.written += n;
    if (e && !kvh_stats.write_error)
        kvh_stats.write_error = e;
    return e;
}

int64_t kvh_files_ocall(void *ctx, uint32_t number, const void *in, size_t in_len, void *out,
                        size_t out_cap, size_t *out_len)
{
    (void)ctx;
    *out_len = 0;
    if (number == KV_OCALL_FILE_WRITE)
        return kvh_files_write(in, in_len);
    if (number != KV_OCALL_FILE_READ)
        return -ENOSYS;
    uint64_t want;
    if (in_len != sizeof want)
        return -EINVAL;
    memcpy(&want, in, sizeof want);   /* read once: the enclave shares this memory */
    if (want > out_cap)
        return -EINVAL;
    long r = kvh_files_read(out, (size_t)want);
    if (r > 0)
        *out_len = (size_t)r;
    return r;
}

void kvh_files_set(int in_fd, int out_fd)
{
    kvh_in_fd = in_fd;
    kvh_out_fd = out_fd;
    memset(&kvh_stats, 0, sizeof kvh_stats);
    kv_platform_set_files(in_fd >= 0 || out_fd >= 0 ? kvh_files_read : NULL,
                          in_fd >= 0 || out_fd >= 0 ? kvh_files_write : NULL);
}

void kvh_files_begin(int in_fd, int out_fd)
{
    kvh_files_set(in_fd, out_fd);
    tm_ecall_register_app_ocalls(kvh_files_ocall, NULL);
}

void kvh_files_end(void)
{
    tm_ecall_register_app_ocalls(NULL, NULL);
    kvh_files_set(-1, -1);
}

void kvh_files_stats(struct kvh_files_stats *st) { *st = kvh_stats; }
