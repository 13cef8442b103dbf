/* Giving EPC pages back (SGX2), as the upstream driver's MODIFY_TYPES and
 * REMOVE_PAGES ioctls do it: the host EMODTs pages to PT_TRIM, the enclave
 * EACCEPTs each trim (so it knows the page is gone), then the host EREMOVEs
 * them. A page EAUG'd but never accepted can be removed at once: the enclave
 * never used it. Removed pages give their memory back (a hole punched in the
 * EPC memfd), so the EPC a slot used is really freed. */
#include "backend/sim.h"

#include <errno.h>
#include <fcntl.h>

#define PAGE SGX_PAGE_SIZE


/* EMODT of one page to type: false (nothing changed) unless it is an
 * accepted regular page. SDM EMODT: new type, MODIFIED set, R/W/X cleared
 * until the enclave's EACCEPT. */
static bool emodt(struct tm_sim_enclave *e, uint64_t off, uint8_t type)
{
    struct tm_sim_epcm *slot = &e->epcm[off / PAGE];
    struct tm_sim_epcm cur = tm_sim_epcm_load(slot), next;
    do {
        if (!cur.valid || cur.type != SGX_PT_REG || cur.pending || cur.modified)
            return false;
        next = cur;
        next.type = type;
        next.modified = 1;
        next.perm = 0;
    } while (!tm_sim_epcm_cas(slot, &cur, next));
    return true;
}

int tm_sim_emodt_tcs(struct tm_sim_enclave *e, uint64_t offset, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "EMODT", offset, PAGE, err);
    if (ret < 0)
        return ret;
    if (!__atomic_load_n(&e->state->initialized, __ATOMIC_ACQUIRE))
        return tm_error_set(err, EPERM, "EMODT before EINIT is refused");
    if (!emodt(e, offset, SGX_PT_TCS))
        return tm_error_set(err, EINVAL, "EMODT: the page at 0x%llx is not an accepted regular "
                            "page (SGX_PAGE_NOT_MODIFIABLE)", (unsigned long long)offset);
    return tm_sim_protect(e, offset, PAGE, err);
}

int tm_sim_emodt_trim(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err)
{
    int ret = tm_backend_range_check(e->size, "EMODT", offset, len, err);
    if (ret < 0)
        return ret;
    if (!__atomic_load_n(&e->state->initialized, __ATOMIC_ACQUIRE))
        return tm_error_set(err, EPERM, "EMODT before EINIT is refused");
    /* A TCS in a range meant for slot pages is a caller's mistake: refuse it
     * before anything changes. */
    for (uint64_t off = offset; off < offset + len; off += PAGE) {
        struct tm_sim_epcm m = tm_sim_epcm_load(&e->epcm[off / PAGE]);
        if (m.valid && m.type == SGX_PT_TCS)
            return tm_error_set(err, EINVAL, "EMODT: the page at 0x%llx is a TCS; only regular pages "
                                "are trimmed here", (unsigned long long)off);
    }
    for (uint64_t off = offset; off < offset + len; off += PAGE)
        emodt(e, off, SGX_PT_TRIM);   /* invalid, pending or already modified: nothing to trim */
    /* This process's mapping follows at once. Another process that maps the
     * page keeps its access until it faults or unmaps (the sim cannot change
     * another process's page tables; on hardware the EPCM stops it at once):
     * trim a slot only when no process has it mapped. */
    return tm_sim_protect(e, offset, len, err);
}

/* A trimmed page whose trim was accepted: what EREMOVE takes. */
static const struct tm_sim_epcm accepted_trim = { .valid = 1, .type = SGX_PT_TRIM };

/* Punch [run, end) out of the EPC and invalidate its entries. */
static int remove_run(struct tm_sim_enclave *e, uint64_t run, uint64_t end, uint64_t *removed, tm_error *err)
{
    if (run == end)
        return 0;
    if (fallocate(e->epc_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)run, (off_t)(end - run)) < 0)
        return tm_error_sys(err, "EREMOVE: cannot free the EPC of 0x%llx-0x%llx", (unsigned long long)run,
                            (unsigned long long)end);
    for (uint64_t off = run; off < end; off += PAGE) {
        struct tm_sim_epcm expect = accepted_trim;
        /* Fails only if another EREMOVE of the same page got there first. */
        if (tm_sim_epcm_cas(&e->epcm[off / PAGE], &expect, (struct tm_sim_epcm){ 0 }))
            ++*removed;
    }
    return 0;
}

/* Claim the page at off for removal: 1 removable (now an accepted trim,
 * which no leaf changes any more), 0 not in the enclave, or -EBUSY. */
static int claim(struct tm_sim_enclave *e, uint64_t off, tm_error *err)
{
    struct tm_sim_epcm *slot = &e->epcm[off / PAGE];
    struct tm_sim_epcm cur = tm_sim_epcm_load(slot);
    for (;;) {
        if (!cur.valid)
            return 0;
        if (cur.type == SGX_PT_TRIM && !cur.modified && !cur.pending)
            return 1;
        /* EAUG'd, never accepted. A pending page becomes an accepted trim
         * first, so a racing EACCEPT no longer matches it while its memory
         * goes. With perm 0 its EAUG has not finished: on hardware EAUG is
         * one instruction, here a process killed inside it leaves the page
         * so. The caller removes only ranges no process maps, so no EAUG is
         * still running there: take it (its EAUG, if it ever finished, would
         * find it gone). */
        if (cur.pending && cur.type == SGX_PT_REG && !cur.modified) {
            if (!tm_sim_epcm_cas(slot, &cur, accepted_trim))
                continue;
            return 1;
        }
        break;
    }
    const char *why = cur.type == SGX_PT_TRIM ? "was trimmed but the enclave has not EACCEPTed the trim yet"
                    : cur.type == SGX_PT_TCS   ? "is a TCS in use"
                                               : "is in use (an accepted page: trim it and have the enclave "
                                                 "EACCEPT the trim first)";
    return tm_error_set(err, EBUSY, "EREMOVE: the page at 0x%llx %s", (unsigned long long)off, why);
}

int tm_sim_eremove(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, uint64_t *removed,
                   tm_error *err)
{
    uint64_t count = 0;
    if (removed)
        *removed = 0;
    int ret = tm_backend_range_check(e->size, "EREMOVE", offset, len, err);
    if (ret < 0)
        return ret;
    /* Runs of removable pages, one hole punched per run. */
    uint64_t run = offset, off;
    for (off = offset; off < offset + len; off += PAGE) {
        int c = claim(e, off, err);
        if (c == 1)
            continue;
        ret = remove_run(e, run, off, &count, err);
        run = off + PAGE;
        if (c < 0 || ret < 0) {
            if (c < 0 && ret == 0)
                ret = c;
            break;
        }
    }
    if (ret == 0)
        ret = remove_run(e, run, off, &count, err);
    if (removed)
        *removed = count;
    return ret;
}
