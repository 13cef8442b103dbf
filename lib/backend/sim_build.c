/* Building a sim enclave: EADD (copy each page into the EPC), EEXTEND
 * (measure it exactly as the CPU does), EINIT (verify the SIGSTRUCT and that
 * it is for this measurement). */
#include "backend/sim.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "util/hex.h"

#define PAGE SGX_PAGE_SIZE
/* SECINFO.FLAGS bits EADD accepts: R/W/X and the page type. */
#define EADD_FLAGS (SGX_SECINFO_PERM_MASK | SGX_SECINFO_PT_MASK)

static int secinfo_check(uint64_t flags, tm_error *err)
{
    unsigned pt = (unsigned)((flags & SGX_SECINFO_PT_MASK) >> SGX_SECINFO_PT_SHIFT);
    if (flags & ~EADD_FLAGS)
        return tm_error_set(err, EINVAL, "EADD: SECINFO.FLAGS 0x%llx has reserved bits (or PENDING/MODIFIED/PR) set",
                            (unsigned long long)flags);
    if (pt != SGX_PT_REG && pt != SGX_PT_TCS)
        return tm_error_set(err, EINVAL, "EADD: page type %u is neither PT_REG nor PT_TCS", pt);
    if (pt == SGX_PT_REG && (flags & SGX_SECINFO_W) && !(flags & SGX_SECINFO_R))
        return tm_error_set(err, EINVAL, "EADD: SECINFO.FLAGS 0x%llx is writable but not readable",
                            (unsigned long long)flags);
    return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

int tm_sim_tcs_check(const struct tm_sim_enclave *e, const struct sgx_tcs *t, uint64_t off, tm_error *err)
{
    const unsigned long long o = off;
    uint64_t frame = (uint64_t)e->state->secs.ssa_frame_size * PAGE;
    if (t->state)
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: STATE must be 0", o);
    if (t->flags & ~SGX_TCS_DBGOPTIN)
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: FLAGS 0x%llx has reserved bits", o,
                            (unsigned long long)t->flags);
    if (t->cssa)
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: CSSA must be 0, is %u", o, t->cssa);
    if (!all_zero(t->reserved, sizeof(t->reserved)))
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: reserved bytes must be zero", o);
    if ((t->ossa | t->ofsbase | t->ogsbase) & (PAGE - 1))
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: OSSA 0x%llx, OFSBASGX 0x%llx and OGSBASGX 0x%llx "
                            "must be page aligned", o, (unsigned long long)t->ossa,
                            (unsigned long long)t->ofsbase, (unsigned long long)t->ogsbase);
    if ((t->fslimit & 0xFFF) != 0xFFF || (t->gslimit & 0xFFF) != 0xFFF)
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: FSLIMIT 0x%x and GSLIMIT 0x%x must have "
                            "their low 12 bits set", o, t->fslimit, t->gslimit);
    if (t->nssa < 1)
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: NSSA must be at least 1", o);
    if (t->ossa >= e->size || (e->size - t->ossa) / frame < t->nssa)
        return tm_error_set(err, EINVAL, "EADD: TCS at 0x%llx: SSA frames at 0x%llx (%u x 0x%llx bytes) "
                            "do not fit ELRANGE (0x%llx bytes)", o, (unsigned long long)t->ossa,
                            t->nssa, (unsigned long long)frame, (unsigned long long)e->size);
    return 0;
}

static int eadd_check(struct tm_sim_enclave *e, uint64_t offset, const uint8_t *src, uint64_t len,
                      uint64_t flags, tm_error *err)
{
    if (__atomic_load_n(&e->state->initialized, __ATOMIC_ACQUIRE))
        return tm_error_set(err, EPERM, "EADD after EINIT is refused, as on hardware");
    if (!e->measure)
        return tm_error_set(err, EPERM, "EADD: only the process that created the enclave builds it");
    if ((offset | len) & (PAGE - 1) || len == 0)
        return tm_error_set(err, EINVAL, "EADD: offset 0x%llx and length 0x%llx must be whole pages",
                            (unsigned long long)offset, (unsigned long long)len);
    if (offset >= e->size || len > e->size - offset)
        return tm_error_set(err, EINVAL, "EADD: 0x%llx+0x%llx is outside ELRANGE (0x%llx bytes)",
                            (unsigned long long)offset, (unsigned long long)len, (unsigned long long)e->size);
    int ret = secinfo_check(flags, err);
    if (ret < 0)
        return ret;
    for (uint64_t off = offset; off < offset + len; off += PAGE)
        if (tm_sim_epcm_load(&e->epcm[off / PAGE]).valid)
            return tm_error_set(err, EEXIST, "EADD: the page at 0x%llx is already in the enclave",
                                (unsigned long long)off);
    if ((flags & SGX_SECINFO_PT_MASK) != SGX_SECINFO_TCS)
        return 0;
    static const struct sgx_tcs zero_tcs;
    for (uint64_t off = offset; off < offset + len; off += PAGE) {
        struct sgx_tcs tcs = zero_tcs;
        if (src)
            memcpy(&tcs, src + (off - offset), sizeof(tcs));
        ret = tm_sim_tcs_check(e, &tcs, off, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

int tm_sim_eadd(struct tm_sim_enclave *e, uint64_t offset, const void *src, uint64_t len,
                uint64_t secinfo_flags, bool measured, tm_error *err)
{
    int ret = eadd_check(e, offset, src, len, secinfo_flags, err);
    if (ret < 0)
        return ret;
    uint8_t pt = (uint8_t)((secinfo_flags & SGX_SECINFO_PT_MASK) >> SGX_SECINFO_PT_SHIFT);
    /* The CPU clears R/W/X of a TCS: enclave code cannot touch its own TCS. */
    uint8_t perm = pt == SGX_PT_TCS ? 0 : (uint8_t)(secinfo_flags & SGX_SECINFO_PERM_MASK);
    for (uint64_t off = offset; off < offset + len; off += PAGE) {
        uint8_t *page = e->cpu_view + off;
        /* The real cost of EADD: every page copied into (or zeroed in) the EPC. */
        if (src)
            memcpy(page, (const uint8_t *)src + (off - offset), PAGE);
        else
            memset(page, 0, PAGE);
        ret = tm_measure_eadd(e->measure, off, secinfo_flags, err);
        if (ret == 0 && measured)
            ret = tm_measure_eextend_page(e->measure, off, page, err);
        if (ret < 0)
            return tm_error_prefix(err, "EADD at 0x%llx", (unsigned long long)off);
        struct tm_sim_epcm m = { .valid = 1, .type = pt, .perm = perm };
        __atomic_store(&e->epcm[off / PAGE], &m, __ATOMIC_RELEASE);
    }
    return tm_sim_protect(e, offset, len, err);
}

/* The measurement so far, finalised on a copy: a refused EINIT leaves the
 * enclave as it was (more EADDs, another EINIT), as on hardware. */
static int measurement(struct tm_sim_enclave *e, uint8_t mr[32], tm_error *err)
{
    struct tm_measure *m = e->measure;
    struct tm_measure copy = { .ctx = EVP_MD_CTX_new() };
    if (!copy.ctx || !EVP_MD_CTX_copy_ex(copy.ctx, m->ctx)) {
        tm_measure_free(&copy);
        return tm_error_set(err, ENOMEM, "EINIT: cannot copy the measurement");
    }
    int ret = tm_measure_final(&copy, mr, err);
    tm_measure_free(&copy);
    return ret;
}

static int einit_check(struct tm_sim_enclave *e, const struct sgx_sigstruct *ss, const uint8_t mr[32],
                       tm_error *err)
{
    const struct sgx_secs *secs = &e->state->secs;
    const struct sgx_sigstruct_body *b = &ss->body;
    int ret = tm_sigstruct_verify(ss, err);
    if (ret < 0)
        return tm_error_prefix(err, "EINIT: SIGSTRUCT signature does not verify");
    const struct sgx_attributes *a = &secs->attributes, *sa = &b->attributes, *mask = &b->attributes_mask;
    if ((a->flags & mask->flags) != (sa->flags & mask->flags) || (a->xfrm & mask->xfrm) != (sa->xfrm & mask->xfrm))
        return tm_error_set(err, EPERM, "EINIT: SECS.ATTRIBUTES (flags 0x%llx, xfrm 0x%llx) do not match the "
                            "SIGSTRUCT's (flags 0x%llx, xfrm 0x%llx) under ATTRIBUTEMASK (0x%llx, 0x%llx)",
                            (unsigned long long)a->flags, (unsigned long long)a->xfrm,
                            (unsigned long long)sa->flags, (unsigned long long)sa->xfrm,
                            (unsigned long long)mask->flags, (unsigned long long)mask->xfrm);
    if ((secs->miscselect & b->miscmask) != (b->miscselect & b->miscmask))
        return tm_error_set(err, EPERM, "EINIT: SECS.MISCSELECT 0x%x does not match SIGSTRUCT.MISCSELECT 0x%x "
                            "under MISCMASK 0x%x", secs->miscselect, b->miscselect, b->miscmask);
    if (memcmp(b->enclave_hash, mr, 32)) {
        char want[65], got[65];
        return tm_error_set(err, EKEYREJECTED, "EINIT: SIGSTRUCT is for MRENCLAVE %s, the enclave measures %s",
                            tm_hex(want, b->enclave_hash, 32), tm_hex(got, mr, 32));
    }
    return 0;
}

int tm_sim_einit(struct tm_sim_enclave *e, const struct sgx_sigstruct *sigstruct, tm_error *err)
{
    if (__atomic_load_n(&e->state->initialized, __ATOMIC_ACQUIRE))
        return tm_error_set(err, EPERM, "EINIT: the enclave is already initialised");
    if (!e->measure)
        return tm_error_set(err, EPERM, "EINIT: only the process that created the enclave initialises it");
    struct sgx_sigstruct ss;
    memcpy(&ss, sigstruct, sizeof(ss));
    uint8_t mr[32];
    int ret = measurement(e, mr, err);
    if (ret == 0)
        ret = einit_check(e, &ss, mr, err);
    if (ret < 0)
        return ret;

    struct sgx_secs *secs = &e->state->secs;
    memcpy(secs->mrenclave, mr, sizeof(mr));
    tm_sigstruct_mrsigner(&ss, secs->mrsigner);
    secs->isv_prod_id = ss.body.isv_prod_id;
    secs->isv_svn = ss.body.isv_svn;
    memcpy(e->state->isv_family_id, ss.body.isv_family_id, 16);
    memcpy(e->state->isv_ext_prod_id, ss.body.isv_ext_prod_id, 16);
    secs->attributes.flags |= SGX_ATTR_INIT;
    tm_measure_free(e->measure);
    free(e->measure);
    e->measure = NULL;
    __atomic_store_n(&e->state->initialized, 1, __ATOMIC_RELEASE);
    return 0;
}
