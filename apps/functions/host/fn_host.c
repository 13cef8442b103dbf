/* What the native and the enclave launchers share: the load wire, the run
 * input, and turning an answer into a result or an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn_host.h"
#include "util/cleanup.h"

int fn_sources_pack(const struct fn_source *src, size_t n, void **wire, size_t *len, tm_error *err)
{
    if (n == 0 || n > FN_MAX_SCRIPTS)
        return tm_error_set(err, EINVAL, "a function has 1 to %d scripts, not %zu", FN_MAX_SCRIPTS, n);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(src[i].name);
        if (nl == 0 || nl > FN_MAX_SCRIPT_NAME)
            return tm_error_set(err, EINVAL, "script name \"%s\": 1 to %d bytes", src[i].name,
                                FN_MAX_SCRIPT_NAME);
        if (src[i].len > FN_MAX_SOURCE)
            return tm_error_set(err, EFBIG, "%s: %zu bytes, more than the %u a script may have",
                                src[i].name, src[i].len, FN_MAX_SOURCE);
        total += (sizeof(struct fn_script) + nl + src[i].len + 3) & ~(size_t)3;
    }
    char *buf = calloc(1, total);
    if (!buf)
        return tm_error_set(err, ENOMEM, "out of memory");
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        struct fn_script s = { (uint32_t)strlen(src[i].name), (uint32_t)src[i].len };
        memcpy(buf + at, &s, sizeof s);
        memcpy(buf + at + sizeof s, src[i].name, s.name_len);
        memcpy(buf + at + sizeof s + s.name_len, src[i].text, s.source_len);
        at += (sizeof s + s.name_len + s.source_len + 3) & ~(size_t)3;
    }
    *wire = buf;
    *len = total;
    return 0;
}

void fn_result_free(struct fn_result *r)
{
    free(r->json);
    r->json = NULL;
    r->len = 0;
}

/* A copy with a NUL; NULL when out of memory. */
static char *fn_host_text(const char *s, size_t len)
{
    char *t = malloc(len + 1);
    if (t) {
        memcpy(t, s, len);
        t[len] = '\0';
    }
    return t;
}

/* The string member key of the runtime's error JSON (fn_json_error's shape:
 * no nested objects), unescaped enough for a one-line message; "" if none. */
static void fn_host_json_string(const char *json, const char *key, char *buf, size_t cap)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    size_t n = 0;
    for (p = p ? p + strlen(pat) : ""; *p && *p != '"' && n + 1 < cap; p++) {
        if (*p == '\\' && p[1])
            p++;
        buf[n++] = *p;
    }
    buf[n] = '\0';
}

int fn_host_finish_load(int rc, char *out, size_t out_len, char **error_json, tm_error *err)
{
    if (rc == FN_RESULT_OK)
        return 0;
    if (rc == -EEXIST)
        return tm_error_set(err, EEXIST, "the function's code is loaded already");
    if (rc != FN_RESULT_ERROR)
        return tm_error_set(err, rc < 0 ? -rc : EPROTO, "loading the function failed: %s",
                            strerror(rc < 0 ? -rc : EPROTO));
    char *json = fn_host_text(out, out_len);
    if (!json)
        return tm_error_set(err, ENOMEM, "out of memory");
    char msg[900];
    fn_host_json_string(json, "error", msg, sizeof msg);
    char name[FN_MAX_SCRIPT_NAME * 2 + 1];
    fn_host_json_string(json, "script", name, sizeof name);
    if (error_json)
        *error_json = json;
    else
        free(json);
    return tm_error_set(err, EINVAL, "%s%s%s", name, name[0] ? ": " : "", msg);
}

static int fn_host_finish_run(int rc, char *out, size_t out_len, struct fn_result *result, tm_error *err)
{
    if (rc == -ENOENT)
        return tm_error_set(err, ENOENT, "no function is loaded");
    if (rc != FN_RESULT_OK && rc != FN_RESULT_ERROR)
        return tm_error_set(err, rc < 0 ? -rc : EPROTO, "running the function failed: %s",
                            strerror(rc < 0 ? -rc : EPROTO));
    result->json = fn_host_text(out, out_len);
    if (!result->json)
        return tm_error_set(err, ENOMEM, "out of memory");
    result->len = out_len;
    result->ok = rc == FN_RESULT_OK;
    return 0;
}

int fn_host_run(const struct fn_run_request *req, const char *params, fn_host_runner runner,
                void *ctx, struct fn_result *result, tm_error *err)
{
    return fn_host_run_env(req, NULL, params, runner, ctx, result, err);
}

int fn_host_run_env(const struct fn_run_request *req, const char *env, const char *params,
                    fn_host_runner runner, void *ctx, struct fn_result *result, tm_error *err)
{
    size_t pl = params ? strlen(params) : 0, el = env ? strlen(env) : 0;
    if (pl + el > FN_MAX_PARAMS)
        return tm_error_set(err, E2BIG, "params of %zu bytes (at most %u)", pl + el, FN_MAX_PARAMS);
    _cleanup_free_ char *in = malloc(sizeof *req + el + pl);
    _cleanup_free_ char *out = malloc(FN_RUN_OUT);
    if (!in || !out)
        return tm_error_set(err, ENOMEM, "out of memory");
    struct fn_run_request head = *req;
    head.env_len = (uint32_t)el;
    memcpy(in, &head, sizeof head);
    if (el)
        memcpy(in + sizeof head, env, el);
    if (pl)
        memcpy(in + sizeof head + el, params, pl);
    int rc = 0;
    size_t out_len = 0;
    int r = runner(ctx, FN_ECALL_RUN, in, sizeof *req + el + pl, out, FN_RUN_OUT, &rc, &out_len, err);
    if (r < 0)
        return r;
    if (rc != FN_RESULT_PENDING)
        return fn_host_finish_run(rc, out, out_len, result, err);
    uint64_t len;
    if (out_len != sizeof len)
        return tm_error_set(err, EPROTO, "a pending result without its length");
    memcpy(&len, out, sizeof len);
    if (len > FN_MAX_RESULT)
        return tm_error_set(err, EPROTO, "a pending result of %llu bytes", (unsigned long long)len);
    _cleanup_free_ char *big = malloc(len);
    if (!big)
        return tm_error_set(err, ENOMEM, "out of memory");
    r = runner(ctx, FN_ECALL_RESULT, NULL, 0, big, len, &rc, &out_len, err);
    if (r < 0)
        return r;
    return fn_host_finish_run(rc, big, out_len, result, err);
}
