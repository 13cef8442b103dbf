/* Capability names as config.json spells them. */
#include <errno.h>
#include <string.h>
#include <sys/capability.h>

#include "container/spec.h"

int tm_capability_from_name(const char *name)
{
    /* cap_from_name also takes numbers, lower case and prefixes of longer
     * text ("CAP_CHOWN1" is CAP_CHOWN to it); config.json names are "CAP_"
     * and capitals, as runc reads them, so only those are asked about. */
    if (!name || strncmp(name, "CAP_", 4) || !name[4])
        return -EINVAL;
    for (const char *p = name + 4; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || *p == '_'))
            return -EINVAL;
    cap_value_t cap;
    if (cap_from_name(name, &cap) < 0 || cap < 0 || cap > 63)   /* the spec holds 64-bit masks */
        return -EINVAL;
    return cap;
}
