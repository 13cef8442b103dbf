/* The database's enclave: kv.elf with two slots sized from maxmemory (the
 * server's and, for issue 13, its snapshot child's), their TCSs made on
 * demand, the rest of the image's layout as it is. Slot pages are added as
 * the store grows, so a big slot costs address space, not memory. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvh_enclave.h"
#include "sgx_arch.h"

uint64_t kvh_slot_size(uint64_t maxmemory)
{
    if (!maxmemory)
        return KVH_DEFAULT_SLOT;
    uint64_t slot = maxmemory + maxmemory / 4 + KVH_SLOT_ROOM;
    return (slot + SGX_PAGE_SIZE - 1) & ~(uint64_t)(SGX_PAGE_SIZE - 1);
}

int kvh_shared_image(const struct tm_image *base, uint64_t slot, struct tm_image **out, tm_error *err)
{
    struct tm_layout_settings s = base->layout.settings;
    s.slot_count = KVH_SLOTS;
    s.slot_size = slot;
    s.tcs_count = KVH_SLOTS + 1;
    s.tcs_on_demand = KVH_SLOTS;
    s.enclave_size = TM_LAYOUT_MAX_ENCLAVE_SIZE;
    struct tm_image *largest = NULL;
    int r = tm_image_with_settings(base, &s, &largest, err);
    if (r < 0)
        return tm_error_prefix(err, "two slots of %llu MiB do not fit one enclave (%llu GiB): "
                               "lower maxmemory", (unsigned long long)(slot >> 20),
                               (unsigned long long)(TM_LAYOUT_MAX_ENCLAVE_SIZE >> 30));
    const struct tm_enclave_regions *g = &largest->layout.regions;
    uint64_t need = g->slots_offset + (uint64_t)g->slot_count * g->slot_size;
    tm_image_free(largest);
    s.enclave_size = 1ULL << 13;
    while (s.enclave_size < need)
        s.enclave_size <<= 1;
    return tm_image_with_settings(base, &s, out, err);
}

int kvh_image_memfd(const struct tm_image *image, tm_error *err)
{
    int fd = memfd_create("kv.elf", MFD_CLOEXEC);
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

int kvh_enclave_name(const char *name, char *buf, size_t len, tm_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 48)
        return tm_error_set(err, EINVAL, "--name takes 1 to 48 characters");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
            return tm_error_set(err, EINVAL, "--name '%s': only letters, digits, '.', '_' and '-'", name);
    snprintf(buf, len, "kv-%s", name);
    return 0;
}
