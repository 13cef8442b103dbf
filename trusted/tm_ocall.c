/* Ocalls: the request is marshalled into the ecall's scratch buffer (host
 * memory, checked at the ecall's entry), the thread EEXITs and waits, and the
 * host's answer is copied back in once and checked before anyone uses it. The
 * enclave never takes an address from the host: it only reads back the block
 * it chose. */
#include <errno.h>
#include <string.h>

#include "tm_runtime.h"

/* Data follows the block at this offset of the scratch buffer. */
#define TM_OCALL_DATA_OFFSET 64

static struct tm_ecall_context *tm_ocall_context(uint64_t need)
{
    struct tm_ecall_context *ctx = tm_ecall_current();
    if (ctx == NULL || ctx->args.scratch_size < need)
        return NULL;
    return ctx;
}

long tm_ocall_write(int fd, const void *buf, size_t len)
{
    struct tm_ecall_context *ctx = tm_ocall_context(TM_OCALL_SCRATCH_MIN);
    if (ctx == NULL)
        return -ENOSYS;
    uint64_t scratch = ctx->args.scratch;
    uint64_t room = ctx->args.scratch_size - TM_OCALL_DATA_OFFSET;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < room ? len - done : (size_t)room;
        struct tm_ocall_write req = {
            .fd = (uint64_t)fd, .buf = scratch + TM_OCALL_DATA_OFFSET, .len = n,
        };
        tm_host_copy_out(req.buf, (const char *)buf + done, n);
        tm_host_copy_out(scratch, &req, sizeof req);
        int64_t r = tm_ocall_exit(TM_OCALL_WRITE, scratch);
        if (r < 0)
            return done ? (long)done : (r >= -4095 ? (long)r : -EIO);
        if ((uint64_t)r > n)
            return -EIO;   /* the host claims more than it was given: a lie */
        done += (size_t)r;
        if ((size_t)r < n)
            break;
    }
    return (long)done;
}

int tm_ocall_clock(uint64_t clock, int64_t *sec, int64_t *nsec)
{
    struct tm_ecall_context *ctx = tm_ocall_context(TM_OCALL_SCRATCH_MIN);
    if (ctx == NULL)
        return -ENOSYS;
    struct tm_ocall_clock req = { .clock = clock };
    tm_host_copy_out(ctx->args.scratch, &req, sizeof req);
    int64_t r = tm_ocall_exit(TM_OCALL_CLOCK_GETTIME, ctx->args.scratch);
    if (r != 0)
        return r < 0 && r >= -4095 ? (int)r : -EIO;
    struct tm_ocall_clock reply;
    tm_host_copy_in(&reply, ctx->args.scratch, sizeof reply);
    if (reply.sec < 0 || reply.nsec < 0 || reply.nsec >= 1000000000)
        return -EIO;
    *sec = reply.sec;
    *nsec = reply.nsec;
    return 0;
}

int tm_ocall_exit_report(uint64_t kind, int64_t status, const char *message)
{
    struct tm_ecall_context *ctx = tm_ocall_context(TM_OCALL_SCRATCH_MIN);
    if (ctx == NULL)
        return -ENOSYS;
    struct tm_ocall_exit req = { .kind = kind, .status = status };
    if (message)
        strncpy(req.message, message, sizeof req.message - 1);
    tm_host_copy_out(ctx->args.scratch, &req, sizeof req);
    int64_t r = tm_ocall_exit(TM_OCALL_EXIT, ctx->args.scratch);
    return r == 0 ? 0 : -EIO;
}
