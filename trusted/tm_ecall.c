/* One ecall: check and copy its argument block, copy its input in, run it,
 * copy its output out. The image's ecalls are entries of the .tm_ecalls
 * section (TM_ECALL in teemate_enclave.h), gathered by sdk/enclave.lds. */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "teemate_enclave.h"
#include "tm_runtime.h"

extern struct tm_ecall_entry __tm_ecalls_start[] TM_HIDDEN;
extern struct tm_ecall_entry __tm_ecalls_end[] TM_HIDDEN;

static int tm_ecall_ping(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap, (void)out_len;
    return 0;
}

/* A number that appears twice is refused rather than guessed at. */
static tm_ecall_fn tm_ecall_find(uint64_t number)
{
    if (number == TM_ECALL_MAIN)
        return tm_ecall_main;
    if (number == TM_ECALL_PING)
        return tm_ecall_ping;
    if (number < TM_ECALL_USER_FIRST)
        return NULL;
    tm_ecall_fn found = NULL;
    for (struct tm_ecall_entry *e = __tm_ecalls_start; e < __tm_ecalls_end; e++) {
        if (e->number != number)
            continue;
        if (found)
            return NULL;
        found = e->fn;
    }
    return found;
}

static bool tm_ecall_args_ok(const struct tm_ecall_args *a, uint64_t ecall)
{
    return a->ecall == ecall && a->reserved == 0 && a->in_size <= TM_ECALL_MAX_IN &&
           a->out_size <= TM_ECALL_MAX_OUT &&
           (a->scratch_size == 0 || a->scratch_size >= TM_OCALL_SCRATCH_MIN) &&
           tm_host_range_is_outside(a->in, a->in_size) &&
           tm_host_range_is_outside(a->out, a->out_size) &&
           tm_host_range_is_outside(a->scratch, a->scratch_size);
}

__attribute__((noreturn)) void tm_ecall_unwind(int64_t status, int64_t value)
{
    struct tm_ecall_context *ctx = tm_ecall_current();
    if (ctx == NULL)
        __builtin_trap();
    ctx->unwind_status = status;
    ctx->unwind_value = value;
    longjmp(ctx->unwind, 1);
}

/* Runs fn on enclave copies; returns the ecall's result. Separate from
 * tm_ecall_run so that nothing live across setjmp sits in registers. */
static struct tm_entry_result tm_ecall_call(struct tm_ecall_context *ctx, tm_ecall_fn fn)
{
    const struct tm_ecall_args *a = &ctx->args;
    void *in = a->in_size ? malloc(a->in_size) : NULL;
    void *out = a->out_size ? calloc(1, a->out_size) : NULL;   /* zeroed: no stale heap leaks out */
    if ((a->in_size && !in) || (a->out_size && !out)) {
        free(in);
        free(out);
        return (struct tm_entry_result){ .status = TM_STATUS_NO_MEMORY };
    }
    tm_host_copy_in(in, a->in, a->in_size);

    struct tm_entry_result result;
    size_t out_len = 0;
    tm_thread_current()->ecall_context = (uintptr_t)ctx;
    if (setjmp(ctx->unwind) == 0) {
        int value = fn(in, a->in_size, out, a->out_size, &out_len);
        result = (struct tm_entry_result){ .status = TM_STATUS_OK, .value = value };
    } else {
        /* exit(), abort() or a fatal exception: whatever it wrote is dropped. */
        result = (struct tm_entry_result){ .status = ctx->unwind_status,
                                           .value = ctx->unwind_value };
        out_len = 0;
    }
    tm_thread_current()->ecall_context = 0;

    if (result.status == TM_STATUS_OK && out_len > a->out_size) {
        result = (struct tm_entry_result){ .status = TM_STATUS_BAD_OUTPUT };
        out_len = 0;
    }
    tm_host_copy_out(a->out, out, out_len);
    uint64_t len = out_len;
    tm_host_copy_out(ctx->args_address + offsetof(struct tm_ecall_args, out_len), &len, sizeof len);
    free(in);
    if (out)
        memset(out, 0, a->out_size);   /* results may be secrets: leave none in the heap */
    free(out);
    return result;
}

struct tm_entry_result tm_ecall_run(uint64_t ecall, uint64_t args_address)
{
    struct tm_ecall_context ctx = { .args_address = args_address };
    if (!tm_host_range_is_outside(args_address, sizeof ctx.args))
        return (struct tm_entry_result){ .status = TM_STATUS_BAD_ARGUMENTS };
    tm_host_copy_in(&ctx.args, args_address, sizeof ctx.args);
    if (!tm_ecall_args_ok(&ctx.args, ecall))
        return (struct tm_entry_result){ .status = TM_STATUS_BAD_ARGUMENTS };

    tm_ecall_fn fn = tm_ecall_find(ecall);
    if (fn == NULL)
        return (struct tm_entry_result){ .status = TM_STATUS_UNKNOWN_ECALL };
    return tm_ecall_call(&ctx, fn);
}
