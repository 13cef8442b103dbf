/* libFuzzer target: the gateway's own parsing (gw_parse.c) gets whatever an
 * HTTP client sends: the URL path, query values, the PUT body of an action.
 * Each parser must refuse garbage with a message and hand back only what it
 * promises: path parts without '/', a non-empty namespace and entity; a name
 * that passes the check matches OpenWhisk's EntityName; a range within
 * OpenWhisk's bounds; an action entity with nodejs code, limits in range and
 * a version a.b.c that an update over itself bumps. The whole input is tried
 * as each (as text up to its first NUL, the body as JSON). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gw_parse.h"

static void check_path(const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return;
    struct gw_path p;
    if (gw_path_split(copy, &p) == 0) {
        if (!p.ns || !*p.ns || !p.collection || strchr(p.ns, '/') || strchr(p.collection, '/'))
            abort();
        if (p.entity && (!*p.entity || strchr(p.entity, '/')))
            abort();
        if (p.sub && (!p.entity || strchr(p.sub, '/')))
            abort();
    }
    free(copy);
}

static void check_name(const char *text)
{
    int r = gw_entity_name_check(text);
    size_t n = strlen(text);
    if (r == -ENAMETOOLONG && n <= GW_ENTITY_NAME_MAX)
        abort();
    if (r != 0)
        return;
    if (n == 0 || n > GW_ENTITY_NAME_MAX || strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                         "0123456789_@ .&-") != n ||
        strchr("@ .&-", text[0]) || text[n - 1] == ' ')
        abort();
}

static void check_query(const char *text)
{
    char msg[512];
    bool v;
    size_t l, s;
    if (gw_flag_parse("blocking", text, false, &v, msg, sizeof msg) < 0 && !strstr(msg, "malformed"))
        abort();
    gw_content_type_json(text);
    if (gw_range_parse(text, text, "actions", &l, &s, msg, sizeof msg) == 0 && (l == 0 || l > 200))
        abort();
}

static void check_action(json_t *a)
{
    json_t *exec = json_object_get(a, "exec"), *limits = json_object_get(a, "limits");
    json_int_t t = json_integer_value(json_object_get(limits, "timeout"));
    json_int_t m = json_integer_value(json_object_get(limits, "memory"));
    const char *kind = json_string_value(json_object_get(exec, "kind"));
    int x, y, z;
    if (!kind || strncmp(kind, "nodejs:", 7) || !json_is_string(json_object_get(exec, "code")) ||
        t < 100 || t > 300000 || m < 128 || m > 512 ||
        !json_is_array(json_object_get(a, "annotations")) || !json_is_array(json_object_get(a, "parameters")) ||
        sscanf(json_string_value(json_object_get(a, "version")) ?: "", "%d.%d.%d", &x, &y, &z) != 3)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *u = strdup(text);
    if (u && (gw_unescape(u) != strlen(u) || strlen(u) > size))
        abort();   /* never longer, never an embedded NUL */
    free(u);
    check_path(text);
    check_name(text);
    check_query(text);
    free(text);
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (body) {
        char msg[512] = "";
        enum fn_mode mode;
        json_t *a = gw_action_parse("act", body, NULL, 1, &mode, msg, sizeof msg);
        if (!a && !*msg)
            abort();   /* a refusal always says why */
        if (a) {
            check_action(a);
            json_t *b = gw_action_parse("act", body, a, 2, &mode, msg, sizeof msg);   /* an update */
            if (!b)
                abort();   /* what was accepted once is accepted over itself */
            check_action(b);
            json_decref(b);
            json_decref(a);
        }
        json_decref(body);
    }
    return 0;
}
