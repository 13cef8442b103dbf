/* Redis's number formatting and parsing rules (util.c) and its argument
 * splitter for inline commands (sdssplitargs). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_server.h"

#define KV_MAX_LONG_DOUBLE_CHARS (5 * 1024)

size_t kv_ll2str(char *buf, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t len = 0;
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

/* string2d: strtod over the whole string, no leading space, no NaN, no
 * overflow to infinity or underflow to zero by ERANGE. */
bool kv_str_to_double(const struct kv_str *s, double *out)
{
    if (s->len == 0 || isspace((unsigned char)s->data[0]))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s->data, &end);
    if ((size_t)(end - s->data) != s->len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return false;
    *out = v;
    return true;
}

/* string2ld: as string2d with strtold, on a C string (so a NUL ends it). */
bool kv_str_to_long_double(const struct kv_str *s, long double *out)
{
    if (s->len == 0 || s->len >= KV_MAX_LONG_DOUBLE_CHARS || isspace((unsigned char)s->data[0]))
        return false;
    char *end;
    errno = 0;
    long double v = strtold(s->data, &end);
    if (end[0] != '\0' ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return false;
    *out = v;
    return true;
}

int kv_double_format(double d, char *buf, size_t cap)
{
    if (isinf(d))
        return snprintf(buf, cap, "%s", d > 0 ? "inf" : "-inf");
    return snprintf(buf, cap, "%.17g", d);
}

/* ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros; 0 when it does
 * not fit. */
int kv_long_double_format(long double v, char *buf, size_t cap)
{
    if (isinf(v))
        return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    int n = snprintf(buf, cap, "%.17Lf", v);
    if (n < 0 || (size_t)n + 1 > cap)
        return 0;
    size_t l = (size_t)n;
    if (strchr(buf, '.')) {
        char *p = buf + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return (int)l;
}

void kv_argv_free(struct kv_str **argv, int argc)
{
    if (!argv)
        return;
    for (int i = 0; i < argc; i++)
        kv_str_free(argv[i]);
    kv_free(argv);
}

static int kv_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* sdssplitargs: words separated by spaces; "..." with \n \r \t \b \a \\ \"
 * and \xHH, '...' with \' only; a closing quote must be followed by a space
 * or the end. NULL on unbalanced quotes. */
struct kv_str **kv_split_args(const char *line, size_t len, int *argc)
{
    len = strnlen(line, len);   /* Redis splits a C string: a NUL ends the line */
    const char *p = line, *end = line + len;
    struct kv_str **argv = NULL;
    int n = 0, cap = 0;
    struct kv_str *cur = NULL;
    *argc = 0;
    for (;;) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p >= end)
            break;
        bool inq = false, insq = false, done = false;
        cur = kv_str_new("", 0);
        while (!done) {
            if (inq) {
                if (p >= end)
                    goto err;
                if (*p == '\\' && p + 3 < end && p[1] == 'x' && kv_hex_digit(p[2]) >= 0 &&
                    kv_hex_digit(p[3]) >= 0) {
                    char b = (char)(kv_hex_digit(p[2]) * 16 + kv_hex_digit(p[3]));
                    cur = kv_str_append(cur, &b, 1);
                    p += 3;
                } else if (*p == '\\' && p + 1 < end) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    cur = kv_str_append(cur, &c, 1);
                } else if (*p == '"') {
                    /* closing quote must be followed by a space or nothing */
                    if (p + 1 < end && !isspace((unsigned char)p[1]))
                        goto err;
                    done = true;
                } else {
                    cur = kv_str_append(cur, p, 1);
                }
            } else if (insq) {
                if (p >= end)
                    goto err;
                if (*p == '\\' && p + 1 < end && p[1] == '\'') {
                    p++;
                    cur = kv_str_append(cur, "'", 1);
                } else if (*p == '\'') {
                    if (p + 1 < end && !isspace((unsigned char)p[1]))
                        goto err;
                    done = true;
                } else {
                    cur = kv_str_append(cur, p, 1);
                }
            } else {
                if (p >= end) {
                    done = true;
                    break;
                }
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0':
                    done = true;
                    break;
                case '"': inq = true; break;
                case '\'': insq = true; break;
                default: cur = kv_str_append(cur, p, 1); break;
                }
            }
            if (p < end)
                p++;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            argv = kv_realloc(argv, (size_t)cap * sizeof *argv);
        }
        argv[n++] = cur;
        cur = NULL;
    }
    *argc = n;
    if (!argv)
        argv = kv_alloc(sizeof *argv);
    return argv;
err:
    if (cur)
        kv_str_free(cur);
    kv_argv_free(argv, n);
    *argc = 0;
    return NULL;
}

bool kv_rank_range(int64_t len, int64_t *start, int64_t *end)
{
    if (*start < 0)
        *start = len + *start;
    if (*end < 0)
        *end = len + *end;
    if (*start < 0)
        *start = 0;
    if (*start > *end || *start >= len)
        return false;
    if (*end >= len)
        *end = len - 1;
    return true;
}
