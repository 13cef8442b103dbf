/* config.json's linux: namespaces, cgroup, sysctls, masked paths, rootfs
 * propagation; resources and devices (spec_parse_resources.c), seccomp
 * (spec_parse_seccomp.c) and id mappings (spec_parse_idmap.c) have their
 * own files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_internal.h"
#include "util/cleanup.h"

static const tm_jpath linux_path = { "linux" };

static const struct {
    const char *name;
    int type;   /* enum tm_ns_type; -1: refused */
} ns_names[] = {
    { "pid", TM_NS_PID },   { "network", TM_NS_NET }, { "mount", TM_NS_MOUNT },
    { "ipc", TM_NS_IPC },   { "uts", TM_NS_UTS },     { "cgroup", TM_NS_CGROUP },
    { "user", TM_NS_USER }, { "time", -1 },
};

const char *tm_spec_namespace_name(size_t i)
{
    for (size_t j = 0; j < sizeof ns_names / sizeof ns_names[0]; j++)
        if (ns_names[j].type >= 0 && i-- == 0)
            return ns_names[j].name;
    return NULL;
}

static int parse_namespace(json_t *o, const tm_jpath *at, struct tm_container_spec *spec,
                           tm_error *err)
{
    _cleanup_free_ char *type = NULL;
    int r = tm_json_required_string(o, at, "type", &type, err);
    if (r < 0)
        return r;
    tm_jpath tp = tm_jpath_key(at, "type");
    size_t i = 0;
    while (i < sizeof ns_names / sizeof ns_names[0] && strcmp(type, ns_names[i].name))
        i++;
    if (i == sizeof ns_names / sizeof ns_names[0])
        return tm_json_fail(err, &tp, "unknown namespace type \"%.100s\"", type);
    /* We set no kernel-clock offsets. */
    if (ns_names[i].type < 0)
        return tm_json_fail(err, &tp, "%s namespaces are not supported", type);
    struct tm_ns_spec *ns = &spec->namespaces[ns_names[i].type];
    if (ns->enabled)
        return tm_json_fail(err, &tp, "\"%s\" is listed twice", type);
    ns->enabled = true;
    r = tm_json_get_string(o, at, "path", &ns->path, err);
    if (r > 0 && ns->path[0] != '/') {
        tm_jpath pp = tm_jpath_key(at, "path");
        return tm_json_fail(err, &pp, "must be an absolute path");
    }
    return r < 0 ? r : 0;
}

static int parse_namespaces(json_t *list, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = tm_jpath_key(&linux_path, "namespaces");
    for (size_t i = 0; i < json_array_size(list); i++) {
        tm_jpath ip = tm_jpath_index(&at, i);
        int r = parse_namespace(json_array_get(list, i), &ip, spec, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int parse_sysctls(json_t *obj, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = tm_jpath_key(&linux_path, "sysctl");
    return tm_json_string_map(obj, &at, &spec->sysctls, &spec->nsysctls, err);
}

static int parse_rootfs_propagation(json_t *l, struct tm_container_spec *spec, tm_error *err)
{
    _cleanup_free_ char *name = NULL;
    int r = tm_json_get_string(l, &linux_path, "rootfsPropagation", &name, err);
    if (r <= 0 || !name[0])   /* "" is the default, as absent */
        return r;
    if (!tm_mount_propagation_from_name(name, &spec->rootfs_propagation)) {
        tm_jpath p = tm_jpath_key(&linux_path, "rootfsPropagation");
        return tm_json_fail(err, &p, "unknown propagation \"%.100s\"", name);
    }
    return 0;
}

int tm_spec_parse_linux(json_t *l, struct tm_container_spec *spec, tm_error *err)
{
    const tm_jpath *at = &linux_path;
    json_t *v;
    int r = tm_json_get_array(l, at, "namespaces", TM_SPEC_MAX_ENTRIES, &v, err);
    if (r > 0)
        r = parse_namespaces(v, spec, err);
    if (r >= 0)
        r = tm_json_get_string(l, at, "cgroupsPath", &spec->cgroups_path, err);
    if (r >= 0 && (r = tm_json_get_object(l, at, "resources", &v, err)) > 0)
        r = tm_spec_parse_resources(v, &spec->resources, err);
    if (r >= 0 && (r = tm_json_get_array(l, at, "devices", TM_SPEC_MAX_ENTRIES, &v, err)) > 0)
        r = tm_spec_parse_devices(v, spec, err);
    if (r >= 0 && (r = tm_json_get_object(l, at, "sysctl", &v, err)) > 0)
        r = parse_sysctls(v, spec, err);
    if (r >= 0)
        r = tm_json_get_strings(l, at, "maskedPaths", TM_SPEC_MAX_ENTRIES, &spec->masked_paths,
                                &spec->nmasked_paths, err);
    if (r >= 0)
        r = tm_json_get_strings(l, at, "readonlyPaths", TM_SPEC_MAX_ENTRIES,
                                &spec->readonly_paths, &spec->nreadonly_paths, err);
    if (r >= 0)
        r = parse_rootfs_propagation(l, spec, err);
    if (r >= 0 && (r = tm_json_get_object(l, at, "seccomp", &v, err)) > 0) {
        spec->has_seccomp = true;
        r = tm_spec_parse_seccomp(v, &spec->seccomp, err);
    }
    if (r >= 0)
        r = tm_spec_parse_id_mappings(l, spec, err);
    return r < 0 ? r : 0;
}
