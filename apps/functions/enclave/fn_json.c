/* Error results as JSON, built without Duktape (which may be the thing that
 * failed). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fn_runtime.h"

/* msg as a JSON string body into out[0..cap); returns bytes written. */
static size_t fn_json_escape(char *out, size_t cap, const char *msg)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        char esc[8];
        size_t l;
        if (*p == '"' || *p == '\\')
            l = (size_t)snprintf(esc, sizeof esc, "\\%c", *p);
        else if (*p < 0x20)
            l = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
        else
            esc[0] = (char)*p, l = 1;
        if (n + l >= cap)
            break;
        memcpy(out + n, esc, l);
        n += l;
    }
    return n;
}

size_t fn_json_error(char *out, size_t cap, const char *msg, long line, const char *script)
{
    char tail[FN_MAX_SCRIPT_NAME * 6 + 64];
    size_t t = 0;
    if (line > 0) {
        t = (size_t)snprintf(tail, sizeof tail, ",\"line\":%ld,\"script\":\"", line);
        t += fn_json_escape(tail + t, sizeof tail - t - 2, script ? script : "");
        tail[t++] = '"';
    }
    static const char head[] = "{\"error\":\"";
    if (cap < sizeof head + t + 3)
        return 0;
    size_t n = sizeof head - 1;
    memcpy(out, head, n);
    n += fn_json_escape(out + n, cap - n - t - 2, msg);
    out[n++] = '"';
    memcpy(out + n, tail, t);
    n += t;
    out[n++] = '}';
    out[n] = '\0';
    return n;
}

/* Duktape writes a character past U+FFFF that JS built from a surrogate pair
 * as two 3-byte surrogates (CESU-8), which strict UTF-8 readers refuse: the
 * pair becomes its 4-byte UTF-8, a lone surrogate U+FFFD (same length, so
 * the result shrinks or stays). */
size_t fn_json_utf8(char *s, size_t len)
{
    unsigned char *p = (unsigned char *)s;
    size_t r = 0, w = 0;
    while (r < len) {
        bool sur = r + 2 < len && p[r] == 0xed && p[r + 1] >= 0xa0 && p[r + 1] <= 0xbf &&
                   (p[r + 2] & 0xc0) == 0x80;
        if (!sur) {
            p[w++] = p[r++];
            continue;
        }
        uint32_t hi = 0xd000 | (uint32_t)(p[r + 1] & 0x3f) << 6 | (p[r + 2] & 0x3f);
        bool pair = hi < 0xdc00 && r + 5 < len && p[r + 3] == 0xed && p[r + 4] >= 0xb0 &&
                    p[r + 4] <= 0xbf && (p[r + 5] & 0xc0) == 0x80;
        if (pair) {
            uint32_t lo = 0xd000 | (uint32_t)(p[r + 4] & 0x3f) << 6 | (p[r + 5] & 0x3f);
            uint32_t c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
            p[w++] = (unsigned char)(0xf0 | c >> 18);
            p[w++] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
            p[w++] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            p[w++] = (unsigned char)(0x80 | (c & 0x3f));
            r += 6;
        } else {
            p[w++] = 0xef, p[w++] = 0xbf, p[w++] = 0xbd;
            r += 3;
        }
    }
    return w;
}
