#include "util/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

int tm_parse_size(const char *text, uint64_t max, uint64_t *out)
{
    if (!text || !isdigit((unsigned char)*text))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno)
        return -ERANGE;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    case '\0': break;
    case 'b': case 'B': break;
    default: return -EINVAL;
    }
    if (shift) {
        end++;
        if (*end == 'i')
            end++;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    uint64_t bytes = (uint64_t)v << shift;
    if (bytes > max)
        return -ERANGE;
    *out = bytes;
    return 0;
}
