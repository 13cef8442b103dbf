/* Accepting a slot's pages (SGX2): expand as its allocator grows, trim when
 * the slot is given back. The heap's on-demand part grows the same way. The host adds a page (EAUG) or changes its type to
 * PT_TRIM (EMODT); nothing of it counts inside until the enclave EACCEPTs it,
 * so the host cannot slip a page into, or pull one out of, a slot unnoticed.
 *
 * On both backends, EACCEPT of a page the host has not added yet faults and
 * the fault handler EAUGs it (as the upstream driver does), so expand needs
 * no request to the host.
 *
 * A process may die at any instruction here. The enclave cannot ask a page
 * what state it is in without faulting, so it keeps its own record: reach
 * (every page it may have accepted lies below) is moved before the EACCEPT,
 * accepted after it, and dirty says where a former owner's page may still
 * be. The trim then covers every page the slot may hold. */
#include <string.h>

#include "sgx_arch.h"
#include "tm_arena.h"
#include "tm_runtime.h"

#define TM_PAGE 4096ULL
/* SGX error code (RAX) when the page is not in the state SECINFO describes. */
#define TM_SGX_PAGE_ATTRIBUTES_MISMATCH 19
/* An EAUG'd page as EACCEPT must describe it. */
#define TM_SECINFO_ADDED (SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_REG | SGX_SECINFO_PENDING)

static void tm_expand_raise(uintptr_t *mark, uintptr_t end)
{
    if (end > *mark)
        __atomic_store_n(mark, end, __ATOMIC_RELEASE);
}

uint64_t tm_expand_commit(struct tm_arena *a, uintptr_t start, uint64_t len)
{
    uint64_t done = 0;
    /* Below the reach a thread killed mid-expand (the heap outlives its
     * processes) may have accepted pages before it could count them. */
    uintptr_t known = tm_arena_reach_end(a);
    for (; done < len; done += TM_PAGE) {
        uintptr_t page = start + done;
        tm_expand_raise(&a->reach, page + TM_PAGE);
        uint64_t rc = tm_eaccept(TM_SECINFO_ADDED, page);
        if (rc == TM_SGX_PAGE_ATTRIBUTES_MISMATCH && page < known) {
            /* Already here: a former owner's page the trim did not take, or
             * ours from a killed expand. Its bytes may be that owner's. */
            memset((void *)page, 0, TM_PAGE);
        } else if (rc != 0) {
            /* Trimmed, half given back, or not added by us: not a page
             * this slot may use. Growth stops; malloc fails cleanly. */
            break;
        }
        tm_expand_raise(&a->accepted, page + TM_PAGE);
    }
    return done;
}

uint64_t tm_expand_trim(uintptr_t start, uintptr_t end, uintptr_t known, uintptr_t *dirty)
{
    uint64_t accepted = 0;
    *dirty = start;
    for (uintptr_t page = start; page < end; page += TM_PAGE) {
        if (tm_eaccept(SGX_SECINFO_TRIM | SGX_SECINFO_MODIFIED, page) == 0)
            accepted++;
        else if (page < known)
            *dirty = page + TM_PAGE;   /* accepted once, not trimmed now: it stays */
        /* else: never accepted (absent or only added): the host removes it */
    }
    return accepted;
}
