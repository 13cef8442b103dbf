/* SGX2 in the sim: the host EAUGs a pending page; the enclave EACCEPTs it
 * (or EACCEPTCOPYs into it) before it can touch it, and EMODPE extends a
 * page's permissions. EPCM updates are compare-and-swap on the shared entry,
 * so processes sharing the enclave see each change whole. */
#include "backend/sim.h"

#include <errno.h>
#include <string.h>

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
    __atomic_store(slot, &pending, __ATOMIC_RELEASE);
    __atomic_add_fetch(&e->state->epc_pages, 1, __ATOMIC_RELAXED);
    return 0;   /* stays PROT_NONE: the enclave must EACCEPT it first */
}

/* The page operand of an in-enclave leaf: aligned (#GP) and in ELRANGE (#PF). */
static int page_operand(const struct tm_sim_enclave *e, uint64_t linaddr, uint64_t *offset)
{
    if (linaddr & (PAGE - 1))
        return TM_SIM_FAULT_GP;
    if (linaddr < e->base || linaddr - e->base >= e->size)
        return TM_SIM_FAULT_PF;
    *offset = linaddr - e->base;
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
static int leaf_operands(const struct tm_sim_enclave *e, uint64_t linaddr,
                         const struct sgx_secinfo *si, uint64_t *offset)
{
    int ret = page_operand(e, linaddr, offset);
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

int tm_sim_eaccept(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si)
{
    uint64_t off;
    int ret = leaf_operands(e, linaddr, si, &off);
    if (ret < 0)
        return ret;
    uint64_t f = si->flags;
    struct tm_sim_epcm *slot = &e->epcm[off / PAGE];
    struct tm_sim_epcm cur = tm_sim_epcm_load(slot);
    do {
        if (!cur.valid)
            return TM_SIM_FAULT_PF;
        /* The request must describe the page exactly as the EPCM has it. */
        if (cur.pending != !!(f & SGX_SECINFO_PENDING) || cur.modified != !!(f & SGX_SECINFO_MODIFIED) ||
            (f & SGX_SECINFO_PR) || cur.perm != (f & SGX_SECINFO_PERM_MASK) || cur.type != secinfo_pt(f))
            return SGX_PAGE_ATTRIBUTES_MISMATCH;
        struct tm_sim_epcm next = cur;
        next.pending = 0;
        next.modified = 0;
        if (tm_sim_epcm_cas(slot, &cur, next))
            break;
    } while (1);
    return reprotect(e, off);
}

int tm_sim_emodpe(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si)
{
    uint64_t off;
    int ret = leaf_operands(e, linaddr, si, &off);
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
    int ret = page_operand(e, linaddr, &off);
    if (ret == 0)
        ret = page_operand(e, src, &src_off);
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
