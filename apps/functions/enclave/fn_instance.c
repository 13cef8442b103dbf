/* An instance: one Duktape heap per container (per slot inside an enclave),
 * created on its first run, with the function's bytecode loaded into it
 * (duk_load_function: no compiling) and its top level run once. Then each run
 * calls main(params). Errors are results, OpenWhisk's wording; a fatal error
 * of Duktape drops the instance's heap (the next run makes a new one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn_platform.h"
#include "fn_runtime.h"

struct fn_instance {
    struct fn_heap heap;
    duk_context *ctx;
    uint64_t runs;
    uint64_t create_ns, load_ns;
    uint32_t busy;   /* a Duktape heap runs on one thread at a time */
    char *pending;   /* a result larger than the run's out buffer, for FN_ECALL_RESULT */
    size_t pending_len;
};

/* What a run hands the instance besides params: OpenWhisk's __OW_* values. */
struct fn_instance_env {
    const struct fn_code *code;
    const char *env;
    size_t env_len;
};

/* Merge the env JSON object's members into the global process.env (made
 * on first use: Duktape has no process object). */
static void fn_instance_env_merge(duk_context *ctx, const struct fn_instance_env *e)
{
    if (!e->env_len)
        return;
    if (!duk_get_global_string(ctx, "process") || !duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        duk_dup_top(ctx);
        duk_put_global_string(ctx, "process");
    }
    if (!duk_get_prop_string(ctx, -1, "env") || !duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        duk_dup_top(ctx);
        duk_put_prop_string(ctx, -3, "env");
    }
    duk_push_lstring(ctx, e->env, e->env_len);
    duk_json_decode(ctx, -1);
    if (duk_is_object(ctx, -1)) {
        duk_enum(ctx, -1, DUK_ENUM_OWN_PROPERTIES_ONLY);
        while (duk_next(ctx, -1, 1))
            duk_put_prop(ctx, -5);   /* process.env[key] = value */
        duk_pop(ctx);
    }
    duk_pop_3(ctx);
}

/* Load every script's bytecode and run its top level. */
static duk_ret_t fn_instance_boot(duk_context *ctx, void *udata)
{
    const struct fn_instance_env *e = udata;
    const struct fn_code *code = e->code;
    fn_bindings_install(ctx);
    fn_instance_env_merge(ctx, e);
    for (uint32_t i = 0; i < code->count; i++) {
        /* An external buffer: the shared bytecode is read in place. */
        duk_push_external_buffer(ctx);
        duk_config_buffer(ctx, -1, (void *)code->scripts[i].bytecode, code->scripts[i].len);
        duk_load_function(ctx);
        duk_call(ctx, 0);
        duk_pop(ctx);
    }
    return 0;
}

static void fn_instance_drop(struct fn_instance *inst)
{
    free(inst->pending);
    fn_heap_release(&inst->heap);
    free(inst);
    fn_platform_set_instance(NULL);
}

/* The stack holds params (a string): decode, call main, encode the result. */
static duk_ret_t fn_instance_call(duk_context *ctx, void *udata)
{
    fn_instance_env_merge(ctx, udata);
    duk_json_decode(ctx, -1);
    if (!duk_get_global_string(ctx, "main") || !duk_is_function(ctx, -1))
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "the function defines no main(params)");
    duk_dup(ctx, -2);
    duk_call(ctx, 1);
    if (!duk_is_object(ctx, -1) || duk_is_array(ctx, -1) || duk_is_function(ctx, -1) ||
        duk_is_buffer_data(ctx, -1)) {
        duk_push_string(ctx, "");   /* not a dictionary */
        return 1;
    }
    duk_json_encode(ctx, -1);
    return 1;
}

/* Keep a result that did not fit for FN_ECALL_RESULT; out gets its length. */
static int fn_instance_stage(struct fn_instance *inst, const char *json, size_t len, char *out,
                             size_t out_cap, size_t *out_len)
{
    free(inst->pending);
    inst->pending = malloc(len);
    if (!inst->pending || out_cap < sizeof(uint64_t))
        return -ENOMEM;
    memcpy(inst->pending, json, len);
    inst->pending_len = fn_json_utf8(inst->pending, len);
    uint64_t n = inst->pending_len;
    memcpy(out, &n, sizeof n);
    *out_len = sizeof n;
    return FN_RESULT_PENDING;
}

int fn_instance_result(char *out, size_t out_cap, size_t *out_len)
{
    struct fn_instance *inst = fn_platform_instance();
    *out_len = 0;
    if (!inst || !inst->pending)
        return -ENOENT;
    if (out_cap < inst->pending_len)
        return -ENOBUFS;
    memcpy(out, inst->pending, inst->pending_len);
    *out_len = inst->pending_len;
    free(inst->pending);
    inst->pending = NULL;
    return FN_RESULT_OK;
}

static int fn_instance_error(char *out, size_t cap, size_t *out_len, const char *fmt, const char *arg)
{
    char msg[1200];   /* arg is at most 1023 bytes, fmt short */
    snprintf(msg, sizeof msg, fmt, arg);
    *out_len = fn_json_error(out, cap, msg, 0, NULL);
    *out_len = fn_json_utf8(out, *out_len);
    return FN_RESULT_ERROR;
}

int fn_instance_run(const void *in, size_t in_len, char *out, size_t out_cap, size_t *out_len)
{
    struct fn_run_request req;
    *out_len = 0;
    if (in_len < sizeof req || in_len - sizeof req > FN_MAX_PARAMS)
        return -EINVAL;
    memcpy(&req, in, sizeof req);
    if (req.env_len > in_len - sizeof req || (req.flags & ~FN_RUN_BOOT_ONLY))
        return -EINVAL;
    const char *params = (const char *)in + sizeof req + req.env_len;
    size_t params_len = in_len - sizeof req - req.env_len;
    const struct fn_code *code = fn_code_current();
    if (!code)
        return -ENOENT;
    struct fn_instance_env env = { code, (const char *)in + sizeof req, req.env_len };
    uint64_t timeout = req.timeout_ms ? req.timeout_ms : FN_DEFAULT_TIMEOUT_MS;
    if (timeout > (uint64_t)INT32_MAX)
        return -EINVAL;

    struct fn_instance *inst = fn_platform_instance();
    jmp_buf fatal;
    if (setjmp(fatal)) {
        struct fn_instance *dead = fn_platform_instance();   /* inst may be stale here */
        char why[sizeof dead->heap.fatal_msg];
        memcpy(why, dead->heap.fatal_msg, sizeof why);
        fn_instance_drop(dead);
        return fn_instance_error(out, out_cap, out_len, "The function's runtime failed: %s", why);
    }
    if (!inst) {
        int64_t t0 = fn_platform_monotonic_ns();
        inst = calloc(1, sizeof *inst);
        if (!inst)
            return -ENOMEM;
        inst->heap.limit = req.memory_limit;
        inst->heap.fatal = &fatal;
        fn_platform_set_instance(inst);
        inst->ctx = duk_create_heap(fn_heap_alloc, fn_heap_realloc, fn_heap_free, &inst->heap,
                                    fn_engine_fatal);
        if (!inst->ctx) {
            fn_instance_drop(inst);
            return -ENOMEM;
        }
        inst->heap.deadline_ms = fn_platform_monotonic_ns() / 1000000 + (int64_t)timeout;
        int64_t t1 = fn_platform_monotonic_ns();
        if (duk_safe_call(inst->ctx, fn_instance_boot, &env, 0, 1) != DUK_EXEC_SUCCESS) {
            bool timed_out = inst->heap.timed_out;
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", duk_safe_to_string(inst->ctx, -1));
            duk_destroy_heap(inst->ctx);
            fn_instance_drop(inst);
            if (timed_out) {
                char t[32];
                snprintf(t, sizeof t, "%llu", (unsigned long long)timeout);
                return fn_instance_error(out, out_cap, out_len,
                                         "The action exceeded its time limits of %s milliseconds "
                                         "during initialization.", t);
            }
            return fn_instance_error(out, out_cap, out_len,
                                     "Initialization has failed due to: %s", msg);
        }
        duk_pop(inst->ctx);
        inst->load_ns = (uint64_t)(fn_platform_monotonic_ns() - t1);
        inst->create_ns = (uint64_t)(fn_platform_monotonic_ns() - t0);
    }
    if (req.flags & FN_RUN_BOOT_ONLY) {
        memcpy(out, "{}", out_cap < 2 ? 0 : 2);
        *out_len = out_cap < 2 ? 0 : 2;
        return FN_RESULT_OK;
    }
    if (__atomic_exchange_n(&inst->busy, 1, __ATOMIC_ACQUIRE))
        return -EBUSY;   /* another thread of this container is in it (OpenWhisk: one run at a time) */
    inst->heap.fatal = &fatal;
    inst->heap.timed_out = false;
    inst->heap.deadline_ms = fn_platform_monotonic_ns() / 1000000 + (int64_t)timeout;
    inst->runs++;

    duk_context *ctx = inst->ctx;
    duk_push_lstring(ctx, params_len ? params : "{}", params_len ? params_len : 2);
    int rc = duk_safe_call(ctx, fn_instance_call, &env, 1, 1);
    bool timed_out = inst->heap.timed_out;
    inst->heap.deadline_ms = 0;
    inst->heap.timed_out = false;
    inst->heap.fatal = NULL;
    int r;
    if (timed_out) {
        char t[32];
        snprintf(t, sizeof t, "%llu", (unsigned long long)timeout);
        r = fn_instance_error(out, out_cap, out_len,
                              "The action exceeded its time limits of %s milliseconds.", t);
    } else if (rc != DUK_EXEC_SUCCESS) {
        r = fn_instance_error(out, out_cap, out_len, "An error has occurred: %s",
                              duk_safe_to_string(ctx, -1));
    } else {
        duk_size_t len;
        const char *json = duk_get_lstring(ctx, -1, &len);
        if (!json || len == 0 || json[0] != '{') {   /* e.g. a toJSON that returned a string */
            r = fn_instance_error(out, out_cap, out_len, "%s",
                                  "The action did not return a dictionary.");
        } else if (len > FN_MAX_RESULT) {
            char n[32];
            snprintf(n, sizeof n, "%zu", (size_t)len);
            r = fn_instance_error(out, out_cap, out_len,
                                  "The action's result is too large (%s bytes).", n);
        } else if (len > out_cap) {
            r = fn_instance_stage(inst, json, len, out, out_cap, out_len);
        } else {
            memcpy(out, json, len);
            *out_len = fn_json_utf8(out, len);
            r = FN_RESULT_OK;
        }
    }
    duk_pop(ctx);
    __atomic_store_n(&inst->busy, 0, __ATOMIC_RELEASE);
    return r;
}

void fn_instance_stats(struct fn_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    const struct fn_instance *inst = fn_platform_instance();
    if (!inst)
        return;
    stats->heap_bytes = inst->heap.bytes;
    stats->heap_peak = inst->heap.peak;
    stats->runs = inst->runs;
    stats->create_ns = inst->create_ns;
    stats->load_ns = inst->load_ns;
}
