/* config.json's process: the user, command, environment, capabilities and
 * rlimits of the container's process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "container/spec_internal.h"
#include "util/cleanup.h"

static const tm_jpath process_path = { "process" };

static int parse_user(json_t *user, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = tm_jpath_key(&process_path, "user");
    int64_t v;
    int r = tm_json_get_int(user, &at, "uid", 0, UINT32_MAX, &v, err);
    if (r > 0)
        spec->uid = (uid_t)v;
    if (r >= 0 && (r = tm_json_get_int(user, &at, "gid", 0, UINT32_MAX, &v, err)) > 0)
        spec->gid = (gid_t)v;
    if (r >= 0 && (r = tm_json_get_int(user, &at, "umask", 0, 0777, &v, err)) > 0) {
        spec->has_umask = true;
        spec->umask = (mode_t)v;
    }
    json_t *gids;
    if (r >= 0 && (r = tm_json_get_array(user, &at, "additionalGids", TM_SPEC_MAX_ENTRIES, &gids,
                                         err)) > 0) {
        tm_jpath gp = tm_jpath_key(&at, "additionalGids");
        size_t n = json_array_size(gids);
        r = TM_SPEC_ALLOC(spec->additional_gids, n, &gp, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
            tm_jpath ip = tm_jpath_index(&gp, i);
            json_t *g = json_array_get(gids, i);
            if (!json_is_integer(g))
                return tm_json_fail(err, &ip, "expected an integer");
            if (json_integer_value(g) < 0 || json_integer_value(g) > UINT32_MAX)
                return tm_json_fail(err, &ip, "out of range (0 to %u)", UINT32_MAX);
            spec->additional_gids[i] = (gid_t)json_integer_value(g);
            spec->nadditional_gids = i + 1;
        }
    }
    return r < 0 ? r : 0;
}

static int parse_command(json_t *p, struct tm_container_spec *spec, tm_error *err)
{
    int r = tm_json_get_strings(p, &process_path, "args", TM_SPEC_MAX_ARGS, &spec->args,
                                &spec->nargs, err);
    if (r == 0)
        return tm_json_missing(&process_path, "args", err);
    tm_jpath at = tm_jpath_key(&process_path, "args");
    if (r > 0 && spec->nargs == 0)
        return tm_json_fail(err, &at, "must not be empty");
    if (r >= 0)
        r = tm_json_get_strings(p, &process_path, "env", TM_SPEC_MAX_ENTRIES, &spec->env,
                                &spec->nenv, err);
    if (r < 0)
        return r;
    at = tm_jpath_key(&process_path, "env");
    for (size_t i = 0; i < spec->nenv; i++) {
        const char *eq = strchr(spec->env[i], '=');
        if (!eq || eq == spec->env[i]) {
            tm_jpath ip = tm_jpath_index(&at, i);
            return tm_json_fail(err, &ip, "expected NAME=VALUE");
        }
    }
    r = tm_json_get_string(p, &process_path, "cwd", &spec->cwd, err);
    if (r < 0)
        return r;
    if (r == 0 && !(spec->cwd = strdup("/")))
        return tm_error_set(err, ENOMEM, "process.cwd: out of memory");
    if (spec->cwd[0] != '/') {
        at = tm_jpath_key(&process_path, "cwd");
        return tm_json_fail(err, &at, "must be an absolute path");
    }
    return 0;
}

static int parse_cap_set(json_t *caps, const tm_jpath *at, const char *key, uint64_t *mask,
                         tm_error *err)
{
    json_t *list;
    int r = tm_json_get_array(caps, at, key, TM_SPEC_MAX_ENTRIES, &list, err);
    if (r <= 0)
        return r;
    tm_jpath lp = tm_jpath_key(at, key);
    for (size_t i = 0; i < json_array_size(list); i++) {
        tm_jpath ip = tm_jpath_index(&lp, i);
        json_t *v = json_array_get(list, i);
        if (!json_is_string(v))
            return tm_json_fail(err, &ip, "expected a string");
        int cap = tm_capability_from_name(json_string_value(v));
        if (cap < 0)
            return tm_json_fail(err, &ip, "unknown capability \"%.100s\"", json_string_value(v));
        *mask |= UINT64_C(1) << cap;
    }
    return 0;
}

static int parse_capabilities(json_t *caps, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = tm_jpath_key(&process_path, "capabilities");
    int r = parse_cap_set(caps, &at, "bounding", &spec->cap_bounding, err);
    if (r >= 0)
        r = parse_cap_set(caps, &at, "effective", &spec->cap_effective, err);
    if (r >= 0)
        r = parse_cap_set(caps, &at, "inheritable", &spec->cap_inheritable, err);
    if (r >= 0)
        r = parse_cap_set(caps, &at, "permitted", &spec->cap_permitted, err);
    if (r >= 0)
        r = parse_cap_set(caps, &at, "ambient", &spec->cap_ambient, err);
    return r;
}

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
    { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
    { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
    { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
    { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
    { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
    { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int parse_rlimit(json_t *o, const tm_jpath *at, struct tm_container_spec *spec,
                        struct tm_rlimit_spec *rl, tm_error *err)
{
    _cleanup_free_ char *type = NULL;
    int r = tm_json_required_string(o, at, "type", &type, err);
    if (r < 0)
        return r;
    tm_jpath tp = tm_jpath_key(at, "type");
    rl->resource = -1;
    for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
        if (!strcmp(type, rlimit_names[i].name))
            rl->resource = rlimit_names[i].resource;
    if (rl->resource < 0)
        return tm_json_fail(err, &tp, "unknown rlimit type \"%.100s\"", type);
    for (struct tm_rlimit_spec *prev = spec->rlimits; prev < rl; prev++)
        if (prev->resource == rl->resource)
            return tm_json_fail(err, &tp, "%s is listed twice", type);
    int64_t hard, soft;
    /* Values above INT64_MAX (RLIM_INFINITY written out) are refused by jansson itself. */
    if ((r = tm_json_required_int(o, at, "hard", 0, INT64_MAX, &hard, err)) < 0 ||
        (r = tm_json_required_int(o, at, "soft", 0, INT64_MAX, &soft, err)) < 0)
        return r;
    if (soft > hard)
        return tm_json_fail(err, at, "soft limit %lld is above the hard limit %lld",
                            (long long)soft, (long long)hard);
    rl->hard = (uint64_t)hard;
    rl->soft = (uint64_t)soft;
    return 0;
}

static int parse_rlimits(json_t *list, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = tm_jpath_key(&process_path, "rlimits");
    size_t n = json_array_size(list);
    int r = TM_SPEC_ALLOC(spec->rlimits, n, &at, err);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        tm_jpath ip = tm_jpath_index(&at, i);
        spec->nrlimits = i + 1;
        r = parse_rlimit(json_array_get(list, i), &ip, spec, &spec->rlimits[i], err);
    }
    return r;
}

int tm_spec_parse_process(json_t *p, struct tm_container_spec *spec, tm_error *err)
{
    const tm_jpath *at = &process_path;
    json_t *v;
    int64_t n;
    int r = tm_json_get_bool(p, at, "terminal", &spec->terminal, err);
    if (r >= 0 && (r = tm_json_get_object(p, at, "user", &v, err)) > 0)
        r = parse_user(v, spec, err);
    if (r >= 0)
        r = parse_command(p, spec, err);
    if (r >= 0 && (r = tm_json_get_object(p, at, "capabilities", &v, err)) > 0)
        r = parse_capabilities(v, spec, err);
    if (r >= 0 && (r = tm_json_get_array(p, at, "rlimits", TM_SPEC_MAX_ENTRIES, &v, err)) > 0)
        r = parse_rlimits(v, spec, err);
    if (r >= 0)
        r = tm_json_get_bool(p, at, "noNewPrivileges", &spec->no_new_privileges, err);
    if (r >= 0 && (r = tm_json_get_int(p, at, "oomScoreAdj", -1000, 1000, &n, err)) > 0) {
        spec->has_oom_score_adj = true;
        spec->oom_score_adj = (int)n;
    }
    if (r >= 0)
        r = tm_json_get_string(p, at, "apparmorProfile", &spec->apparmor_profile, err);
    if (r >= 0)
        r = tm_json_get_string(p, at, "selinuxLabel", &spec->selinux_label, err);
    return r < 0 ? r : 0;
}
