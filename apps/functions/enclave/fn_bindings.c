/* What JS may ask of the host, and nothing else: console.log and the global
 * `teemate` object (sleep, now, httpGet, storePut, storeGet, sha256). Every
 * argument is checked here, inside, before it reaches a service. */
#include <errno.h>
#include <string.h>

#include "fn_platform.h"
#include "fn_runtime.h"

/* Throws (never returns) for a service's negative answer. */
static duk_ret_t fn_throw_errno(duk_context *ctx, const char *what, long r)
{
    return duk_error(ctx, DUK_ERR_ERROR, "%s failed: %s", what, strerror((int)-r));
}

static const char *fn_arg_string(duk_context *ctx, duk_idx_t i, size_t max, const char *what,
                                 size_t *len)
{
    if (!duk_is_string(ctx, i))
        (void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "%s must be a string", what);
    duk_size_t l;
    const char *s = duk_get_lstring(ctx, i, &l);
    if (l > max)
        (void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "%s is longer than %lu bytes", what,
                        (unsigned long)max);
    *len = l;
    return s;
}

static const char *fn_arg_name(duk_context *ctx, duk_idx_t i, const char *what, size_t *len)
{
    const char *s = fn_arg_string(ctx, i, FN_MAX_NAME, what, len);
    if (!fn_name_is_valid(s, *len))
        (void)duk_error(ctx, DUK_ERR_RANGE_ERROR,
                        "%s must be 1 to %d of A-Z a-z 0-9 . _ - (not \".\" or \"..\")", what,
                        FN_MAX_NAME);
    return s;
}

/* console.log(a, b, ...): the arguments as strings, joined by spaces. */
static duk_ret_t fn_console_log(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    duk_push_string(ctx, " ");
    duk_insert(ctx, 0);
    for (duk_idx_t i = 1; i <= n; i++)
        duk_safe_to_string(ctx, i);
    duk_join(ctx, n);
    duk_size_t len;
    const char *line = duk_get_lstring(ctx, -1, &len);
    if (len > FN_MAX_LOG)
        len = FN_MAX_LOG;   /* a log line is cut, not refused */
    fn_platform_log(line, len);
    return 0;
}

static duk_ret_t fn_teemate_sleep(duk_context *ctx)
{
    double s = duk_require_number(ctx, 0);
    if (!(s >= 0) || s * 1000 > FN_MAX_SLEEP_MS)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "sleep takes 0 to %d seconds",
                         FN_MAX_SLEEP_MS / 1000);
    /* Never past the run's deadline: sleep what is left, then time out. */
    duk_memory_functions mem;
    duk_get_memory_functions(ctx, &mem);
    struct fn_heap *heap = mem.udata;
    uint64_t ms = (uint64_t)(s * 1000);
    bool cut = false;
    if (heap->deadline_ms) {
        int64_t left = heap->deadline_ms - fn_platform_monotonic_ns() / 1000000;
        if (left < 0)
            left = 0;
        if (ms >= (uint64_t)left) {
            ms = (uint64_t)left;
            cut = true;
        }
    }
    long r = fn_platform_sleep_ms(ms);
    if (r < 0)
        return fn_throw_errno(ctx, "sleep", r);
    if (cut) {
        heap->timed_out = true;   /* what the timeout check answers from now on */
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "execution timeout");
    }
    return 0;
}

static duk_ret_t fn_teemate_now(duk_context *ctx)
{
    duk_push_number(ctx, fn_engine_now_ms());
    return 1;
}

/* A buffer of the platform's transfer size on the value stack: a Duktape
 * buffer, so that a throw anywhere after (the body's string past the memory
 * cap) leaks nothing. */
static void *fn_push_transfer_buffer(duk_context *ctx, size_t *cap)
{
    *cap = fn_platform_transfer_max();
    return duk_push_fixed_buffer(ctx, *cap);
}

/* The body fetched into that buffer as a string, or a throw. */
static duk_ret_t fn_push_transfer(duk_context *ctx, const char *what, long r, const void *buf,
                                  size_t cap, size_t got)
{
    if (r >= 0 && (size_t)r > cap)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "%s: %ld bytes, more than the %lu allowed", what,
                         r, (unsigned long)cap);
    if (r < 0 || (size_t)r != got)
        return fn_throw_errno(ctx, what, r < 0 ? r : -EIO);
    duk_push_lstring(ctx, buf, got);
    return 1;
}

static duk_ret_t fn_teemate_http_get(duk_context *ctx)
{
    size_t ulen;
    const char *url = fn_arg_string(ctx, 0, FN_MAX_URL, "url", &ulen);
    if (!fn_url_is_valid(url, ulen))
        return duk_error(ctx, DUK_ERR_URI_ERROR, "httpGet takes an http:// URL of printable characters");
    size_t cap, got = 0;
    void *buf = fn_push_transfer_buffer(ctx, &cap);
    long r = fn_platform_http_get(url, ulen, buf, cap, &got);
    return fn_push_transfer(ctx, "httpGet", r, buf, cap, got);
}

static duk_ret_t fn_teemate_store_put(duk_context *ctx)
{
    size_t blen, klen, dlen;
    const char *bucket = fn_arg_name(ctx, 0, "bucket", &blen);
    const char *key = fn_arg_name(ctx, 1, "key", &klen);
    const char *data = fn_arg_string(ctx, 2, fn_platform_transfer_max(), "data", &dlen);
    long r = fn_platform_store_put(bucket, blen, key, klen, data, dlen);
    if (r < 0)
        return fn_throw_errno(ctx, "storePut", r);
    return 0;
}

static duk_ret_t fn_teemate_store_get(duk_context *ctx)
{
    size_t blen, klen;
    const char *bucket = fn_arg_name(ctx, 0, "bucket", &blen);
    const char *key = fn_arg_name(ctx, 1, "key", &klen);
    size_t cap, got = 0;
    void *buf = fn_push_transfer_buffer(ctx, &cap);
    long r = fn_platform_store_get(bucket, blen, key, klen, buf, cap, &got);
    return fn_push_transfer(ctx, "storeGet", r, buf, cap, got);
}

static duk_ret_t fn_teemate_sha256(duk_context *ctx)
{
    duk_size_t len;
    if (!duk_is_string(ctx, 0))
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "sha256 takes a string");
    const char *s = duk_get_lstring(ctx, 0, &len);
    uint8_t d[32];
    char hex[65];
    fn_platform_sha256(s, len, d);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = "0123456789abcdef"[d[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    duk_push_lstring(ctx, hex, 64);
    return 1;
}

void fn_bindings_install(duk_context *ctx)
{
    static const duk_function_list_entry teemate[] = {
        { "sleep", fn_teemate_sleep, 1 },
        { "now", fn_teemate_now, 0 },
        { "httpGet", fn_teemate_http_get, 1 },
        { "storePut", fn_teemate_store_put, 3 },
        { "storeGet", fn_teemate_store_get, 2 },
        { "sha256", fn_teemate_sha256, 1 },
        { NULL, NULL, 0 },
    };
    duk_push_object(ctx);
    duk_put_function_list(ctx, -1, teemate);
    duk_put_global_string(ctx, "teemate");
    duk_push_object(ctx);
    duk_push_c_function(ctx, fn_console_log, DUK_VARARGS);
    duk_put_prop_string(ctx, -2, "log");
    duk_put_global_string(ctx, "console");
}
