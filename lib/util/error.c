#include "util/error.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void error_vformat(tm_error *err, int code, const char *fmt, va_list ap)
{
    err->code = code > 0 ? code : EINVAL;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int tm_error_set(tm_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vformat(err, code, fmt, ap);
    va_end(ap);
    return -err->code;
}

int tm_error_sys(tm_error *err, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    error_vformat(err, saved, fmt, ap);
    va_end(ap);
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(saved));
    return -err->code;
}

int tm_error_prefix(tm_error *err, const char *fmt, ...)
{
    char joined[2 * sizeof(err->msg) + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(err->msg))
        n = sizeof(err->msg) - 1;
    joined[n++] = ':';
    joined[n++] = ' ';
    memcpy(joined + n, err->msg, sizeof(err->msg));   /* NUL-terminated: fits */
    memcpy(err->msg, joined, sizeof(err->msg) - 1);
    err->msg[sizeof(err->msg) - 1] = '\0';
    if (err->code <= 0)
        err->code = EINVAL;
    return -err->code;
}

int tm_error_openssl(tm_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vformat(err, code, fmt, ap);
    va_end(ap);
    unsigned long e = ERR_get_error();
    if (e) {
        size_t len = strlen(err->msg);
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", buf);
    }
    ERR_clear_error();
    return -err->code;
}
