/* Redis's crc64 (crc64.c: Jones polynomial, reflected, no final xor), eight
 * bytes a step with slice-by-8 tables: a snapshot checksums every byte it
 * writes and every byte it loads. The tables are const (kv_crc64_table.h):
 * nothing to build at run time, nothing shared in .bss. */
#include <string.h>

#include "kv_crc64_table.h"
#include "kv_persist.h"

uint64_t kv_crc64(uint64_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    const uint64_t (*t)[256] = kv_crc64_table;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, b, 8);
        /* the little-endian word: byte 0 in the low bits (x86, the only target) */
        crc ^= v;
        crc = t[7][crc & 0xff] ^ t[6][(crc >> 8) & 0xff] ^ t[5][(crc >> 16) & 0xff] ^
              t[4][(crc >> 24) & 0xff] ^ t[3][(crc >> 32) & 0xff] ^ t[2][(crc >> 40) & 0xff] ^
              t[1][(crc >> 48) & 0xff] ^ t[0][crc >> 56];
        b += 8;
        n -= 8;
    }
    while (n--)
        crc = t[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return crc;
}
