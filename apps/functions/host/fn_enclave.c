/* The enclave modes' host side: the runtime's ecalls on an attachment's first
 * thread (teemate) or a private enclave's first TCS (strawman), with the
 * functions' services as its application ocalls. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/ecall.h"
#include "fn_host.h"
#include "util/cleanup.h"

/* The ocall scratch buffer (FN_SCRATCH_SIZE, for HTTP bodies and objects),
 * allocated once per thread: a fresh megabyte per ecall costs its page faults.
 * Freed when the thread ends (fn serve's calls come on libmicrohttpd's). */
static __thread void *fn_enclave_scratch;
static pthread_key_t fn_enclave_scratch_key;
static pthread_once_t fn_enclave_scratch_once = PTHREAD_ONCE_INIT;

static void fn_enclave_scratch_key_make(void)
{
    pthread_key_create(&fn_enclave_scratch_key, free);
}

static void *fn_enclave_scratch_get(void)
{
    if (!fn_enclave_scratch && (fn_enclave_scratch = aligned_alloc(64, FN_SCRATCH_SIZE))) {
        pthread_once(&fn_enclave_scratch_once, fn_enclave_scratch_key_make);
        pthread_setspecific(fn_enclave_scratch_key, fn_enclave_scratch);
    }
    return fn_enclave_scratch;
}

static int fn_enclave_call(const struct fn_target *t, const struct fn_services *services, uint32_t ecall,
                           const void *in, size_t in_len, void *out, size_t out_cap, int *rc,
                           size_t *out_len, tm_error *err)
{
    if (!fn_enclave_scratch_get())
        return tm_error_set(err, ENOMEM, "out of memory");
    struct tm_ecall_call call = {
        .ecall = ecall, .in = in, .in_len = in_len, .out = out, .out_cap = out_cap,
        .scratch_size = FN_SCRATCH_SIZE, .scratch = fn_enclave_scratch,
        .app_ocall = services ? fn_host_ocall : NULL, .app_ctx = (void *)services,
    };
    const struct tm_enclave *e = t->enclave;
    int r = t->attachment ? tm_attach_ecall(t->attachment, 0, &call, err)
                          : tm_ecall(e->ops, e->be, e->base, e->size, tm_enclave_tcs_offset(e, 0),
                                     &call, err);
    if (r < 0)
        return r;
    if (call.exited)
        return tm_error_set(err, ECONNABORTED, "the enclave exited (%lld) during ecall %u",
                            (long long)call.retval, ecall);
    *rc = (int)call.retval;
    *out_len = call.out_len;
    return 0;
}

int fn_target_load(const struct fn_target *t, const struct fn_services *services, const void *wire,
                   size_t len, char **error_json, tm_error *err)
{
    char out[4096];
    size_t out_len = 0;
    int rc = 0;
    int r = fn_enclave_call(t, services, FN_ECALL_LOAD, wire, len, out, sizeof out, &rc, &out_len, err);
    if (r < 0)
        return r;
    return fn_host_finish_load(rc, out, out_len, error_json, err);
}

struct fn_enclave_runner_ctx {
    const struct fn_target *t;
    const struct fn_services *services;
};

static int fn_enclave_runner(void *ctx, uint32_t ecall, const void *in, size_t in_len, void *out,
                             size_t out_cap, int *rc, size_t *out_len, tm_error *err)
{
    const struct fn_enclave_runner_ctx *c = ctx;
    return fn_enclave_call(c->t, c->services, ecall, in, in_len, out, out_cap, rc, out_len, err);
}

int fn_target_run(const struct fn_target *t, const struct fn_services *services,
                  const struct fn_run_request *req, const char *params, struct fn_result *result,
                  tm_error *err)
{
    return fn_target_run_env(t, services, req, NULL, params, result, err);
}

int fn_target_run_env(const struct fn_target *t, const struct fn_services *services,
                      const struct fn_run_request *req, const char *env, const char *params,
                      struct fn_result *result, tm_error *err)
{
    struct fn_enclave_runner_ctx ctx = { t, services };
    return fn_host_run_env(req, env, params, fn_enclave_runner, &ctx, result, err);
}

int fn_target_stats(const struct fn_target *t, struct fn_stats *stats, tm_error *err)
{
    size_t out_len = 0;
    int rc = 0;
    int r = fn_enclave_call(t, NULL, FN_ECALL_STATS, NULL, 0, stats, sizeof *stats, &rc, &out_len, err);
    if (r < 0)
        return r;
    if (rc != 0 || out_len != sizeof *stats)
        return tm_error_set(err, EPROTO, "the enclave's stats ecall answered %d with %zu bytes", rc,
                            out_len);
    return 0;
}

int fn_enclave_load(struct tm_attachment *a, const struct fn_services *services, const void *wire,
                    size_t len, char **error_json, tm_error *err)
{
    return fn_target_load(&(struct fn_target){ .attachment = a }, services, wire, len, error_json, err);
}

int fn_target_load_seal(const struct fn_target *t, const struct fn_services *services, const void *wire,
                        size_t len, void **sealed, size_t *sealed_len, char **error_json, tm_error *err)
{
    size_t want = len + FN_SEALED_OVERHEAD, out_len = 0;
    size_t cap = want < 4096 ? 4096 : want;   /* room for an error JSON too */
    _cleanup_free_ char *out = malloc(cap);
    int rc = 0;
    if (!out)
        return tm_error_set(err, ENOMEM, "out of memory");
    int r = fn_enclave_call(t, services, FN_ECALL_LOAD_SEAL, wire, len, out, cap, &rc, &out_len, err);
    if (r < 0 || (r = fn_host_finish_load(rc, out, out_len, error_json, err)) < 0)
        return r;
    if (out_len != want)
        return tm_error_set(err, EPROTO, "the enclave sealed %zu bytes of code into %zu", len, out_len);
    *sealed = out;
    *sealed_len = out_len;
    out = NULL;
    return 0;
}

int fn_target_load_sealed(const struct fn_target *t, const struct fn_services *services,
                          const void *blob, size_t len, char **error_json, tm_error *err)
{
    char out[4096];
    size_t out_len = 0;
    int rc = 0;
    int r = fn_enclave_call(t, services, FN_ECALL_LOAD_SEALED, blob, len, out, sizeof out, &rc,
                            &out_len, err);
    if (r < 0)
        return r;
    if (rc == -EBADMSG)
        return tm_error_set(err, EBADMSG, "the sealed code does not authenticate in this enclave "
                            "(tampered with, or sealed by another image or machine)");
    return fn_host_finish_load(rc, out, out_len, error_json, err);
}

int fn_enclave_run(struct tm_attachment *a, const struct fn_services *services,
                   const struct fn_run_request *req, const char *params, struct fn_result *result,
                   tm_error *err)
{
    return fn_target_run(&(struct fn_target){ .attachment = a }, services, req, params, result, err);
}

int fn_enclave_stats(struct tm_attachment *a, struct fn_stats *stats, tm_error *err)
{
    return fn_target_stats(&(struct fn_target){ .attachment = a }, stats, err);
}
