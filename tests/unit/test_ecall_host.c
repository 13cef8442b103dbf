/* The host side of the ecall protocol (lib/enclave/ecall.c) against a fake
 * backend whose "enclave" is a script: each test's step function plays the
 * enclave's part, one EEXIT or AEX per entry. The bad requests here are what
 * buggy or hostile enclave code could send; the host must refuse each one. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "enclave/ecall.h"
#include "harness.h"

struct fake {
    int step;                       /* entries so far */
    struct tm_ecall_args *args;     /* the block of the first entry */
    uint64_t last_rdi, last_rsi;    /* what the host passed at the latest entry */
    bool last_was_resume;
    int64_t results[8];             /* OCALL_RETURN results seen, in order */
    int nresults;
    /* the test's script */
    void (*play)(struct fake *f, struct tm_enter_result *res);
    uint64_t param;
};

static struct fake fake;

static int fake_enter(struct tm_backend_enclave *e, uint64_t tcs, uint64_t rdi, uint64_t rsi,
                      uint64_t rdx, struct tm_enter_result *res, tm_error *err)
{
    (void)e, (void)tcs, (void)rdx, (void)err;
    if (fake.step == 0)
        fake.args = (struct tm_ecall_args *)(uintptr_t)rsi;
    if (rdi == TM_ECALL_OCALL_RETURN && fake.nresults < 8)
        fake.results[fake.nresults++] = (int64_t)rsi;
    fake.last_rdi = rdi;
    fake.last_rsi = rsi;
    fake.last_was_resume = false;
    memset(res, 0, sizeof *res);
    fake.play(&fake, res);
    fake.step++;
    return 0;
}

static int fake_resume(struct tm_backend_enclave *e, uint64_t tcs, struct tm_enter_result *res,
                       tm_error *err)
{
    (void)e, (void)tcs, (void)err;
    fake.last_was_resume = true;
    memset(res, 0, sizeof *res);
    fake.play(&fake, res);
    fake.step++;
    return 0;
}

static const struct tm_backend_ops fake_ops = {
    .name = "fake", .enter = fake_enter, .resume = fake_resume,
};

#define FAKE_BASE 0x100000000ULL

static void fake_return(struct tm_enter_result *res, int64_t status, int64_t value)
{
    res->outcome = TM_ENTER_EEXIT;
    res->rdi = TM_EXIT_RETURN;
    res->rsi = (uint64_t)status;
    res->rdx = (uint64_t)value;
}

static void fake_ocall(struct tm_enter_result *res, uint64_t number, uint64_t block)
{
    res->outcome = TM_ENTER_EEXIT;
    res->rdi = TM_EXIT_OCALL;
    res->rsi = number;
    res->rdx = block;
}

/* Output the host wrote for the write ocall. */
static char captured[256];
static size_t captured_len;

static long capture_write(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd;
    size_t n = len < sizeof captured - captured_len ? len : sizeof captured - captured_len;
    memcpy(captured + captured_len, buf, n);
    captured_len += n;
    return (long)len;
}

static int run_fake(void (*play)(struct fake *, struct tm_enter_result *), uint64_t param,
                    struct tm_ecall_call *call, tm_error *err)
{
    memset(&fake, 0, sizeof fake);
    fake.play = play;
    fake.param = param;
    captured_len = 0;
    memset(captured, 0, sizeof captured);
    call->write = capture_write;
    return tm_ecall(&fake_ops, NULL, FAKE_BASE, 1 << 24, 0x5000, call, err);
}

/* ---- a well-behaved ecall: one write ocall, then a return with output */
static void play_write_then_return(struct fake *f, struct tm_enter_result *res)
{
    struct tm_ecall_args *a = f->args;
    if (f->step == 0) {
        struct tm_ocall_write w = { .fd = 1, .buf = a->scratch + 64, .len = 12 };
        memcpy((void *)(uintptr_t)w.buf, "hello, world", 12);
        memcpy((void *)(uintptr_t)a->scratch, &w, sizeof w);
        fake_ocall(res, TM_OCALL_WRITE, a->scratch);
    } else {
        memcpy((void *)(uintptr_t)a->out, "abc", 3);
        a->out_len = 3;
        fake_return(res, TM_STATUS_OK, 7);
    }
}

static void test_write_ocall_and_return(void)
{
    char out[8] = { 0 };
    struct tm_ecall_call call = { .ecall = 16, .in = "x", .in_len = 1, .out = out, .out_cap = sizeof out };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_write_then_return, 0, &call, &err), 0);
    CHECK_EQ_INT(fake.args->ecall, 16);
    CHECK_EQ_INT(fake.args->in_size, 1);
    CHECK(fake.args->scratch_size >= TM_OCALL_SCRATCH_MIN);
    CHECK_EQ_INT(fake.nresults, 1);
    CHECK_EQ_INT(fake.results[0], 12);
    CHECK_EQ_INT(captured_len, 12);
    CHECK(memcmp(captured, "hello, world", 12) == 0);
    CHECK_EQ_INT(call.retval, 7);
    CHECK_EQ_INT(call.out_len, 3);
    CHECK(memcmp(out, "abc", 3) == 0);
    CHECK_EQ_INT(call.ocalls, 1);
    CHECK_EQ_INT(call.refused_ocalls, 0);
}

/* ---- bad write requests: each refused, nothing written, the ecall goes on */
enum bad_write { OUTSIDE_BUF, HUGE_LEN, WRAPPING_BUF, BAD_FD, BLOCK_OUTSIDE, BLOCK_MISALIGNED,
                 UNKNOWN_OCALL };
static char host_secret[] = "HOST-SECRET";

static void play_bad_write(struct fake *f, struct tm_enter_result *res)
{
    struct tm_ecall_args *a = f->args;
    if (f->step > 0) {
        fake_return(res, TM_STATUS_OK, 0);
        return;
    }
    struct tm_ocall_write w = { .fd = 1, .buf = a->scratch + 64, .len = 4 };
    uint64_t block = a->scratch, number = TM_OCALL_WRITE;
    switch (f->param) {
    case OUTSIDE_BUF: w.buf = (uintptr_t)host_secret; w.len = sizeof host_secret; break;
    case HUGE_LEN: w.len = 1ULL << 40; break;
    case WRAPPING_BUF: w.buf = UINT64_MAX - 2; w.len = 16; break;
    case BAD_FD: w.fd = 3; break;
    case BLOCK_OUTSIDE: block = (uintptr_t)host_secret; break;
    case BLOCK_MISALIGNED: block = a->scratch + 3; break;
    case UNKNOWN_OCALL: number = 99; break;
    }
    memcpy((void *)(uintptr_t)a->scratch, &w, sizeof w);
    fake_ocall(res, number, block);
}

static void check_refused(enum bad_write kind, int64_t expect, const char *why)
{
    struct tm_ecall_call call = { .ecall = 16 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_bad_write, kind, &call, &err), 0);
    CHECK_EQ_INT(fake.nresults, 1);
    CHECK_EQ_INT(fake.results[0], expect);
    CHECK_EQ_INT(captured_len, 0);
    CHECK_EQ_INT(call.refused_ocalls, 1);
    CHECK_STR_CONTAINS(call.refused, why);
}

static void test_write_outside_scratch_refused(void) { check_refused(OUTSIDE_BUF, -EFAULT, "outside the scratch"); }
static void test_write_huge_length_refused(void) { check_refused(HUGE_LEN, -EFAULT, "1099511627776 bytes"); }
static void test_write_wrapping_refused(void) { check_refused(WRAPPING_BUF, -EFAULT, "outside the scratch"); }
static void test_write_bad_fd_refused(void) { check_refused(BAD_FD, -EBADF, "fd 3"); }
static void test_block_outside_scratch_refused(void) { check_refused(BLOCK_OUTSIDE, -EFAULT, "block at"); }
static void test_block_misaligned_refused(void) { check_refused(BLOCK_MISALIGNED, -EFAULT, "block at"); }
static void test_unknown_ocall_refused(void) { check_refused(UNKNOWN_OCALL, -ENOSYS, "unknown ocall 99"); }

/* ---- application ocalls (TM_OCALL_APP_FIRST..LAST): the hook gets checked
 * ranges of the scratch buffer; bad ranges never reach it */
enum app_case { APP_GOOD, APP_IN_OUTSIDE, APP_OUT_OUTSIDE, APP_OUT_WRAPPING, APP_BLOCK_MISALIGNED,
                APP_OVERCLAIM };
static int app_hook_calls;

static int64_t app_hook(void *ctx, uint32_t number, const void *in, size_t in_len, void *out,
                        size_t out_cap, size_t *out_len)
{
    app_hook_calls++;
    CHECK(ctx == &app_hook_calls);
    CHECK_EQ_INT(number, TM_OCALL_APP_FIRST + 5);
    size_t n = in_len < out_cap ? in_len : out_cap;
    for (size_t i = 0; i < n; i++)
        ((char *)out)[i] = (char)(((const char *)in)[i] - 32);   /* upper case */
    *out_len = fake.param == APP_OVERCLAIM ? out_cap + 100 : n;
    return (int64_t)in_len;
}

static void play_app(struct fake *f, struct tm_enter_result *res)
{
    struct tm_ecall_args *a = f->args;
    if (f->step > 0) {
        /* the enclave's view: the output, and out_len written back */
        const struct tm_ocall_app *r = (const void *)(uintptr_t)a->scratch;
        bool upper = memcmp((const char *)(uintptr_t)a->scratch + 128, "HELLO", 5) == 0;
        fake_return(res, TM_STATUS_OK, upper ? (int64_t)r->out_len : -1);
        return;
    }
    struct tm_ocall_app req = { .in = a->scratch + 64, .in_len = 5, .out = a->scratch + 128, .out_cap = 8 };
    memcpy((void *)(uintptr_t)req.in, "hello", 5);
    uint64_t block = a->scratch;
    switch (f->param) {
    case APP_IN_OUTSIDE: req.in = (uintptr_t)host_secret; break;
    case APP_OUT_OUTSIDE: req.out = (uintptr_t)host_secret; break;
    case APP_OUT_WRAPPING: req.out_cap = UINT64_MAX - 64; break;
    case APP_BLOCK_MISALIGNED: block = a->scratch + 4; break;
    default: break;
    }
    memcpy((void *)(uintptr_t)a->scratch, &req, sizeof req);
    fake_ocall(res, TM_OCALL_APP_FIRST + 5, block);
}

static void run_app(enum app_case kind, struct tm_ecall_call *call, int64_t expect)
{
    tm_error err = { 0 };
    app_hook_calls = 0;
    CHECK_EQ_INT(run_fake(play_app, kind, call, &err), 0);
    CHECK_EQ_INT(fake.nresults, 1);
    CHECK_EQ_INT(fake.results[0], expect);
}

static void test_app_ocall(void)
{
    struct tm_ecall_call call = { .ecall = 16, .app_ocall = app_hook, .app_ctx = &app_hook_calls };
    run_app(APP_GOOD, &call, 5);
    CHECK_EQ_INT(app_hook_calls, 1);
    CHECK_EQ_INT(call.retval, 5);   /* the output was there, out_len as the enclave reads it */
    run_app(APP_OVERCLAIM, &call, 5);
    CHECK_EQ_INT(call.retval, 8);   /* clamped to out_cap */
    /* Without a hook of the call's own, the registered one; without either, ENOSYS. */
    struct tm_ecall_call plain = { .ecall = 16 };
    run_app(APP_GOOD, &plain, -ENOSYS);
    CHECK_EQ_INT(app_hook_calls, 0);
    CHECK_STR_CONTAINS(plain.refused, "application ocall 261 with no service");
    tm_ecall_register_app_ocalls(app_hook, &app_hook_calls);
    run_app(APP_GOOD, &plain, 5);
    CHECK_EQ_INT(app_hook_calls, 1);
    tm_ecall_register_app_ocalls(NULL, NULL);
}

static void test_app_ocall_bad_ranges_refused(void)
{
    static const enum app_case bad[] = { APP_IN_OUTSIDE, APP_OUT_OUTSIDE, APP_OUT_WRAPPING,
                                         APP_BLOCK_MISALIGNED };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tm_ecall_call call = { .ecall = 16, .app_ocall = app_hook, .app_ctx = &app_hook_calls };
        run_app(bad[i], &call, -EFAULT);
        CHECK_EQ_INT(app_hook_calls, 0);
        CHECK_EQ_INT(call.refused_ocalls, 1);
    }
}

/* ---- clock */
static void play_clock(struct fake *f, struct tm_enter_result *res)
{
    struct tm_ecall_args *a = f->args;
    if (f->step == 0) {
        struct tm_ocall_clock c = { .clock = f->param };
        memcpy((void *)(uintptr_t)a->scratch, &c, sizeof c);
        fake_ocall(res, TM_OCALL_CLOCK_GETTIME, a->scratch);
    } else {
        const struct tm_ocall_clock *c = (const void *)(uintptr_t)a->scratch;
        fake_return(res, TM_STATUS_OK, c->sec);
    }
}

static void test_clock_ocall(void)
{
    struct tm_ecall_call call = { .ecall = 16 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_clock, TM_CLOCK_REALTIME, &call, &err), 0);
    CHECK_EQ_INT(fake.results[0], 0);
    CHECK(call.retval > 1600000000);   /* the host's real time, in seconds */
    CHECK_EQ_INT(run_fake(play_clock, 7, &call, &err), 0);
    CHECK_EQ_INT(fake.results[0], -EINVAL);
    CHECK_EQ_INT(call.refused_ocalls, 1);
}

/* ---- exit and abort */
static void play_exit(struct fake *f, struct tm_enter_result *res)
{
    struct tm_ecall_args *a = f->args;
    if (f->step == 0) {
        struct tm_ocall_exit x = { .kind = f->param, .status = f->param ? 134 : 3 };
        memset(x.message, 'A', sizeof x.message);   /* not NUL-terminated: the host copes */
        memcpy((void *)(uintptr_t)a->scratch, &x, sizeof x);
        fake_ocall(res, TM_OCALL_EXIT, a->scratch);
    } else {
        fake_return(res, TM_STATUS_EXIT, f->param ? 134 : 3);
    }
}

static void test_exit_and_abort(void)
{
    struct tm_ecall_call call = { .ecall = TM_ECALL_MAIN };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_exit, TM_EXIT_KIND_EXIT, &call, &err), 0);
    CHECK(call.exited);
    CHECK_EQ_INT(call.retval, 3);
    CHECK_EQ_INT(run_fake(play_exit, TM_EXIT_KIND_ABORT, &call, &err), -ECONNABORTED);
    CHECK(call.aborted);
    CHECK_EQ_INT(strlen(call.exit_message), TM_OCALL_EXIT_MESSAGE - 1);
    CHECK_STR_CONTAINS(err.msg, "abort()");
}

/* ---- protocol violations */
static void play_unknown_exit(struct fake *f, struct tm_enter_result *res)
{
    (void)f;
    res->outcome = TM_ENTER_EEXIT;
    res->rdi = 42;
}

static void play_overlong_output(struct fake *f, struct tm_enter_result *res)
{
    f->args->out_len = 1000;
    fake_return(res, TM_STATUS_OK, 0);
}

static void play_status(struct fake *f, struct tm_enter_result *res)
{
    fake_return(res, (int64_t)f->param, 0);
}

static void test_protocol_errors(void)
{
    char out[4];
    struct tm_ecall_call call = { .ecall = 16, .out = out, .out_cap = sizeof out };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_unknown_exit, 0, &call, &err), -EPROTO);
    CHECK_STR_CONTAINS(err.msg, "unknown kind 42");
    CHECK_EQ_INT(run_fake(play_overlong_output, 0, &call, &err), -EPROTO);
    CHECK_EQ_INT(call.out_len, 0);
    CHECK_EQ_INT(run_fake(play_status, (uint64_t)TM_STATUS_UNKNOWN_ECALL, &call, &err), -ENOSYS);
    CHECK_EQ_INT(run_fake(play_status, (uint64_t)TM_STATUS_BAD_ARGUMENTS, &call, &err), -EINVAL);
    CHECK_EQ_INT(run_fake(play_status, (uint64_t)TM_STATUS_BUSY, &call, &err), -EBUSY);
    CHECK_EQ_INT(run_fake(play_status, 12345, &call, &err), -EPROTO);
}

/* ---- exceptions: AEX -> exception entry -> ERESUME -> the ecall ends */
static void fake_aex(struct tm_enter_result *res, uint32_t vector)
{
    res->outcome = TM_ENTER_AEX;
    res->exit_info = SGX_EXITINFO_VALID | (3U << 8) | vector;
}

static void play_fault(struct fake *f, struct tm_enter_result *res)
{
    struct tm_ecall_args *a = f->args;
    switch (f->step) {
    case 0:
        fake_aex(res, f->param == 6 ? 6 : 14);
        break;
    case 1:   /* exception entry: the host passes nothing */
        CHECK_EQ_INT(f->last_rdi, 0);
        CHECK_EQ_INT(f->last_rsi, 0);
        a->fault = (struct tm_fault_report){
            .flags = TM_FAULT_VALID | (f->param == 6 ? TM_FAULT_SYSCALL : TM_FAULT_ADDR),
            .vector = f->param == 6 ? 6 : 14,
            .addr = 0x10,
            .rip = FAKE_BASE + 0x1234,
        };
        res->outcome = TM_ENTER_EEXIT;
        res->rdi = TM_EXIT_EXCEPTION;
        res->rsi = TM_EXCEPTION_UNWIND;
        break;
    default:  /* after ERESUME */
        CHECK(f->last_was_resume);
        fake_return(res, TM_STATUS_FAULT, 14);
    }
}

static void test_fault_report(void)
{
    struct tm_ecall_call call = { .ecall = 16 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_fault, 14, &call, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "enclave fault: #PF at 0x10 (rip 0x100001234 = image+0x1234)");
    CHECK(call.had_aex);
    CHECK_EQ_INT(call.fault.vector, 14);
    CHECK_EQ_INT(run_fake(play_fault, 6, &call, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "enclave made a system call (#UD at rip 0x100001234");
}

/* No EXINFO: the enclave cannot tell the vector; the host fills it in from the AEX. */
static void play_fault_no_vector(struct fake *f, struct tm_enter_result *res)
{
    struct tm_ecall_args *a = f->args;
    if (f->step == 0) {
        fake_aex(res, 14);
        res->fault_addr = 0x20;
    } else if (f->step == 1) {
        a->fault = (struct tm_fault_report){ .flags = TM_FAULT_VALID | TM_FAULT_NO_VECTOR,
                                             .rip = FAKE_BASE + 0x10 };
        res->outcome = TM_ENTER_EEXIT;
        res->rdi = TM_EXIT_EXCEPTION;
        res->rsi = TM_EXCEPTION_UNWIND;
    } else {
        fake_return(res, TM_STATUS_FAULT, 0);
    }
}

static void test_fault_vector_from_aex(void)
{
    struct tm_ecall_call call = { .ecall = 16 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_fault_no_vector, 0, &call, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "enclave fault: #PF at 0x20 (rip 0x100000010 = image+0x10)");
}

static void play_fault_in_handler(struct fake *f, struct tm_enter_result *res)
{
    fake_aex(res, f->step == 0 ? 0 : 13);
}

static void test_fault_while_handling(void)
{
    struct tm_ecall_call call = { .ecall = 16 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_fault_in_handler, 0, &call, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "(#GP) while it handled a fault");
    CHECK_EQ_INT(fake.step, 2);
}

/* A handler that "fixes" the fault forever: the host gives up. */
static void play_resume_forever(struct fake *f, struct tm_enter_result *res)
{
    if (f->last_was_resume || f->step == 0) {
        fake_aex(res, 14);
        return;
    }
    res->outcome = TM_ENTER_EEXIT;
    res->rdi = TM_EXIT_EXCEPTION;
    res->rsi = TM_EXCEPTION_RESUME;
}

static void test_resume_loop_bounded(void)
{
    struct tm_ecall_call call = { .ecall = 16 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_resume_forever, 0, &call, &err), -ELOOP);
    CHECK_EQ_INT(call.handled_exceptions, TM_ECALL_MAX_EXCEPTIONS + 1);
}

static void play_unhandled_entry(struct fake *f, struct tm_enter_result *res)
{
    if (f->step == 0) {
        fake_aex(res, 0);
        return;
    }
    res->outcome = TM_ENTER_EEXIT;
    res->rdi = TM_EXIT_EXCEPTION;
    res->rsi = (uint64_t)(int64_t)TM_STATUS_EXCEPTION_ENTRY;
}

static void test_exception_without_ecall(void)
{
    struct tm_ecall_call call = { .ecall = 16 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_unhandled_entry, 0, &call, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "#DE");
    CHECK_EQ_INT(fake.step, 2);   /* no ERESUME into a frame nobody rewrote */
}

/* ---- argument packing for TM_ECALL_MAIN */
static void test_pack_argv(void)
{
    char *argv[] = { "hello", "", "world" };
    char *buf = NULL;
    size_t len = 0;
    tm_error err = { 0 };
    REQUIRE(tm_ecall_pack_argv(3, argv, &buf, &len, &err) == 0);
    CHECK_EQ_INT(len, 13);
    CHECK(memcmp(buf, "hello\0\0world\0", 13) == 0);
    free(buf);
    char big[TM_MAIN_MAX_ARG_BYTES + 1];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *one[] = { big };
    CHECK_EQ_INT(tm_ecall_pack_argv(1, one, &buf, &len, &err), -E2BIG);
    CHECK_EQ_INT(tm_ecall_pack_argv(TM_MAIN_MAX_ARGS + 1, argv, &buf, &len, &err), -E2BIG);
}

static void test_host_limits(void)
{
    struct tm_ecall_call call = { .ecall = 16, .scratch_size = 100 };
    tm_error err = { 0 };
    CHECK_EQ_INT(run_fake(play_status, 0, &call, &err), -EINVAL);
    CHECK_EQ_INT(fake.step, 0);
    call = (struct tm_ecall_call){ .ecall = 16, .in = "", .in_len = TM_ECALL_MAX_IN + 1 };
    CHECK_EQ_INT(run_fake(play_status, 0, &call, &err), -E2BIG);
    CHECK_EQ_INT(fake.step, 0);
}

int main(void)
{
    RUN(test_write_ocall_and_return);
    RUN(test_write_outside_scratch_refused);
    RUN(test_write_huge_length_refused);
    RUN(test_write_wrapping_refused);
    RUN(test_write_bad_fd_refused);
    RUN(test_block_outside_scratch_refused);
    RUN(test_block_misaligned_refused);
    RUN(test_unknown_ocall_refused);
    RUN(test_app_ocall);
    RUN(test_app_ocall_bad_ranges_refused);
    RUN(test_clock_ocall);
    RUN(test_exit_and_abort);
    RUN(test_protocol_errors);
    RUN(test_fault_report);
    RUN(test_fault_vector_from_aex);
    RUN(test_fault_while_handling);
    RUN(test_resume_loop_bounded);
    RUN(test_exception_without_ecall);
    RUN(test_pack_argv);
    RUN(test_host_limits);
    TEST_EXIT();
}
