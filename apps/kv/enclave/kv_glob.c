/* Redis's glob-style matching (util.c stringmatchlen): * ? [abc] [^a-z] and
 * backslash escapes, with its guard against exponential patterns (a nesting
 * limit, and giving up longer matches once the rest cannot match). */
#include <ctype.h>

#include "kv.h"

static bool kv_glob_impl(const char *pattern, size_t plen, const char *s, size_t slen,
                         bool nocase, bool *skip_longer, int nesting)
{
    if (nesting > 1000)
        return false;
    while (plen && slen) {
        switch (pattern[0]) {
        case '*':
            while (plen > 1 && pattern[1] == '*') {
                pattern++;
                plen--;
            }
            if (plen == 1)
                return true;
            while (slen) {
                if (kv_glob_impl(pattern + 1, plen - 1, s, slen, nocase, skip_longer, nesting + 1))
                    return true;
                if (*skip_longer)
                    return false;
                s++;
                slen--;
            }
            *skip_longer = true;
            return false;
        case '?':
            s++;
            slen--;
            break;
        case '[': {
            pattern++;
            plen--;
            bool not = plen && pattern[0] == '^';
            if (not) {
                pattern++;
                plen--;
            }
            bool match = false;
            for (;;) {
                if (plen >= 2 && pattern[0] == '\\') {
                    pattern++;
                    plen--;
                    if (pattern[0] == s[0])
                        match = true;
                } else if (plen == 0) {
                    pattern--;
                    plen++;
                    break;
                } else if (pattern[0] == ']') {
                    break;
                } else if (plen >= 3 && pattern[1] == '-') {
                    int start = (unsigned char)pattern[0], end = (unsigned char)pattern[2];
                    int c = (unsigned char)s[0];
                    if (start > end) {
                        int t = start;
                        start = end;
                        end = t;
                    }
                    if (nocase) {
                        start = tolower(start);
                        end = tolower(end);
                        c = tolower(c);
                    }
                    pattern += 2;
                    plen -= 2;
                    if (c >= start && c <= end)
                        match = true;
                } else if (!nocase) {
                    if (pattern[0] == s[0])
                        match = true;
                } else if (tolower((unsigned char)pattern[0]) == tolower((unsigned char)s[0])) {
                    match = true;
                }
                pattern++;
                plen--;
            }
            if (not)
                match = !match;
            if (!match)
                return false;
            s++;
            slen--;
            break;
        }
        case '\\':
            if (plen >= 2) {
                pattern++;
                plen--;
            }
            /* fall through */
        default:
            if (!nocase) {
                if (pattern[0] != s[0])
                    return false;
            } else if (tolower((unsigned char)pattern[0]) != tolower((unsigned char)s[0])) {
                return false;
            }
            s++;
            slen--;
            break;
        }
        pattern++;
        plen--;
        if (slen == 0) {
            while (plen && *pattern == '*') {
                pattern++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

bool kv_glob_match(const char *pattern, size_t plen, const char *s, size_t slen, bool nocase)
{
    bool skip_longer = false;
    return kv_glob_impl(pattern, plen, s, slen, nocase, &skip_longer, 0);
}
