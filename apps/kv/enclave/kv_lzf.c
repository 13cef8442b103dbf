/* LZF decompression (the format of liblzf, which Redis uses for strings
 * longer than 20 bytes): literal runs "000LLLLL" + L+1 bytes, back references
 * "LLLooooo oooooooo" (length L+2, or 7 + a length byte + 2, offset o+1 back).
 * Strict: every read and write is bounds-checked, and the result must be
 * exactly out_len bytes with no input left over. */
#include <errno.h>
#include <string.h>

#include "kv_rdb.h"

int kv_lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len)
{
    const unsigned char *ip = in, *in_end = ip + in_len;
    unsigned char *op = out, *out_end = op + out_len;
    while (ip < in_end) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) {
            size_t run = (size_t)ctrl + 1;
            if ((size_t)(in_end - ip) < run || (size_t)(out_end - op) < run)
                return -EINVAL;
            memcpy(op, ip, run);
            op += run;
            ip += run;
            continue;
        }
        size_t len = ctrl >> 5;
        if (len == 7) {
            if (ip >= in_end)
                return -EINVAL;
            len += *ip++;
        }
        len += 2;
        if (ip >= in_end)
            return -EINVAL;
        size_t back = ((size_t)(ctrl & 0x1f) << 8) + *ip++ + 1;
        if (back > (size_t)(op - (unsigned char *)out) || (size_t)(out_end - op) < len)
            return -EINVAL;
        /* byte by byte: the source may overlap what is being written */
        const unsigned char *ref = op - back;
        for (size_t i = 0; i < len; i++)
            op[i] = ref[i];
        op += len;
    }
    return op == out_end ? 0 : -EINVAL;
}
