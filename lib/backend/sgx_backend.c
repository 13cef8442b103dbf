/* The sgx backend: enclaves built by the upstream Linux driver (5.11+) through
 * /dev/sgx_enclave and entered through the vDSO. See the kernel's
 * Documentation/arch/x86/sgx.rst and arch/x86/kernel/cpu/sgx/ioctl.c for the
 * rules quoted in the comments below. */
#include <asm/sgx.h>
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/sgx.h"
#include "backend/sgx_vdso.h"
#include "util/cleanup.h"

#define PAGE SGX_PAGE_SIZE
#define ADD_CHUNK (256 * PAGE)   /* bytes copied to the bounce buffer per round */

const char *tm_sgx_device_path(void)
{
    const char *p = getenv("TEEMATE_SGX_DEVICE");
    return p && *p ? p : TM_SGX_DEVICE;
}

int tm_sgx_device_error(const char *path, int errno_value, tm_error *err)
{
    if (errno_value == ENOENT)
        return tm_error_set(err, ENOENT,
                            "SGX backend: %s does not exist (no SGX hardware or driver on this "
                            "machine); use --backend sim", path);
    if (errno_value == EACCES || errno_value == EPERM) {
        struct stat st;
        const struct group *g = stat(path, &st) == 0 ? getgrgid(st.st_gid) : NULL;
        if (g)
            return tm_error_set(err, errno_value,
                                "SGX backend: no permission to open %s read-write: it is mode %03o, "
                                "group '%s'; add the user to that group (usermod -aG %s USER, then "
                                "log in again)", path, (unsigned)(st.st_mode & 0777), g->gr_name,
                                g->gr_name);
        return tm_error_set(err, errno_value,
                            "SGX backend: no permission to open %s read-write; the user needs "
                            "read and write access (usually membership of group 'sgx')", path);
    }
    errno = errno_value;
    return tm_error_sys(err, "SGX backend: cannot open %s", path);
}

int tm_sgx_check(tm_error *err)
{
    const char *path = tm_sgx_device_path();
    if (access(path, F_OK) < 0)
        return tm_sgx_device_error(path, errno, err);
    if (access(path, R_OK | W_OK) < 0)
        return tm_sgx_device_error(path, errno, err);
    void *fn;
    if (tm_vdso_lookup(TM_VDSO_SGX_ENTER, &fn, err) < 0)
        return tm_error_prefix(err, "SGX backend: %s exists but the kernel cannot enter enclaves "
                               "(vDSO without %s: kernel built without CONFIG_X86_SGX?)", path,
                               TM_VDSO_SGX_ENTER);
    return 0;
}

/* ---- EDMM (SGX2) ----
 * Issue 4 adds pages after EINIT: the host maps on-demand ranges MAP_SHARED
 * without adding them; the enclave's first touch faults, the driver EAUGs a
 * pending page and the enclave EACCEPTs it. Trimming or new TCSs use
 * SGX_IOC_ENCLAVE_MODIFY_TYPES / RESTRICT_PERMISSIONS / REMOVE_PAGES. All of it
 * needs SGX2 in the CPU (CPUID.(EAX=12H,ECX=0):EAX[1]) and a 6.0+ driver. */
bool tm_sgx_cpu_has_sgx2(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 2)))   /* SGX */
        return false;
    if (__get_cpuid_max(0, NULL) < 0x12)
        return false;
    __cpuid_count(0x12, 0, a, b, c, d);
    return a & (1u << 1);
}

/* After EINIT: a zero-length REMOVE_PAGES is refused with EINVAL by a driver
 * that has the EDMM ioctls and SGX2, ENODEV without SGX2, ENOTTY before 6.0. */
static bool sgx_edmm_probe(struct tm_backend_enclave *e)
{
    if (!tm_sgx_cpu_has_sgx2())
        return false;
    struct sgx_enclave_remove_pages rp = { .offset = 0, .length = 0 };
    return ioctl(e->fd, SGX_IOC_ENCLAVE_REMOVE_PAGES, &rp) < 0 && errno == EINVAL;
}

/* ---- ECREATE ---- */

static int sgx_create(const struct sgx_secs *secs, struct tm_backend_enclave **out, uint64_t *base,
                      tm_error *err)
{
    uint64_t size = secs->size;
    if (size < 2 * PAGE || (size & (size - 1)) || size > (1ULL << 46))
        return tm_error_set(err, EINVAL, "enclave size %#llx is not a power of two of at least "
                            "two pages", (unsigned long long)size);
    const char *path = tm_sgx_device_path();
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return tm_sgx_device_error(path, errno, err);
    void *fn;
    int ret = tm_vdso_lookup(TM_VDSO_SGX_ENTER, &fn, err);
    if (ret < 0)
        return tm_error_prefix(err, "SGX backend: cannot enter enclaves on this kernel");

    /* ELRANGE must be naturally aligned: reserve twice the size and keep the
     * aligned half, so nothing else lands there before init maps it. */
    uint8_t *resv = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                         -1, 0);
    if (resv == MAP_FAILED)
        return tm_error_sys(err, "reserving %#llx bytes for ELRANGE", (unsigned long long)size);
    uint8_t *b = (uint8_t *)(((uintptr_t)resv + size - 1) & ~(uintptr_t)(size - 1));
    if (b > resv)
        munmap(resv, b - resv);
    if (b + size < resv + 2 * size)
        munmap(b + size, resv + 2 * size - (b + size));

    _cleanup_free_ struct sgx_secs *page = aligned_alloc(PAGE, PAGE);   /* the driver reads a page */
    struct tm_backend_enclave *e = calloc(1, sizeof(*e));
    if (!page || !e) {
        free(e);
        munmap(b, size);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    memcpy(page, secs, sizeof(*page));
    page->base = (uintptr_t)b;
    struct sgx_enclave_create c = { .src = (uintptr_t)page };
    if (ioctl(fd, SGX_IOC_ENCLAVE_CREATE, &c) < 0) {
        int saved = errno;
        free(e);
        munmap(b, size);
        errno = saved;
        if (saved == EIO)
            return tm_error_sys(err, "ECREATE refused the SECS (size %#llx, SSA frame %u pages, "
                                "attributes %#llx, XFRM %#llx, MISCSELECT %#x: one this CPU does "
                                "not support?)", (unsigned long long)size, secs->ssa_frame_size,
                                (unsigned long long)secs->attributes.flags,
                                (unsigned long long)secs->attributes.xfrm, secs->miscselect);
        if (saved == ENOMEM)
            return tm_error_sys(err, "SGX_IOC_ENCLAVE_CREATE: out of EPC");
        return tm_error_sys(err, "SGX_IOC_ENCLAVE_CREATE");
    }
    e->fd = TM_STEAL_FD(fd);
    e->base = (uintptr_t)b;
    e->size = size;
    e->enter = (vdso_sgx_enter_enclave_t)fn;
    *out = e;
    *base = e->base;
    return 0;
}

/* ---- EADD / EEXTEND ---- */

static const char *add_errno_reason(int e)
{
    switch (e) {
    case EINVAL: return "offset or length outside ELRANGE, bad SECINFO, or enclave already initialized";
    case EBUSY: return "page already added, or another ioctl on this enclave is running";
    case ENOMEM: return "out of EPC";
    case EIO: return "EADD/EEXTEND failed in the CPU (EPC lost across a suspend?)";
    case EACCES: return "source buffer on a noexec mapping";
    default: return strerror(e);
    }
}

int tm_sgx_record_range(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, uint64_t perm,
                        bool tcs, tm_error *err)
{
    struct sgx_range *last = e->nranges ? &e->ranges[e->nranges - 1] : NULL;
    if (last && last->offset + last->len == offset && last->perm == perm && last->tcs == tcs) {
        last->len += len;
        return 0;
    }
    if (e->nranges == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        struct sgx_range *r = realloc(e->ranges, cap * sizeof(*r));
        if (!r)
            return tm_error_set(err, ENOMEM, "out of memory");
        e->ranges = r;
        e->cap = cap;
    }
    e->ranges[e->nranges++] = (struct sgx_range){ offset, len, perm, tcs };
    return 0;
}

static void unmap_bounce(uint8_t **p)
{
    if (*p)
        munmap(*p, ADD_CHUNK);
}

/* ADD_PAGES until the driver took all of [offset, offset + len) from buf; it
 * may take part and return early (signal pending: count < length). */
static int add_chunk(struct tm_backend_enclave *e, const uint8_t *buf, uint64_t offset,
                     uint64_t len, const struct sgx_secinfo *si, bool measured, tm_error *err)
{
    uint64_t done = 0;
    while (done < len) {
        struct sgx_enclave_add_pages a = {
            .src = (uintptr_t)(buf + done), .offset = offset + done, .length = len - done,
            .secinfo = (uintptr_t)si, .flags = measured ? SGX_PAGE_MEASURE : 0,
        };
        int r = ioctl(e->fd, SGX_IOC_ENCLAVE_ADD_PAGES, &a);
        done += a.count;
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            return tm_error_set(err, errno, "SGX_IOC_ENCLAVE_ADD_PAGES at offset %#llx: %s",
                                (unsigned long long)(offset + done), add_errno_reason(errno));
        if (r == 0 && a.count == 0)
            return tm_error_set(err, EIO, "SGX_IOC_ENCLAVE_ADD_PAGES at offset %#llx made no "
                                "progress", (unsigned long long)(offset + done));
    }
    return 0;
}

static int sgx_add_pages(struct tm_backend_enclave *e, uint64_t offset, const void *src,
                         uint64_t len, uint64_t secinfo_flags, bool measured, tm_error *err)
{
    if (e->initialized)
        return tm_error_set(err, EINVAL, "EADD after EINIT");
    if ((offset | len) & (PAGE - 1) || !len || offset > e->size || len > e->size - offset)
        return tm_error_set(err, EINVAL, "EADD of %#llx bytes at %#llx: not page-aligned or "
                            "outside ELRANGE", (unsigned long long)len, (unsigned long long)offset);
    bool tcs = (secinfo_flags & SGX_SECINFO_PT_MASK) == SGX_SECINFO_TCS;
    struct sgx_secinfo si __attribute__((aligned(64))) = { .flags = secinfo_flags };
    if (tcs)   /* the CPU zeroes a TCS's permissions; the driver wants them zero */
        si.flags &= ~SGX_SECINFO_PERM_MASK;

    /* A page-aligned anonymous copy: the driver wants src page-aligned and in
     * a mapping that may be executable (it refuses noexec sources). */
    _cleanup_(unmap_bounce) uint8_t *buf = mmap(NULL, ADD_CHUNK, PROT_READ | PROT_WRITE,
                                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        buf = NULL;
        return tm_error_sys(err, "EADD bounce buffer");
    }
    for (uint64_t pos = 0; pos < len; pos += ADD_CHUNK) {
        uint64_t n = len - pos < ADD_CHUNK ? len - pos : ADD_CHUNK;
        if (src)
            memcpy(buf, (const uint8_t *)src + pos, n);   /* else: fresh zero pages */
        int ret = add_chunk(e, buf, offset + pos, n, &si, measured, err);
        if (ret < 0)
            return ret;
    }
    e->epc_pages += len / PAGE;
    return tm_sgx_record_range(e, offset, len,
                        tcs ? SGX_SECINFO_R | SGX_SECINFO_W : secinfo_flags & SGX_SECINFO_PERM_MASK,
                        tcs, err);
}

/* ---- EINIT ---- */

static const char *init_errno_reason(int e)
{
    switch (e) {
    case EPERM: return "EINIT refused the SIGSTRUCT (signature, MRENCLAVE vs the measurement, "
                       "attributes or MISCSELECT under their masks, or launch control)";
    case EACCES: return "the enclave asks for an attribute not allowed (PROVISIONKEY needs "
                        "/dev/sgx_provision)";
    case EINVAL: return "SIGSTRUCT vendor or reserved attribute/XFRM/MISCSELECT bits, or the "
                        "enclave is not in a state to initialize";
    case EIO: return "EINIT faulted (EPC lost across a suspend?)";
    default: return strerror(e);
    }
}

static int map_ranges(struct tm_backend_enclave *e, tm_error *err)
{
    for (size_t i = 0; i < e->nranges; i++) {
        const struct sgx_range *r = &e->ranges[i];
        if (!r->perm)
            continue;   /* stays PROT_NONE from the reservation */
        int prot = (r->perm & SGX_SECINFO_R ? PROT_READ : 0) |
                   (r->perm & SGX_SECINFO_W ? PROT_WRITE : 0) |
                   (r->perm & SGX_SECINFO_X ? PROT_EXEC : 0);
        void *at = (void *)(uintptr_t)(e->base + r->offset);
        if (mmap(at, r->len, prot, MAP_SHARED | MAP_FIXED, e->fd, 0) == MAP_FAILED) {
            if (errno == EPERM && (prot & PROT_EXEC))
                return tm_error_sys(err, "mapping enclave pages executable at offset %#llx (is "
                                    "/dev mounted noexec?)", (unsigned long long)r->offset);
            return tm_error_sys(err, "mapping enclave pages at offset %#llx with prot %#x",
                                (unsigned long long)r->offset, prot);
        }
    }
    return 0;
}

static int sgx_init(struct tm_backend_enclave *e, const struct sgx_sigstruct *sigstruct,
                    tm_error *err)
{
    if (e->initialized)
        return tm_error_set(err, EINVAL, "EINIT twice");
    _cleanup_free_ struct sgx_sigstruct *ss = aligned_alloc(PAGE, PAGE);   /* page-aligned copy */
    if (!ss)
        return tm_error_set(err, ENOMEM, "out of memory");
    memcpy(ss, sigstruct, sizeof(*ss));
    struct sgx_enclave_init in = { .sigstruct = (uintptr_t)ss };
    int r;
    do
        r = ioctl(e->fd, SGX_IOC_ENCLAVE_INIT, &in);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return tm_error_set(err, errno, "SGX_IOC_ENCLAVE_INIT: %s", init_errno_reason(errno));
    e->initialized = true;
    int ret = map_ranges(e, err);
    if (ret < 0)
        return ret;
    e->sgx2 = sgx_edmm_probe(e);
    return 0;
}

/* ---- EENTER / ERESUME ---- */

struct sgx_exit_regs {
    uint64_t rdi, rsi, rdx;
};

/* The vDSO calls this on every way out with the registers as the enclave left
 * them (after an exception: vector, error code, address). Returning 0 hands 0
 * back to our caller instead of re-entering. */
static int sgx_exit_handler(long rdi, long rsi, long rdx, long ursp, long r8, long r9,
                            struct sgx_enclave_run *run)
{
    (void)ursp, (void)r8, (void)r9;
    struct sgx_exit_regs *regs = (struct sgx_exit_regs *)(uintptr_t)run->user_data;
    regs->rdi = (uint64_t)rdi;
    regs->rsi = (uint64_t)rsi;
    regs->rdx = (uint64_t)rdx;
    return 0;
}

static bool is_tcs(const struct tm_backend_enclave *e, uint64_t offset)
{
    for (size_t i = 0; i < e->nranges; i++)
        if (e->ranges[i].tcs && offset >= e->ranges[i].offset &&
            offset - e->ranges[i].offset < e->ranges[i].len)
            return true;
    return false;
}

static int sgx_run(struct tm_backend_enclave *e, unsigned leaf, uint64_t tcs_offset, uint64_t rdi,
                   uint64_t rsi, uint64_t rdx, struct tm_enter_result *res, tm_error *err)
{
    const char *what = leaf == SGX_EENTER ? "EENTER" : "ERESUME";
    if (!e->initialized)
        return tm_error_set(err, EINVAL, "%s before EINIT", what);
    if (!e->enter)
        return tm_error_set(err, ENOSYS, "%s: this kernel cannot enter enclaves (vDSO without %s: "
                            "kernel built without CONFIG_X86_SGX?)", what, TM_VDSO_SGX_ENTER);
    /* An attached process does not know the TCS offsets (they come out of
     * band): the CPU checks them, and an unmapped TCS faults (-EFAULT). */
    if ((tcs_offset & (PAGE - 1)) || tcs_offset >= e->size || (!e->attached && !is_tcs(e, tcs_offset)))
        return tm_error_set(err, EINVAL, "%s: offset %#llx is not a TCS", what,
                            (unsigned long long)tcs_offset);
    struct sgx_exit_regs regs = { 0 };
    struct sgx_enclave_run run = {
        .tcs = e->base + tcs_offset,
        .user_handler = (uintptr_t)sgx_exit_handler,
        .user_data = (uintptr_t)&regs,
    };
    int r = tm_sgx_vdso_call(rdi, rsi, rdx, leaf, 0, 0, &run, e->enter);
    if (r < 0)
        return tm_error_set(err, -r, "%s: __vdso_sgx_enter_enclave failed: %s", what, strerror(-r));
    return tm_sgx_run_result(&run, regs.rdi, regs.rsi, regs.rdx, tcs_offset, res, err);
}

int tm_sgx_run_result(const struct sgx_enclave_run *run, uint64_t rdi, uint64_t rsi, uint64_t rdx,
                      uint64_t tcs_offset, struct tm_enter_result *res, tm_error *err)
{
    memset(res, 0, sizeof(*res));
    if (run->function == SGX_EEXIT) {
        res->outcome = TM_ENTER_EEXIT;
        res->rdi = rdi;
        res->rsi = rsi;
        res->rdx = rdx;
        return 0;
    }
    unsigned vector = run->exception_vector;
    /* EAX is the leaf that was running: still EENTER when EENTER itself
     * faulted; ERESUME (set by the AEX) when the enclave took the exception. */
    if (run->function == SGX_EENTER) {
        if (vector == 13)
            return tm_error_set(err, EBUSY, "EENTER of TCS at offset %#llx raised #GP: the TCS is "
                                "busy (another thread is inside it)", (unsigned long long)tcs_offset);
        if (vector == 14)
            return tm_error_set(err, EFAULT, "EENTER: the TCS at offset %#llx is not mapped in this "
                                "process (not leased here): #PF at %#llx, error code %#x",
                                (unsigned long long)tcs_offset,
                                (unsigned long long)run->exception_addr, run->exception_error_code);
        return tm_error_set(err, EFAULT, "EENTER of TCS at offset %#llx raised exception %u "
                            "(error code %#x, address %#llx)", (unsigned long long)tcs_offset,
                            vector, run->exception_error_code,
                            (unsigned long long)run->exception_addr);
    }
    if (run->function != SGX_ERESUME)
        return tm_error_set(err, EPROTO, "the vDSO reported leaf %u", run->function);
    res->outcome = TM_ENTER_AEX;
    /* #BP and #OF come from INT3/INTO: software exceptions; the rest hardware. */
    unsigned type = vector == 3 || vector == 4 ? SGX_EXIT_TYPE_SOFTWARE : SGX_EXIT_TYPE_HARDWARE;
    res->exit_info = SGX_EXITINFO_VALID | (type << 8) | (vector & 0xFF);
    res->fault_addr = run->exception_addr;
    return 0;
}

static int sgx_enter(struct tm_backend_enclave *e, uint64_t tcs_offset, uint64_t rdi, uint64_t rsi,
                     uint64_t rdx, struct tm_enter_result *res, tm_error *err)
{
    return sgx_run(e, SGX_EENTER, tcs_offset, rdi, rsi, rdx, res, err);
}

static int sgx_resume(struct tm_backend_enclave *e, uint64_t tcs_offset,
                      struct tm_enter_result *res, tm_error *err)
{
    return sgx_run(e, SGX_ERESUME, tcs_offset, 0, 0, 0, res, err);
}

static uint64_t sgx_epc_pages(struct tm_backend_enclave *e)
{
    return e->epc_pages;
}

static void sgx_destroy(struct tm_backend_enclave *e)
{
    if (!e)
        return;
    munmap((void *)(uintptr_t)e->base, e->size);   /* our mappings hold the enclave too */
    close(e->fd);
    free(e->ranges);
    free(e);
}

const struct tm_backend_ops tm_backend_sgx = {
    .name = "sgx",
    .create = sgx_create,
    .add_pages = sgx_add_pages,
    .init = sgx_init,
    .enter = sgx_enter,
    .resume = sgx_resume,
    .epc_pages = sgx_epc_pages,
    .destroy = sgx_destroy,
    .export_fds = tm_sgx_export_fds,
    .attach = tm_sgx_attach,
    .map = tm_sgx_map,
    .unmap = tm_sgx_unmap,
    .trim = tm_sgx_trim,
    .make_tcs = tm_sgx_make_tcs,
    .remove = tm_sgx_remove,
    .epc_pages_in = tm_sgx_epc_pages_in,
    .tcs_reclaim = tm_sgx_tcs_reclaim,
    .expand_stats = tm_sgx_expand_stats,
};
