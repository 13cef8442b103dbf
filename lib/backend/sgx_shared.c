/* The sgx backend's shared-enclave ops, on the upstream driver (Linux 6.0+
 * for the EDMM ioctls). Any process holding the enclave fd may map the
 * enclave, at SECS.BASE + offset with MAP_SHARED; the driver checks each
 * mapping against the permissions the pages were added with
 * (sgx_encl_may_map) and EAUGs a page on the fault of a page it does not
 * have yet (sgx_vma_fault, SGX2), which is how expand happens here: nothing
 * for user space to do. Not run on hardware: no machine here has SGX. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/sgx.h"
#include "backend/sgx_vdso.h"
#include "util/cleanup.h"

#define PAGE SGX_PAGE_SIZE
#define PROT_RWX (PROT_READ | PROT_WRITE | PROT_EXEC)
/* ioctl rounds in a row that made no progress (EAGAIN/EINTR/EBUSY: the
 * reclaimer holds a page, a signal came) before giving up. No sleeping. */
#define EDMM_RETRIES 1000
#ifndef SGX_PAGE_NOT_MODIFIABLE
#define SGX_PAGE_NOT_MODIFIABLE 20
#endif

int tm_sgx_export_fds(struct tm_backend_enclave *e, int fds[TM_BACKEND_MAX_FDS])
{
    fds[0] = e->fd;
    return 1;
}


/* An anonymous PROT_NONE reservation over [at, at + len). */
static int reserve(uint64_t at, uint64_t len, int extra_flags)
{
    void *p = mmap((void *)(uintptr_t)at, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra_flags, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    if ((uintptr_t)p != at) {   /* a kernel that ignores MAP_FIXED_NOREPLACE */
        munmap(p, len);
        return -EEXIST;
    }
    return 0;
}

/* ---- attach ---- */

int tm_sgx_attach(const int *fds, int nfds, uint64_t base, uint64_t size, struct tm_backend_enclave **out,
                  tm_error *err)
{
    if (nfds != 1)
        return tm_error_set(err, EINVAL, "attach: an sgx enclave is 1 fd (the enclave's), not %d", nfds);
    if (!base || size < 2 * PAGE || (size & (size - 1)) || (base & (size - 1)))
        return tm_error_set(err, EINVAL, "attach: ELRANGE %#llx+%#llx is not a naturally aligned "
                            "power-of-two range", (unsigned long long)base, (unsigned long long)size);
    struct stat st, dev;
    if (fstat(fds[0], &st) < 0)
        return tm_error_sys(err, "attach: fd %d", fds[0]);
    /* The driver cannot be asked for SECS.BASE and SIZE: they come out of
     * band; what can be checked is that the fd is the enclave device's. */
    const char *path = tm_sgx_device_path();
    if (stat(path, &dev) < 0)
        return tm_sgx_device_error(path, errno, err);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != dev.st_rdev)
        return tm_error_set(err, EINVAL, "attach: fd %d is not an enclave of %s", fds[0], path);
    _cleanup_close_ int fd = fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return tm_error_sys(err, "attach: cannot duplicate the enclave fd");
    int ret = reserve(base, size, MAP_FIXED_NOREPLACE);
    if (ret < 0) {
        errno = -ret;
        return tm_error_sys(err, "attach: ELRANGE %#llx-%#llx is not free in this process",
                            (unsigned long long)base, (unsigned long long)(base + size));
    }
    struct tm_backend_enclave *e = calloc(1, sizeof(*e));
    if (!e) {
        munmap((void *)(uintptr_t)base, size);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    e->fd = TM_STEAL_FD(fd);
    e->base = base;
    e->size = size;
    e->initialized = true;   /* an enclave is shared only once EINIT is done */
    e->attached = true;
    e->sgx2 = tm_sgx_cpu_has_sgx2();
    void *fn;
    tm_error verr;
    /* Without it enter says so; tm_backend_select has reported it already. */
    e->enter = tm_vdso_lookup(TM_VDSO_SGX_ENTER, &fn, &verr) == 0 ? (vdso_sgx_enter_enclave_t)fn : NULL;
    *out = e;
    return 0;
}

/* ---- views ---- */

/* The most of cap the driver allows on each page of [offset, offset + len),
 * already mapped PROT_NONE: try the whole range, halve where a page allows
 * less (sgx_encl_may_map: EACCES), and at one page take the largest subset of
 * cap it allows. A few calls per change of permissions, not one per page. */
static int protect_within(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, int cap, tm_error *err)
{
    void *at = (void *)(uintptr_t)(e->base + offset);
    if (mprotect(at, len, cap) == 0)
        return 0;
    if (errno != EACCES)
        return tm_error_sys(err, "map: cannot protect enclave pages %#llx-%#llx with %#x",
                            (unsigned long long)offset, (unsigned long long)(offset + len), cap);
    if (len > PAGE) {
        uint64_t half = len / PAGE / 2 * PAGE;
        int ret = protect_within(e, offset, half, cap, err);
        return ret < 0 ? ret : protect_within(e, offset + half, len - half, cap, err);
    }
    for (int p = (cap - 1) & cap;; p = (p - 1) & cap) {   /* proper subsets, largest first */
        if (mprotect(at, PAGE, p) == 0)
            return 0;
        if (errno != EACCES || p == 0)
            break;
    }
    return tm_error_sys(err, "map: the driver allows no protection for the enclave page at %#llx",
                        (unsigned long long)offset);
}

int tm_sgx_map(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, int prot, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "map", offset, len, err);
    if (ret < 0)
        return ret;
    if (prot & ~PROT_RWX)
        return tm_error_set(err, EINVAL, "map: protection %#x is not PROT_READ/WRITE/EXEC", prot);
    uint64_t at = e->base + offset;
    /* The driver wants the address at SECS.BASE + offset; the file offset is
     * the same offset, so the mapping says what it maps. */
    if (mmap((void *)(uintptr_t)at, len, prot, MAP_SHARED | MAP_FIXED, e->fd, (off_t)offset) != MAP_FAILED)
        return 0;
    int saved = errno;
    if (saved == EACCES) {   /* some page allows less than prot: each page gets what it allows */
        if (mmap((void *)(uintptr_t)at, len, PROT_NONE, MAP_SHARED | MAP_FIXED, e->fd, (off_t)offset) !=
            MAP_FAILED) {
            ret = protect_within(e, offset, len, prot, err);
            if (ret < 0)
                reserve(at, len, MAP_FIXED);
            return ret;
        }
        saved = errno;
    }
    /* A failed MAP_FIXED may have unmapped the range: keep it reserved. */
    reserve(at, len, MAP_FIXED);
    errno = saved;
    if (saved == EPERM && (prot & PROT_EXEC))
        return tm_error_sys(err, "map: cannot map enclave pages %#llx-%#llx executable (is /dev mounted "
                            "noexec?)", (unsigned long long)offset, (unsigned long long)(offset + len));
    return tm_error_sys(err, "map: cannot map enclave pages %#llx-%#llx with prot %#x",
                        (unsigned long long)offset, (unsigned long long)(offset + len), prot);
}

int tm_sgx_unmap(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "unmap", offset, len, err);
    if (ret < 0)
        return ret;
    ret = reserve(e->base + offset, len, MAP_FIXED);
    if (ret < 0) {
        errno = -ret;
        return tm_error_sys(err, "unmap: cannot reserve enclave pages %#llx-%#llx again",
                            (unsigned long long)offset, (unsigned long long)(offset + len));
    }
    return 0;
}

/* ---- trim and remove ---- */

static const char *edmm_errno_reason(int e)
{
    switch (e) {
    case ENOTTY: return "the driver has no EDMM ioctls (Linux 6.0 or later is needed)";
    case ENODEV: return "this CPU has no SGX2 (EDMM)";
    case EINVAL: return "bad range, or the enclave is not initialized";
    default: return strerror(e);
    }
}

/* Whether [offset, offset + len) holds a TCS this process EADDed (the creator only knows). */
static bool overlaps_tcs(const struct tm_backend_enclave *e, uint64_t offset, uint64_t len, uint64_t *at)
{
    for (size_t i = 0; i < e->nranges; i++) {
        const struct sgx_range *r = &e->ranges[i];
        if (r->tcs && r->offset < offset + len && offset < r->offset + r->len) {
            *at = r->offset > offset ? r->offset : offset;
            return true;
        }
    }
    return false;
}

int tm_sgx_trim(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "trim", offset, len, err);
    if (ret < 0)
        return ret;
    if (!e->initialized)
        return tm_error_set(err, EPERM, "EMODT before EINIT is refused");
    uint64_t tcs;
    if (overlaps_tcs(e, offset, len, &tcs))   /* as the sim: only regular pages are trimmed here */
        return tm_error_set(err, EINVAL, "EMODT: the page at %#llx is a TCS; only regular pages are "
                            "trimmed here", (unsigned long long)tcs);
    uint64_t pos = offset, end = offset + len;
    unsigned stalls = 0;
    while (pos < end) {
        struct sgx_enclave_modify_types m = { .offset = pos, .length = end - pos, .page_type = SGX_PT_TRIM };
        int r = ioctl(e->fd, SGX_IOC_ENCLAVE_MODIFY_TYPES, &m);
        pos += m.count;
        if (r == 0)
            break;
        int en = errno;
        if (en == EAGAIN || en == EINTR || en == EBUSY) {
            stalls = m.count ? 0 : stalls + 1;
            if (stalls <= EDMM_RETRIES)
                continue;
            return tm_error_set(err, EAGAIN, "SGX_IOC_ENCLAVE_MODIFY_TYPES at offset %#llx made no "
                                "progress in %d tries", (unsigned long long)pos, EDMM_RETRIES);
        }
        stalls = 0;
        /* The page at pos kept its type: not in the enclave (EFAULT, no EMODT
         * result), pending or already modified (SGX_PAGE_NOT_MODIFIABLE), or
         * not a regular page, e.g. trimmed already (EINVAL; the range and the
         * enclave's state were checked above). Skipped, as in the sim. */
        if ((en == EFAULT && (m.result == 0 || m.result == SGX_PAGE_NOT_MODIFIABLE)) ||
            (en == EINVAL && pos < end)) {
            pos += PAGE;
            continue;
        }
        return tm_error_set(err, en, "SGX_IOC_ENCLAVE_MODIFY_TYPES (to PT_TRIM) at offset %#llx: %s "
                            "(EMODT result %llu)", (unsigned long long)pos, edmm_errno_reason(en),
                            (unsigned long long)m.result);
    }
    return 0;
}

/* SGX_IOC_ENCLAVE_MODIFY_TYPES to SGX_PAGE_TYPE_TCS (Linux 6.0): the driver
 * EMODTs the page, which must be an accepted regular page that may be
 * mapped read-write; the enclave then EACCEPTs it with PT_TCS|MODIFIED. */
int tm_sgx_make_tcs(struct tm_backend_enclave *e, uint64_t offset, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "EMODT", offset, PAGE, err);
    if (ret < 0)
        return ret;
    if (!e->initialized)
        return tm_error_set(err, EPERM, "EMODT before EINIT is refused");
    for (unsigned tries = 0;; tries++) {
        struct sgx_enclave_modify_types m = { .offset = offset, .length = PAGE, .page_type = SGX_PT_TCS };
        if (ioctl(e->fd, SGX_IOC_ENCLAVE_MODIFY_TYPES, &m) == 0)
            break;
        int en = errno;
        if ((en == EAGAIN || en == EINTR || en == EBUSY) && tries < EDMM_RETRIES)
            continue;
        return tm_error_set(err, en, "SGX_IOC_ENCLAVE_MODIFY_TYPES (to PT_TCS) at offset %#llx: %s "
                            "(EMODT result %llu)", (unsigned long long)offset, edmm_errno_reason(en),
                            (unsigned long long)m.result);
    }
    /* This process may now enter it (sgx_run checks its own record). */
    return e->attached ? 0 : tm_sgx_record_range(e, offset, PAGE, SGX_SECINFO_R | SGX_SECINFO_W, true, err);
}

int tm_sgx_remove(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, uint64_t *removed,
                  tm_error *err)
{
    uint64_t n = 0;
    if (removed)
        *removed = 0;
    int ret = tm_backend_range_check(e->size, "remove", offset, len, err);
    if (ret < 0)
        return ret;
    uint64_t pos = offset, end = offset + len;
    unsigned stalls = 0;
    while (pos < end && ret == 0) {
        struct sgx_enclave_remove_pages rp = { .offset = pos, .length = end - pos };
        int r = ioctl(e->fd, SGX_IOC_ENCLAVE_REMOVE_PAGES, &rp);
        pos += rp.count;
        n += rp.count / PAGE;
        if (r == 0)
            break;
        int en = errno;
        if (en == EAGAIN || en == EINTR || en == EBUSY) {
            stalls = rp.count ? 0 : stalls + 1;
            if (stalls > EDMM_RETRIES)
                ret = tm_error_set(err, EAGAIN, "SGX_IOC_ENCLAVE_REMOVE_PAGES at offset %#llx made no "
                                   "progress in %d tries", (unsigned long long)pos, EDMM_RETRIES);
            continue;
        }
        stalls = 0;
        if (en == EFAULT && pos < end)   /* not in the enclave: skipped */
            pos += PAGE;
        else if (en == EPERM)
            /* The driver removes accepted trims only: an EAUG'd page the
             * enclave never accepted stays until the enclave goes. */
            ret = tm_error_set(err, EBUSY, "EREMOVE: the page at offset %#llx is in use (not trimmed, or "
                               "its trim not EACCEPTed yet)", (unsigned long long)pos);
        else
            ret = tm_error_set(err, en, "SGX_IOC_ENCLAVE_REMOVE_PAGES at offset %#llx: %s",
                               (unsigned long long)pos, edmm_errno_reason(en));
    }
    if (removed)
        *removed = n;
    return ret;
}

/* ---- what this process knows ---- */

/* The driver does not say which pages an enclave holds. What this process
 * knows is what it EADDed (the creator); pages the kernel EAUGed on faults
 * are invisible to user space, so an attached process counts 0. */
uint64_t tm_sgx_epc_pages_in(struct tm_backend_enclave *e, uint64_t offset, uint64_t len)
{
    uint64_t n = 0, end = len > UINT64_MAX - offset ? UINT64_MAX : offset + len;
    for (size_t i = 0; i < e->nranges; i++) {
        const struct sgx_range *r = &e->ranges[i];
        uint64_t lo = r->offset > offset ? r->offset : offset;
        uint64_t hi = r->offset + r->len < end ? r->offset + r->len : end;
        if (lo < hi)
            n += (hi - lo) / PAGE;
    }
    return n;
}

/* The kernel AEXes a thread that dies inside an enclave, which leaves the
 * TCS free (its CSSA may be above 0 afterwards: the enclave's entry must
 * cope, as after any AEX nobody resumed). */
void tm_sgx_tcs_reclaim(struct tm_backend_enclave *e, uint64_t tcs_offset)
{
    (void)e, (void)tcs_offset;
}

/* Expand is the kernel's work on a fault; user space cannot see it. */
void tm_sgx_expand_stats(struct tm_backend_enclave *e, struct tm_expand_stats *st)
{
    (void)e;
    st->pages = 0;
    st->ms = 0;
}
