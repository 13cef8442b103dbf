/* What Debian's libmbedcrypto.a (built against glibc with _FORTIFY_SOURCE)
 * references besides the C library proper. Checked copies trap on overflow
 * (as glibc aborts); printf-style output goes to the write ocall. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dst_len)
{
    if (len > dst_len)
        __builtin_trap();
    return memcpy(dst, src, len);
}

void *__memmove_chk(void *dst, const void *src, size_t len, size_t dst_len)
{
    if (len > dst_len)
        __builtin_trap();
    return memmove(dst, src, len);
}

void *__memset_chk(void *dst, int c, size_t len, size_t dst_len)
{
    if (len > dst_len)
        __builtin_trap();
    return memset(dst, c, len);
}

int __printf_chk(int flag, const char *format, ...)
{
    (void)flag;
    char line[512];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    if (n < 0)
        return n;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    return write(1, line, len) < 0 ? -1 : n;
}

/* mbedTLS's self tests print with these; musl's would need stdio's syscalls. */
int puts(const char *s)
{
    size_t len = strlen(s);
    if (write(1, s, len) < 0 || write(1, "\n", 1) < 0)
        return EOF;
    return 1;
}

int putchar(int c)
{
    unsigned char ch = (unsigned char)c;
    return write(1, &ch, 1) == 1 ? ch : EOF;
}
