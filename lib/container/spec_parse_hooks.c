/* config.json's hooks: for each kind an array of { path, args, env, timeout }. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "container/hooks.h"
#include "container/spec_internal.h"

#define MAX_HOOKS 1024   /* per kind */

static int parse_hook(json_t *o, const tm_jpath *at, struct tm_hook *h, tm_error *err)
{
    int r = tm_json_object_value(o, at, err);
    if (r < 0 || (r = tm_json_required_string(o, at, "path", &h->path, err)) < 0)
        return r;
    if (h->path[0] != '/') {
        tm_jpath p = tm_jpath_key(at, "path");
        return tm_json_fail(err, &p, "%s is not an absolute path", h->path);
    }
    if ((r = tm_json_get_strings(o, at, "args", TM_SPEC_MAX_ARGS, &h->args, &h->nargs, err)) < 0 ||
        (r = tm_json_get_strings(o, at, "env", TM_SPEC_MAX_ENTRIES, &h->env, &h->nenv, err)) < 0)
        return r;
    int64_t timeout = 0;
    if ((r = tm_json_get_int(o, at, "timeout", INT64_MIN, INT64_MAX, &timeout, err)) < 0)
        return r;
    if (r > 0 && (timeout <= 0 || timeout > INT_MAX)) {
        tm_jpath p = tm_jpath_key(at, "timeout");
        return tm_json_fail(err, &p, "%lld: must be a number of seconds greater than zero", (long long)timeout);
    }
    h->timeout = (int)timeout;
    return 0;
}

int tm_spec_parse_hooks(json_t *hooks, struct tm_hooks *h, tm_error *err)
{
    tm_jpath at = { "hooks" };
    for (int k = 0; k < TM_HOOK_KINDS; k++) {
        json_t *list;
        const char *name = tm_hook_kind_name(k);
        int r = tm_json_get_array(hooks, &at, name, MAX_HOOKS, &list, err);
        if (r < 0)
            return r;
        if (r == 0 || json_array_size(list) == 0)
            continue;
        tm_jpath kat = tm_jpath_key(&at, name);
        if ((r = TM_SPEC_ALLOC(h->list[k], json_array_size(list), &kat, err)) < 0)
            return r;
        h->n[k] = json_array_size(list);
        for (size_t i = 0; i < h->n[k]; i++) {
            tm_jpath p = tm_jpath_index(&kat, i);
            if ((r = parse_hook(json_array_get(list, i), &p, &h->list[k][i], err)) < 0)
                return r;
        }
    }
    return 0;
}
