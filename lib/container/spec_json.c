/* Typed access to config.json's values: every wrong type or size is an
 * error that names the value by its JSON path. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_internal.h"

static tm_jpath jpath_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static tm_jpath jpath_format(const char *fmt, ...)
{
    tm_jpath p;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p.s, sizeof p.s, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof p.s)
        memcpy(p.s + sizeof p.s - 4, "...", 4);
    return p;
}

tm_jpath tm_jpath_key(const tm_jpath *parent, const char *key)
{
    if (!parent || !parent->s[0])
        return jpath_format("%s", key);
    return jpath_format("%s.%s", parent->s, key);
}

tm_jpath tm_jpath_index(const tm_jpath *parent, size_t i)
{
    return jpath_format("%s[%zu]", parent->s, i);
}

int tm_json_fail(tm_error *err, const tm_jpath *at, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!at || !at->s[0])
        return tm_error_set(err, EINVAL, "%s", msg);
    return tm_error_set(err, EINVAL, "%s: %s", at->s, msg);
}

int tm_json_missing(const tm_jpath *at, const char *key, tm_error *err)
{
    tm_jpath p = tm_jpath_key(at, key);
    return tm_json_fail(err, &p, "required");
}

/* obj[key], with null read as absent. */
static json_t *member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

int tm_json_string_value(json_t *v, const tm_jpath *path, char **out, tm_error *err)
{
    if (!json_is_string(v))
        return tm_json_fail(err, path, "expected a string");
    size_t len = json_string_length(v);
    if (len > TM_SPEC_MAX_STRING)
        return tm_json_fail(err, path, "longer than %d bytes", TM_SPEC_MAX_STRING);
    /* jansson refuses \u0000 (no JSON_ALLOW_NUL), so the text is one C string. */
    char *copy = strndup(json_string_value(v), len);
    if (!copy)
        return tm_error_set(err, ENOMEM, "%s: out of memory", path->s);
    free(*out);
    *out = copy;
    return 0;
}

int tm_json_object_value(json_t *v, const tm_jpath *path, tm_error *err)
{
    if (!json_is_object(v))
        return tm_json_fail(err, path, "expected an object");
    if (json_object_size(v) > TM_SPEC_MAX_ENTRIES)
        return tm_json_fail(err, path, "more than %d members", TM_SPEC_MAX_ENTRIES);
    return 0;
}

int tm_json_get_string(json_t *obj, const tm_jpath *at, const char *key, char **out, tm_error *err)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    tm_jpath p = tm_jpath_key(at, key);
    int r = tm_json_string_value(v, &p, out, err);
    return r < 0 ? r : 1;
}

int tm_json_get_bool(json_t *obj, const tm_jpath *at, const char *key, bool *out, tm_error *err)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v)) {
        tm_jpath p = tm_jpath_key(at, key);
        return tm_json_fail(err, &p, "expected a boolean");
    }
    *out = json_is_true(v);
    return 1;
}

int tm_json_get_int(json_t *obj, const tm_jpath *at, const char *key, int64_t min, int64_t max,
                    int64_t *out, tm_error *err)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    tm_jpath p = tm_jpath_key(at, key);
    if (!json_is_integer(v))
        return tm_json_fail(err, &p, "expected an integer");
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return tm_json_fail(err, &p, "%lld is out of range (%lld to %lld)", (long long)n,
                            (long long)min, (long long)max);
    *out = n;
    return 1;
}

int tm_json_get_object(json_t *obj, const tm_jpath *at, const char *key, json_t **out,
                       tm_error *err)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    tm_jpath p = tm_jpath_key(at, key);
    int r = tm_json_object_value(v, &p, err);
    if (r < 0)
        return r;
    *out = v;
    return 1;
}

int tm_json_get_array(json_t *obj, const tm_jpath *at, const char *key, size_t max, json_t **out,
                      tm_error *err)
{
    json_t *v = member(obj, key);
    if (!v)
        return 0;
    tm_jpath p = tm_jpath_key(at, key);
    if (!json_is_array(v))
        return tm_json_fail(err, &p, "expected an array");
    if (json_array_size(v) > max)
        return tm_json_fail(err, &p, "more than %zu entries", max);
    *out = v;
    return 1;
}

int tm_json_get_strings(json_t *obj, const tm_jpath *at, const char *key, size_t max, char ***out,
                        size_t *n, tm_error *err)
{
    json_t *list;
    int r = tm_json_get_array(obj, at, key, max, &list, err);
    if (r <= 0)
        return r;
    tm_jpath p = tm_jpath_key(at, key);
    size_t count = json_array_size(list);
    char **v = calloc(count + 1, sizeof *v);   /* NULL-terminated */
    if (!v)
        return tm_error_set(err, ENOMEM, "%s: out of memory", p.s);
    for (size_t i = 0; i < count; i++) {
        tm_jpath ip = tm_jpath_index(&p, i);
        r = tm_json_string_value(json_array_get(list, i), &ip, &v[i], err);
        if (r < 0) {
            tm_spec_free_strings(v, i);
            return r;
        }
    }
    tm_spec_free_strings(*out, *n);
    *out = v;
    *n = count;
    return 1;
}

int tm_spec_alloc_check(const void *p, size_t n, const tm_jpath *at, tm_error *err)
{
    if (n && !p)
        return tm_error_set(err, ENOMEM, "%s: out of memory", at->s);
    return 0;
}

void tm_spec_free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int tm_json_string_map(json_t *obj, const tm_jpath *at, struct tm_key_value **out, size_t *n,
                       tm_error *err)
{
    int r = TM_SPEC_ALLOC(*out, json_object_size(obj), at, err);
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        if (r < 0)
            return r;
        tm_jpath p = tm_jpath_key(at, key);
        if (strlen(key) > TM_SPEC_MAX_STRING)
            return tm_json_fail(err, &p, "key longer than %d bytes", TM_SPEC_MAX_STRING);
        struct tm_key_value *kv = &(*out)[(*n)++];
        if (!(kv->key = strdup(key)))
            return tm_error_set(err, ENOMEM, "%s: out of memory", p.s);
        r = tm_json_string_value(value, &p, &kv->value, err);
    }
    return r;
}

int tm_json_required_int(json_t *o, const tm_jpath *at, const char *key, int64_t min, int64_t max,
                         int64_t *out, tm_error *err)
{
    int r = tm_json_get_int(o, at, key, min, max, out, err);
    if (r == 0)
        return tm_json_missing(at, key, err);
    return r < 0 ? r : 0;
}

int tm_json_required_string(json_t *o, const tm_jpath *at, const char *key, char **out, tm_error *err)
{
    int r = tm_json_object_value(o, at, err);
    if (r >= 0 && (r = tm_json_get_string(o, at, key, out, err)) == 0)
        return tm_json_missing(at, key, err);
    return r < 0 ? r : 0;
}
