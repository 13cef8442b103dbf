/* memcpy and memmove for every image, in place of musl's.
 *
 * musl's x86_64 memcpy is `rep movsq` plus single `movsb`s for the head and
 * the tail: microcoded, tens of cycles for the few bytes a store copies at a
 * time (an element of a reply, a key); 28% of the enclave server's samples at
 * LRANGE_100 -P 16. Its memmove copies an overlapping range downwards with
 * `std; rep movsb`, one byte at a time (the fast-string microcode only runs
 * upwards): a list node's head insert (LPUSH) spent ~47% there at -P 16.
 *
 * Here: SSE2 loads and stores, unaligned; small sizes by two overlapping
 * moves. Every path loads what it copies before storing over it, so memcpy
 * is also a correct upward copy when dst lies below src (memmove relies on
 * it). SSE2 intrinsics and fixed-size __builtin_memcpy, not loops of byte
 * copies: the compiler would turn such a loop back into a call to memcpy. */
#include <emmintrin.h>
#include <stdint.h>
#include <string.h>

static inline __m128i tm_load16(const unsigned char *p) { return _mm_loadu_si128((const __m128i *)p); }
static inline void tm_store16(unsigned char *p, __m128i v) { _mm_storeu_si128((__m128i *)p, v); }

/* n <= 16 */
static inline void tm_copy_small(unsigned char *d, const unsigned char *s, size_t n)
{
    if (n >= 8) {
        uint64_t a, b;
        __builtin_memcpy(&a, s, 8);
        __builtin_memcpy(&b, s + n - 8, 8);
        __builtin_memcpy(d, &a, 8);
        __builtin_memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        __builtin_memcpy(&a, s, 4);
        __builtin_memcpy(&b, s + n - 4, 4);
        __builtin_memcpy(d, &a, 4);
        __builtin_memcpy(d + n - 4, &b, 4);
    } else if (n) {
        unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
    }
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n <= 16) {
        tm_copy_small(d, s, n);
        return dst;
    }
    if (n <= 32) {
        __m128i a = tm_load16(s), b = tm_load16(s + n - 16);
        tm_store16(d, a);
        tm_store16(d + n - 16, b);
        return dst;
    }
    if (n <= 64) {
        __m128i a = tm_load16(s), b = tm_load16(s + 16);
        __m128i c = tm_load16(s + n - 32), e = tm_load16(s + n - 16);
        tm_store16(d, a);
        tm_store16(d + 16, b);
        tm_store16(d + n - 32, c);
        tm_store16(d + n - 16, e);
        return dst;
    }
    /* the last 64 bytes, loaded before anything is stored */
    __m128i t0 = tm_load16(s + n - 64), t1 = tm_load16(s + n - 48);
    __m128i t2 = tm_load16(s + n - 32), t3 = tm_load16(s + n - 16);
    for (size_t i = 0; i < n - 64; i += 64) {
        __m128i a = tm_load16(s + i), b = tm_load16(s + i + 16);
        __m128i c = tm_load16(s + i + 32), e = tm_load16(s + i + 48);
        tm_store16(d + i, a);
        tm_store16(d + i + 16, b);
        tm_store16(d + i + 32, c);
        tm_store16(d + i + 48, e);
    }
    tm_store16(d + n - 64, t0);
    tm_store16(d + n - 48, t1);
    tm_store16(d + n - 32, t2);
    tm_store16(d + n - 16, t3);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    /* d below s, or no overlap: memcpy's upward copy never reads what it wrote */
    if ((uintptr_t)d - (uintptr_t)s >= n)
        return memcpy(dst, src, n);
    /* d above s: from the end down. Each step loads all its bytes before it
     * stores any, and stores only above what is still to be read. */
    while (n >= 64) {
        n -= 64;
        __m128i a = tm_load16(s + n), b = tm_load16(s + n + 16);
        __m128i c = tm_load16(s + n + 32), e = tm_load16(s + n + 48);
        tm_store16(d + n, a);
        tm_store16(d + n + 16, b);
        tm_store16(d + n + 32, c);
        tm_store16(d + n + 48, e);
    }
    if (n > 16) {
        /* 17..63 bytes left: the whole rest loaded first */
        __m128i a = tm_load16(s), b = tm_load16(s + n - 16);
        __m128i c = tm_load16(s + (n > 32 ? 16 : 0)), e = tm_load16(s + (n > 48 ? 32 : 0));
        tm_store16(d + (n > 48 ? 32 : 0), e);
        tm_store16(d + (n > 32 ? 16 : 0), c);
        tm_store16(d + n - 16, b);
        tm_store16(d, a);
        return dst;
    }
    tm_copy_small(d, s, n);   /* loads before stores */
    return dst;
}
