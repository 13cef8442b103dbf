/* The database's enclave: kv.elf with two slots sized from maxmemory (the
 * server's and, for issue 13, its snapshot child's), their TCSs made on
 * demand, the rest of the image's layout as it is. Slot pages are added as
 * the store grows, so a big slot costs address space, not memory. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
    int r = tm_image_with_slots_fitted(base, &s, out, err);
    if (r < 0)
        return tm_error_prefix(err, "two slots of %llu MiB do not fit one enclave (%llu GiB): "
                               "lower maxmemory", (unsigned long long)(slot >> 20),
                               (unsigned long long)(TM_LAYOUT_MAX_ENCLAVE_SIZE >> 30));
    return 0;
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
