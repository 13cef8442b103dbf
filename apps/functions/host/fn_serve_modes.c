/* fn serve's instance in each mode. native: the runtime in this process,
 * the code compiled at /init. strawman(-edmm): a private enclave built at
 * /init, the code compiled inside, every run in it. teemate: the shared
 * enclave named by the code's hash; the first container with that code
 * builds it and compiles the code there, every later one only attaches
 * (its own slot, its own heap): no build, no compile. Each mode boots the
 * instance at /init (top level run with the init's env) so that a throwing
 * top level fails the init, as OpenWhisk's does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "fn_serve.h"
#include "util/cleanup.h"
#include "util/clock.h"

void fn_serve_code_name(const char *code, size_t len, const char *main, char buf[FN_NAME_MAX + 1])
{
    uint8_t d[SHA256_DIGEST_LENGTH] = { 0 };
    size_t ml = strlen(main);
    _cleanup_free_ char *all = malloc(len + 1 + ml);
    if (all) {   /* out of memory: a name no code has, so nothing is shared by mistake */
        memcpy(all, code, len);
        all[len] = '\0';
        memcpy(all + len + 1, main, ml);
        SHA256((const uint8_t *)all, len + 1 + ml, d);
    }
    int n = snprintf(buf, FN_NAME_MAX + 1, "code-");
    for (int i = 0; i < 8; i++)
        n += snprintf(buf + n, (size_t)(FN_NAME_MAX + 1 - n), "%02x", d[i]);
}

/* The code, and main's alias when main is another function. */
static int fn_serve_wire(const struct fn_action_init *init, void **wire, size_t *len, tm_error *err)
{
    char alias[128];
    if (fn_action_main_alias(init->main, alias, sizeof alias) < 0)
        return tm_error_set(err, EINVAL, "main '%s' is not the name of a function", init->main);
    struct fn_source src[2] = {
        { "action.js", init->code, init->code_len },
        { "main.js", alias, strlen(alias) },
    };
    return fn_sources_pack(src, alias[0] ? 2 : 1, wire, len, err);
}

static int fn_serve_call(struct fn_serve_backend *b, const struct fn_run_request *rr, const char *env,
                         const char *params, struct fn_result *res, tm_error *err)
{
    if (b->o->mode == FN_MODE_NATIVE)
        return fn_native_run_env(rr, env, params, res, err);
    const struct fn_target t = { .attachment = b->attachment, .enclave = b->enclave };
    return fn_target_run_env(&t, b->o->services, rr, env, params, res, err);
}

/* The top level with the init's env; a failure's error JSON to *error_json.
 * A teemate instance that attached while the builder still loads the code
 * finds none yet: it waits for it (bounded). */
static int fn_serve_boot(struct fn_serve_backend *b, const char *env, char **error_json, tm_error *err)
{
    struct fn_run_request rr = { .timeout_ms = b->o->timeout_ms, .memory_limit = b->o->memory,
                                 .flags = FN_RUN_BOOT_ONLY };
    struct fn_result res = { 0 };
    double until = tm_now_ms() + 60000;
    int r;
    while ((r = fn_serve_call(b, &rr, env, "{}", &res, err)) == -ENOENT && b->attachment &&
           tm_now_ms() < until)
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    if (r < 0)
        return r;
    if (res.ok) {
        fn_result_free(&res);
        return 0;
    }
    *error_json = res.json;
    return tm_error_set(err, EINVAL, "the function's top level failed");
}

static int fn_serve_teemate(struct fn_serve_backend *b, const struct fn_action_init *init,
                            const void *wire, size_t len, tm_error *err)
{
    if (b->o->attached) {   /* the code is in the enclave already */
        b->attachment = b->o->attached;
        snprintf(b->enclave_name, sizeof b->enclave_name, "%s", b->attachment->name);
        return tm_attach_first_entry(b->attachment, err);
    }
    struct fn_record rec = { .mode = FN_MODE_TEEMATE, .memory = b->o->memory,
                             .timeout_ms = b->o->timeout_ms, .instances = b->o->instances };
    fn_serve_code_name(init->code, init->code_len, init->main, rec.name);
    fn_enclave_name(rec.name, b->enclave_name);
    if (!b->o->build)
        return tm_error_set(err, ENOSYS, "no way to build the teemate mode's enclave");
    int r = b->o->build(&rec, b->o->socket, wire, len, &b->built, err);
    if (r < 0)
        return r;
    struct tm_attach_options ao = { .socket_path = b->o->socket, .threads = 1 };
    if ((r = tm_attach(b->enclave_name, &ao, &b->attachment, err)) < 0)
        return r;
    return tm_attach_first_entry(b->attachment, err);
}

int fn_serve_backend_init(struct fn_serve_backend *b, const struct fn_serve_options *o,
                          const struct fn_action_init *init, char **error_json, tm_error *err)
{
    memset(b, 0, sizeof *b);
    b->o = o;
    _cleanup_free_ void *wire = NULL;
    size_t len = 0;
    int r = fn_serve_wire(init, &wire, &len, err);
    if (r < 0)
        return r;
    switch (o->mode) {
    case FN_MODE_NATIVE:
        fn_native_init(o->services);
        r = fn_native_load(wire, len, error_json, err);
        break;
    case FN_MODE_STRAWMAN:
    case FN_MODE_STRAWMAN_EDMM:
        r = fn_strawman_build(o->image, o->memory, o->mode == FN_MODE_STRAWMAN_EDMM, &b->image,
                              &b->enclave, err);
        if (r == 0)
            r = fn_target_load(&(struct fn_target){ .enclave = b->enclave }, o->services, wire, len,
                               error_json, err);
        break;
    case FN_MODE_TEEMATE:
        r = fn_serve_teemate(b, init, wire, len, err);
        break;
    }
    if (r == 0)
        r = fn_serve_boot(b, init->env, error_json, err);
    if (r < 0)
        fn_serve_backend_close(b);
    return r;
}

int fn_serve_backend_run(struct fn_serve_backend *b, uint64_t timeout_ms, const char *env,
                         const char *params, struct fn_result *result, tm_error *err)
{
    struct fn_run_request rr = { .timeout_ms = timeout_ms, .memory_limit = b->o->memory };
    return fn_serve_call(b, &rr, env, params, result, err);
}

void fn_serve_backend_close(struct fn_serve_backend *b)
{
    if (b->enclave)
        tm_enclave_destroy(b->enclave);
    tm_image_free(b->image);
    if (!b->o || b->attachment != b->o->attached)
        tm_detach(b->attachment);
    b->image = NULL;
    b->enclave = NULL;
    b->attachment = NULL;
}
