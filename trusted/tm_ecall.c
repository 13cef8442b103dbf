/* One ecall: check and copy its argument block, copy its input in, run it,
 * copy its output out. The image's ecalls are entries of the .tm_ecalls
 * section (TM_ECALL in teemate_enclave.h), gathered by sdk/enclave.lds. */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "teemate_enclave.h"
#include "tm_runtime.h"
#include "tm_slot.h"

extern struct tm_ecall_entry __tm_ecalls_start[] TM_HIDDEN;
extern struct tm_ecall_entry __tm_ecalls_end[] TM_HIDDEN;

static int tm_ecall_ping(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in, (void)in_len, (void)out, (void)out_cap, (void)out_len;
    return 0;
}

/* The runtime's own ecalls, then the image's (.tm_ecalls). A number that
 * appears twice in the image is refused rather than guessed at. */
static tm_ecall_fn tm_ecall_find(uint64_t number)
{
    switch (number) {
    case TM_ECALL_MAIN:
        return tm_ecall_main;
    case TM_ECALL_PING:
        return tm_ecall_ping;
    case TM_ECALL_LEASE_BIND:
        return tm_ecall_lease_bind;
    case TM_ECALL_LEASE_UNBIND:
        return tm_ecall_lease_unbind;
    case TM_ECALL_TCS_MAKE:
        return tm_ecall_tcs_make;
    case TM_ECALL_TCS_ACCEPT:
        return tm_ecall_tcs_accept;
    case TM_ECALL_SLOT_TRIM:
        return tm_ecall_slot_trim;
    case TM_ECALL_FORK_CHILD:
        return tm_ecall_fork_child;
    }
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

/* The lease ecalls keep their small in/out on the stack: they must work when
 * the heap or the slot's arena is full, or locked by a thread that died. */
static bool tm_ecall_is_lease(uint64_t number)
{
    return number == TM_ECALL_LEASE_BIND || number == TM_ECALL_LEASE_UNBIND ||
           number == TM_ECALL_SLOT_TRIM || number == TM_ECALL_TCS_MAKE ||
           number == TM_ECALL_TCS_ACCEPT;
}

#define TM_ECALL_LEASE_MAX_IO 64

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

/* In and out on the heap (the slot's arena on a TCS serving a slot); false
 * if they do not fit. */
static bool tm_ecall_alloc_buffers(struct tm_ecall_context *ctx)
{
    const struct tm_ecall_args *a = &ctx->args;
    ctx->out_cap = a->out_size;
    if (a->in_size && (ctx->in = malloc(a->in_size)) == NULL)
        return false;
    /* zeroed: no stale heap leaks out */
    return !a->out_size || (ctx->out = calloc(1, a->out_size)) != NULL;
}

/* Runs fn on the enclave copies of in and out; returns the ecall's result.
 * Separate from tm_ecall_run so that nothing live across setjmp sits in
 * registers: what must survive a longjmp is in ctx. */
static struct tm_entry_result tm_ecall_call(struct tm_ecall_context *ctx, tm_ecall_fn fn)
{
    const struct tm_ecall_args *a = &ctx->args;
    struct tm_entry_result result;
    size_t out_len = 0;
    tm_thread_current()->ecall_context = (uintptr_t)ctx;
    if (setjmp(ctx->unwind) == 0) {
        if (ctx->heap_buffers && !tm_ecall_alloc_buffers(ctx)) {
            result = (struct tm_entry_result){ .status = TM_STATUS_NO_MEMORY };
        } else {
            tm_host_copy_in(ctx->in, a->in, a->in_size);
            int value = fn(ctx->in, a->in_size, ctx->out, ctx->out_cap, &out_len);
            result = (struct tm_entry_result){ .status = TM_STATUS_OK, .value = value };
        }
    } else {
        /* exit(), abort() or a fatal exception: whatever it wrote is dropped,
         * and a runtime lock it held (a fault while growing a slot) freed. */
        tm_locks_drop_mine();
        result = (struct tm_entry_result){ .status = ctx->unwind_status,
                                           .value = ctx->unwind_value };
        out_len = 0;
    }
    tm_thread_current()->ecall_context = 0;

    if (result.status == TM_STATUS_OK && out_len > ctx->out_cap) {
        result = (struct tm_entry_result){ .status = TM_STATUS_BAD_OUTPUT };
        out_len = 0;
    }
    tm_host_copy_out(a->out, ctx->out, out_len);
    uint64_t len = out_len;
    tm_host_copy_out(ctx->args_address + offsetof(struct tm_ecall_args, out_len), &len, sizeof len);
    if (ctx->out)
        memset(ctx->out, 0, ctx->out_cap);   /* results may be secrets: leave none behind */
    if (ctx->heap_buffers) {
        free(ctx->in);
        free(ctx->out);
    }
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
    /* Before anything else runs: is this TCS leased to whoever calls? */
    int64_t lease = tm_lease_gate(ecall, ctx.args.lease_token);
    if (lease != TM_STATUS_OK)
        return (struct tm_entry_result){ .status = lease };

    tm_ecall_fn fn = tm_ecall_find(ecall);
    if (fn == NULL)
        return (struct tm_entry_result){ .status = TM_STATUS_UNKNOWN_ECALL };
    _Alignas(16) uint8_t in[TM_ECALL_LEASE_MAX_IO], out[TM_ECALL_LEASE_MAX_IO];
    if (tm_ecall_is_lease(ecall)) {
        if (ctx.args.in_size > sizeof in)
            return (struct tm_entry_result){ .status = TM_STATUS_BAD_ARGUMENTS };
        memset(out, 0, sizeof out);
        ctx.in = in;
        ctx.out = out;
        ctx.out_cap = ctx.args.out_size < sizeof out ? ctx.args.out_size : sizeof out;
    } else {
        ctx.heap_buffers = true;
    }
    return tm_ecall_call(&ctx, fn);
}
