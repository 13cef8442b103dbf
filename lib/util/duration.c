/* Go's time.ParseDuration, which runc's flags use. */
#include "util/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {
    /* longer names first: "ms" before "m" */
    { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
    { "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000ull }, { "h", 3600000000000ull },
};

int tm_duration_parse(const char *text, int64_t *ns)
{
    const char *s = text;
    bool negative = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (!strcmp(s, "0")) {
        *ns = 0;
        return 0;
    }
    if (!*s)
        return -EINVAL;
    /* up to 2^63, the magnitude of INT64_MIN; 128 bits so no step overflows */
    unsigned __int128 total = 0;
    while (*s) {
        unsigned __int128 whole = 0;
        const char *start = s;
        while (isdigit((unsigned char)*s)) {
            whole = whole * 10 + (unsigned)(*s++ - '0');
            if (whole > (unsigned __int128)1 << 64)
                return -ERANGE;
        }
        bool have_whole = s > start;
        uint64_t frac = 0, scale = 1;
        if (*s == '.') {
            s++;
            const char *fstart = s;
            while (isdigit((unsigned char)*s)) {
                if (scale < 1000000000000000000ull) {   /* digits past 18 do not change ns */
                    frac = frac * 10 + (unsigned)(*s - '0');
                    scale *= 10;
                }
                s++;
            }
            if (s == fstart && !have_whole)
                return -EINVAL;
        } else if (!have_whole) {
            return -EINVAL;
        }
        size_t u = 0, n = sizeof units / sizeof units[0];
        for (; u < n; u++)
            if (!strncmp(s, units[u].name, strlen(units[u].name)))
                break;
        if (u == n)
            return -EINVAL;   /* a missing or unknown unit */
        s += strlen(units[u].name);
        total += whole * units[u].ns + (unsigned __int128)frac * units[u].ns / scale;
        if (total > (unsigned __int128)1 << 63)
            return -ERANGE;
    }
    if (!negative && total == (unsigned __int128)1 << 63)
        return -ERANGE;
    *ns = negative ? (int64_t)(0 - (uint64_t)total) : (int64_t)total;
    return 0;
}
