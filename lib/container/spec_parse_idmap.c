/* config.json's linux.uidMappings and gidMappings, and runc's rules tying
 * them to the user namespace: a user namespace (new or joined) needs both
 * lists, each mapping the container's 0; mappings without one are refused
 * (runc 1.1's validator text: Debian's runc 1.1.5 drops them silently, and
 * would run the container as the host's root). */
#include <errno.h>
#include <stdlib.h>

#include "container/spec_internal.h"

static int parse_mapping(json_t *o, const tm_jpath *at, struct tm_id_mapping *m, tm_error *err)
{
    /* A missing member is 0, as Go decodes it for runc. */
    int64_t cid = 0, hid = 0, size = 0;
    int r = tm_json_object_value(o, at, err);
    if (r < 0 || (r = tm_json_get_int(o, at, "containerID", 0, UINT32_MAX, &cid, err)) < 0 ||
        (r = tm_json_get_int(o, at, "hostID", 0, UINT32_MAX, &hid, err)) < 0 ||
        (r = tm_json_get_int(o, at, "size", 0, UINT32_MAX, &size, err)) < 0)
        return r;
    *m = (struct tm_id_mapping){ (uint32_t)cid, (uint32_t)hid, (uint32_t)size };
    return 0;
}

static int parse_list(json_t *l, const char *key, struct tm_id_mapping **out, size_t *n, tm_error *err)
{
    static const tm_jpath linux_path = { "linux" };
    json_t *list;
    int r = tm_json_get_array(l, &linux_path, key, 340, &list, err);   /* the kernel's limit */
    if (r <= 0)
        return r;
    tm_jpath at = tm_jpath_key(&linux_path, key);
    if ((r = TM_SPEC_ALLOC(*out, json_array_size(list), &at, err)) < 0)
        return r;
    *n = json_array_size(list);
    for (size_t i = 0; i < *n; i++) {
        tm_jpath ip = tm_jpath_index(&at, i);
        if ((r = parse_mapping(json_array_get(list, i), &ip, &(*out)[i], err)) < 0)
            return r;
    }
    return *n > 0;   /* [] is none, as for runc */
}

/* The host id of the container's 0, or -1 when no mapping covers it. */
static int64_t host_of_zero(const struct tm_id_mapping *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].container_id == 0 && m[i].size > 0)
            return m[i].host_id;
    return -1;
}

uid_t tm_spec_host_root_uid(const struct tm_container_spec *spec)
{
    int64_t id = spec->namespaces[TM_NS_USER].enabled ? host_of_zero(spec->uid_mappings, spec->nuid_mappings) : 0;
    return id < 0 ? 0 : (uid_t)id;
}

gid_t tm_spec_host_root_gid(const struct tm_container_spec *spec)
{
    int64_t id = spec->namespaces[TM_NS_USER].enabled ? host_of_zero(spec->gid_mappings, spec->ngid_mappings) : 0;
    return id < 0 ? 0 : (gid_t)id;
}

int tm_spec_parse_id_mappings(json_t *l, struct tm_container_spec *spec, tm_error *err)
{
    int ru = l ? parse_list(l, "uidMappings", &spec->uid_mappings, &spec->nuid_mappings, err) : 0;
    if (ru < 0)
        return ru;
    int rg = l ? parse_list(l, "gidMappings", &spec->gid_mappings, &spec->ngid_mappings, err) : 0;
    if (rg < 0)
        return rg;
    if (!spec->namespaces[TM_NS_USER].enabled) {
        if (ru || rg)
            return tm_error_set(err, EINVAL, "User namespace mappings specified, but USER namespace isn't "
                                "enabled in the config");
        return 0;
    }
    /* runc's texts, in its order (HostRootUID, then HostRootGID). */
    if (!ru)
        return tm_error_set(err, EINVAL, "User namespaces enabled, but no uid mappings found.");
    if (host_of_zero(spec->uid_mappings, spec->nuid_mappings) < 0)
        return tm_error_set(err, EINVAL, "User namespaces enabled, but no user mapping found.");
    if (!rg)
        return tm_error_set(err, EINVAL, "User namespaces enabled, but no gid mappings found.");
    if (host_of_zero(spec->gid_mappings, spec->ngid_mappings) < 0)
        return tm_error_set(err, EINVAL, "User namespaces enabled, but no group mapping found.");
    return 0;
}
