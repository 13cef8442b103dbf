/* The host's ecall loop and ocall service (protocol: abi/tm_ecall.h). */
#include "enclave/ecall.h"

#include <cpuid.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

/* One ecall in flight: the argument block and scratch buffer the enclave sees. */
struct tm_ecall_run {
    struct tm_ecall_call *call;
    struct tm_ecall_args args;
    uint8_t *scratch;
    size_t scratch_size;
};

const char *tm_ecall_vector_name(uint32_t vector, char buf[16])
{
    static const char *const names[] = {
        [0] = "#DE", [1] = "#DB", [3] = "#BP", [4] = "#OF", [5] = "#BR", [6] = "#UD",
        [7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS", [13] = "#GP",
        [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM", [20] = "#VE",
        [21] = "#CP",
    };
    if (vector < sizeof names / sizeof names[0] && names[vector])
        return names[vector];
    snprintf(buf, 16, "vector %u", vector);
    return buf;
}

void tm_ecall_fault_describe(const struct tm_fault_report *f, uint64_t base, char *buf, size_t n)
{
    char vb[16], where[96];
    const char *v = f->flags & TM_FAULT_NO_VECTOR ? "unknown exception"
                                                  : tm_ecall_vector_name(f->vector, vb);
    if (f->rip >= base)
        snprintf(where, sizeof where, "rip 0x%" PRIx64 " = image+0x%" PRIx64, f->rip, f->rip - base);
    else
        snprintf(where, sizeof where, "rip 0x%" PRIx64, f->rip);
    if (f->flags & TM_FAULT_SYSCALL)
        snprintf(buf, n, "enclave made a system call (%s at %s)", v, where);
    else if (f->flags & TM_FAULT_ADDR)
        snprintf(buf, n, "enclave fault: %s at 0x%" PRIx64 " (%s)", v, f->addr, where);
    else
        snprintf(buf, n, "enclave fault: %s (%s)", v, where);
}

int tm_ecall_pack_argv(int argc, char *const argv[], char **buf, size_t *len, tm_error *err)
{
    if (argc < 0 || argc > TM_MAIN_MAX_ARGS)
        return tm_error_set(err, E2BIG, "%d arguments: the enclave takes at most %d", argc,
                            TM_MAIN_MAX_ARGS);
    size_t total = 0;
    for (int i = 0; i < argc; i++)
        total += strlen(argv[i]) + 1;
    if (total > TM_MAIN_MAX_ARG_BYTES)
        return tm_error_set(err, E2BIG, "arguments take %zu bytes: the enclave takes at most %d",
                            total, TM_MAIN_MAX_ARG_BYTES);
    char *p = malloc(total ? total : 1);
    if (!p)
        return tm_error_set(err, ENOMEM, "out of memory");
    size_t at = 0;
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        memcpy(p + at, argv[i], l);
        at += l;
    }
    *buf = p;
    *len = total;
    return 0;
}

/* Note a refused ocall (the first reason is kept) and return -code to the enclave. */
__attribute__((format(printf, 3, 4)))
static int64_t tm_ocall_refuse(struct tm_ecall_call *call, int code, const char *fmt, ...)
{
    if (call->refused_ocalls++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(call->refused, sizeof call->refused, fmt, ap);
        va_end(ap);
    }
    return -code;
}

/* [address, address+len) inside the scratch buffer? */
static bool tm_ocall_in_scratch(const struct tm_ecall_run *run, uint64_t address, uint64_t len)
{
    uint64_t start = (uintptr_t)run->scratch;
    return address >= start && len <= run->scratch_size && address - start <= run->scratch_size - len;
}

static long tm_ecall_default_write(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx;
    ssize_t n = write(fd, buf, len);
    return n < 0 ? -errno : n;
}

static int64_t tm_ocall_write(struct tm_ecall_run *run, uint64_t block)
{
    struct tm_ocall_write req;
    memcpy(&req, (const void *)(uintptr_t)block, sizeof req);
    if (req.fd != 1 && req.fd != 2)
        return tm_ocall_refuse(run->call, EBADF, "write ocall to fd %" PRIu64 " (only 1 and 2)",
                               req.fd);
    if (!tm_ocall_in_scratch(run, req.buf, req.len))
        return tm_ocall_refuse(run->call, EFAULT,
                               "write ocall of %" PRIu64 " bytes at 0x%" PRIx64
                               ": outside the scratch buffer",
                               req.len, req.buf);
    tm_ecall_write_fn fn = run->call->write ? run->call->write : tm_ecall_default_write;
    long n = fn(run->call->write_ctx, (int)req.fd, (const void *)(uintptr_t)req.buf, req.len);
    if (n > (long)req.len)
        n = (long)req.len;
    return n;
}

static int64_t tm_ocall_clock(struct tm_ecall_run *run, uint64_t block)
{
    struct tm_ocall_clock req;
    memcpy(&req, (const void *)(uintptr_t)block, sizeof req);
    clockid_t id;
    if (req.clock == TM_CLOCK_REALTIME)
        id = CLOCK_REALTIME;
    else if (req.clock == TM_CLOCK_MONOTONIC)
        id = CLOCK_MONOTONIC;
    else
        return tm_ocall_refuse(run->call, EINVAL, "clock ocall for clock %" PRIu64, req.clock);
    struct timespec ts;
    if (clock_gettime(id, &ts) < 0)
        return -errno;
    req.sec = ts.tv_sec;
    req.nsec = ts.tv_nsec;
    memcpy((void *)(uintptr_t)block, &req, sizeof req);
    return 0;
}

static int64_t tm_ocall_exit(struct tm_ecall_run *run, uint64_t block)
{
    struct tm_ocall_exit req;
    memcpy(&req, (const void *)(uintptr_t)block, sizeof req);
    if (req.kind != TM_EXIT_KIND_EXIT && req.kind != TM_EXIT_KIND_ABORT)
        return tm_ocall_refuse(run->call, EINVAL, "exit ocall of kind %" PRIu64, req.kind);
    req.message[sizeof req.message - 1] = '\0';
    run->call->aborted = req.kind == TM_EXIT_KIND_ABORT;
    run->call->exited = req.kind == TM_EXIT_KIND_EXIT;
    memcpy(run->call->exit_message, req.message, sizeof req.message);
    return 0;
}

/* CPUID faults inside an SGX enclave: the runtime asks here instead (its #UD
 * handler, or tm_cpuid). Every leaf is answered as this CPU answers it. */
static int64_t tm_ocall_cpuid(uint64_t block)
{
    struct tm_ocall_cpuid req;
    memcpy(&req, (const void *)(uintptr_t)block, sizeof req);
    __cpuid_count(req.leaf, req.subleaf, req.eax, req.ebx, req.ecx, req.edx);
    memcpy((void *)(uintptr_t)block, &req, sizeof req);
    return 0;
}

static tm_ecall_app_ocall_fn tm_app_ocall_fn;
static void *tm_app_ocall_ctx;

void tm_ecall_register_app_ocalls(tm_ecall_app_ocall_fn fn, void *ctx)
{
    tm_app_ocall_fn = fn;
    tm_app_ocall_ctx = ctx;
}

/* An application's ocall: both ranges must lie in the scratch buffer. */
static int64_t tm_ocall_app(struct tm_ecall_run *run, uint64_t number, uint64_t block)
{
    tm_ecall_app_ocall_fn fn = run->call->app_ocall ? run->call->app_ocall : tm_app_ocall_fn;
    void *ctx = run->call->app_ocall ? run->call->app_ctx : tm_app_ocall_ctx;
    if (!fn)
        return tm_ocall_refuse(run->call, ENOSYS, "application ocall %" PRIu64 " with no service",
                               number);
    struct tm_ocall_app req;
    if (block % 8 || !tm_ocall_in_scratch(run, block, sizeof req))
        return tm_ocall_refuse(run->call, EFAULT, "ocall %" PRIu64 " block at 0x%" PRIx64
                               ": outside the scratch buffer", number, block);
    memcpy(&req, (const void *)(uintptr_t)block, sizeof req);
    if (!tm_ocall_in_scratch(run, req.in, req.in_len) || !tm_ocall_in_scratch(run, req.out, req.out_cap))
        return tm_ocall_refuse(run->call, EFAULT, "ocall %" PRIu64 " data outside the scratch buffer",
                               number);
    size_t out_len = 0;
    int64_t r = fn(ctx, (uint32_t)number, (const void *)(uintptr_t)req.in, req.in_len,
                   (void *)(uintptr_t)req.out, req.out_cap, &out_len);
    req.out_len = out_len > req.out_cap ? req.out_cap : out_len;
    memcpy((void *)(uintptr_t)block, &req, sizeof req);
    return r;
}

/* The ocall's result (>= 0 or -errno) for TM_ECALL_OCALL_RETURN. */
static int64_t tm_ocall_service(struct tm_ecall_run *run, uint64_t number, uint64_t block)
{
    static const size_t sizes[] = {
        [TM_OCALL_WRITE] = sizeof(struct tm_ocall_write),
        [TM_OCALL_CLOCK_GETTIME] = sizeof(struct tm_ocall_clock),
        [TM_OCALL_EXIT] = sizeof(struct tm_ocall_exit),
        [TM_OCALL_CPUID] = sizeof(struct tm_ocall_cpuid),
    };
    run->call->ocalls++;
    if (number >= TM_OCALL_APP_FIRST && number <= TM_OCALL_APP_LAST)
        return tm_ocall_app(run, number, block);
    if (number >= sizeof sizes / sizeof sizes[0] || sizes[number] == 0)
        return tm_ocall_refuse(run->call, ENOSYS, "unknown ocall %" PRIu64, number);
    if (block % 8 || !tm_ocall_in_scratch(run, block, sizes[number]))
        return tm_ocall_refuse(run->call, EFAULT,
                               "ocall %" PRIu64 " block at 0x%" PRIx64 ": outside the scratch buffer",
                               number, block);
    switch (number) {
    case TM_OCALL_WRITE:
        return tm_ocall_write(run, block);
    case TM_OCALL_CLOCK_GETTIME:
        return tm_ocall_clock(run, block);
    case TM_OCALL_CPUID:
        return tm_ocall_cpuid(block);
    default:
        return tm_ocall_exit(run, block);
    }
}

/* The ecall has returned (TM_EXIT_RETURN): results, or an error that says why not. */
static int tm_ecall_finish(struct tm_ecall_run *run, const struct tm_enter_result *res,
                           uint64_t base, tm_error *err)
{
    struct tm_ecall_call *call = run->call;
    call->status = (int32_t)(int64_t)res->rsi;
    memcpy(&call->fault, &run->args.fault, sizeof call->fault);
    char what[256];
    switch ((int64_t)res->rsi) {
    case TM_STATUS_OK:
        if (run->args.out_len > call->out_cap)
            return tm_error_set(err, EPROTO, "enclave returned %" PRIu64 " bytes into a %zu-byte buffer",
                                run->args.out_len, call->out_cap);
        call->retval = (int64_t)res->rdx;
        call->out_len = run->args.out_len;
        return 0;
    case TM_STATUS_EXIT:
        call->retval = (int64_t)res->rdx;
        if (call->aborted)
            return tm_error_set(err, ECONNABORTED, "enclave called abort()%s%s",
                                call->exit_message[0] ? ": " : "", call->exit_message);
        call->exited = true;
        return 0;
    case TM_STATUS_FAULT:
        if (!(call->fault.flags & TM_FAULT_VALID))
            return tm_error_set(err, EFAULT, "enclave fault (no report from inside)");
        if (call->fault.flags & TM_FAULT_NO_VECTOR && call->had_aex &&
            call->aex.exit_info & SGX_EXITINFO_VALID) {
            /* The enclave could not see the vector (no EXINFO): the AEX did. */
            call->fault.flags &= ~TM_FAULT_NO_VECTOR;
            call->fault.vector = SGX_EXITINFO_VECTOR(call->aex.exit_info);
            if (call->aex.fault_addr || call->fault.vector == 14) {
                call->fault.addr = call->aex.fault_addr;
                call->fault.flags |= TM_FAULT_ADDR;
            }
        }
        tm_ecall_fault_describe(&call->fault, base, what, sizeof what);
        return tm_error_set(err, EFAULT, "%s", what);
    case TM_STATUS_UNKNOWN_ECALL:
        return tm_error_set(err, ENOSYS, "the enclave has no ecall %u", call->ecall);
    case TM_STATUS_BAD_ARGUMENTS:
        return tm_error_set(err, EINVAL, "the enclave refused the arguments of ecall %u", call->ecall);
    case TM_STATUS_BUSY:
        return tm_error_set(err, EBUSY, "an ecall is already in progress on this thread");
    case TM_STATUS_NO_OCALL:
        return tm_error_set(err, EPROTO, "no ocall was waiting on this thread for its result");
    case TM_STATUS_NO_MEMORY:
        return tm_error_set(err, ENOMEM, "the enclave heap cannot hold ecall %u's buffers", call->ecall);
    case TM_STATUS_BAD_OUTPUT:
        return tm_error_set(err, EPROTO, "ecall %u claimed more output than its buffer", call->ecall);
    case TM_STATUS_NOT_LEASED:
        return tm_error_set(err, EACCES, "the enclave refused the entry: this thread is not leased to the caller");
    case TM_STATUS_SLOT_STATE:
        return tm_error_set(err, EBUSY, "the enclave refused the lease call: the slot is not in the state it needs");
    default:
        return tm_error_set(err, EPROTO, "enclave returned unknown status %" PRId64, (int64_t)res->rsi);
    }
}

int tm_ecall(const struct tm_backend_ops *ops, struct tm_backend_enclave *be, uint64_t base,
             uint64_t size, uint64_t tcs_offset, struct tm_ecall_call *call, tm_error *err)
{
    size_t scratch_size = call->scratch_size ? call->scratch_size : TM_ECALL_SCRATCH_DEFAULT;
    if (scratch_size < TM_OCALL_SCRATCH_MIN)
        return tm_error_set(err, EINVAL, "scratch buffer of %zu bytes (at least %llu)", scratch_size,
                            TM_OCALL_SCRATCH_MIN);
    if (call->in_len > TM_ECALL_MAX_IN || call->out_cap > TM_ECALL_MAX_OUT)
        return tm_error_set(err, E2BIG, "ecall buffers over the limit (%llu bytes)", TM_ECALL_MAX_IN);
    _cleanup_free_ uint8_t *owned = NULL;
    uint8_t *scratch = call->scratch;
    if (scratch && ((uintptr_t)scratch % 64 || !call->scratch_size))
        return tm_error_set(err, EINVAL, "a caller's scratch buffer must be 64-aligned with its size");
    if (!scratch) {
        /* A large buffer is fresh memory each call (page faults): callers
         * that run many ecalls with one pass their own. */
        scratch = owned = aligned_alloc(64, scratch_size);
        if (!scratch)
            return tm_error_set(err, ENOMEM, "out of memory for the ocall scratch buffer");
        memset(scratch, 0, scratch_size);
    }

    struct tm_ecall_run run = {
        .call = call,
        .scratch = scratch,
        .scratch_size = scratch_size,
        .args = {
            .ecall = call->ecall,
            .in = (uintptr_t)call->in, .in_size = call->in_len,
            .out = (uintptr_t)call->out, .out_size = call->out_cap,
            .scratch = (uintptr_t)scratch, .scratch_size = scratch_size,
        },
    };
    call->status = 0;
    call->retval = 0;
    call->out_len = 0;
    call->exited = call->aborted = call->had_aex = false;
    call->exit_message[0] = '\0';
    memset(&call->fault, 0, sizeof call->fault);
    call->ocalls = 0;
    call->handled_exceptions = call->refused_ocalls = 0;
    call->refused[0] = '\0';
    memcpy(run.args.lease_token, call->lease_token, sizeof run.args.lease_token);
    (void)size;   /* the enclave checks ranges against ELRANGE itself */

    struct tm_enter_result res;
    int r = ops->enter(be, tcs_offset, call->ecall, (uintptr_t)&run.args, 0, &res, err);
    bool in_exception_entry = false;
    uint32_t exceptions = 0;
    while (r == 0) {
        if (res.outcome == TM_ENTER_AEX) {
            call->aex = res;
            call->had_aex = true;
            if (in_exception_entry) {
                char vb[16];
                return tm_error_set(err, EFAULT, "enclave fault (%s) while it handled a fault",
                                    tm_ecall_vector_name(SGX_EXITINFO_VECTOR(res.exit_info), vb));
            }
            in_exception_entry = true;   /* CSSA > 0 now: the enclave looks at it */
            r = ops->enter(be, tcs_offset, 0, 0, 0, &res, err);
            continue;
        }
        /* An ocall may come from the exception entry itself (CPUID): until
         * its TM_EXIT_EXCEPTION the thread is still handling the fault. */
        switch (res.rdi) {
        case TM_EXIT_RETURN:
            return tm_ecall_finish(&run, &res, base, err);
        case TM_EXIT_OCALL: {
            int64_t result = tm_ocall_service(&run, res.rsi, res.rdx);
            r = ops->enter(be, tcs_offset, TM_ECALL_OCALL_RETURN, (uint64_t)result, 0, &res, err);
            break;
        }
        case TM_EXIT_EXCEPTION:
            in_exception_entry = false;
            memcpy(&call->fault, &run.args.fault, sizeof call->fault);
            if ((int64_t)res.rsi < 0) {
                char vb[16];
                return tm_error_set(err, EFAULT, "enclave fault (%s) it could not handle (status %" PRId64 ")",
                                    tm_ecall_vector_name(SGX_EXITINFO_VECTOR(call->aex.exit_info), vb),
                                    (int64_t)res.rsi);
            }
            if (res.rsi == TM_EXCEPTION_RESUME && ++call->handled_exceptions > TM_ECALL_MAX_EXCEPTIONS)
                return tm_error_set(err, ELOOP, "enclave resumed %d exceptions in one ecall: giving up",
                                    TM_ECALL_MAX_EXCEPTIONS);
            if (++exceptions > 2 * TM_ECALL_MAX_EXCEPTIONS)
                return tm_error_set(err, ELOOP, "too many enclave exceptions in one ecall");
            r = ops->resume(be, tcs_offset, &res, err);
            break;
        default:
            return tm_error_set(err, EPROTO, "enclave exited with unknown kind %" PRIu64, res.rdi);
        }
    }
    return r;
}
