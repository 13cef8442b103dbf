/* The gateway's own parsing (see gw_parse.h): pure functions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_parse.h"

/* OpenWhisk's EntityName (EntityPath.scala):
 * \A([\w]|[\w][\w@ .&-]{0,254}[\w@.&-])\z, \w being ASCII [A-Za-z0-9_]. */
static bool gw_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int gw_entity_name_check(const char *name)
{
    size_t n = strlen(name);
    if (n > GW_ENTITY_NAME_MAX)
        return -ENAMETOOLONG;
    if (n == 0 || !gw_word(name[0]))
        return -EINVAL;
    for (size_t i = 1; i < n; i++)
        if (!gw_word(name[i]) && !strchr("@ .&-", name[i]))
            return -EINVAL;
    if (n > 1 && name[n - 1] == ' ')   /* the last is [\w@.&-] */
        return -EINVAL;
    return 0;
}

int gw_path_split(char *path, struct gw_path *out)
{
    static const char prefix[] = "/api/v1/namespaces/";
    *out = (struct gw_path){ 0 };
    if (strncmp(path, prefix, sizeof prefix - 1))
        return -ENOENT;
    char *parts[5] = { 0 };
    size_t n = 0;
    for (char *p = path + sizeof prefix - 1, *slash; p && n < 5; p = slash) {
        slash = strchr(p, '/');
        if (slash)
            *slash++ = '\0';
        parts[n++] = p;
    }
    if (n < 2 || !*parts[0] || n == 5)
        return -ENOENT;
    out->ns = parts[0];
    out->collection = parts[1];
    out->entity = n > 2 && *parts[2] ? parts[2] : NULL;
    out->sub = n > 3 ? parts[3] : NULL;
    if (out->sub && !out->entity)
        return -ENOENT;
    return 0;
}

int gw_flag_parse(const char *name, const char *value, bool dflt, bool *out, char *msg, size_t len)
{
    if (!value) {
        *out = dflt;
        return 0;
    }
    /* akka-http's Boolean unmarshaller takes these, case-insensitively */
    static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
    for (size_t i = 0; i < 3; i++) {
        if (!strcasecmp(value, yes[i]))
            return *out = true, 0;
        if (!strcasecmp(value, no[i]))
            return *out = false, 0;
    }
    snprintf(msg, len, "The query parameter '%s' was malformed:\n'%.200s' is not a valid Boolean value",
             name, value);
    return -EINVAL;
}

bool gw_content_type_json(const char *value)
{
    static const char json[] = "application/json";
    if (!value)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, json, sizeof json - 1))
        return false;
    value += sizeof json - 1;
    while (*value == ' ' || *value == '\t')
        value++;
    return !*value || *value == ';';
}

static int gw_hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

size_t gw_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        int hi = r[0] == '%' ? gw_hex(r[1]) : -1, lo = hi >= 0 ? gw_hex(r[2]) : -1;
        if (hi >= 0 && lo >= 0 && (hi | lo)) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static bool gw_count(const char *s, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *s && !*end && !errno;
}

int gw_range_parse(const char *limit, const char *skip, const char *collection, size_t *l,
                   size_t *s, char *msg, size_t len)
{
    long v;
    *l = 30, *s = 0;   /* OpenWhisk's defaults; limit at most 200 */
    if (limit) {
        if (!gw_count(limit, &v))
            return snprintf(msg, len, "The value '%.200s' is not an integer for %s.", limit, collection), -EINVAL;
        if (v < 0 || v > 200)
            return snprintf(msg, len, "The value '%ld' is not in the range of 0 to 200 for %s.", v, collection), -EINVAL;
        *l = v ? (size_t)v : 200;
    }
    if (skip) {
        if (!gw_count(skip, &v))
            return snprintf(msg, len, "The value '%.200s' is not an integer for %s.", skip, collection), -EINVAL;
        if (v < 0)
            return snprintf(msg, len, "The value '%ld' is not greater than or equal to 0 for %s.", v, collection), -EINVAL;
        *s = (size_t)v;
    }
    return 0;
}

static const char *gw_annotation_str(json_t *anns, const char *key)
{
    json_t *a;
    size_t i;
    json_array_foreach(anns, i, a)
        if (!strcmp(json_string_value(json_object_get(a, "key")) ?: "", key))
            return json_string_value(json_object_get(a, "value"));
    return NULL;
}

static bool gw_key_value_list(json_t *v)
{
    json_t *e;
    size_t i;
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, e)
        if (!json_is_object(e) || !json_is_string(json_object_get(e, "key")) || !json_object_get(e, "value"))
            return false;
    return true;
}

#define GW_FAIL(...) return snprintf(msg, len, __VA_ARGS__), NULL

json_t *gw_action_parse(const char *name, json_t *body, json_t *old, double now, enum fn_mode *mode,
                        char *msg, size_t len)
{
    if (!json_is_object(body))
        GW_FAIL("The request content was malformed:\nexpected an object");
    json_t *exec = json_object_get(body, "exec");
    if (!exec && old)
        exec = json_object_get(old, "exec");
    const char *kind = json_string_value(json_object_get(exec, "kind"));
    const char *code = json_string_value(json_object_get(exec, "code"));
    const char *main_ = json_string_value(json_object_get(exec, "main"));
    if (!json_is_object(exec) || !kind || !code)
        GW_FAIL("The request content was malformed:\nexec must be an object with kind and code");
    if (strncmp(kind, "nodejs:", 7))
        GW_FAIL("kind '%.100s' is not supported: nodejs:* actions only (run on Duktape: ECMAScript 5.1)", kind);
    if (json_is_true(json_object_get(exec, "binary")) || (main_ && strcmp(main_, "main")))
        GW_FAIL("only plain code with a global main is supported (no zip, no other main)");
    if (strlen(code) != json_string_length(json_object_get(exec, "code")))
        GW_FAIL("The request content was malformed:\nthe code contains a NUL character");
    json_t *limits = json_object_get(body, "limits");
    json_t *oldl = old ? json_object_get(old, "limits") : NULL;
    json_t *t = json_object_get(limits, "timeout") ?: json_object_get(oldl, "timeout");
    json_t *m = json_object_get(limits, "memory") ?: json_object_get(oldl, "memory");
    json_int_t timeout = t ? json_integer_value(t) : 60000, memory = m ? json_integer_value(m) : 256;
    if ((t && !json_is_integer(t)) || timeout < 100 || timeout > 300000)
        GW_FAIL("Timeout must be number of milliseconds up to 300000.");
    if ((m && !json_is_integer(m)) || memory < 128 || memory > 512)
        GW_FAIL("Memory %lld MB is outside the allowed range of 128 MB to 512 MB.", (long long)memory);
    json_t *params = json_object_get(body, "parameters") ?: (old ? json_object_get(old, "parameters") : NULL);
    json_t *anns = json_object_get(body, "annotations") ?: (old ? json_object_get(old, "annotations") : NULL);
    if ((params && !gw_key_value_list(params)) || (anns && !gw_key_value_list(anns)))
        GW_FAIL("The request content was malformed:\nparameters and annotations are arrays of {key, value}");
    json_t *ma = NULL, *a;
    size_t i;
    json_array_foreach(anns, i, a)
        if (!strcmp(json_string_value(json_object_get(a, "key")), "teemate-mode"))
            ma = json_object_get(a, "value");
    *mode = FN_MODE_TEEMATE;
    if (ma && (!json_is_string(ma) || fn_mode_parse(json_string_value(ma), mode) < 0))
        GW_FAIL("annotation teemate-mode '%.100s': native, strawman, strawman-edmm or teemate",
                json_is_string(ma) ? json_string_value(ma) : "(not a string)");
    json_t *annotations = anns ? json_deep_copy(anns) : json_array();
    if (!gw_annotation_str(annotations, "exec"))
        json_array_append_new(annotations, json_pack("{s:s, s:s}", "key", "exec", "value", "nodejs"));
    char version[40] = "0.0.1";
    int va = 0, vb = 0, vc = 0;
    if (old && sscanf(json_string_value(json_object_get(old, "version")) ?: "", "%d.%d.%d", &va, &vb, &vc) == 3 &&
        va >= 0 && vb >= 0 && vc >= 0 && vc < 2147483647)
        snprintf(version, sizeof version, "%d.%d.%d", va, vb, vc + 1);
    json_t *action = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:b}, s:o, s:o, s:{s:I, s:I, s:i, s:i}, s:b, s:I}",
                               "namespace", GW_NAMESPACE, "name", name, "version", version, "exec",
                               "kind", kind, "code", code, "binary", 0, "annotations", annotations,
                               "parameters", params ? json_deep_copy(params) : json_array(), "limits",
                               "timeout", timeout, "memory", memory, "logs", 10, "concurrency", 1,
                               "publish", 0, "updated", (json_int_t)now);
    if (!action)
        GW_FAIL("The request content was malformed:\nnot valid UTF-8 or out of memory");
    return action;
}
