/* Running real images in the simulation backend, end to end: what issue 3
 * asks the sim to show (sealing across processes, reports for their target
 * only, system calls as faults, argument checks, busy TCS, EINIT checks). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "harness.h"

struct running {
    struct tm_image *image;
    struct tm_enclave *enclave;
};

static const char *image_path(const char *name, char *buf, size_t len)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    snprintf(buf, len, "%s/examples/%s.elf", build, name);
    return buf;
}

static void stop(struct running *r)
{
    tm_enclave_destroy(r->enclave);
    tm_image_free(r->image);
    memset(r, 0, sizeof(*r));
}

/* Build the image `name` (or, with heap_delta, the same code in a differently
 * sized layout: another MRENCLAVE) signed with the development key. */
static int start(const char *name, uint64_t heap_delta, struct running *r, tm_error *err)
{
    char path[512], key[4200];
    struct sgx_sigstruct ss;
    memset(r, 0, sizeof(*r));
    int ret = tm_image_load(image_path(name, path, sizeof(path)), &r->image, err);
    if (ret == 0 && heap_delta) {
        struct tm_layout_settings s = r->image->layout.settings;
        s.heap_size += heap_delta;
        struct tm_image *other = NULL;
        ret = tm_image_with_settings(r->image, &s, &other, err);
        tm_image_free(r->image);
        r->image = other;
    }
    if (ret == 0)
        ret = tm_devkey_sign(r->image, &ss, key, sizeof(key), err);
    if (ret == 0)
        ret = tm_enclave_build(r->image, &ss, &tm_backend_sim, &r->enclave, err);
    if (ret < 0)
        stop(r);
    return ret;
}

static int call(struct running *r, uint32_t tcs, struct tm_ecall_call *c, tm_error *err)
{
    struct tm_enclave *e = r->enclave;
    return tm_ecall(e->ops, e->be, e->base, e->size, tm_enclave_tcs_offset(e, tcs), c, err);
}

struct capture {
    char buf[256];
    size_t len;
};

static long capture_write(void *ctx, int fd, const void *buf, size_t len)
{
    struct capture *cap = ctx;
    (void)fd;
    size_t n = len < sizeof(cap->buf) - 1 - cap->len ? len : sizeof(cap->buf) - 1 - cap->len;
    memcpy(cap->buf + cap->len, buf, n);
    cap->len += n;
    return (long)len;
}

static void test_hello_main(void)
{
    struct running r;
    tm_error err = { 0 };
    REQUIRE(start("hello", 0, &r, &err) == 0);
    static const char argv[] = "hello.elf\0world";
    struct capture cap = { 0 };
    struct tm_ecall_call c = { .ecall = TM_ECALL_MAIN, .in = argv, .in_len = sizeof(argv),
                               .write = capture_write, .write_ctx = &cap };
    CHECK(call(&r, 0, &c, &err) == 0);
    CHECK_EQ_INT(c.retval, 0);
    CHECK(strcmp(cap.buf, "hello, world\n") == 0);
    stop(&r);
}

/* In a fresh child process: build seal.elf and run one ecall; its output goes
 * back through a pipe. Returns the ecall's retval, or INT64_MIN on failure. */
static int64_t seal_in_child(uint32_t ecall, const void *in, size_t in_len, uint8_t *out,
                             size_t *out_len)
{
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct running r;
        tm_error err = { 0 };
        uint8_t buf[1024];
        struct tm_ecall_call c = { .ecall = ecall, .in = in, .in_len = in_len, .out = buf,
                                   .out_cap = sizeof(buf) };
        if (start("tests/seal", 0, &r, &err) < 0 || call(&r, 0, &c, &err) < 0)
            _exit(1);
        uint64_t len = c.out_len;
        if (write(fds[1], &c.retval, 8) != 8 || write(fds[1], &len, 8) != 8 ||
            write(fds[1], buf, len) != (ssize_t)len)
            _exit(1);
        stop(&r);
        _exit(0);
    }
    close(fds[1]);
    int64_t retval = INT64_MIN;
    uint64_t len = 0;
    int status;
    if (read(fds[0], &retval, 8) != 8 || read(fds[0], &len, 8) != 8 || len > 1024 ||
        read(fds[0], out, len) != (ssize_t)len)
        retval = INT64_MIN;
    *out_len = len;
    close(fds[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? retval : INT64_MIN;
}

static void test_sealing_across_processes(void)
{
    static const char secret[] = "the recipe for TeeMate";
    for (uint16_t policy = 1; policy <= 2; policy++) {   /* MRENCLAVE, MRSIGNER */
        uint8_t in[64], blob[1024], plain[1024];
        size_t blob_len, plain_len;
        memcpy(in, &policy, 2);
        memcpy(in + 2, secret, sizeof(secret));
        CHECK_EQ_INT(seal_in_child(16, in, 2 + sizeof(secret), blob, &blob_len), 0);
        REQUIRE(blob_len > sizeof(secret));
        CHECK(memmem(blob, blob_len, secret, sizeof(secret)) == NULL);   /* not in the clear */
        CHECK_EQ_INT(seal_in_child(17, blob, blob_len, plain, &plain_len), 0);
        CHECK(plain_len == sizeof(secret) && !memcmp(plain, secret, sizeof(secret)));
        blob[blob_len - 1] ^= 1;
        CHECK_EQ_INT(seal_in_child(17, blob, blob_len, plain, &plain_len), -EBADMSG);
    }
}

static void test_report_verifies_for_its_target_only(void)
{
    struct running a, b;
    tm_error err = { 0 };
    REQUIRE(start("tests/report", 0, &a, &err) == 0);
    REQUIRE(start("tests/report", 4096, &b, &err) == 0);   /* same code, other MRENCLAVE */
    uint8_t target_b[512], report[432];
    struct tm_ecall_call t = { .ecall = 18, .out = target_b, .out_cap = sizeof(target_b) };
    REQUIRE(call(&b, 0, &t, &err) == 0 && t.out_len == 512);
    struct tm_ecall_call mk = { .ecall = 16, .in = target_b, .in_len = 512, .out = report,
                                .out_cap = sizeof(report) };
    REQUIRE(call(&a, 0, &mk, &err) == 0 && mk.out_len == 432);
    struct tm_ecall_call in_b = { .ecall = 17, .in = report, .in_len = 432 };
    struct tm_ecall_call in_a = { .ecall = 17, .in = report, .in_len = 432 };
    CHECK(call(&b, 0, &in_b, &err) == 0);
    CHECK_EQ_INT(in_b.retval, 0);            /* B, the target, verifies it */
    CHECK(call(&a, 0, &in_a, &err) == 0);
    CHECK_EQ_INT(in_a.retval, -EBADMSG);     /* A, its maker, cannot */
    report[100] ^= 1;
    CHECK(call(&b, 0, &in_b, &err) == 0);
    CHECK_EQ_INT(in_b.retval, -EBADMSG);     /* tampered */
    stop(&a);
    stop(&b);
}

static void test_syscall_is_a_fault_never_executed(void)
{
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {   /* the child's stdout is the pipe: a real write(1) would land there */
        dup2(fds[1], 1);
        struct running r;
        tm_error err = { 0 };
        struct tm_ecall_call c = { .ecall = 16 };
        int ok = start("tests/syscall", 0, &r, &err) == 0 && call(&r, 0, &c, &err) == -EFAULT &&
                 strstr(err.msg, "system call") != NULL;
        if (!ok)
            fprintf(stderr, "  child: %s\n", err.msg);
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    char out[64] = { 0 };
    ssize_t n = read(fds[0], out, sizeof(out) - 1);
    int status;
    waitpid(pid, &status, 0);
    close(fds[0]);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(n <= 0 || strstr(out, "LEAK") == NULL);
}

static void test_ecall_arguments_inside_elrange_refused(void)
{
    struct running r;
    tm_error err = { 0 };
    REQUIRE(start("tests/ecall_args", 0, &r, &err) == 0);
    struct tm_ecall_call off = { .ecall = 17 };
    REQUIRE(call(&r, 0, &off, &err) == 0 && off.retval > 0);
    void *secret = (void *)(uintptr_t)(r.enclave->base + (uint64_t)off.retval);
    static const char junk[] = "overwrite the secret";
    struct tm_ecall_call into = { .ecall = 16, .in = junk, .in_len = sizeof(junk), .out = secret,
                                  .out_cap = 64 };
    CHECK(call(&r, 0, &into, &err) == -EINVAL);       /* out pointer inside ELRANGE */
    char out[64];
    struct tm_ecall_call from = { .ecall = 16, .in = secret, .in_len = 64, .out = out,
                                  .out_cap = sizeof(out) };
    CHECK(call(&r, 0, &from, &err) == -EINVAL);       /* in pointer inside ELRANGE */
    struct tm_ecall_call intact = { .ecall = 18 };
    CHECK(call(&r, 0, &intact, &err) == 0);
    CHECK_EQ_INT(intact.retval, 1);
    stop(&r);
}

struct spinner {
    struct running *r;
    volatile uint64_t flag;
    int ret;
    int64_t spins;
};

static void *spin_thread(void *arg)
{
    struct spinner *s = arg;
    tm_error err = { 0 };
    uint64_t flag_address = (uintptr_t)&s->flag;
    struct tm_ecall_call c = { .ecall = 16, .in = &flag_address, .in_len = 8 };
    /* The main thread's PINGs use TCS 0 too: until the spinner gets in
     * first, its entry is refused as busy, which is right; try again. */
    do
        s->ret = call(s->r, 0, &c, &err);
    while (s->ret == -EBUSY);
    s->spins = c.retval;
    return NULL;
}

static void test_busy_tcs_cannot_be_entered_twice(void)
{
    struct running r;
    tm_error err = { 0 };
    REQUIRE(start("tests/spin", 0, &r, &err) == 0);
    struct spinner s = { .r = &r };
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, spin_thread, &s) == 0);
    /* Once the spinner is inside, TCS 0 is busy; other TCSs are not. */
    int busy = 0;
    struct timespec start_ts, now;
    clock_gettime(CLOCK_MONOTONIC, &start_ts);
    do {
        struct tm_ecall_call ping = { .ecall = TM_ECALL_PING };
        busy = call(&r, 0, &ping, &err) == -EBUSY;
        if (!busy)
            sched_yield();
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!busy && now.tv_sec - start_ts.tv_sec < 10);
    CHECK(busy);
    struct tm_ecall_call ping1 = { .ecall = TM_ECALL_PING };
    CHECK(call(&r, 1, &ping1, &err) == 0);
    __atomic_store_n(&s.flag, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    CHECK_EQ_INT(s.ret, 0);
    CHECK(s.spins > 0);
    struct tm_ecall_call ping0 = { .ecall = TM_ECALL_PING };
    CHECK(call(&r, 0, &ping0, &err) == 0);            /* free again */
    stop(&r);
}

static void test_einit_refuses_another_images_sigstruct(void)
{
    char path[512], key[4200];
    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *hello = NULL, *fault = NULL;
    REQUIRE(tm_image_load(image_path("hello", path, sizeof(path)), &hello, &err) == 0);
    REQUIRE(tm_image_load(image_path("tests/fault", path, sizeof(path)), &fault, &err) == 0);
    struct sgx_sigstruct ss;
    REQUIRE(tm_devkey_sign(hello, &ss, key, sizeof(key), &err) == 0);
    struct tm_enclave *e = NULL;
    CHECK(tm_enclave_build(fault, &ss, &tm_backend_sim, &e, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "EINIT");
    ss.body.isv_svn ^= 1;   /* tampered: the signature no longer covers it */
    CHECK(tm_enclave_build(hello, &ss, &tm_backend_sim, &e, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "signature");
}

static void test_fault_is_reported_and_thread_survives(void)
{
    struct running r;
    tm_error err = { 0 };
    REQUIRE(start("tests/fault", 0, &r, &err) == 0);
    struct tm_ecall_call null_deref = { .ecall = 16 };
    CHECK(call(&r, 0, &null_deref, &err) == -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "#PF");
    CHECK_STR_CONTAINS(err.msg, "rip 0x");
    struct tm_ecall_call div0 = { .ecall = 17 };
    CHECK(call(&r, 0, &div0, &err) == -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "#DE");
    struct tm_ecall_call alive = { .ecall = 18 };
    CHECK(call(&r, 0, &alive, &err) == 0);
    stop(&r);
}

int main(void)
{
    char dir[] = "/tmp/teemate-run-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    setenv("TEEMATE_STATE_DIR", dir, 1);
    RUN(test_hello_main);
    RUN(test_sealing_across_processes);
    RUN(test_report_verifies_for_its_target_only);
    RUN(test_syscall_is_a_fault_never_executed);
    RUN(test_ecall_arguments_inside_elrange_refused);
    RUN(test_busy_tcs_cannot_be_entered_twice);
    RUN(test_einit_refuses_another_images_sigstruct);
    RUN(test_fault_is_reported_and_thread_survives);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    TEST_EXIT();
}
