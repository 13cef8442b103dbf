/* The teemate mode's image: fn.elf laid out for `instances` concurrent
 * instances (slots and TCSs), with only what no instance needs added before
 * EINIT. One TCS is built (the daemon's own, on which it makes the others);
 * the instances' TCSs are made as leases need them and the global heap grows
 * as the code is loaded (SGX2), so an idle function holds the image, one
 * thread and nothing else. ELRANGE is the smallest power of two that fits. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fn_host.h"
#include "sgx_arch.h"

int fn_shared_image(const struct tm_image *base, uint32_t instances, struct tm_image **out,
                    tm_error *err)
{
    if (instances < 1 || instances > FN_MAX_INSTANCES)
        return tm_error_set(err, EINVAL, "instances %u must be between 1 and %u", instances,
                            FN_MAX_INSTANCES);
    struct tm_layout_settings s = base->layout.settings;
    s.slot_count = instances;
    s.tcs_count = instances + 1;
    s.tcs_on_demand = instances;
    s.heap_size = FN_SHARED_HEAP;
    s.heap_on_demand = FN_SHARED_HEAP;
    s.enclave_size = TM_LAYOUT_MAX_ENCLAVE_SIZE;
    struct tm_image *largest = NULL;
    int r = tm_image_with_settings(base, &s, &largest, err);
    if (r < 0)
        return tm_error_prefix(err, "%u instances do not fit one enclave", instances);
    const struct tm_enclave_regions *g = &largest->layout.regions;
    uint64_t need = g->slots_offset + (uint64_t)g->slot_count * g->slot_size;
    tm_image_free(largest);
    s.enclave_size = 1ULL << 13;
    while (s.enclave_size < need)
        s.enclave_size <<= 1;
    return tm_image_with_settings(base, &s, out, err);
}

int fn_image_memfd(const struct tm_image *image, tm_error *err)
{
    int fd = memfd_create("fn.elf", MFD_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "memfd_create");
    for (size_t done = 0; done < image->file_len;) {
        ssize_t n = write(fd, image->file + done, image->file_len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int ret = tm_error_sys(err, "cannot write the image to a memfd");
            close(fd);
            return ret;
        }
        done += (size_t)n;
    }
    return fd;
}
