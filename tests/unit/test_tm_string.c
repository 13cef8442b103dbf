/* The enclave's memcpy and memmove (trusted/tm_string.c), compiled here
 * under other names and checked against a byte-by-byte reference: every
 * size up to 600 bytes and some large ones, every alignment of source and
 * destination, and every overlap within 80 bytes in both directions. */
#define memcpy tm_test_memcpy
#define memmove tm_test_memmove
#include "../../trusted/tm_string.c"
#undef memcpy
#undef memmove

#include <stdbool.h>

#include "harness.h"

#define TM_BUF 160000

static unsigned char buf[TM_BUF], want[TM_BUF];

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 131u + seed * 7u + (i >> 8));
}

/* The reference: through a copy, as memmove is defined. */
static void ref_move(unsigned char *base, size_t dst, size_t src, size_t n)
{
    static unsigned char tmp[TM_BUF];
    for (size_t i = 0; i < n; i++)
        tmp[i] = base[src + i];
    for (size_t i = 0; i < n; i++)
        base[dst + i] = tmp[i];
}

static const size_t big_sizes[] = { 1000, 4095, 4096, 4097, 65536 + 13, 131072 };

static bool same(size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != want[i])
            return false;
    return true;
}

static void test_memcpy_sizes_alignments(void)
{
    size_t failures = 0;
    for (size_t n = 0; n <= 600 + sizeof big_sizes / sizeof big_sizes[0]; n++) {
        size_t len = n <= 600 ? n : big_sizes[n - 601];
        for (size_t so = 0; so < 16; so++)
            for (size_t dof = 0; dof < 16; dof += (len > 600 ? 5 : 1)) {
                size_t src = 16 + so, dst = len + 64 + dof;   /* no overlap */
                if (dst + len + 16 > TM_BUF)
                    continue;
                fill(buf, dst + len + 16, (unsigned)(len + so));
                for (size_t i = 0; i < dst + len + 16; i++)
                    want[i] = buf[i];
                ref_move(want, dst, src, len);
                void *r = tm_test_memcpy(buf + dst, buf + src, len);
                if (r != buf + dst || !same(dst + len + 16))
                    failures++;
            }
    }
    CHECK_EQ_INT(failures, 0);
}

static void test_memmove_overlaps(void)
{
    size_t failures = 0;
    for (size_t len = 0; len <= 400; len++)
        for (int delta = -80; delta <= 80; delta++) {
            size_t src = 100, dst = (size_t)(100 + delta);
            size_t end = (src > dst ? src : dst) + len + 16;
            fill(buf, end, (unsigned)len);
            for (size_t i = 0; i < end; i++)
                want[i] = buf[i];
            ref_move(want, dst, src, len);
            void *r = tm_test_memmove(buf + dst, buf + src, len);
            if (r != buf + dst || !same(end))
                failures++;
        }
    CHECK_EQ_INT(failures, 0);
}

static void test_memmove_large_overlaps(void)
{
    static const int deltas[] = { -4097, -64, -17, -1, 1, 15, 16, 63, 64, 65, 4096 };
    size_t failures = 0;
    for (size_t b = 0; b < sizeof big_sizes / sizeof big_sizes[0]; b++)
        for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
            size_t len = big_sizes[b], src = 5000, dst = (size_t)(5000 + deltas[k]);
            size_t end = (src > dst ? src : dst) + len + 16;
            fill(buf, end, (unsigned)k);
            for (size_t i = 0; i < end; i++)
                want[i] = buf[i];
            ref_move(want, dst, src, len);
            tm_test_memmove(buf + dst, buf + src, len);
            if (!same(end))
                failures++;
        }
    CHECK_EQ_INT(failures, 0);
}

int main(void)
{
    RUN(test_memcpy_sizes_alignments);
    RUN(test_memmove_overlaps);
    RUN(test_memmove_large_overlaps);
    TEST_EXIT();
}
