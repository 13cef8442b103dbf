/* The sim's enclave memory: ECREATE (a naturally aligned ELRANGE backed by an
 * EPC memfd, the CPU state in a second memfd), attaching other processes
 * (ELRANGE reserved, views mapped by sim_views.c), and TCS busy flags. */
#include "backend/sim.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enclave/measure.h"
#include "util/cleanup.h"

#define PAGE SGX_PAGE_SIZE

/* The state memfd: struct tm_sim_state, EPCM[npages], busy[npages]. */
static uint64_t state_epcm_off(void)
{
    return (sizeof(struct tm_sim_state) + 7) & ~7ULL;
}

static uint64_t state_busy_off(uint64_t npages)
{
    return state_epcm_off() + npages * sizeof(struct tm_sim_epcm);
}

static uint64_t state_bytes(uint64_t npages)
{
    return (state_busy_off(npages) + npages * sizeof(uint32_t) + PAGE - 1) & ~(PAGE - 1);
}

static struct tm_sim_enclave *enclave_new(void)
{
    struct tm_sim_enclave *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    if (pthread_rwlock_init(&e->views_lock, NULL) != 0) {
        free(e);
        return NULL;
    }
    e->epc_fd = e->state_fd = -1;
    return e;
}

void tm_sim_destroy(struct tm_sim_enclave *e)
{
    if (!e)
        return;
    if (e->base)
        munmap((void *)(uintptr_t)e->base, e->size);
    if (e->cpu_view)
        munmap(e->cpu_view, e->size);
    if (e->state)
        munmap(e->state, state_bytes(e->size / PAGE));
    if (e->epc_fd >= 0)
        close(e->epc_fd);
    if (e->state_fd >= 0)
        close(e->state_fd);
    if (e->measure) {
        tm_measure_free(e->measure);
        free(e->measure);
    }
    explicit_bzero(&e->keys, sizeof(e->keys));
    free(e->views);
    pthread_rwlock_destroy(&e->views_lock);
    free(e);
}

/* Counted from the EPCM, not kept beside it: a process killed between an
 * EPCM update and a counter's would leave the counter wrong for good. */
uint64_t tm_sim_epc_pages(struct tm_sim_enclave *e)
{
    return tm_sim_epc_pages_in(e, 0, e->size);
}

int tm_sim_epcm_scan(struct tm_sim_enclave *e, uint64_t offset, uint64_t len,
                     int (*fn)(struct tm_sim_enclave *e, uint64_t off, uint64_t len, void *arg), void *arg,
                     tm_error *err)
{
    if (offset >= e->size || len == 0)
        return 0;
    uint64_t end = len > e->size - offset ? e->size : offset + len;
    const uint64_t entry = sizeof(struct tm_sim_epcm), lo = state_epcm_off();
    off_t pos = (off_t)(lo + offset / PAGE * entry), stop = (off_t)(lo + (end + PAGE - 1) / PAGE * entry);
    while (pos < stop) {
        off_t data = lseek(e->state_fd, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            return 0;
        off_t hole = data < 0 ? -1 : lseek(e->state_fd, data, SEEK_HOLE);
        if (data < 0 || hole < 0)
            return tm_error_sys(err, "cannot scan the sim CPU state");
        if (data >= stop)
            return 0;
        /* Entries touching [data, hole), clipped to the range asked for. */
        uint64_t first = ((uint64_t)data - lo) / entry * PAGE;
        uint64_t last = ((uint64_t)(hole < stop ? hole : stop) - lo + entry - 1) / entry * PAGE;
        if (first < offset)
            first = offset & ~(PAGE - 1);
        if (last > end)
            last = end;
        if (last > first) {
            int ret = fn(e, first, last - first, arg);
            if (ret < 0)
                return ret;
        }
        pos = hole;
    }
    return 0;
}

static int count_valid(struct tm_sim_enclave *e, uint64_t off, uint64_t len, void *arg)
{
    uint64_t *n = arg;
    for (uint64_t p = off / PAGE; p < (off + len + PAGE - 1) / PAGE; p++)
        *n += tm_sim_epcm_load(&e->epcm[p]).valid;
    return 0;
}

uint64_t tm_sim_epc_pages_in(struct tm_sim_enclave *e, uint64_t offset, uint64_t len)
{
    uint64_t n = 0;
    tm_error err;
    if (tm_sim_epcm_scan(e, offset, len, count_valid, &n, &err) < 0) {
        /* lseek on a memfd does not fail; if it did, count every entry. */
        n = 0;
        uint64_t end = offset < e->size ? (len > e->size - offset ? e->size : offset + len) : offset;
        count_valid(e, offset, end > offset ? end - offset : 0, &n);
    }
    return n;
}

/* ---- ECREATE's checks ---- */

static uint64_t read_xcr0(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1U << 27)))   /* OSXSAVE */
        return SGX_XFRM_LEGACY;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* Bytes of the XSAVE area for the components in xfrm (legacy region + header,
 * then each extended component at its standard offset). */
static uint64_t xsave_size(uint64_t xfrm)
{
    uint64_t end = 512 + 64;
    for (unsigned i = 2; i < 63; i++) {
        unsigned size, offset, c, d;
        if ((xfrm & (1ULL << i)) && __get_cpuid_count(0xD, i, &size, &offset, &c, &d) &&
            offset + size > end)
            end = offset + size;
    }
    return end;
}

/* Flags the sim supports; CET and AEX-Notify are not simulated. */
#define SIM_ATTR_ALLOWED                                                                   \
    (SGX_ATTR_DEBUG | SGX_ATTR_MODE64BIT | SGX_ATTR_PROVISIONKEY | SGX_ATTR_EINITTOKENKEY | \
     SGX_ATTR_KSS)

static bool all_zero(const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i])
            return false;
    return true;
}

/* The SECS checks ECREATE makes (#GP on hardware), as messages. */
static int secs_check(const struct sgx_secs *s, tm_error *err)
{
    uint64_t flags = s->attributes.flags, xfrm = s->attributes.xfrm;
    if (s->size < 2 * PAGE || (s->size & (s->size - 1)))
        return tm_error_set(err, EINVAL, "ECREATE: SECS.SIZE 0x%llx is not a power of two of at least two pages",
                            (unsigned long long)s->size);
    if (s->size > TM_SIM_MAX_ENCLAVE_SIZE)
        return tm_error_set(err, EINVAL, "ECREATE: SECS.SIZE 0x%llx is above the maximum enclave size 0x%llx",
                            (unsigned long long)s->size, TM_SIM_MAX_ENCLAVE_SIZE);
    if (!(flags & SGX_ATTR_MODE64BIT))
        return tm_error_set(err, EINVAL, "ECREATE: ATTRIBUTES.MODE64BIT must be set (only 64-bit enclaves run here)");
    if (flags & SGX_ATTR_INIT)
        return tm_error_set(err, EINVAL, "ECREATE: ATTRIBUTES.INIT must be clear");
    if (flags & ~(SIM_ATTR_ALLOWED))
        return tm_error_set(err, EINVAL, "ECREATE: ATTRIBUTES.FLAGS 0x%llx has reserved or unsupported bits 0x%llx",
                            (unsigned long long)flags, (unsigned long long)(flags & ~(SIM_ATTR_ALLOWED)));
    if ((xfrm & SGX_XFRM_LEGACY) != SGX_XFRM_LEGACY)
        return tm_error_set(err, EINVAL, "ECREATE: XFRM 0x%llx lacks x87 and SSE (bits 0 and 1)",
                            (unsigned long long)xfrm);
    uint64_t xcr0 = read_xcr0();
    if (xfrm & ~xcr0)
        return tm_error_set(err, EINVAL, "ECREATE: XFRM 0x%llx asks for state this CPU does not enable (XCR0 0x%llx)",
                            (unsigned long long)xfrm, (unsigned long long)xcr0);
    if (((xfrm >> 3) & 1) != ((xfrm >> 4) & 1))
        return tm_error_set(err, EINVAL, "ECREATE: XFRM 0x%llx must set MPX bits 3 and 4 together",
                            (unsigned long long)xfrm);
    if ((xfrm & 0xE0) && ((xfrm & 0xE0) != 0xE0 || !(xfrm & 0x4)))
        return tm_error_set(err, EINVAL, "ECREATE: XFRM 0x%llx must set AVX-512 bits 5-7 together, with AVX",
                            (unsigned long long)xfrm);
    if (s->miscselect & ~SGX_MISC_EXINFO)
        return tm_error_set(err, EINVAL, "ECREATE: MISCSELECT 0x%x has bits other than EXINFO", s->miscselect);
    if (s->ssa_frame_size < 1)
        return tm_error_set(err, EINVAL, "ECREATE: SSAFRAMESIZE must be at least one page");
    uint64_t need = xsave_size(xfrm) + (s->miscselect & SGX_MISC_EXINFO ? sizeof(struct sgx_ssa_exinfo) : 0) +
                    sizeof(struct sgx_ssa_gpr);
    if (need > (uint64_t)s->ssa_frame_size * PAGE)
        return tm_error_set(err, EINVAL, "ECREATE: an SSA frame of %u page(s) cannot hold the %llu bytes XFRM 0x%llx needs",
                            s->ssa_frame_size, (unsigned long long)need, (unsigned long long)xfrm);
    if (!(flags & SGX_ATTR_KSS) && (s->config_svn || !all_zero(s->config_id, sizeof(s->config_id))))
        return tm_error_set(err, EINVAL, "ECREATE: CONFIGID and CONFIGSVN need ATTRIBUTES.KSS");
    if (!all_zero(s->reserved1, sizeof(s->reserved1)) || !all_zero(s->reserved2, sizeof(s->reserved2)) ||
        !all_zero(s->reserved3, sizeof(s->reserved3)) || !all_zero(s->reserved4, sizeof(s->reserved4)))
        return tm_error_set(err, EINVAL, "ECREATE: SECS reserved fields must be zero");
    return 0;
}

/* ---- mappings ---- */

/* Where ELRANGEs go: far from where the kernel puts a process's own mmaps
 * (top-down from below the stack, near 0x7fxx...) and its PIE image and
 * brk heap (0x55..-0x56..), and above ASan's shadow (which ends at
 * 0x10007fff8000). Every attaching process must find ELRANGE free at the
 * same address; a base next to the creator's libraries collides with
 * another process's at random. */
#define ELRANGE_ZONE_START 0x200000000000ULL
#define ELRANGE_ZONE_END 0x500000000000ULL
#define ELRANGE_ZONE_TRIES 64

static bool reserve_exact(uintptr_t at, uint64_t size)
{
    void *r = mmap((void *)at, size, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == MAP_FAILED)
        return false;
    if ((uintptr_t)r != at) {   /* a kernel that ignores MAP_FIXED_NOREPLACE */
        munmap(r, size);
        return false;
    }
    return true;
}

/* A naturally aligned free range of size bytes: a random aligned place in
 * the ELRANGE zone; failing that, anywhere (reserve twice the size, keep the
 * aligned middle, give the rest back). */
static int reserve_aligned(uint64_t size, uint64_t *base, tm_error *err)
{
    uint64_t places = size <= ELRANGE_ZONE_END - ELRANGE_ZONE_START
                          ? (ELRANGE_ZONE_END - ELRANGE_ZONE_START) / size : 0;
    for (int i = 0; places && i < ELRANGE_ZONE_TRIES; i++) {
        uint64_t pick;
        if (getentropy(&pick, sizeof pick) < 0)
            break;
        uintptr_t at = ELRANGE_ZONE_START + (pick % places) * size;
        if (reserve_exact(at, size)) {
            *base = at;
            return 0;
        }
    }
    void *r = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED)
        return tm_error_sys(err, "ECREATE: cannot reserve 0x%llx bytes of address space for ELRANGE",
                            (unsigned long long)(2 * size));
    uintptr_t start = (uintptr_t)r, aligned = (start + size - 1) & ~(uintptr_t)(size - 1);
    if (aligned > start)
        munmap(r, aligned - start);
    if (start + 2 * size > aligned + size)
        munmap((void *)(aligned + size), start + 2 * size - (aligned + size));
    *base = aligned;
    return 0;
}

static int map_state(struct tm_sim_enclave *e, tm_error *err)
{
    uint64_t npages = e->size / PAGE;
    void *p = mmap(NULL, state_bytes(npages), PROT_READ | PROT_WRITE, MAP_SHARED, e->state_fd, 0);
    if (p == MAP_FAILED)
        return tm_error_sys(err, "cannot map the sim CPU state");
    e->state = p;
    e->epcm = (struct tm_sim_epcm *)((uint8_t *)p + state_epcm_off());
    e->tcs_busy = (uint32_t *)((uint8_t *)p + state_busy_off(npages));
    return 0;
}

static int map_cpu_view(struct tm_sim_enclave *e, tm_error *err)
{
    void *p = mmap(NULL, e->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, e->epc_fd, 0);
    if (p == MAP_FAILED)
        return tm_error_sys(err, "cannot map the EPC for the simulated CPU");
    e->cpu_view = p;
    return 0;
}

/* ---- ECREATE ---- */

static int ecreate(struct tm_sim_enclave *e, const struct sgx_secs *secs, tm_error *err)
{
    e->size = secs->size;
    uint64_t npages = e->size / PAGE;
    e->epc_fd = memfd_create("teemate-epc", MFD_CLOEXEC);
    e->state_fd = memfd_create("teemate-sim-state", MFD_CLOEXEC);
    if (e->epc_fd < 0 || e->state_fd < 0)
        return tm_error_sys(err, "ECREATE: cannot create the EPC memfd");
    /* Sparse: the EPC costs memory only for pages really added. */
    if (ftruncate(e->epc_fd, (off_t)e->size) < 0 || ftruncate(e->state_fd, (off_t)state_bytes(npages)) < 0)
        return tm_error_sys(err, "ECREATE: cannot size the EPC (0x%llx bytes)", (unsigned long long)e->size);
    int ret = map_state(e, err);
    if (ret == 0)
        ret = map_cpu_view(e, err);
    if (ret < 0)
        return ret;

    uint64_t base = 0;
    ret = reserve_aligned(e->size, &base, err);
    if (ret < 0)
        return ret;
    /* Enclave memory is the EPC itself, inaccessible until pages are added. */
    if (mmap((void *)(uintptr_t)base, e->size, PROT_NONE, MAP_SHARED | MAP_FIXED | MAP_NORESERVE, e->epc_fd, 0) ==
        MAP_FAILED) {
        ret = tm_error_sys(err, "ECREATE: cannot map the EPC at ELRANGE");
        munmap((void *)(uintptr_t)base, e->size);
        return ret;
    }
    e->base = base;
    ret = tm_sim_views_init_full(e, err);
    if (ret < 0)
        return ret;

    struct tm_sim_state *st = e->state;
    st->secs = *secs;
    st->secs.base = base;
    memset(st->secs.mrenclave, 0, sizeof(st->secs.mrenclave));
    memset(st->secs.mrsigner, 0, sizeof(st->secs.mrsigner));
    st->npages = npages;
    st->magic = TM_SIM_STATE_MAGIC;

    struct tm_measure *m = calloc(1, sizeof(*m));
    if (!m)
        return tm_error_set(err, ENOMEM, "ECREATE: out of memory");
    ret = tm_measure_init(m, NULL, NULL, err);
    if (ret < 0) {
        free(m);
        return ret;
    }
    e->measure = m;
    ret = tm_measure_ecreate(m, secs->ssa_frame_size, secs->size, err);
    if (ret == 0)
        ret = tm_sim_keys_init(e, err);
    return ret;
}

int tm_sim_ecreate(const struct sgx_secs *secs, struct tm_sim_enclave **out, tm_error *err)
{
    int ret = secs_check(secs, err);
    if (ret < 0)
        return ret;
    struct tm_sim_enclave *e = enclave_new();
    if (!e)
        return tm_error_set(err, ENOMEM, "ECREATE: out of memory");
    ret = ecreate(e, secs, err);
    if (ret < 0) {
        tm_sim_destroy(e);
        return ret;
    }
    *out = e;
    return 0;
}

/* ---- attaching ---- */

static int attach(struct tm_sim_enclave *e, int epc_fd, int state_fd, uint64_t base, uint64_t size,
                  tm_error *err)
{
    e->epc_fd = fcntl(epc_fd, F_DUPFD_CLOEXEC, 0);
    e->state_fd = fcntl(state_fd, F_DUPFD_CLOEXEC, 0);
    if (e->epc_fd < 0 || e->state_fd < 0)
        return tm_error_sys(err, "attach: cannot duplicate the enclave fds");
    struct stat est, sst;
    if (fstat(e->epc_fd, &est) < 0 || fstat(e->state_fd, &sst) < 0)
        return tm_error_sys(err, "attach: cannot stat the enclave fds");
    struct tm_sim_state head;
    if ((uint64_t)sst.st_size < sizeof(head) || pread(e->state_fd, &head, sizeof(head), 0) != (ssize_t)sizeof(head))
        return tm_error_set(err, EINVAL, "attach: the state fd is not a sim enclave's");
    uint64_t hsize = head.secs.size, hbase = head.secs.base;
    if (head.magic != TM_SIM_STATE_MAGIC || hsize < 2 * PAGE || (hsize & (hsize - 1)) ||
        hsize > TM_SIM_MAX_ENCLAVE_SIZE || head.npages != hsize / PAGE || (hbase & (hsize - 1)) ||
        (uint64_t)est.st_size != hsize || (uint64_t)sst.st_size < state_bytes(head.npages))
        return tm_error_set(err, EINVAL, "attach: the fds do not describe a sim enclave");
    if (hbase != base || hsize != size)
        return tm_error_set(err, EINVAL, "attach: the fds are an enclave at 0x%llx-0x%llx, not 0x%llx-0x%llx",
                            (unsigned long long)hbase, (unsigned long long)(hbase + hsize),
                            (unsigned long long)base, (unsigned long long)(base + size));
    e->size = size;
    /* Reserved, not mapped: the EPC shows up only in the views map() makes,
     * so another container's pages are not in this address space at all.
     * Reserved first, so the mappings below cannot land inside ELRANGE. */
    void *p = mmap((void *)(uintptr_t)base, size, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return tm_error_sys(err, "attach: ELRANGE 0x%llx-0x%llx is not free in this process",
                            (unsigned long long)base, (unsigned long long)(base + size));
    if ((uintptr_t)p != base) {   /* a kernel that ignores MAP_FIXED_NOREPLACE */
        munmap(p, size);
        return tm_error_set(err, EEXIST, "attach: ELRANGE 0x%llx-0x%llx is not free in this process",
                            (unsigned long long)base, (unsigned long long)(base + size));
    }
    e->base = base;
    int ret = map_state(e, err);
    if (ret == 0)
        ret = map_cpu_view(e, err);
    if (ret == 0)
        ret = tm_sim_keys_init(e, err);
    return ret;
}

int tm_sim_attach(int epc_fd, int state_fd, uint64_t base, uint64_t size, struct tm_sim_enclave **out,
                  tm_error *err)
{
    struct tm_sim_enclave *e = enclave_new();
    if (!e)
        return tm_error_set(err, ENOMEM, "attach: out of memory");
    int ret = attach(e, epc_fd, state_fd, base, size, err);
    if (ret < 0) {
        tm_sim_destroy(e);
        return ret;
    }
    *out = e;
    return 0;
}

/* ---- TCS ---- */

struct sgx_tcs *tm_sim_tcs(struct tm_sim_enclave *e, uint64_t tcs_offset)
{
    if ((tcs_offset & (PAGE - 1)) || tcs_offset >= e->size)
        return NULL;
    struct tm_sim_epcm m = tm_sim_epcm_load(&e->epcm[tcs_offset / PAGE]);
    if (!m.valid || m.type != SGX_PT_TCS || m.pending || m.modified)
        return NULL;
    return (struct sgx_tcs *)(e->cpu_view + tcs_offset);
}

int tm_sim_tcs_acquire(struct tm_sim_enclave *e, uint64_t tcs_offset, tm_error *err)
{
    if (!__atomic_load_n(&e->state->initialized, __ATOMIC_ACQUIRE))
        return tm_error_set(err, EINVAL, "EENTER: the enclave is not initialised (no EINIT yet)");
    if (!tm_sim_tcs(e, tcs_offset))
        return tm_error_set(err, EINVAL, "EENTER: 0x%llx is not a TCS of this enclave",
                            (unsigned long long)tcs_offset);
    uint32_t idle = 0;
    if (!__atomic_compare_exchange_n(&e->tcs_busy[tcs_offset / PAGE], &idle, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return tm_error_set(err, EBUSY, "TCS at 0x%llx is busy", (unsigned long long)tcs_offset);
    return 0;
}

void tm_sim_tcs_release(struct tm_sim_enclave *e, uint64_t tcs_offset)
{
    if (tcs_offset < e->size && !(tcs_offset & (PAGE - 1)))
        __atomic_store_n(&e->tcs_busy[tcs_offset / PAGE], 0, __ATOMIC_RELEASE);
}
