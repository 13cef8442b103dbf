/* Access to host (untrusted) memory from inside the enclave: range checks
 * against ELRANGE and single-fetch copies. Copies in start with a speculation
 * barrier, so a mispredicted range check cannot read enclave memory on the
 * host's behalf. */
#include "tm_runtime.h"

static bool tm_range_overlaps_enclave(uint64_t address, uint64_t end)
{
    const struct tm_thread_data *td = tm_thread_current();
    uint64_t enclave_end = td->enclave_base + td->regions.enclave_size;
    return address < enclave_end && end > td->enclave_base;
}

bool tm_host_range_is_outside(uint64_t address, uint64_t size)
{
    if (size == 0)
        return true;
    uint64_t end = address + size;
    if (end < address)
        return false;
    return !tm_range_overlaps_enclave(address, end);
}

/* Host memory is read and written through volatile words, 8 bytes at a
 * time (a byte at a time cost a cycle per byte of every batch): each host
 * byte is still fetched exactly once, whatever the host does meanwhile. */
typedef uint64_t tm_host_word __attribute__((aligned(1), may_alias));

void tm_host_copy_in(void *dst, uint64_t src, size_t size)
{
    const volatile uint8_t *from = (const volatile uint8_t *)src;
    uint8_t *to = dst;
    size_t i = 0;
    __builtin_ia32_lfence();
    for (; size - i >= 8; i += 8) {
        uint64_t w = *(const volatile tm_host_word *)(src + i);
        __builtin_memcpy(to + i, &w, 8);
    }
    for (; i < size; i++)
        to[i] = from[i];
}

void tm_host_copy_out(uint64_t dst, const void *src, size_t size)
{
    volatile uint8_t *to = (volatile uint8_t *)dst;
    const uint8_t *from = src;
    size_t i = 0;
    for (; size - i >= 8; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, from + i, 8);
        *(volatile tm_host_word *)(dst + i) = w;
    }
    for (; i < size; i++)
        to[i] = from[i];
}

long tm_host_copy_string_in(char *dst, size_t cap, uint64_t src)
{
    for (size_t i = 0; i < cap; i++) {
        uint64_t address = src + i;
        if (address < src || !tm_host_range_is_outside(address, 1))
            return -1;
        dst[i] = *(const volatile char *)address;
        if (dst[i] == '\0')
            return (long)i;
    }
    return -1;
}
