/* Error results as JSON, built without Duktape (which may be the thing that
 * failed). */
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
