/* The teemate mode's image: fn.elf laid out for `instances` concurrent
 * instances (slots and TCSs), with only what no instance needs added before
 * EINIT. One TCS is built (the daemon's own, on which it makes the others);
 * the instances' TCSs are made as leases need them and the global heap grows
 * as the code is loaded (SGX2), so an idle function holds the image, one
 * thread and nothing else. ELRANGE is the smallest power of two that fits. */
#include <errno.h>

#include "fn_host.h"
#include "sgx_arch.h"

int fn_shared_image(const struct tm_image *base, uint32_t instances, uint64_t memory,
                    struct tm_image **out, tm_error *err)
{
    if (instances < 1 || instances > FN_MAX_INSTANCES)
        return tm_error_set(err, EINVAL, "instances %u must be between 1 and %u", instances,
                            FN_MAX_INSTANCES);
    struct tm_layout_settings s = base->layout.settings;
    /* a slot holds one instance: its JS heap up to the memory limit, plus
     * what fn.elf's own slots keep beside the default 256 MiB of heap */
    uint64_t slot = (memory + (s.slot_size - (256ULL << 20)) + SGX_PAGE_SIZE - 1) &
                    ~(uint64_t)(SGX_PAGE_SIZE - 1);
    s.slot_count = instances;
    s.slot_size = slot;
    s.tcs_count = instances + 1;
    s.tcs_on_demand = instances;
    s.heap_size = FN_SHARED_HEAP;
    s.heap_on_demand = FN_SHARED_HEAP;
    int r = tm_image_with_slots_fitted(base, &s, out, err);
    if (r < 0) {
        uint64_t fit = (TM_LAYOUT_MAX_ENCLAVE_SIZE - FN_SHARED_HEAP) / (slot + (1ULL << 20));
        return tm_error_set(err, EFBIG, "%u instances with %llu MiB slots (--memory %llu MiB) do not "
                            "fit one enclave (%llu GiB): about %llu do", instances,
                            (unsigned long long)(slot >> 20), (unsigned long long)(memory >> 20),
                            (unsigned long long)(TM_LAYOUT_MAX_ENCLAVE_SIZE >> 30),
                            (unsigned long long)fit);
    }
    return 0;
}
