/* Accepting a slot's pages (SGX2): expand as its allocator grows, trim when
 * the slot is given back. The host adds a page (EAUG) or changes its type to
 * PT_TRIM (EMODT); nothing of it counts inside until the enclave EACCEPTs it,
 * so the host cannot slip a page into, or pull one out of, a slot unnoticed.
 *
 * On both backends, EACCEPT of a page the host has not added yet faults and
 * the fault handler EAUGs it (as the upstream driver does), so expand needs
 * no request to the host. */
#include <string.h>

#include "sgx_arch.h"
#include "tm_runtime.h"

#define TM_PAGE 4096ULL
/* SGX error code (RAX) when the page is not in the state SECINFO describes. */
#define TM_SGX_PAGE_ATTRIBUTES_MISMATCH 19
/* An EAUG'd page as EACCEPT must describe it. */
#define TM_SECINFO_ADDED (SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_REG | SGX_SECINFO_PENDING)

uint64_t tm_expand_commit(uintptr_t start, uint64_t len, uintptr_t *accepted)
{
    uint64_t done = 0;
    for (; done < len; done += TM_PAGE) {
        uintptr_t page = start + done;
        uint64_t rc = tm_eaccept(TM_SECINFO_ADDED, page);
        if (rc == TM_SGX_PAGE_ATTRIBUTES_MISMATCH) {
            /* Already here: the host did not trim it after the slot's last
             * owner. It is ours, but its bytes may be that owner's. */
            memset((void *)page, 0, TM_PAGE);
        } else if (rc != 0) {
            break;
        }
        if (page + TM_PAGE > *accepted)
            __atomic_store_n(accepted, page + TM_PAGE, __ATOMIC_RELEASE);
    }
    return done;
}

uint64_t tm_expand_trim(uintptr_t start, uint64_t len)
{
    uint64_t accepted = 0;
    for (uint64_t off = 0; off < len; off += TM_PAGE)
        if (tm_eaccept(SGX_SECINFO_TRIM | SGX_SECINFO_MODIFIED, start + off) == 0)
            accepted++;   /* a page the host did not EMODT stays: it will fail to remove it */
    return accepted;
}
