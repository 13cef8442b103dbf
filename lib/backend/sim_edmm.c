/* SGX2 in the sim: the host EAUGs a pending page; the enclave EACCEPTs it
 * (or EACCEPTCOPYs into it) before it can touch it, and EMODPE extends a
 * page's permissions. EPCM updates are compare-and-swap on the shared entry,
 * so processes sharing the enclave see each change whole.
 *
 * Expand: an EACCEPT of a page never added faults on hardware, and the
 * upstream driver answers that fault (sgx_vma_fault) by EAUGing the page when
 * the address lies in a VMA of the enclave, after which EACCEPT runs again.
 * Here the same happens inline, for pages inside this process's on-demand
 * views whose cap allows writing. */
#include "backend/sim.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "util/clock.h"

#define PAGE SGX_PAGE_SIZE
/* SECINFO.FLAGS bits the in-enclave leaves look at; the rest is reserved. */
#define LEAF_FLAGS (SGX_SECINFO_PERM_MASK | SGX_SECINFO_PENDING | SGX_SECINFO_MODIFIED | SGX_SECINFO_PR | \
                    SGX_SECINFO_PT_MASK)

int tm_sim_eaug(struct tm_sim_enclave *e, uint64_t offset, tm_error *err)
{
    if (!__atomic_load_n(&e->state->initialized, __ATOMIC_ACQUIRE))
        return tm_error_set(err, EPERM, "EAUG before EINIT is refused (EADD builds the enclave until then)");
    if ((offset & (PAGE - 1)) || offset >= e->size)
        return tm_error_set(err, EINVAL, "EAUG: 0x%llx is not a page of ELRANGE (0x%llx bytes)",
                            (unsigned long long)offset, (unsigned long long)e->size);
    struct tm_sim_epcm *slot = &e->epcm[offset / PAGE];
    struct tm_sim_epcm expect = { 0 };
    /* Claim the page with no permissions while it is zeroed: a racing EACCEPT
     * sees a mismatch rather than the page's old contents. */
    struct tm_sim_epcm claimed = { .valid = 1, .type = SGX_PT_REG, .pending = 1 };
    if (!tm_sim_epcm_cas(slot, &expect, claimed))
        return tm_error_set(err, EEXIST, "EAUG: the page at 0x%llx is already in the enclave",
                            (unsigned long long)offset);
    memset(e->cpu_view + offset, 0, PAGE);
    struct tm_sim_epcm pending = claimed;
    pending.perm = SGX_SECINFO_R | SGX_SECINFO_W;
    /* On hardware EAUG is one instruction; here the process doing it may be
     * killed half-way, so EREMOVE may take a half-added page of a range no
     * process maps (sim_trim.c): then this EAUG lost it. */
    if (!tm_sim_epcm_cas(slot, &claimed, pending))
        return tm_error_set(err, EAGAIN, "EAUG: the page at 0x%llx was removed while being added",
                            (unsigned long long)offset);
    return 0;   /* stays PROT_NONE: the enclave must EACCEPT it first */
}

/* The page operand of an in-enclave leaf: aligned (#GP), in ELRANGE and
 * mapped in this process (#PF: no page table entry to reach it through). */
static int page_operand(struct tm_sim_enclave *e, uint64_t linaddr, uint64_t *offset,
                        struct tm_sim_view *view)
{
    if (linaddr & (PAGE - 1))
        return TM_SIM_FAULT_GP;
    if (linaddr < e->base || linaddr - e->base >= e->size)
        return TM_SIM_FAULT_PF;
    *offset = linaddr - e->base;
    if (!tm_sim_view_at(e, *offset, view) || view->cap == PROT_NONE)
        return TM_SIM_FAULT_PF;
    return 0;
}

static bool secinfo_reserved(const struct sgx_secinfo *si)
{
    for (size_t i = 0; i < sizeof(si->reserved); i++)
        if (si->reserved[i])
            return true;
    return (si->flags & ~(uint64_t)LEAF_FLAGS) != 0;
}

/* EACCEPT's and EMODPE's operands: the page, and a SECINFO with no reserved bits (#GP). */
static int leaf_operands(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si,
                         uint64_t *offset, struct tm_sim_view *view)
{
    int ret = page_operand(e, linaddr, offset, view);
    return ret == 0 && secinfo_reserved(si) ? TM_SIM_FAULT_GP : ret;
}

static uint8_t secinfo_pt(uint64_t flags)
{
    return (uint8_t)((flags & SGX_SECINFO_PT_MASK) >> SGX_SECINFO_PT_SHIFT);
}

/* This process's mapping follows the EPCM (others catch up with tm_sim_sync_page). */
static int reprotect(struct tm_sim_enclave *e, uint64_t offset)
{
    tm_error err;
    return tm_sim_protect(e, offset, PAGE, &err) < 0 ? -err.code : 0;
}

/* The fault of an EACCEPT on a page never added, as the driver handles it:
 * EAUG when the page is in a view that may grow (the "kernel" side). False:
 * the fault stands. *added: this call EAUGed it. */
static bool expand_on_fault(struct tm_sim_enclave *e, uint64_t off, const struct tm_sim_view *view,
                            bool *added)
{
    *added = false;
    if (!view->on_demand || !(view->cap & PROT_WRITE) ||
        !__atomic_load_n(&e->state->initialized, __ATOMIC_ACQUIRE))
        return false;
    tm_error err;
    int ret = tm_sim_eaug(e, off, &err);
    *added = ret == 0;
    /* EEXIST: another thread or process added it first; EACCEPT it all the same. */
    return ret == 0 || ret == -EEXIST;
}

int tm_sim_eaccept(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si)
{
    uint64_t off;
    struct tm_sim_view view;
    int ret = leaf_operands(e, linaddr, si, &off, &view);
    if (ret < 0)
        return ret;
    uint64_t f = si->flags;
    struct tm_sim_epcm *slot = &e->epcm[off / PAGE];
    struct tm_sim_epcm cur = tm_sim_epcm_load(slot);
    bool added = false;
    double start = 0;
    if (!cur.valid) {
        start = tm_now_ms();
        if (!expand_on_fault(e, off, &view, &added))
            return TM_SIM_FAULT_PF;
        cur = tm_sim_epcm_load(slot);
    }
    ret = 0;
    do {
        if (!cur.valid) {
            ret = TM_SIM_FAULT_PF;   /* removed again under us */
            break;
        }
        /* The request must describe the page exactly as the EPCM has it (a
         * trim: PT_TRIM|MODIFIED, permissions 0 as EMODT left them). */
        if (cur.pending != !!(f & SGX_SECINFO_PENDING) || cur.modified != !!(f & SGX_SECINFO_MODIFIED) ||
            (f & SGX_SECINFO_PR) || cur.perm != (f & SGX_SECINFO_PERM_MASK) || cur.type != secinfo_pt(f)) {
            ret = SGX_PAGE_ATTRIBUTES_MISMATCH;
            break;
        }
        tm_error terr;
        if (cur.type == SGX_PT_TCS &&
            tm_sim_tcs_check(e, (const struct sgx_tcs *)(e->cpu_view + off), off, &terr) < 0) {
            ret = TM_SIM_FAULT_GP;   /* SDM EACCEPT: a TCS not as EADD would take it */
            break;
        }
        struct tm_sim_epcm next = cur;
        next.pending = 0;
        next.modified = 0;
        if (tm_sim_epcm_cas(slot, &cur, next)) {
            ret = reprotect(e, off);
            break;
        }
    } while (1);
    if (added) {   /* expand: the EAUG and the EACCEPT it served */
        __atomic_add_fetch(&e->expand_pages, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&e->expand_ns, (uint64_t)((tm_now_ms() - start) * 1e6), __ATOMIC_RELAXED);
    }
    return ret;
}

int tm_sim_emodpe(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si)
{
    uint64_t off;
    struct tm_sim_view view;
    int ret = leaf_operands(e, linaddr, si, &off, &view);
    if (ret < 0)
        return ret;
    uint8_t add = (uint8_t)(si->flags & SGX_SECINFO_PERM_MASK);
    struct tm_sim_epcm *slot = &e->epcm[off / PAGE];
    struct tm_sim_epcm cur = tm_sim_epcm_load(slot);
    do {
        if (!cur.valid || cur.pending || cur.modified || cur.type != SGX_PT_REG)
            return TM_SIM_FAULT_PF;
        if (!(cur.perm & SGX_SECINFO_R) && !(add & SGX_SECINFO_R) && (add & SGX_SECINFO_W))
            return TM_SIM_FAULT_GP;   /* would be writable but not readable */
        struct tm_sim_epcm next = cur;
        next.perm |= add;
        if (tm_sim_epcm_cas(slot, &cur, next))
            break;
    } while (1);
    return reprotect(e, off);
}

int tm_sim_eacceptcopy(struct tm_sim_enclave *e, uint64_t linaddr, uint64_t src,
                       const struct sgx_secinfo *si)
{
    uint64_t off, src_off;
    struct tm_sim_view view, src_view;
    int ret = page_operand(e, linaddr, &off, &view);
    if (ret == 0)
        ret = page_operand(e, src, &src_off, &src_view);
    if (ret == 0 && !(src_view.cap & PROT_READ))
        ret = TM_SIM_FAULT_PF;
    if (ret < 0)
        return ret;
    uint64_t f = si->flags;
    if (secinfo_reserved(si) || secinfo_pt(f) != SGX_PT_REG || (f & (SGX_SECINFO_PENDING | SGX_SECINFO_MODIFIED | SGX_SECINFO_PR)) ||
        ((f & SGX_SECINFO_W) && !(f & SGX_SECINFO_R)))
        return TM_SIM_FAULT_GP;
    struct tm_sim_epcm s = tm_sim_epcm_load(&e->epcm[src_off / PAGE]);
    if (!s.valid || s.type != SGX_PT_REG || s.pending || s.modified || !(s.perm & SGX_SECINFO_R))
        return TM_SIM_FAULT_PF;
    struct tm_sim_epcm *slot = &e->epcm[off / PAGE];
    struct tm_sim_epcm cur = tm_sim_epcm_load(slot);
    if (!cur.valid)
        return TM_SIM_FAULT_PF;
    if (!cur.pending || cur.modified || cur.type != SGX_PT_REG || cur.perm != (SGX_SECINFO_R | SGX_SECINFO_W))
        return SGX_PAGE_ATTRIBUTES_MISMATCH;
    memcpy(e->cpu_view + off, e->cpu_view + src_off, PAGE);
    struct tm_sim_epcm next = cur;
    next.pending = 0;
    next.perm = (uint8_t)(f & SGX_SECINFO_PERM_MASK);
    if (!tm_sim_epcm_cas(slot, &cur, next))
        return TM_SIM_FAULT_GP;   /* another EACCEPT(COPY) of the page at once: a conflict */
    return reprotect(e, off);
}
