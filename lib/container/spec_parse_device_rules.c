/* linux.resources.devices: the device cgroup rules, as runc reads them. */
#include <string.h>

#include "container/spec_parse_resources.h"
#include "util/cleanup.h"

static int parse_access(const char *s, const tm_jpath *at, unsigned *out, tm_error *err)
{
    tm_jpath p = tm_jpath_key(at, "access");
    if (!*s)
        return tm_json_fail(err, &p, "must not be empty");
    *out = 0;
    for (; *s; s++) {
        if (*s == 'r')
            *out |= TM_CGROUP_DEV_READ;
        else if (*s == 'w')
            *out |= TM_CGROUP_DEV_WRITE;
        else if (*s == 'm')
            *out |= TM_CGROUP_DEV_MKNOD;
        else
            return tm_json_fail(err, &p, "expected some of \"rwm\"");
    }
    return 0;
}

/* type "a" (default), "b" or "c"; major/minor absent or -1: any. */
static int parse_rule(json_t *o, const tm_jpath *at, struct tm_cgroup_device_rule *r, tm_error *err)
{
    _cleanup_free_ char *type = NULL, *access = NULL;
    *r = (struct tm_cgroup_device_rule){ .type = 'a', .major = -1, .minor = -1 };
    int ret = tm_json_object_value(o, at, err);
    if (ret >= 0)   /* absent: false, as Go reads it */
        ret = tm_json_get_bool(o, at, "allow", &r->allow, err);
    if (ret >= 0 && (ret = tm_json_get_string(o, at, "type", &type, err)) > 0 &&
        (strlen(type) != 1 || !strchr("abc", type[0]))) {
        tm_jpath p = tm_jpath_key(at, "type");
        return tm_json_fail(err, &p, "expected \"a\", \"b\" or \"c\"");
    }
    if (ret >= 0 && type)
        r->type = type[0];
    if (ret >= 0)
        ret = tm_json_get_int(o, at, "major", -1, UINT32_MAX, &r->major, err);
    if (ret >= 0)
        ret = tm_json_get_int(o, at, "minor", -1, UINT32_MAX, &r->minor, err);
    if (ret >= 0 && (ret = tm_json_get_string(o, at, "access", &access, err)) == 0)
        return tm_json_missing(at, "access", err);
    return ret < 0 ? ret : parse_access(access, at, &r->access, err);
}

int tm_spec_parse_device_rules(json_t *list, struct tm_cgroup_limits *lim, tm_error *err)
{
    tm_jpath at = { "linux.resources.devices" };
    if (!json_is_array(list))
        return tm_json_fail(err, &at, "expected an array");
    size_t n = json_array_size(list);
    if (n > TM_SPEC_MAX_ENTRIES)
        return tm_json_fail(err, &at, "more than %d entries", TM_SPEC_MAX_ENTRIES);
    int r = TM_SPEC_ALLOC(lim->devices, n, &at, err);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        tm_jpath ip = tm_jpath_index(&at, i);
        lim->ndevices = i + 1;
        r = parse_rule(json_array_get(list, i), &ip, &lim->devices[i], err);
    }
    return r < 0 ? r : 0;
}
