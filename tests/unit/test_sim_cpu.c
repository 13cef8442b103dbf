/* The sim backend's CPU: EENTER/EEXIT, ENCLU emulation, AEX into the SSA,
 * ERESUME, trapped system calls, busy TCSs and threads. The enclave is built
 * here by hand from the small program below (one code page), measured,
 * signed and EINITed through the real sim backend. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/sim.h"
#include "enclave/key.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "harness.h"

#define PAGE SGX_PAGE_SIZE
#define ENCLAVE_SIZE 0x40000ULL
#define DATA_OFF 0x1000ULL
#define THREADS 4
#define THREAD_OFF(t) (0x4000ULL + (uint64_t)(t) * 0x8000ULL)   /* TCS, SSA x2, TLS, stack x4 */
#define NSSA 2

enum op { OP_ECHO, OP_SPIN, OP_SYSCALL, OP_NULL, OP_EGETKEY, OP_EENTER_INSIDE, OP_EREPORT_MISALIGNED,
          OP_INT3 };
#define OP_EXC_REPORT 100   /* exception entry: report SSA[CSSA-1] */
#define OP_EXC_SKIP 101     /* exception entry: SSA RIP += RSI, then report */
#define OP_EXC_FAULT 102    /* exception entry: the handler faults itself (#PF at 8) */

/* The enclave program. Page 0 of ELRANGE, entry at offset 0. Per thread the
 * TLS page (FS) holds: 0 stack top, 8/16/24 the host's RSP/RBP/return, 32 SSA
 * offset (offsets relative to the base). */
__asm__(
    "    .section .rodata.tce, \"a\"\n"
    "    .balign 4096\n"
    "tce_start:\n"
    "    test %rax, %rax\n"
    "    jnz .Lexc\n"
    "    mov %rsp, %fs:8\n"
    "    mov %rbp, %fs:16\n"
    "    mov %rcx, %fs:24\n"
    "    lea tce_start(%rip), %rbp\n"
    "    mov %fs:0, %rsp\n"
    "    add %rbp, %rsp\n"
    "    cmp $0, %rdi\n    je .Lecho\n"
    "    cmp $1, %rdi\n    je .Lspin\n"
    "    cmp $2, %rdi\n    je .Lsyscall\n"
    "    cmp $3, %rdi\n    je .Lnull\n"
    "    cmp $4, %rdi\n    je .Legetkey\n"
    "    cmp $5, %rdi\n    je .Leenter\n"
    "    cmp $6, %rdi\n    je .Lereport\n"
    "    cmp $7, %rdi\n    je .Lint3\n"
    "    mov $-1, %rsi\n    jmp .Lexit\n"
    ".Lecho:\n"
    "    mov %rsi, %r8\n    xor %rdx, %r8\n    add %rdx, %rsi\n    mov %r8, %rdx\n"
    "    mov $0xec40, %rdi\n"
    "    mov $0xbad1, %r12\n    mov $0xbad2, %r13\n    mov $0xbad3, %r14\n    mov $0xbad4, %r15\n"
    "    jmp .Lexit\n"
    ".Lspin:\n"
    "    movq $1, (%rsi)\n"
    "1:  pause\n    cmpq $0, 8(%rsi)\n    je 1b\n"
    "    mov $0x5914, %rdi\n    jmp .Lexit\n"
    ".Lsyscall:\n"
    "    mov $231, %eax\n    mov $42, %edi\n"
    "tce_syscall_insn:\n"
    "    syscall\n"                       /* exit_group(42): must never run */
    "    mov $0x5c, %rdi\n    jmp .Lexit\n"
    ".Lnull:\n"
    "    xor %eax, %eax\n"
    "tce_null_insn:\n"
    "    mov 8(%rax), %rax\n"             /* 4 bytes: #PF at 8 */
    "    mov $0xd0e, %rdi\n    jmp .Lexit\n"
    ".Legetkey:\n"
    "    movw $4, 0x1000(%rbp)\n"         /* KEYREQUEST.KEYNAME = SEAL */
    "    lea 0x1000(%rbp), %rbx\n    lea 0x1200(%rbp), %rcx\n    mov $1, %eax\n"
    "    .byte 0x0f, 0x01, 0xd7\n"
    "    mov %rax, %rsi\n    mov 0x1200(%rbp), %rdx\n    or 0x1208(%rbp), %rdx\n"
    "    mov $0x6e7, %rdi\n    jmp .Lexit\n"
    ".Leenter:\n"
    "    mov $2, %eax\n"
    "    .byte 0x0f, 0x01, 0xd7\n"        /* EENTER inside: #GP */
    "    mov $0xbad, %rdi\n    jmp .Lexit\n"
    ".Lereport:\n"
    "    lea 0x1008(%rbp), %rbx\n    lea 0x1200(%rbp), %rcx\n    lea 0x1400(%rbp), %rdx\n"
    "    xor %eax, %eax\n"
    "    .byte 0x0f, 0x01, 0xd7\n"        /* TARGETINFO not 512-aligned: #GP */
    "    mov $0xbad, %rdi\n    jmp .Lexit\n"
    ".Lint3:\n"
    "    int3\n"
    "tce_after_int3:\n"
    "    mov $0x1e3, %rdi\n    jmp .Lexit\n"
    ".Lexit:\n"
    "    mov %fs:24, %rbx\n    mov %fs:16, %rbp\n    mov %fs:8, %rsp\n"
    "    xor %ecx, %ecx\n    xor %r8d, %r8d\n    xor %r9d, %r9d\n    xor %r10d, %r10d\n"
    "    xor %r11d, %r11d\n    xor %r12d, %r12d\n    xor %r13d, %r13d\n    xor %r14d, %r14d\n"
    "    xor %r15d, %r15d\n"
    "    mov $4, %eax\n"
    "    .byte 0x0f, 0x01, 0xd7\n"        /* EEXIT */
    "    ud2\n"
    ".Lexc:\n"                            /* CSSA > 0: the exception path */
    "    cmp $102, %rdi\n    jne 2f\n"
    "    xor %r11d, %r11d\n"
    "    mov 8(%r11), %r11\n"           /* 4 bytes: #PF at 8 */
    "2:\n"
    "    lea tce_start(%rip), %r8\n"
    "    mov %fs:32, %r9\n    add %r8, %r9\n"
    "    lea -1(%rax), %r10\n    shl $12, %r10\n    add %r10, %r9\n"
    "    cmp $101, %rdi\n    jne 1f\n"
    "    add %rsi, 4048(%r9)\n"           /* GPRSGX.RIP at 4096 - 184 + 136 */
    "1:  mov 4048(%r9), %rdx\n    sub %r8, %rdx\n"
    "    mov 4072(%r9), %esi\n"           /* GPRSGX.EXITINFO at 4096 - 184 + 160 */
    "    mov %rcx, %rbx\n    mov $0xe0, %edi\n    mov $4, %eax\n"
    "    .byte 0x0f, 0x01, 0xd7\n"
    "    ud2\n"
    "    .balign 4096\n"
    "tce_end:\n"
    "    .globl tce_code\n    .set tce_code, tce_start\n"
    "    .globl tce_offsets\n"
    "tce_offsets:\n"
    "    .quad tce_syscall_insn - tce_start, tce_null_insn - tce_start, tce_after_int3 - tce_start\n"
    "    .text\n");

extern const uint8_t tce_code[];
extern const uint64_t tce_offsets[3];   /* of the SYSCALL, the NULL load, after INT3 */
#define SYM_OFF(i) (tce_offsets[i])
#define tce_syscall_off 0
#define tce_null_off 1
#define tce_int3_off 2

#if defined(__SANITIZE_ADDRESS__)
static const int tm_test_asan = 1;
#else
static const int tm_test_asan = 0;
#endif
static int sud_missing;   /* the kernel has no syscall user dispatch */
static char state_dir[] = "/tmp/teemate-sim-cpu-test.XXXXXX";
static EVP_PKEY *signing_key;
static struct tm_sim_enclave *encl;

struct builder {
    struct tm_sim_enclave *e;
    struct tm_measure m;
};

static int add_page(struct builder *b, uint64_t off, const void *src, uint64_t flags, tm_error *err)
{
    int ret = tm_backend_sim.add_pages((struct tm_backend_enclave *)b->e, off, src, PAGE, flags, true, err);
    if (ret == 0)
        ret = tm_measure_eadd(&b->m, off, flags, err);
    if (ret == 0) {
        static uint8_t zero[PAGE];
        ret = tm_measure_eextend_page(&b->m, off, src ? src : zero, err);
    }
    return ret;
}

static int build_enclave(struct tm_sim_enclave **out, tm_error *err)
{
    struct sgx_secs secs = { .size = ENCLAVE_SIZE, .ssa_frame_size = 1, .miscselect = SGX_MISC_EXINFO,
                             .attributes = { .flags = SGX_ATTR_MODE64BIT, .xfrm = SGX_XFRM_LEGACY } };
    struct builder b = { 0 };
    uint64_t base;
    int ret = tm_backend_sim.create(&secs, (struct tm_backend_enclave **)&b.e, &base, err);
    if (ret < 0)
        return ret;
    ret = tm_measure_init(&b.m, NULL, NULL, err);
    if (ret == 0)
        ret = tm_measure_ecreate(&b.m, 1, ENCLAVE_SIZE, err);
    const uint64_t rw = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W;
    if (ret == 0)
        ret = add_page(&b, 0, tce_code, SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X, err);
    if (ret == 0)
        ret = add_page(&b, DATA_OFF, NULL, rw, err);
    for (int t = 0; ret == 0 && t < THREADS; t++) {
        uint64_t off = THREAD_OFF(t);
        struct sgx_tcs tcs = { .ossa = off + PAGE, .nssa = NSSA, .oentry = 0, .ofsbase = off + 3 * PAGE,
                               .ogsbase = off + 3 * PAGE, .fslimit = 0xfff, .gslimit = 0xfff };
        uint64_t tls[PAGE / 8] = { off + 8 * PAGE, 0, 0, 0, off + PAGE };
        ret = add_page(&b, off, &tcs, SGX_SECINFO_TCS, err);
        for (uint64_t p = 1; ret == 0 && p < 8; p++)
            ret = add_page(&b, off + p * PAGE, p == 3 ? (const void *)tls : NULL, rw, err);
    }
    uint8_t mr[32];
    struct sgx_sigstruct ss;
    struct tm_sign_options o;
    tm_sign_options_default(&o);
    o.miscselect = SGX_MISC_EXINFO;
    if (ret == 0)
        ret = tm_measure_final(&b.m, mr, err);
    if (ret == 0)
        ret = tm_sigstruct_sign(&ss, mr, &o, signing_key, err);
    if (ret == 0)
        ret = tm_backend_sim.init((struct tm_backend_enclave *)b.e, &ss, err);
    tm_measure_free(&b.m);
    if (ret < 0) {
        tm_sim_destroy(b.e);
        return ret;
    }
    *out = b.e;
    return 0;
}

static struct tm_backend_enclave *be(void)
{
    return (struct tm_backend_enclave *)encl;
}

static struct sgx_ssa_gpr *ssa_gpr(int t, int frame)
{
    return (struct sgx_ssa_gpr *)(encl->cpu_view + THREAD_OFF(t) + PAGE * (1 + frame) + PAGE -
                                  sizeof(struct sgx_ssa_gpr));
}

static uint32_t cssa_of(int t)
{
    return tm_sim_tcs(encl, THREAD_OFF(t))->cssa;
}

#define EXIT_INFO(vec, type) ((vec) | (type) << 8 | SGX_EXITINFO_VALID)

/* tm_sim_enter with rbx, rbp, r12-r15 holding canaries; returns which of
 * them changed (bit per register) in *clobbered. */
struct checked_call {
    uint64_t args[6];
    void *fn;
    uint64_t arg7;
    uint64_t ret, clobbered;
};
void tce_call_checked(struct checked_call *c);
__asm__(
    "    .text\n"
    "tce_call_checked:\n"
    "    push %rbx\n    push %rbp\n    push %r12\n    push %r13\n    push %r14\n    push %r15\n"
    "    push %rdi\n"
    "    mov %rdi, %rax\n"
    "    movabs $0x1111111111111111, %rbx\n    movabs $0x2222222222222222, %rbp\n"
    "    movabs $0x3333333333333333, %r12\n    movabs $0x4444444444444444, %r13\n"
    "    movabs $0x5555555555555555, %r14\n    movabs $0x6666666666666666, %r15\n"
    "    mov 0(%rax), %rdi\n    mov 8(%rax), %rsi\n    mov 16(%rax), %rdx\n"
    "    mov 24(%rax), %rcx\n    mov 32(%rax), %r8\n    mov 40(%rax), %r9\n"
    "    sub $8, %rsp\n    push 56(%rax)\n"
    "    call *48(%rax)\n"
    "    add $16, %rsp\n"
    "    mov (%rsp), %rdi\n    mov %rax, 64(%rdi)\n"
    "    xor %eax, %eax\n"
    "    movabs $0x1111111111111111, %rcx\n    cmp %rcx, %rbx\n    setne %al\n    mov %rax, %rdx\n"
    "    movabs $0x2222222222222222, %rcx\n    cmp %rcx, %rbp\n    setne %al\n    shl $1, %rax\n    or %rax, %rdx\n"
    "    xor %eax, %eax\n"
    "    movabs $0x3333333333333333, %rcx\n    cmp %rcx, %r12\n    setne %al\n    shl $2, %rax\n    or %rax, %rdx\n"
    "    xor %eax, %eax\n"
    "    movabs $0x4444444444444444, %rcx\n    cmp %rcx, %r13\n    setne %al\n    shl $3, %rax\n    or %rax, %rdx\n"
    "    xor %eax, %eax\n"
    "    movabs $0x5555555555555555, %rcx\n    cmp %rcx, %r14\n    setne %al\n    shl $4, %rax\n    or %rax, %rdx\n"
    "    xor %eax, %eax\n"
    "    movabs $0x6666666666666666, %rcx\n    cmp %rcx, %r15\n    setne %al\n    shl $5, %rax\n    or %rax, %rdx\n"
    "    mov %rdx, 72(%rdi)\n"
    "    pop %rdi\n    pop %r15\n    pop %r14\n    pop %r13\n    pop %r12\n    pop %rbp\n    pop %rbx\n"
    "    ret\n");

static int enter(int t, uint64_t rdi, uint64_t rsi, uint64_t rdx, struct tm_enter_result *res, tm_error *err)
{
    return tm_sim_enter(be(), THREAD_OFF(t), rdi, rsi, rdx, res, err);
}

/* ---- tests ---- */

static void test_eenter_eexit_round_trip(void)
{
    struct tm_enter_result res;
    tm_error err = { 0 };
    struct checked_call c = { .args = { (uint64_t)(uintptr_t)be(), THREAD_OFF(0), OP_ECHO, 40, 2,
                                        (uint64_t)(uintptr_t)&res },
                              .fn = (void *)tm_sim_enter, .arg7 = (uint64_t)(uintptr_t)&err };
    for (int i = 0; i < 3; i++) {
        tce_call_checked(&c);
        CHECK_EQ_INT((int)c.ret, 0);
        CHECK_EQ_INT(c.clobbered, 0);
        CHECK_EQ_INT(res.outcome, TM_ENTER_EEXIT);
        CHECK_EQ_INT(res.rdi, 0xec40);
        CHECK_EQ_INT(res.rsi, 42);
        CHECK_EQ_INT(res.rdx, 40 ^ 2);
    }
    CHECK_EQ_INT(cssa_of(0), 0);
    CHECK_EQ_INT(encl->tcs_busy[THREAD_OFF(0) / PAGE], 0);
    /* Not a TCS: refused, nothing entered. */
    CHECK_EQ_INT(tm_sim_enter(be(), DATA_OFF, OP_ECHO, 0, 0, &res, &err), -EINVAL);
}

struct spinner {
    volatile uint64_t flags[2];   /* [0] set inside, [1] set by the host to let it go */
    struct tm_enter_result res;
    int ret;
};

static void *spin_thread(void *p)
{
    struct spinner *s = p;
    tm_error err = { 0 };
    s->ret = enter(0, OP_SPIN, (uint64_t)(uintptr_t)s->flags, 0, &s->res, &err);
    return NULL;
}

static void test_busy_tcs_cannot_be_entered_twice(void)
{
    struct spinner s = { 0 };
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, spin_thread, &s) == 0);
    while (!__atomic_load_n(&s.flags[0], __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    struct tm_enter_result res;
    tm_error err = { 0 };
    CHECK_EQ_INT(enter(0, OP_ECHO, 1, 2, &res, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "busy");
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(0), &res, &err), -EBUSY);
    /* Another TCS is free meanwhile. */
    CHECK_EQ_INT(enter(1, OP_ECHO, 1, 2, &res, &err), 0);
    CHECK_EQ_INT(res.rsi, 3);
    __atomic_store_n(&s.flags[1], 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    CHECK_EQ_INT(s.ret, 0);
    CHECK_EQ_INT(s.res.outcome, TM_ENTER_EEXIT);
    CHECK_EQ_INT(s.res.rdi, 0x5914);
    CHECK_EQ_INT(enter(0, OP_ECHO, 5, 6, &res, &err), 0);
}

/* Report SSA[CSSA-1] through the enclave's exception path (EENTER with CSSA > 0). */
static void exception_entry(int t, uint64_t op, uint64_t skip, uint64_t *rip_off, uint32_t *exit_info)
{
    struct tm_enter_result res;
    tm_error err = { 0 };
    uint32_t cssa = cssa_of(t);
    CHECK_EQ_INT(enter(t, op, skip, 0, &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_EEXIT);
    CHECK_EQ_INT(res.rdi, 0xe0);
    CHECK_EQ_INT(cssa_of(t), cssa);   /* EENTER/EEXIT leave CSSA alone */
    *rip_off = res.rdx;
    *exit_info = (uint32_t)res.rsi;
}

static void test_syscall_inside_is_ud_and_never_runs(void)
{
    if (sud_missing)
        SKIP("no syscall user dispatch on this kernel");
    struct tm_enter_result res;
    tm_error err = { 0 };
    CHECK_EQ_INT(enter(1, OP_SYSCALL, 0, 0, &res, &err), 0);
    /* Still here: exit_group(42) did not run. */
    CHECK_EQ_INT(res.outcome, TM_ENTER_AEX);
    CHECK_EQ_INT(res.exit_info, EXIT_INFO(6, SGX_EXIT_TYPE_HARDWARE));
    CHECK_EQ_INT(res.rdi | res.rsi | res.rdx, 0);
    CHECK_EQ_INT(cssa_of(1), 1);
    struct sgx_ssa_gpr *g = ssa_gpr(1, 0);
    CHECK_EQ_INT(g->rip - encl->base, SYM_OFF(tce_syscall_off));
    CHECK_EQ_INT(g->rax, 231);
    CHECK_EQ_INT(g->rdi, 42);
    CHECK_EQ_INT(g->exit_info, EXIT_INFO(6, SGX_EXIT_TYPE_HARDWARE));
    CHECK_EQ_INT(g->fsbase, encl->base + THREAD_OFF(1) + 3 * PAGE);
    uint64_t rip;
    uint32_t info;
    exception_entry(1, OP_EXC_REPORT, 0, &rip, &info);
    CHECK_EQ_INT(rip, SYM_OFF(tce_syscall_off));
    CHECK_EQ_INT(info, EXIT_INFO(6, SGX_EXIT_TYPE_HARDWARE));
    /* Skip the 2-byte SYSCALL and resume: the enclave goes on to EEXIT. */
    exception_entry(1, OP_EXC_SKIP, 2, &rip, &info);
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(1), &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_EEXIT);
    CHECK_EQ_INT(res.rdi, 0x5c);
    CHECK_EQ_INT(cssa_of(1), 0);
}

static void test_null_dereference_aex_and_eresume(void)
{
    struct tm_enter_result res;
    tm_error err = { 0 };
    CHECK_EQ_INT(enter(2, OP_NULL, 0, 0, &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_AEX);
    CHECK_EQ_INT(res.exit_info, EXIT_INFO(14, SGX_EXIT_TYPE_HARDWARE));
    CHECK_EQ_INT(res.fault_addr, 8);
    CHECK_EQ_INT(cssa_of(2), 1);
    struct sgx_ssa_gpr *g = ssa_gpr(2, 0);
    CHECK_EQ_INT(g->rip - encl->base, SYM_OFF(tce_null_off));
    CHECK_EQ_INT(g->rsp, encl->base + THREAD_OFF(2) + 8 * PAGE);
    struct sgx_ssa_exinfo *ex = (struct sgx_ssa_exinfo *)((uint8_t *)g - sizeof(*ex));
    CHECK_EQ_INT(ex->maddr, 8);
    CHECK(ex->errcd & 0x4);   /* user mode */
    /* ERESUME before the cause is fixed faults again, in the next SSA frame. */
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(2), &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_AEX);
    CHECK_EQ_INT(cssa_of(2), 1);
    /* The handler skips the 4-byte load; ERESUME goes on after it. */
    uint64_t rip;
    uint32_t info;
    exception_entry(2, OP_EXC_SKIP, 4, &rip, &info);
    CHECK_EQ_INT(rip, SYM_OFF(tce_null_off) + 4);
    CHECK_EQ_INT(info, EXIT_INFO(14, SGX_EXIT_TYPE_HARDWARE));
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(2), &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_EEXIT);
    CHECK_EQ_INT(res.rdi, 0xd0e);
    CHECK_EQ_INT(cssa_of(2), 0);
    /* Nothing to resume now. */
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(2), &res, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "CSSA 0");
    CHECK_EQ_INT(encl->tcs_busy[THREAD_OFF(2) / PAGE], 0);
}

static void test_no_free_ssa_frame(void)
{
    struct tm_enter_result res;
    tm_error err = { 0 };
    /* A fault, then a fault in the exception handler: both frames used. */
    CHECK_EQ_INT(enter(3, OP_NULL, 0, 0, &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_AEX);
    CHECK_EQ_INT(enter(3, OP_EXC_FAULT, 0, 0, &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_AEX);
    CHECK_EQ_INT(res.fault_addr, 8);
    CHECK_EQ_INT(cssa_of(3), NSSA);
    CHECK_EQ_INT(enter(3, OP_ECHO, 0, 0, &res, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "no free SSA frame");
    CHECK_EQ_INT(encl->tcs_busy[THREAD_OFF(3) / PAGE], 0);
    /* Unwind: skip the load in the handler and resume it (it exits), then
     * skip the first one and resume the ecall. */
    ssa_gpr(3, 1)->rip += 4;
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(3), &res, &err), 0);
    CHECK_EQ_INT(res.rdi, 0xe0);
    CHECK_EQ_INT(cssa_of(3), 1);
    ssa_gpr(3, 0)->rip += 4;
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(3), &res, &err), 0);
    CHECK_EQ_INT(res.rdi, 0xd0e);
    CHECK_EQ_INT(cssa_of(3), 0);
}

static void test_enclu_leaves(void)
{
    struct tm_enter_result res;
    tm_error err = { 0 };
    CHECK_EQ_INT(enter(0, OP_EGETKEY, 0, 0, &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_EEXIT);
    CHECK_EQ_INT(res.rdi, 0x6e7);
    CHECK_EQ_INT(res.rsi, 0);       /* EGETKEY succeeded */
    CHECK(res.rdx != 0);            /* and wrote a key */

    /* EENTER from inside, and a misaligned EREPORT operand: #GP. */
    uint64_t rip;
    uint32_t info;
    const uint64_t gp_ops[] = { OP_EENTER_INSIDE, OP_EREPORT_MISALIGNED };
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(enter(0, gp_ops[i], 0, 0, &res, &err), 0);
        CHECK_EQ_INT(res.outcome, TM_ENTER_AEX);
        CHECK_EQ_INT(res.exit_info, EXIT_INFO(13, SGX_EXIT_TYPE_HARDWARE));
        exception_entry(0, OP_EXC_SKIP, 3, &rip, &info);
        CHECK_EQ_INT(info, EXIT_INFO(13, SGX_EXIT_TYPE_HARDWARE));
        CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(0), &res, &err), 0);
        CHECK_EQ_INT(res.rdi, 0xbad);
    }

    /* INT3: a software exception; the SSA holds the RIP after it (a trap). */
    CHECK_EQ_INT(enter(0, OP_INT3, 0, 0, &res, &err), 0);
    CHECK_EQ_INT(res.outcome, TM_ENTER_AEX);
    CHECK_EQ_INT(res.exit_info, EXIT_INFO(3, SGX_EXIT_TYPE_SOFTWARE));
    exception_entry(0, OP_EXC_REPORT, 0, &rip, &info);
    CHECK_EQ_INT(rip, SYM_OFF(tce_int3_off));
    CHECK_EQ_INT(tm_sim_resume(be(), THREAD_OFF(0), &res, &err), 0);
    CHECK_EQ_INT(res.rdi, 0x1e3);
    CHECK_EQ_INT(cssa_of(0), 0);
}

struct worker {
    int t, failures;
    pthread_barrier_t *barrier;
};

static void *worker_thread(void *p)
{
    struct worker *w = p;
    pthread_barrier_wait(w->barrier);
    for (uint64_t i = 0; i < 2000; i++) {
        struct tm_enter_result res;
        tm_error err = { 0 };
        uint64_t a = i * 7 + (uint64_t)w->t, b = (uint64_t)w->t << 32;
        if (enter(w->t, OP_ECHO, a, b, &res, &err) != 0 || res.rdi != 0xec40 || res.rsi != a + b ||
            res.rdx != (a ^ b))
            w->failures++;
        if (i % 500 == 0 && (enter(w->t, OP_NULL, 0, 0, &res, &err) != 0 || res.outcome != TM_ENTER_AEX ||
                             res.fault_addr != 8))
            w->failures++;
        if (i % 500 == 0) {
            ssa_gpr(w->t, 0)->rip += 4;
            if (tm_sim_resume(be(), THREAD_OFF(w->t), &res, &err) != 0 || res.rdi != 0xd0e)
                w->failures++;
        }
    }
    return NULL;
}

static void test_four_threads_four_tcs(void)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){ .t = t, .barrier = &barrier };
        REQUIRE(pthread_create(&th[t], NULL, worker_thread, &w[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        CHECK_EQ_INT(w[t].failures, 0);
        CHECK_EQ_INT(cssa_of(t), 0);
    }
    pthread_barrier_destroy(&barrier);
}

/* A host crash after enclaves ran still kills the process with its signal. */
static void test_host_faults_are_not_swallowed(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        struct tm_enter_result res;
        tm_error err = { 0 };
        if (enter(0, OP_ECHO, 1, 1, &res, &err) != 0 || res.rsi != 2)
            _exit(3);
        volatile uintptr_t bad = 16;
        *(volatile int *)bad = 1;
        _exit(0);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    /* Killed by SIGSEGV, or, under ASan, its report and exit status 1:
     * either way the fault reached whoever handled it before us. */
    if (WIFSIGNALED(status))
        CHECK_EQ_INT(WTERMSIG(status), SIGSEGV);
    else
        CHECK_EQ_INT(WEXITSTATUS(status), tm_test_asan ? 1 : -1);
}

int main(void)
{
    if (!mkdtemp(state_dir)) {
        perror("mkdtemp");
        return 2;
    }
    setenv("TEEMATE_STATE_DIR", state_dir, 1);
    /* PR_SET_SYSCALL_USER_DISPATCH, OFF: accepted exactly where it exists.
     * Before any entry, so it turns nothing off. */
    sud_missing = prctl(59, 0, 0UL, 0UL, 0UL) != 0;
    tm_error err = { 0 };
    if (tm_key_generate(&signing_key, &err) < 0 || build_enclave(&encl, &err) < 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return 2;
    }
    RUN(test_eenter_eexit_round_trip);
    RUN(test_busy_tcs_cannot_be_entered_twice);
    RUN(test_syscall_inside_is_ud_and_never_runs);
    RUN(test_null_dereference_aex_and_eresume);
    RUN(test_no_free_ssa_frame);
    RUN(test_enclu_leaves);
    RUN(test_four_threads_four_tcs);
    RUN(test_host_faults_are_not_swallowed);
    tm_sim_destroy(encl);
    EVP_PKEY_free(signing_key);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", state_dir);
    TEST_EXIT();
}
