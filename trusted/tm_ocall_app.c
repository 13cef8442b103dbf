/* Application ocalls (abi/tm_ecall.h, TM_OCALL_APP_FIRST..LAST): the block,
 * the input and the output room are laid out here, in the ecall's scratch
 * buffer; the host's out_len is read back once and checked before the output
 * is copied in. */
#include <errno.h>

#include "teemate_enclave.h"
#include "tm_runtime.h"

#define TM_OCALL_APP_DATA 64   /* data starts after the block, 8-aligned */

long tm_ocall_app(uint32_t number, const void *in, size_t in_len, void *out, size_t out_cap,
                  size_t *out_len)
{
    if (number < TM_OCALL_APP_FIRST || number > TM_OCALL_APP_LAST)
        return -EINVAL;
    struct tm_ecall_context *ctx = tm_ecall_current();
    if (ctx == NULL)
        return -ENOSYS;
    uint64_t room = ctx->args.scratch_size - TM_OCALL_APP_DATA;
    uint64_t in_room = ((uint64_t)in_len + 7) & ~7ULL;
    if (in_len > room || in_room > room || out_cap > room - in_room)
        return -E2BIG;
    uint64_t scratch = ctx->args.scratch;
    struct tm_ocall_app req = {
        .in = scratch + TM_OCALL_APP_DATA, .in_len = in_len,
        .out = scratch + TM_OCALL_APP_DATA + in_room, .out_cap = out_cap,
    };
    if (in_len)
        tm_host_copy_out(req.in, in, in_len);
    tm_host_copy_out(scratch, &req, sizeof req);
    int64_t r = tm_ocall_exit(number, scratch);
    struct tm_ocall_app reply;
    tm_host_copy_in(&reply, scratch, sizeof reply);
    if (reply.out_len > out_cap)
        return -EIO;   /* more than the room it was given: a lie */
    if (r < -4095)
        return -EIO;
    if (reply.out_len)
        tm_host_copy_in(out, req.out, reply.out_len);
    if (out_len)
        *out_len = reply.out_len;
    return (long)r;
}
