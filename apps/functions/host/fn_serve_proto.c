/* The action protocol's bodies (fn_serve_proto.h): jansson, nothing else. */
#include "fn_serve_proto.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define FN_ACTION_MAIN_MAX 64
#define FN_ACTION_CODE_MAX (8U << 20)   /* the runtime's FN_MAX_SOURCE */

char *fn_action_error_json(const char *msg)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* A value as the Node proxy puts it into process.env: strings as they
 * are, anything else as JSON. */
static int fn_action_env_set(json_t *env, const char *key, json_t *v)
{
    if (json_is_string(v))
        return json_object_set(env, key, v);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int r = s ? json_object_set_new(env, key, json_string(s)) : -1;
    free(s);
    return r;
}

static char *fn_action_dump(json_t *o)
{
    return json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
}

long fn_action_base64_decode(const char *in, size_t len, char *out, size_t cap)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (isspace((unsigned char)c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        const char *p = c ? strchr(abc, c) : NULL;
        if (!p || pad)
            return -1;   /* a letter outside the alphabet, or data after '=' */
        acc = acc << 6 | (uint32_t)(p - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (char)(acc >> bits);
            acc &= (1U << bits) - 1;
        }
    }
    if (pad > 2 || bits >= 6 || acc != 0)
        return -1;   /* a lone sextet, or stray bits: not what an encoder writes */
    return (long)n;
}

static bool fn_action_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > FN_ACTION_MAIN_MAX || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '$')
            return false;
    return true;
}

int fn_action_main_alias(const char *main, char *buf, size_t len)
{
    if (!fn_action_identifier(main))
        return -1;
    int n = strcmp(main, "main") ? snprintf(buf, len, "\nvar main = %s;\n", main) : snprintf(buf, len, "%s", "");
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static json_t *fn_action_load(const char *body, size_t len, const char **error)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        *error = FN_SERVE_BAD_REQUEST;
        return NULL;
    }
    return root;
}

void fn_action_init_free(struct fn_action_init *init)
{
    free(init->main);
    free(init->code);
    free(init->env);
    memset(init, 0, sizeof *init);
}

static int fn_action_init_env(json_t *value, struct fn_action_init *init)
{
    json_t *env = json_object_get(value, "env");
    if (!json_is_object(env))
        return 0;
    json_t *out = json_object();
    const char *k;
    json_t *v;
    int r = out ? 0 : -1;
    json_object_foreach(env, k, v)
        if (r == 0)
            r = fn_action_env_set(out, k, v);
    if (r == 0 && !(init->env = fn_action_dump(out)))
        r = -1;
    json_decref(out);
    return r;
}

int fn_action_init_parse(const char *body, size_t len, struct fn_action_init *init, const char **error)
{
    memset(init, 0, sizeof *init);
    json_t *root = fn_action_load(body, len, error);
    if (!root)
        return 400;
    json_t *value = json_object_get(root, "value");
    json_t *code = json_object_get(value, "code"), *main = json_object_get(value, "main");
    int status = 0;
    if (!json_is_string(code) || !json_is_string(main) || !json_string_length(code) ||
        !json_string_length(main)) {
        *error = FN_SERVE_NO_CODE;
        status = 403;
    } else if (!fn_action_identifier(json_string_value(main))) {
        *error = "Initialization has failed due to: main is not the name of a function.";
        status = 502;
    } else if (json_string_length(code) > (json_is_true(json_object_get(value, "binary"))
                                               ? FN_ACTION_CODE_MAX / 3 * 4 + 4 : FN_ACTION_CODE_MAX)) {
        *error = "Initialization has failed due to: the code is larger than 8 MiB.";
        status = 413;
    }
    if (status) {
        json_decref(root);
        return status;
    }
    size_t n = json_string_length(code);
    init->main = strdup(json_string_value(main));
    init->code = malloc(n + 1);
    if (!init->main || !init->code || fn_action_init_env(value, init) < 0) {
        *error = "out of memory";
        status = 500;
    } else if (json_is_true(json_object_get(value, "binary"))) {
        long d = fn_action_base64_decode(json_string_value(code), n, init->code, n);
        if (d < 0 || memchr(init->code, '\0', (size_t)d)) {
            *error = "Initialization has failed due to: the binary code is not base64 of a script.";
            status = 502;
        } else
            init->code_len = (size_t)d;
    } else if (memchr(json_string_value(code), '\0', n)) {
        *error = "Initialization has failed due to: the code holds a NUL character.";
        status = 502;
    } else {
        memcpy(init->code, json_string_value(code), n);
        init->code_len = n;
    }
    json_decref(root);
    if (status) {
        fn_action_init_free(init);
        return status;
    }
    init->code[init->code_len] = '\0';
    return 0;
}

void fn_action_run_free(struct fn_action_run *run)
{
    free(run->params);
    free(run->env);
    memset(run, 0, sizeof *run);
}

/* "deadline": a string of epoch ms as the invoker sends it, or a number. */
static int64_t fn_action_deadline(json_t *d)
{
    if (json_is_integer(d))
        return json_integer_value(d) > 0 ? (int64_t)json_integer_value(d) : 0;
    if (!json_is_string(d))
        return 0;
    char *end;
    long long v = strtoll(json_string_value(d), &end, 10);
    return *end || v <= 0 ? 0 : (int64_t)v;
}

int fn_action_run_parse(const char *body, size_t len, struct fn_action_run *run, const char **error)
{
    memset(run, 0, sizeof *run);
    json_t *root = fn_action_load(body, len, error);
    if (!root)
        return 400;
    json_t *value = json_object_get(root, "value");
    json_t *env = json_object();
    int status = env ? 0 : 500;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (status || !strcmp(k, "value"))
            continue;
        char key[300] = "__OW_";
        size_t n = strlen(k);
        if (n > sizeof key - 6)
            continue;   /* no OpenWhisk key is that long */
        for (size_t i = 0; i <= n; i++)
            key[5 + i] = (char)toupper((unsigned char)k[i]);
        if (fn_action_env_set(env, key, v) < 0)
            status = 500;
    }
    run->deadline_ms = fn_action_deadline(json_object_get(root, "deadline"));
    if (status == 0 && !json_is_object(value) && value) {
        *error = "Bad request.";   /* params are a dictionary */
        status = 400;
    }
    if (status == 0) {
        run->params = value ? fn_action_dump(value) : strdup("{}");
        run->env = fn_action_dump(env);
        if (!run->params || !run->env) {
            *error = "out of memory";
            status = 500;
        }
    } else if (status == 500)
        *error = "out of memory";
    json_decref(env);
    json_decref(root);
    if (status)
        fn_action_run_free(run);
    return status;
}
