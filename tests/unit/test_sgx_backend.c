/* The sgx backend without SGX hardware: the vDSO parser on this kernel's real
 * vDSO and on corrupted copies, the vDSO call wrapper against a fake vDSO,
 * backend selection and its messages, the ioctl ABI. Tests that need the CPU
 * feature skip with "needs SGX hardware (/dev/sgx_enclave)". */
#include <asm/sgx.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/sgx.h"
#include "backend/sgx_vdso.h"
#include "enclave/enclave.h"
#include "enclave/image.h"
#include "enclave/key.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "harness.h"
#include "tm_ecall.h"
#include "util/cleanup.h"

#define NEEDS_SGX "needs SGX hardware (/dev/sgx_enclave)"

static bool have_sgx_device(void)
{
    return access(TM_SGX_DEVICE, F_OK) == 0;
}

/* ---- the real vDSO ---- */

static void test_vdso_sgx_symbol(void)
{
    void *fn = NULL;
    tm_error err = { 0 };
    int ret = tm_vdso_lookup(TM_VDSO_SGX_ENTER, &fn, &err);
    if (ret == 0)
        printf("# this kernel's vDSO has %s@%s at %p\n", TM_VDSO_SGX_ENTER, TM_VDSO_VERSION, fn);
    else
        printf("# this kernel's vDSO has no %s (%s): kernel built without CONFIG_X86_SGX\n",
               TM_VDSO_SGX_ENTER, err.msg);
    CHECK(ret == 0 || ret == -ENOENT);   /* absent is fine, malformed is not */
}

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static void test_vdso_clock_gettime_works(void)
{
    void *fn = NULL;
    tm_error err = { 0 };
    int ret = tm_vdso_lookup("__vdso_clock_gettime", &fn, &err);
    if (ret < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0 && fn);
    struct timespec a, v, b;
    CHECK_EQ_INT(clock_gettime(CLOCK_MONOTONIC, &a), 0);
    CHECK_EQ_INT(((clock_gettime_fn)fn)(CLOCK_MONOTONIC, &v), 0);
    CHECK_EQ_INT(clock_gettime(CLOCK_MONOTONIC, &b), 0);
    CHECK(ts_ns(&a) <= ts_ns(&v) && ts_ns(&v) <= ts_ns(&b));
    CHECK(ts_ns(&b) - ts_ns(&a) < 1000000000);
    CHECK_EQ_INT(((clock_gettime_fn)fn)(CLOCK_REALTIME, &v), 0);
    CHECK(llabs(v.tv_sec - time(NULL)) <= 1);

    /* The weak alias is the same code; glibc's own resolution agrees. */
    const uint8_t *image;
    size_t len, off_alias;
    REQUIRE(tm_vdso_image(&image, &len, &err) == 0);
    CHECK(tm_vdso_find(image, len, "clock_gettime", TM_VDSO_VERSION, &off_alias, &err) == 0 &&
          image + off_alias == (const uint8_t *)fn);
    void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (h) {
        CHECK(dlvsym(h, "__vdso_clock_gettime", TM_VDSO_VERSION) == fn);
        dlclose(h);
    }
}

static void test_vdso_version_and_kind(void)
{
    const uint8_t *image;
    size_t len, off;
    tm_error err = { 0 };
    REQUIRE(tm_vdso_image(&image, &len, &err) == 0);
    CHECK(tm_vdso_find(image, len, "__vdso_clock_gettime", NULL, &off, &err) == 0);
    CHECK_EQ_INT(tm_vdso_find(image, len, "__vdso_clock_gettime", "LINUX_9.9", &off, &err), -ENOENT);
    CHECK_EQ_INT(tm_vdso_find(image, len, "__vdso_clock_gettim", NULL, &off, &err), -ENOENT);
    CHECK_EQ_INT(tm_vdso_find(image, len, "__vdso_clock_gettimex", NULL, &off, &err), -ENOENT);
    /* The version definition's own symbol is an absolute OBJECT, not a function. */
    CHECK_EQ_INT(tm_vdso_find(image, len, TM_VDSO_VERSION, NULL, &off, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "the vDSO has no");
}

/* ---- corrupted copies ---- */

struct vdso_copy {
    uint8_t *orig;
    size_t len;
    size_t dyn_off, dyn_n;   /* the dynamic section */
};

static void vdso_copy(struct vdso_copy *c)
{
    const uint8_t *image;
    tm_error err = { 0 };
    REQUIRE(tm_vdso_image(&image, &c->len, &err) == 0);
    REQUIRE((c->orig = malloc(c->len)));
    memcpy(c->orig, image, c->len);
    Elf64_Ehdr eh;
    memcpy(&eh, c->orig, sizeof(eh));
    c->dyn_n = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, c->orig + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_DYNAMIC) {
            c->dyn_off = ph.p_offset;
            c->dyn_n = ph.p_filesz / sizeof(Elf64_Dyn);
        }
    }
    REQUIRE(c->dyn_n > 0);
}

/* Parse a heap copy of exactly len bytes, so ASan sees any overread. */
static int find_in(const uint8_t *data, size_t len, const char *name, size_t *off)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, data, len);
    tm_error err = { 0 };
    int ret = tm_vdso_find(buf, len, name, TM_VDSO_VERSION, off, &err);
    if (ret < 0 && !err.msg[0])
        ret = -1000;   /* every failure must say why */
    if (ret == 0 && *off >= len)
        ret = -1001;
    free(buf);
    return ret;
}

/* Index of the dynamic entry with tag, or -1. */
static long dyn_index(const struct vdso_copy *c, const uint8_t *img, int64_t tag)
{
    for (size_t i = 0; i < c->dyn_n; i++) {
        Elf64_Dyn d;
        memcpy(&d, img + c->dyn_off + i * sizeof(d), sizeof(d));
        if (d.d_tag == tag)
            return (long)i;
    }
    return -1;
}

static void set_dyn(const struct vdso_copy *c, uint8_t *img, long i, int64_t tag, uint64_t val)
{
    Elf64_Dyn d = { .d_tag = tag, .d_un.d_val = val };
    memcpy(img + c->dyn_off + (size_t)i * sizeof(d), &d, sizeof(d));
}

static uint64_t get_dyn(const struct vdso_copy *c, const uint8_t *img, long i)
{
    Elf64_Dyn d;
    memcpy(&d, img + c->dyn_off + (size_t)i * sizeof(d), sizeof(d));
    return d.d_un.d_val;
}

static void test_vdso_truncated(void)
{
    struct vdso_copy c;
    vdso_copy(&c);
    size_t good, off;
    CHECK_EQ_INT(find_in(c.orig, c.len, "__vdso_clock_gettime", &good), 0);
    for (size_t n = 0; n < c.len; n++) {
        int ret = find_in(c.orig, n, "__vdso_clock_gettime", &off);
        if (ret != -ENOEXEC) {
            fprintf(stderr, "  truncated to %zu bytes: %d\n", n, ret);
            CHECK(ret == -ENOEXEC);
            break;
        }
    }
    free(c.orig);
}

static void test_vdso_bad_offsets(void)
{
    struct vdso_copy c;
    vdso_copy(&c);
    uint8_t *img = malloc(c.len);
    REQUIRE(img);
    size_t off, good;
    REQUIRE(find_in(c.orig, c.len, "__vdso_clock_gettime", &good) == 0);
    Elf64_Ehdr eh;

    /* Program header table out of the image, or partly. */
    static const uint64_t bad_phoff[] = { UINT64_MAX - 8, 1ULL << 40, 0 };
    for (size_t i = 0; i < 3; i++) {
        memcpy(img, c.orig, c.len);
        memcpy(&eh, img, sizeof(eh));
        eh.e_phoff = bad_phoff[i] ? bad_phoff[i] : c.len - 10;
        memcpy(img, &eh, sizeof(eh));
        CHECK_EQ_INT(find_in(img, c.len, "__vdso_clock_gettime", &off), -ENOEXEC);
    }
    memcpy(img, c.orig, c.len);
    memcpy(&eh, img, sizeof(eh));
    eh.e_phentsize = 0;
    memcpy(img, &eh, sizeof(eh));
    CHECK_EQ_INT(find_in(img, c.len, "__vdso_clock_gettime", &off), -ENOEXEC);

    /* Table addresses and sizes pointing outside, one at a time. */
    static const int64_t tags[] = { DT_SYMTAB, DT_STRTAB, DT_STRSZ, DT_HASH, DT_VERSYM };
    static const uint64_t values[] = { UINT64_MAX - 3, 1ULL << 32, 0x7fffffff };
    for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
        for (size_t v = 0; v < 3; v++) {
            memcpy(img, c.orig, c.len);
            long i = dyn_index(&c, img, tags[t]);
            if (i < 0)
                continue;
            set_dyn(&c, img, i, tags[t], values[v]);
            int ret = find_in(img, c.len, "__vdso_clock_gettime", &off);
            CHECK(ret == -ENOEXEC);
        }
    }

    /* DT_HASH's nchain enormous. */
    memcpy(img, c.orig, c.len);
    long hi = dyn_index(&c, img, DT_HASH);
    if (hi >= 0) {
        uint32_t big = 0xffffffffu;
        memcpy(img + get_dyn(&c, img, hi) + 4, &big, 4);   /* vDSO: vaddr == offset */
        CHECK_EQ_INT(find_in(img, c.len, "__vdso_clock_gettime", &off), -ENOEXEC);
    }

    /* Without DT_HASH the GNU hash table gives the count: same answer. */
    memcpy(img, c.orig, c.len);
    long gi = dyn_index(&c, img, DT_GNU_HASH);
    if (hi >= 0 && gi >= 0) {
        set_dyn(&c, img, hi, DT_DEBUG, 0);
        CHECK(find_in(img, c.len, "__vdso_clock_gettime", &off) == 0 && off == good);
        /* ... and a corrupted GNU hash header is refused. */
        uint32_t big = 0x7fffffff;
        memcpy(img + get_dyn(&c, img, gi) + 8, &big, 4);   /* bloom size */
        CHECK_EQ_INT(find_in(img, c.len, "__vdso_clock_gettime", &off), -ENOEXEC);
        memcpy(img, c.orig, c.len);
        set_dyn(&c, img, hi, DT_DEBUG, 0);
        memcpy(img + get_dyn(&c, img, gi), &big, 4);   /* nbuckets */
        CHECK_EQ_INT(find_in(img, c.len, "__vdso_clock_gettime", &off), -ENOEXEC);
    } else {
        printf("# this vDSO lacks DT_HASH or DT_GNU_HASH: GNU-hash-only case not run\n");
    }

    /* No dynamic section at all (DT_NULL first). */
    memcpy(img, c.orig, c.len);
    set_dyn(&c, img, 0, DT_NULL, 0);
    CHECK_EQ_INT(find_in(img, c.len, "__vdso_clock_gettime", &off), -ENOEXEC);
    free(img);
    free(c.orig);
}

static void test_vdso_random_corruption(void)
{
    struct vdso_copy c;
    vdso_copy(&c);
    uint8_t *img = malloc(c.len);
    REQUIRE(img);
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    size_t found = 0, refused = 0, off;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(img, c.orig, c.len);
        int flips = 1 + iter % 4;
        for (int f = 0; f < flips; f++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            /* Mostly the headers and tables at the front, sometimes anywhere. */
            size_t span = (s >> 60) ? (c.len < 0x600 ? c.len : 0x600) : c.len;
            img[(s >> 8) % span] ^= (uint8_t)(1u << (s % 8));
        }
        int ret = find_in(img, c.len, iter & 1 ? "__vdso_clock_gettime" : "__vdso_getcpu", &off);
        CHECK(ret == 0 || ret == -ENOEXEC || ret == -ENOENT);
        if (ret == 0)
            found++;
        else
            refused++;
    }
    printf("# 4000 corrupted copies: %zu still resolve, %zu refused\n", found, refused);
    free(img);
    free(c.orig);
}

/* ---- the vDSO call wrapper, against a fake vDSO ---- */

/* Records its arguments in run (tcs = rdi, function = leaf, exception_addr =
 * rsi, user_handler = r8 + r9, user_data = rdx), trashes every callee-saved
 * register the real vDSO leaves to the enclave (and RBX), returns 7 when the
 * stack was aligned as the ABI wants at the call, else -1. */
int tm_test_fake_vdso(unsigned long rdi, unsigned long rsi, unsigned long rdx, unsigned int leaf,
                      unsigned long r8, unsigned long r9, struct sgx_enclave_run *run);
__asm__(".text\n"
        ".globl tm_test_fake_vdso\n"
        ".type tm_test_fake_vdso, @function\n"
        "tm_test_fake_vdso:\n"
        "    endbr64\n"
        "    mov 8(%rsp), %rax\n"
        "    mov %rdi, 0(%rax)\n"
        "    mov %ecx, 8(%rax)\n"
        "    mov %rsi, 16(%rax)\n"
        "    lea (%r8, %r9), %r10\n"
        "    mov %r10, 24(%rax)\n"
        "    mov %rdx, 32(%rax)\n"
        "    mov $-1, %rbx\n"
        "    mov $-1, %r12\n"
        "    mov $-1, %r13\n"
        "    mov $-1, %r14\n"
        "    mov $-1, %r15\n"
        "    lea 8(%rsp), %r10\n"
        "    and $15, %r10\n"
        "    mov $7, %eax\n"
        "    mov $-1, %r11d\n"
        "    test %r10, %r10\n"
        "    cmovnz %r11d, %eax\n"
        "    ret\n"
        ".size tm_test_fake_vdso, .-tm_test_fake_vdso\n");

static void test_vdso_call_wrapper(void)
{
    /* Values live across the call: the compiler keeps them in callee-saved
     * registers, which the fake trashes. */
    uint64_t k[6];
    for (int i = 0; i < 6; i++)
        k[i] = (uint64_t)getpid() * (i + 3) + (uint64_t)i;
    uint64_t v0 = k[0] * 3, v1 = k[1] ^ 0x5555, v2 = k[2] + 11, v3 = k[3] * 7, v4 = k[4] - 1, v5 = k[5];
    for (int round = 0; round < 3; round++) {
        struct sgx_enclave_run run = { 0 };
        int r = tm_sgx_vdso_call(0x1111 + round, 0x2222, 0x3333, SGX_ERESUME, 0x40, 0x5, &run,
                                 tm_test_fake_vdso);
        CHECK_EQ_INT(r, 7);
        CHECK_EQ_INT(run.tcs, 0x1111 + round);
        CHECK_EQ_INT(run.function, SGX_ERESUME);
        CHECK_EQ_INT(run.exception_addr, 0x2222);
        CHECK_EQ_INT(run.user_data, 0x3333);
        CHECK_EQ_INT(run.user_handler, 0x45);
        v0 += 1, v1 += 1, v2 += 1, v3 += 1, v4 += 1, v5 += 1;
    }
    CHECK(v0 == k[0] * 3 + 3 && v1 == (k[1] ^ 0x5555) + 3 && v2 == k[2] + 14 &&
          v3 == k[3] * 7 + 3 && v4 == k[4] + 2 && v5 == k[5] + 3);
}

/* ---- what the vDSO reports, as a tm_enter_result ---- */

static void test_run_result(void)
{
    struct tm_enter_result res;
    tm_error err = { 0 };
    struct sgx_enclave_run run = { .function = SGX_EEXIT };
    CHECK_EQ_INT(tm_sgx_run_result(&run, 1, 2, 3, 0x1000, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_EEXIT && res.rdi == 1 && res.rsi == 2 && res.rdx == 3);

    /* An exception inside the enclave: the AEX left ERESUME in EAX. */
    run = (struct sgx_enclave_run){ .function = SGX_ERESUME, .exception_vector = 14,
                                    .exception_error_code = 6, .exception_addr = 0x7f0000001000 };
    CHECK_EQ_INT(tm_sgx_run_result(&run, 14, 6, 0x7f0000001000, 0x1000, &res, &err), 0);
    CHECK(res.outcome == TM_ENTER_AEX && res.fault_addr == 0x7f0000001000);
    CHECK_EQ_INT(SGX_EXITINFO_VECTOR(res.exit_info), 14);
    CHECK_EQ_INT(SGX_EXITINFO_TYPE(res.exit_info), SGX_EXIT_TYPE_HARDWARE);
    CHECK(res.exit_info & SGX_EXITINFO_VALID);
    run.exception_vector = 3;   /* INT3 */
    run.exception_addr = 0;
    CHECK_EQ_INT(tm_sgx_run_result(&run, 0, 0, 0, 0x1000, &res, &err), 0);
    CHECK_EQ_INT(SGX_EXITINFO_TYPE(res.exit_info), SGX_EXIT_TYPE_SOFTWARE);
    CHECK_EQ_INT(res.fault_addr, 0);

    /* EENTER itself faulted: #GP is a busy TCS. */
    run = (struct sgx_enclave_run){ .function = SGX_EENTER, .exception_vector = 13 };
    CHECK_EQ_INT(tm_sgx_run_result(&run, 0, 0, 0, 0x5000, &res, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "busy");
    CHECK_STR_CONTAINS(err.msg, "0x5000");
    run.exception_vector = 14;
    CHECK_EQ_INT(tm_sgx_run_result(&run, 0, 0, 0, 0x5000, &res, &err), -EFAULT);
    CHECK_STR_CONTAINS(err.msg, "EENTER: the TCS at offset 0x5000 is not mapped in this process");
    run.function = 9;
    CHECK_EQ_INT(tm_sgx_run_result(&run, 0, 0, 0, 0x5000, &res, &err), -EPROTO);
}

/* ---- ABI: the ioctl structures and the vDSO's run structure ---- */

static void test_ioctl_abi(void)
{
    /* What the ioctls point at is what the SDM defines (abi/sgx_arch.h asserts
     * the layouts): SECS one page, SECINFO 64, SIGSTRUCT 1808 bytes. */
    CHECK_EQ_INT(sizeof(struct sgx_secs), 4096);
    CHECK_EQ_INT(sizeof(struct sgx_secinfo), 64);
    CHECK_EQ_INT(sizeof(struct sgx_sigstruct), 1808);
    CHECK_EQ_INT(offsetof(struct sgx_secs, base), 8);
    CHECK_EQ_INT(offsetof(struct sgx_secs, size), 0);
    /* The argument structures and the sizes the ioctl numbers encode. */
    CHECK_EQ_INT(sizeof(struct sgx_enclave_create), 8);
    CHECK_EQ_INT(_IOC_SIZE(SGX_IOC_ENCLAVE_CREATE), sizeof(struct sgx_enclave_create));
    CHECK_EQ_INT(sizeof(struct sgx_enclave_add_pages), 48);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_add_pages, src), 0);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_add_pages, offset), 8);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_add_pages, length), 16);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_add_pages, secinfo), 24);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_add_pages, flags), 32);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_add_pages, count), 40);
    CHECK_EQ_INT(_IOC_SIZE(SGX_IOC_ENCLAVE_ADD_PAGES), 48);
    CHECK_EQ_INT(_IOC_DIR(SGX_IOC_ENCLAVE_ADD_PAGES), _IOC_READ | _IOC_WRITE);   /* count comes back */
    CHECK_EQ_INT(sizeof(struct sgx_enclave_init), 8);
    CHECK_EQ_INT(_IOC_SIZE(SGX_IOC_ENCLAVE_INIT), 8);
    CHECK_EQ_INT(_IOC_NR(SGX_IOC_ENCLAVE_CREATE), 0);
    CHECK_EQ_INT(_IOC_NR(SGX_IOC_ENCLAVE_ADD_PAGES), 1);
    CHECK_EQ_INT(_IOC_NR(SGX_IOC_ENCLAVE_INIT), 2);
    CHECK_EQ_INT(_IOC_TYPE(SGX_IOC_ENCLAVE_INIT), 0xA4);
    CHECK_EQ_INT(sizeof(struct sgx_enclave_remove_pages), 24);
    CHECK_EQ_INT(sizeof(struct sgx_enclave_modify_types), 40);
    CHECK_EQ_INT(sizeof(struct sgx_enclave_restrict_permissions), 40);
    /* Secinfo flag and page-type encodings the driver checks. */
    CHECK_EQ_INT(SGX_PAGE_MEASURE, 1);
    CHECK_EQ_INT(SGX_SECINFO_TCS, 0x100);
    CHECK_EQ_INT(SGX_SECINFO_REG, 0x200);
    /* struct sgx_enclave_run at the offsets vsgx.S uses. */
    CHECK_EQ_INT(sizeof(struct sgx_enclave_run), 256);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, tcs), 0);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, function), 8);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, exception_vector), 12);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, exception_error_code), 14);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, exception_addr), 16);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, user_handler), 24);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, user_data), 32);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_run, reserved), 40);
    /* The leaves the vDSO accepts and reports. */
    CHECK_EQ_INT(SGX_EENTER, 2);
    CHECK_EQ_INT(SGX_ERESUME, 3);
    CHECK_EQ_INT(SGX_EEXIT, 4);
}

/* The EDMM ioctls the shared-enclave ops use (Linux 6.0 UAPI). */
static void test_shared_ioctl_abi(void)
{
    CHECK_EQ_INT(_IOC_NR(SGX_IOC_ENCLAVE_MODIFY_TYPES), 6);
    CHECK_EQ_INT(_IOC_NR(SGX_IOC_ENCLAVE_REMOVE_PAGES), 7);
    CHECK_EQ_INT(_IOC_TYPE(SGX_IOC_ENCLAVE_REMOVE_PAGES), 0xA4);
    /* Both write count (and result) back: read-write. */
    CHECK_EQ_INT(_IOC_DIR(SGX_IOC_ENCLAVE_MODIFY_TYPES), _IOC_READ | _IOC_WRITE);
    CHECK_EQ_INT(_IOC_DIR(SGX_IOC_ENCLAVE_REMOVE_PAGES), _IOC_READ | _IOC_WRITE);
    CHECK_EQ_INT(_IOC_SIZE(SGX_IOC_ENCLAVE_MODIFY_TYPES), sizeof(struct sgx_enclave_modify_types));
    CHECK_EQ_INT(_IOC_SIZE(SGX_IOC_ENCLAVE_REMOVE_PAGES), sizeof(struct sgx_enclave_remove_pages));
    CHECK_EQ_INT(offsetof(struct sgx_enclave_modify_types, offset), 0);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_modify_types, length), 8);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_modify_types, page_type), 16);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_modify_types, result), 24);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_modify_types, count), 32);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_remove_pages, offset), 0);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_remove_pages, length), 8);
    CHECK_EQ_INT(offsetof(struct sgx_enclave_remove_pages, count), 16);
    /* page_type is the bare type (the driver masks it with 0xFF): PT_TRIM is 4. */
    CHECK_EQ_INT(SGX_PT_TRIM, 4);
    CHECK_EQ_INT(SGX_PT_TCS, 1);
}

/* A free, naturally aligned range of size bytes (reserved, then given back). */
static uint64_t free_aligned(uint64_t size)
{
    uint8_t *r = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED)
        return 0;
    munmap(r, 2 * size);
    return ((uintptr_t)r + size - 1) & ~(uintptr_t)(size - 1);
}

/* What /proc/self/maps says about addr: "---p" etc., or "" if unmapped. */
static void maps_perms(uint64_t addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    perms[0] = '\0';
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        char p[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && addr >= lo && addr < hi) {
            memcpy(perms, p, 5);
            break;
        }
    }
    if (f)
        fclose(f);
}

static void test_attach_bad_fds(void)
{
    const struct tm_backend_ops *ops = &tm_backend_sgx;
    struct tm_backend_enclave *e = NULL;
    tm_error err = { 0 };
    uint64_t size = 1 << 20, base = free_aligned(size);
    REQUIRE(base != 0);
    setenv("TEEMATE_SGX_DEVICE", "/dev/null", 1);
    int fds[2] = { -1, -1 };
    CHECK_EQ_INT(ops->attach(fds, 1, base, size, &e, &err), -EBADF);
    CHECK_STR_CONTAINS(err.msg, "attach: fd -1");
    CHECK_EQ_INT(ops->attach(fds, 2, base, size, &e, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "1 fd");
    /* An open fd that is not the enclave device. */
    _cleanup_close_ int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    fds[0] = fd;
    CHECK_EQ_INT(ops->attach(fds, 1, base, size, &e, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "is not an enclave of /dev/null");
    /* ELRANGE that no enclave can have. */
    CHECK_EQ_INT(ops->attach(fds, 1, base + 4096, size, &e, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "naturally aligned");
    CHECK_EQ_INT(ops->attach(fds, 1, base, 3 << 20, &e, &err), -EINVAL);
    CHECK(e == NULL);
    /* No device at all: the device's own message. */
    setenv("TEEMATE_SGX_DEVICE", "/nonexistent/sgx_enclave", 1);
    CHECK_EQ_INT(ops->attach(fds, 1, base, size, &e, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "does not exist");
    char perms[5];
    maps_perms(base, perms);
    CHECK_EQ_INT(perms[0], '\0');   /* nothing was left reserved */
    unsetenv("TEEMATE_SGX_DEVICE");
}

/* /dev/null stands in for the enclave device: what does not need the driver
 * (reserving ELRANGE, -EEXIST, the fds) works; what does fails cleanly. */
static void test_shared_ops_fake_device(void)
{
    const struct tm_backend_ops *ops = &tm_backend_sgx;
    setenv("TEEMATE_SGX_DEVICE", "/dev/null", 1);
    _cleanup_close_ int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    uint64_t size = 1 << 20, base = free_aligned(size);
    REQUIRE(base != 0);
    struct tm_backend_enclave *e = NULL, *again = NULL;
    tm_error err = { 0 };
    int ret = ops->attach(&fd, 1, base, size, &e, &err);
    if (ret < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0 && e != NULL);
    char perms[5];
    maps_perms(base, perms);
    CHECK(strcmp(perms, "---p") == 0);   /* reserved, inaccessible */
    maps_perms(base + size - 1, perms);
    CHECK(strcmp(perms, "---p") == 0);
    CHECK_EQ_INT(ops->attach(&fd, 1, base, size, &again, &err), -EEXIST);
    CHECK_STR_CONTAINS(err.msg, "is not free in this process");
    CHECK(again == NULL);

    int fds[TM_BACKEND_MAX_FDS] = { -1, -1 };
    CHECK_EQ_INT(ops->export_fds(e, fds), 1);
    CHECK(fds[0] >= 0 && fds[0] != fd);   /* attach dup'ed it */
    struct stat a, b;
    CHECK(fstat(fds[0], &a) == 0 && fstat(fd, &b) == 0 && a.st_rdev == b.st_rdev);

    /* map needs the driver: a clear error, the range still reserved. */
    CHECK(ops->map(e, 0, 4096, PROT_READ, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "map: cannot map enclave pages 0-0x1000");
    printf("# map on /dev/null: %s\n", err.msg);
    maps_perms(base, perms);
    CHECK(strcmp(perms, "---p") == 0);
    CHECK_EQ_INT(ops->map(e, 100, 4096, PROT_READ, &err), -EINVAL);
    CHECK_EQ_INT(ops->map(e, 0, size + 4096, PROT_READ, &err), -EINVAL);
    CHECK_EQ_INT(ops->map(e, 0, 4096, 0x10, &err), -EINVAL);
    CHECK_EQ_INT(ops->unmap(e, 0, 4096, &err), 0);
    CHECK_EQ_INT(ops->unmap(e, size, 4096, &err), -EINVAL);
    maps_perms(base, perms);
    CHECK(strcmp(perms, "---p") == 0);

    /* The EDMM ioctls: refused by a device that has none. */
    CHECK_EQ_INT(ops->trim(e, 0, 4096, &err), -ENOTTY);
    CHECK_STR_CONTAINS(err.msg, "SGX_IOC_ENCLAVE_MODIFY_TYPES (to PT_TRIM) at offset 0");
    CHECK_STR_CONTAINS(err.msg, "Linux 6.0");
    printf("# trim on /dev/null: %s\n", err.msg);
    uint64_t removed = 99;
    CHECK_EQ_INT(ops->remove(e, 0, 4096, &removed, &err), -ENOTTY);
    CHECK_STR_CONTAINS(err.msg, "SGX_IOC_ENCLAVE_REMOVE_PAGES at offset 0");
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(ops->make_tcs(e, 8192, &err), -ENOTTY);
    CHECK_STR_CONTAINS(err.msg, "SGX_IOC_ENCLAVE_MODIFY_TYPES (to PT_TCS) at offset 0x2000");
    CHECK_EQ_INT(ops->make_tcs(e, 100, &err), -EINVAL);
    CHECK_EQ_INT(ops->trim(e, 4095, 4096, &err), -EINVAL);
    CHECK_EQ_INT(ops->remove(e, 0, 0, &removed, &err), -EINVAL);

    /* What user space cannot know is zero; reclaim is the kernel's. */
    CHECK_EQ_INT(ops->epc_pages_in(e, 0, size), 0);
    struct tm_expand_stats st = { 7, 7 };
    ops->expand_stats(e, &st);
    CHECK(st.pages == 0 && st.ms == 0);
    ops->tcs_reclaim(e, 0);

    /* Entering needs the vDSO entry (absent on this kernel) or real hardware. */
    struct tm_enter_result res;
    void *fn;
    tm_error verr;
    if (tm_vdso_lookup(TM_VDSO_SGX_ENTER, &fn, &verr) < 0) {
        CHECK_EQ_INT(ops->enter(e, 0, 0, 0, 0, &res, &err), -ENOSYS);
        CHECK_STR_CONTAINS(err.msg, "this kernel cannot enter enclaves");
    }
    CHECK_EQ_INT(ops->enter(e, 100, 0, 0, 0, &res, &err) < 0, 1);
    ops->destroy(e);
    maps_perms(base, perms);
    CHECK_EQ_INT(perms[0], '\0');
    unsetenv("TEEMATE_SGX_DEVICE");
}

/* ---- selection and messages ---- */

static void test_backend_parse(void)
{
    enum tm_backend_kind k = TM_BACKEND_SGX;
    CHECK(tm_backend_parse("sim", &k) == 0 && k == TM_BACKEND_SIM);
    CHECK(tm_backend_parse("sgx", &k) == 0 && k == TM_BACKEND_SGX);
    CHECK(tm_backend_parse("auto", &k) == 0 && k == TM_BACKEND_AUTO);
    k = TM_BACKEND_SGX;
    CHECK_EQ_INT(tm_backend_parse("SGX", &k), -EINVAL);
    CHECK_EQ_INT(tm_backend_parse("Sim", &k), -EINVAL);
    CHECK_EQ_INT(tm_backend_parse("", &k), -EINVAL);
    CHECK_EQ_INT(tm_backend_parse("sgx ", &k), -EINVAL);
    CHECK_EQ_INT(tm_backend_parse("simulation", &k), -EINVAL);
    CHECK_EQ_INT(tm_backend_parse(NULL, &k), -EINVAL);
    CHECK_EQ_INT(k, TM_BACKEND_SGX);   /* untouched on failure */
}

static void test_select_sgx_without_device(void)
{
    unsetenv("TEEMATE_SGX_DEVICE");
    if (have_sgx_device())
        SKIP("this machine has /dev/sgx_enclave: the no-SGX message cannot be seen here");
    const struct tm_backend_ops *ops = NULL;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_backend_select(TM_BACKEND_SGX, &ops, &err), -ENOENT);
    CHECK(ops == NULL);
    CHECK_STR_CONTAINS(err.msg, "SGX backend: /dev/sgx_enclave does not exist (no SGX hardware or "
                                "driver on this machine); use --backend sim");
    printf("# %s\n", err.msg);
}

static void test_select_auto(void)
{
    const struct tm_backend_ops *ops = NULL;
    tm_error err = { 0 };
    setenv("TEEMATE_SGX_DEVICE", "/nonexistent/sgx_enclave", 1);
    CHECK_EQ_INT(tm_backend_select(TM_BACKEND_AUTO, &ops, &err), 0);
    CHECK(ops == &tm_backend_sim);
    unsetenv("TEEMATE_SGX_DEVICE");
    if (!have_sgx_device()) {
        ops = NULL;
        CHECK_EQ_INT(tm_backend_select(TM_BACKEND_AUTO, &ops, &err), 0);
        CHECK(ops == &tm_backend_sim);
    }
    ops = NULL;
    CHECK_EQ_INT(tm_backend_select(TM_BACKEND_SIM, &ops, &err), 0);
    CHECK(ops == &tm_backend_sim);
    CHECK(tm_backend_select((enum tm_backend_kind)42, &ops, &err) == -EINVAL);
}

/* A device that exists (/dev/null stands in): then the vDSO decides. */
static void test_select_sgx_vdso_check(void)
{
    void *fn;
    tm_error err = { 0 };
    bool has_vdso = tm_vdso_lookup(TM_VDSO_SGX_ENTER, &fn, &err) == 0;
    setenv("TEEMATE_SGX_DEVICE", "/dev/null", 1);
    const struct tm_backend_ops *ops = NULL;
    int ret = tm_backend_select(TM_BACKEND_SGX, &ops, &err);
    if (has_vdso) {
        CHECK(ret == 0 && ops == &tm_backend_sgx);
    } else {
        CHECK_EQ_INT(ret, -ENOENT);
        CHECK_STR_CONTAINS(err.msg, "kernel cannot enter enclaves");
        CHECK_STR_CONTAINS(err.msg, "CONFIG_X86_SGX");
        printf("# %s\n", err.msg);
        ops = NULL;
        CHECK_EQ_INT(tm_backend_select(TM_BACKEND_AUTO, &ops, &err), -ENOENT);   /* no silent sim */
    }
    unsetenv("TEEMATE_SGX_DEVICE");
}

static void test_create_missing_device(void)
{
    setenv("TEEMATE_SGX_DEVICE", "/nonexistent/sgx_enclave", 1);
    struct sgx_secs secs = { .size = 1 << 20, .ssa_frame_size = 1 };
    struct tm_backend_enclave *e = NULL;
    uint64_t base = 0;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_backend_sgx.create(&secs, &e, &base, &err), -ENOENT);
    CHECK(e == NULL);
    CHECK_STR_CONTAINS(err.msg, "SGX backend: /nonexistent/sgx_enclave does not exist (no SGX "
                                "hardware or driver on this machine); use --backend sim");
    /* A size the driver would refuse is refused before the device is opened. */
    secs.size = 3 << 20;
    CHECK_EQ_INT(tm_backend_sgx.create(&secs, &e, &base, &err), -EINVAL);
    unsetenv("TEEMATE_SGX_DEVICE");
}

/* A device that is no SGX device: create must fail cleanly (vDSO absent here,
 * or the ioctl refused) and leave nothing behind (ASan checks leaks). */
static void test_create_wrong_device(void)
{
    setenv("TEEMATE_SGX_DEVICE", "/dev/null", 1);
    struct sgx_secs secs = { .size = 1 << 20, .ssa_frame_size = 1 };
    struct tm_backend_enclave *e = NULL;
    uint64_t base = 0;
    tm_error err = { 0 };
    int ret = tm_backend_sgx.create(&secs, &e, &base, &err);
    CHECK(ret < 0 && e == NULL && err.msg[0]);
    printf("# create on /dev/null: %s\n", err.msg);
    unsetenv("TEEMATE_SGX_DEVICE");
}

static void test_permission_message(void)
{
    char path[] = "/tmp/tm-test-sgxdev.XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    chmod(path, 0660);
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_sgx_device_error(path, EACCES, &err), -EACCES);
    CHECK_STR_CONTAINS(err.msg, "no permission to open");
    CHECK_STR_CONTAINS(err.msg, path);
    CHECK_STR_CONTAINS(err.msg, "group");
    CHECK_STR_CONTAINS(err.msg, "660");
    printf("# %s\n", err.msg);
    unlink(path);
    CHECK_EQ_INT(tm_sgx_device_error(path, EACCES, &err), -EACCES);   /* gone: generic advice */
    CHECK_STR_CONTAINS(err.msg, "group 'sgx'");
    CHECK_EQ_INT(tm_sgx_device_error(path, ENXIO, &err), -ENXIO);
    CHECK_STR_CONTAINS(err.msg, "cannot open");
}

/* ---- on hardware ---- */

/* hello.elf built, measured, signed and entered through the sgx backend. */
static void test_hardware_hello(void)
{
    unsetenv("TEEMATE_SGX_DEVICE");
    if (!have_sgx_device())
        SKIP(NEEDS_SGX);
    const char *paths[] = { "build-san/examples/hello.elf", "build/examples/hello.elf" };
    struct tm_image *image = NULL;
    tm_error err = { 0 };
    for (size_t i = 0; i < 2 && !image; i++)
        if (access(paths[i], R_OK) == 0 && tm_image_load(paths[i], &image, &err) < 0)
            fprintf(stderr, "  %s\n", err.msg);
    if (!image)
        SKIP("no examples/hello.elf built");
    uint8_t mrenclave[32];
    struct sgx_sigstruct ss;
    struct tm_sign_options o;
    tm_sign_options_default(&o);
    _cleanup_(tm_key_freep) struct evp_pkey_st *key = NULL;
    struct tm_enclave *e = NULL;
    int ret = tm_measure_layout(&image->layout, NULL, NULL, mrenclave, &err);
    if (ret == 0)
        ret = tm_key_generate(&key, &err);
    if (ret == 0)
        ret = tm_sigstruct_sign(&ss, mrenclave, &o, key, &err);
    if (ret == 0)
        ret = tm_enclave_build(image, &ss, &tm_backend_sgx, &e, &err);
    if (ret < 0)
        fprintf(stderr, "  %s\n", err.msg);
    CHECK(ret == 0);
    if (ret == 0) {
        /* One entry and one exit: the ecall returns or asks for its first
         * ocall (hello prints); servicing ocalls is the ecall layer's job. */
        static char argv0[] = "hello";
        static uint8_t out[4096], scratch[TM_OCALL_SCRATCH_MIN];
        struct tm_ecall_args args = {
            .ecall = TM_ECALL_MAIN, .in = (uintptr_t)argv0, .in_size = sizeof(argv0),
            .out = (uintptr_t)out, .out_size = sizeof(out),
            .scratch = (uintptr_t)scratch, .scratch_size = sizeof(scratch),
        };
        struct tm_enter_result res;
        ret = e->ops->enter(e->be, tm_enclave_tcs_offset(e, 0), TM_ECALL_MAIN, (uintptr_t)&args, 0,
                            &res, &err);
        if (ret < 0)
            fprintf(stderr, "  %s\n", err.msg);
        CHECK(ret == 0 && res.outcome == TM_ENTER_EEXIT &&
              (res.rdi == TM_EXIT_RETURN || res.rdi == TM_EXIT_OCALL));
        CHECK(e->ops->epc_pages(e->be) > 0);
        tm_enclave_destroy(e);
    }
    tm_image_free(image);
}

int main(void)
{
    RUN(test_vdso_sgx_symbol);
    RUN(test_vdso_clock_gettime_works);
    RUN(test_vdso_version_and_kind);
    RUN(test_vdso_truncated);
    RUN(test_vdso_bad_offsets);
    RUN(test_vdso_random_corruption);
    RUN(test_vdso_call_wrapper);
    RUN(test_run_result);
    RUN(test_ioctl_abi);
    RUN(test_shared_ioctl_abi);
    RUN(test_backend_parse);
    RUN(test_select_sgx_without_device);
    RUN(test_select_auto);
    RUN(test_select_sgx_vdso_check);
    RUN(test_create_missing_device);
    RUN(test_create_wrong_device);
    RUN(test_permission_message);
    RUN(test_attach_bad_fds);
    RUN(test_shared_ops_fake_device);
    RUN(test_hardware_hello);
    TEST_EXIT();
}
