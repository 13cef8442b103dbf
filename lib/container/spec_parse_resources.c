/* config.json's linux.resources (the cgroup limits we apply) and
 * linux.devices (the device nodes made in the container). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_parse_resources.h"
#include "util/cleanup.h"

/* obj.key into *out when present; as runc, 0 and -1 mean "no limit" (-1:
 * "max", 0: leave alone, which for a new cgroup is the same). */
static int get_limit(json_t *obj, const tm_jpath *at, const char *key, int64_t min, int64_t *out,
                     tm_error *err)
{
    int64_t v;
    int r = tm_json_get_int(obj, at, key, min, INT64_MAX, &v, err);
    if (r > 0)
        *out = v > 0 ? v : -1;
    return r;
}

static int get_unsigned(json_t *obj, const tm_jpath *at, const char *key, uint64_t *out,
                        tm_error *err)
{
    int64_t v;
    int r = tm_json_get_int(obj, at, key, 0, INT64_MAX, &v, err);
    if (r > 0)
        *out = (uint64_t)v;
    return r;
}

/* A member that is parsed only to be refused when set: never accept and ignore. */
static int refuse(json_t *obj, const tm_jpath *at, const char *key, const char *why, tm_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v) || json_is_false(v) || (json_is_integer(v) && !json_integer_value(v)))
        return 0;
    tm_jpath p = tm_jpath_key(at, key);
    return tm_json_fail(err, &p, "not supported (%s)", why);
}

static int memory(json_t *m, const tm_jpath *mp, struct tm_cgroup_limits *lim, tm_error *err)
{
    int r = get_limit(m, mp, "limit", -1, &lim->memory_max, err);
    if (r >= 0)
        r = get_limit(m, mp, "swap", -1, &lim->memory_swap, err);
    if (r >= 0)
        r = get_limit(m, mp, "reservation", -1, &lim->memory_reservation, err);
    if (r >= 0)   /* runc: only <= 100 is valid; 0 is a value here */
        r = tm_json_get_int(m, mp, "swappiness", 0, 100, &lim->memory_swappiness, err);
    if (r >= 0)
        r = tm_json_get_bool(m, mp, "disableOOMKiller", &lim->oom_kill_disable, err);
    if (r >= 0)
        r = refuse(m, mp, "kernel", "kernel memory limits are deprecated and ignored by runc", err);
    if (r >= 0)
        r = refuse(m, mp, "kernelTCP", "kernel memory limits are deprecated and ignored by runc", err);
    if (r >= 0)
        r = refuse(m, mp, "useHierarchy", "hierarchical accounting is the kernel's only mode", err);
    if (r < 0)
        return r;
    /* swap is memory plus swap: below the memory limit the kernel refuses it. */
    if (lim->memory_max > 0 && lim->memory_swap > 0 && lim->memory_swap < lim->memory_max) {
        tm_jpath sp = tm_jpath_key(mp, "swap");
        return tm_json_fail(err, &sp, "%lld is below memory.limit %lld (it counts memory plus swap)",
                            (long long)lim->memory_swap, (long long)lim->memory_max);
    }
    return 0;
}

/* cpus and mems go to cpuset.cpus/mems as they are ("0-3,5"). */
static int cpuset_list(json_t *c, const tm_jpath *cp, const char *key, char *out, size_t len, tm_error *err)
{
    _cleanup_free_ char *s = NULL;
    int r = tm_json_get_string(c, cp, key, &s, err);
    if (r <= 0)
        return r;
    if (strlen(s) >= len || strspn(s, "0123456789,-") != strlen(s)) {
        tm_jpath p = tm_jpath_key(cp, key);
        return tm_json_fail(err, &p, "\"%.40s\" is not a list like \"0-3,5\"", s);
    }
    strcpy(out, s);
    return 1;
}

static int cpu(json_t *c, const tm_jpath *cp, struct tm_cgroup_limits *lim, tm_error *err)
{
    int r = get_limit(c, cp, "quota", -1, &lim->cpu_quota, err);
    if (r >= 0)
        r = get_unsigned(c, cp, "period", &lim->cpu_period, err);
    if (r >= 0)
        r = get_unsigned(c, cp, "shares", &lim->cpu_shares, err);
    if (r >= 0)
        r = get_limit(c, cp, "realtimeRuntime", -1, &lim->cpu_rt_runtime, err);
    if (r >= 0)
        r = get_unsigned(c, cp, "realtimePeriod", &lim->cpu_rt_period, err);
    if (r >= 0)
        r = cpuset_list(c, cp, "cpus", lim->cpuset_cpus, sizeof lim->cpuset_cpus, err);
    if (r >= 0)
        r = cpuset_list(c, cp, "mems", lim->cpuset_mems, sizeof lim->cpuset_mems, err);
    if (r >= 0)
        r = refuse(c, cp, "burst", "cpu.cfs_burst_us is not applied by teemate", err);
    if (r >= 0)
        r = refuse(c, cp, "idle", "cpu.idle is not applied by teemate", err);
    return r;
}

int tm_spec_parse_resources(json_t *res, struct tm_cgroup_limits *lim, tm_error *err)
{
    tm_jpath at = { "linux.resources" };
    tm_jpath mp = tm_jpath_key(&at, "memory"), pp = tm_jpath_key(&at, "pids");
    tm_jpath cp = tm_jpath_key(&at, "cpu");
    json_t *v;
    int r = tm_json_get_object(res, &at, "memory", &v, err);
    if (r > 0)
        r = memory(v, &mp, lim, err);
    if (r >= 0 && (r = tm_json_get_object(res, &at, "pids", &v, err)) > 0)
        r = get_limit(v, &pp, "limit", INT64_MIN, &lim->pids_max, err);   /* runc: <= 0 is none */
    if (r >= 0 && (r = tm_json_get_object(res, &at, "cpu", &v, err)) > 0)
        r = cpu(v, &cp, lim, err);
    if (r >= 0 && (v = json_object_get(res, "devices")) && !json_is_null(v))
        r = tm_spec_parse_device_rules(v, lim, err);
    if (r >= 0)
        r = tm_spec_parse_resources_more(res, &at, lim, err);
    return r < 0 ? r : 0;
}

static int parse_device(json_t *o, const tm_jpath *at, struct tm_device_spec *d, tm_error *err)
{
    _cleanup_free_ char *type = NULL;
    int r = tm_json_object_value(o, at, err);
    if (r >= 0 && (r = tm_json_get_string(o, at, "path", &d->path, err)) == 0)
        return tm_json_missing(at, "path", err);
    if (r > 0 && d->path[0] != '/') {
        tm_jpath p = tm_jpath_key(at, "path");
        return tm_json_fail(err, &p, "must be an absolute path");
    }
    if (r >= 0 && (r = tm_json_get_string(o, at, "type", &type, err)) == 0)
        return tm_json_missing(at, "type", err);
    if (r < 0)
        return r;
    if (strlen(type) != 1 || !strchr("cbup", type[0])) {
        tm_jpath p = tm_jpath_key(at, "type");
        return tm_json_fail(err, &p, "expected \"c\", \"b\", \"u\" or \"p\"");
    }
    d->type = type[0];
    int64_t v;
    const char *numbers[] = { "major", "minor" };
    int64_t *dest[] = { &d->major, &d->minor };
    for (int i = 0; i < 2; i++) {
        r = tm_json_get_int(o, at, numbers[i], 0, UINT32_MAX, dest[i], err);
        if (r == 0 && d->type != 'p')   /* a fifo has no device number */
            return tm_json_missing(at, numbers[i], err);
        if (r < 0)
            return r;
    }
    /* podman writes the file type bits too (8630 = S_IFCHR|0666); runc drops them. */
    if ((r = tm_json_get_int(o, at, "fileMode", 0, UINT32_MAX, &v, err)) > 0)
        d->file_mode = (uint32_t)v & 07777;
    if (r >= 0 && (r = tm_json_get_int(o, at, "uid", 0, UINT32_MAX, &v, err)) > 0)
        d->uid = (uint32_t)v;
    if (r >= 0 && (r = tm_json_get_int(o, at, "gid", 0, UINT32_MAX, &v, err)) > 0)
        d->gid = (uint32_t)v;
    return r < 0 ? r : 0;
}

int tm_spec_parse_devices(json_t *list, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = { "linux.devices" };
    size_t n = json_array_size(list);
    int r = TM_SPEC_ALLOC(spec->devices, n, &at, err);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        tm_jpath ip = tm_jpath_index(&at, i);
        spec->ndevices = i + 1;
        r = parse_device(json_array_get(list, i), &ip, &spec->devices[i], err);
    }
    return r;
}
