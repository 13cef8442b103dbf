/* `teemate update --resources FILE`: runc's document, linux.resources'
 * memory, cpu, pids and blockIO weight; members left out stay as they are. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "container/container.h"
#include "container/spec_internal.h"

static int get_uint(json_t *o, const tm_jpath *at, const char *key, uint64_t max, uint64_t *out, tm_error *err)
{
    int64_t v;
    int r = tm_json_get_int(o, at, key, 0, (int64_t)max, &v, err);
    if (r > 0)
        *out = (uint64_t)v;
    return r;
}

static int get_string(json_t *o, const tm_jpath *at, const char *key, char *out, size_t len, tm_error *err)
{
    char *s = NULL;
    int r = tm_json_get_string(o, at, key, &s, err);
    if (r > 0 && strlen(s) >= len) {
        tm_jpath p = tm_jpath_key(at, key);
        r = tm_json_fail(err, &p, "longer than %zu bytes", len - 1);
    } else if (r > 0)
        snprintf(out, len, "%s", s);
    free(s);
    return r;
}

static int parse(json_t *doc, struct tm_cgroup_update *u, tm_error *err)
{
    static const tm_jpath top = { "" };
    json_t *o;
    tm_jpath at;
    int r;
    if ((r = tm_json_get_object(doc, &top, "memory", &o, err)) > 0) {
        at = tm_jpath_key(&top, "memory");
        if ((r = tm_json_get_int(o, &at, "limit", -1, INT64_MAX, &u->memory, err)) < 0 ||
            (r = tm_json_get_int(o, &at, "reservation", -1, INT64_MAX, &u->memory_reservation, err)) < 0 ||
            (r = tm_json_get_int(o, &at, "swap", -1, INT64_MAX, &u->memory_swap, err)) < 0)
            return r;
    }
    if (r < 0)
        return r;
    if ((r = tm_json_get_object(doc, &top, "cpu", &o, err)) > 0) {
        at = tm_jpath_key(&top, "cpu");
        if ((r = get_uint(o, &at, "shares", UINT32_MAX, &u->cpu_shares, err)) < 0 ||
            (r = tm_json_get_int(o, &at, "quota", -1, INT64_MAX, &u->cpu_quota, err)) < 0 ||
            (r = get_uint(o, &at, "period", UINT32_MAX, &u->cpu_period, err)) < 0 ||
            (r = get_string(o, &at, "cpus", u->cpuset_cpus, sizeof u->cpuset_cpus, err)) < 0 ||
            (r = get_string(o, &at, "mems", u->cpuset_mems, sizeof u->cpuset_mems, err)) < 0)
            return r;
        for (const char *const *k = (const char *const[]){ "realtimeRuntime", "realtimePeriod", NULL }; *k; k++)
            if (json_object_get(o, *k) && !json_is_null(json_object_get(o, *k)) &&
                json_integer_value(json_object_get(o, *k)) != 0) {
                tm_jpath p = tm_jpath_key(&at, *k);
                return tm_json_fail(err, &p, "realtime cpu limits are not supported by teemate update");
            }
    }
    if (r < 0)
        return r;
    if ((r = tm_json_get_object(doc, &top, "pids", &o, err)) > 0) {
        at = tm_jpath_key(&top, "pids");
        if ((r = tm_json_get_int(o, &at, "limit", -1, INT64_MAX, &u->pids, err)) < 0)
            return r;
    }
    if (r < 0)
        return r;
    if ((r = tm_json_get_object(doc, &top, "blockIO", &o, err)) > 0) {
        at = tm_jpath_key(&top, "blockIO");
        uint64_t w = 0;
        if ((r = get_uint(o, &at, "weight", UINT16_MAX, &w, err)) < 0)
            return r;
        u->blkio_weight = (uint16_t)w;
    }
    return r < 0 ? r : 0;
}

int tm_cgroup_update_parse(const char *json, size_t len, struct tm_cgroup_update *u, tm_error *err)
{
    memset(u, 0, sizeof *u);
    json_error_t jerr;
    _cleanup_json_ json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return tm_error_set(err, EINVAL, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    if (!json_is_object(doc))
        return tm_error_set(err, EINVAL, "expected a JSON object at the top level");
    int r = parse(doc, u, err);
    if (r < 0)
        memset(u, 0, sizeof *u);
    return r;
}

char *tm_cgroup_update_json(const struct tm_cgroup_update *u)
{
    json_t *doc = json_object(), *mem = json_object(), *cpu = json_object(), *pids = json_object(),
           *blkio = json_object();
    if (u->memory)
        json_object_set_new(mem, "limit", json_integer(u->memory));
    if (u->memory_reservation)
        json_object_set_new(mem, "reservation", json_integer(u->memory_reservation));
    if (u->memory_swap)
        json_object_set_new(mem, "swap", json_integer(u->memory_swap));
    if (u->cpu_shares)
        json_object_set_new(cpu, "shares", json_integer((json_int_t)u->cpu_shares));
    if (u->cpu_quota)
        json_object_set_new(cpu, "quota", json_integer(u->cpu_quota));
    if (u->cpu_period)
        json_object_set_new(cpu, "period", json_integer((json_int_t)u->cpu_period));
    if (*u->cpuset_cpus)
        json_object_set_new(cpu, "cpus", json_string(u->cpuset_cpus));
    if (*u->cpuset_mems)
        json_object_set_new(cpu, "mems", json_string(u->cpuset_mems));
    if (u->pids)
        json_object_set_new(pids, "limit", json_integer(u->pids));
    if (u->blkio_weight)
        json_object_set_new(blkio, "weight", json_integer(u->blkio_weight));
    json_object_set_new(doc, "memory", mem);
    json_object_set_new(doc, "cpu", cpu);
    json_object_set_new(doc, "pids", pids);
    json_object_set_new(doc, "blockIO", blkio);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}
