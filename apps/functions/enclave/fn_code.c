/* Loading a function: each script compiled once (duk_pcompile) in a scratch
 * heap, dumped to bytecode (duk_dump_function) and copied into shared memory
 * (the enclave-global heap), where every instance loads it without compiling.
 * One function per runtime: a second load is refused. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fn_platform.h"
#include "fn_runtime.h"

static struct fn_code *fn_code_loaded;   /* .bss: shared by every process of the enclave */

const struct fn_code *fn_code_current(void)
{
    return __atomic_load_n(&fn_code_loaded, __ATOMIC_ACQUIRE);
}

static void fn_code_free(struct fn_code *code)
{
    if (!code)
        return;
    for (uint32_t i = 0; i < code->count; i++)
        fn_platform_shared_free((void *)code->scripts[i].bytecode);
    fn_platform_shared_free(code);
}

/* Compile the source on top of the stack's filename; leaves the bytecode
 * buffer (0) or the error (1) on the stack. */
static duk_ret_t fn_code_compile(duk_context *ctx, void *udata)
{
    const struct fn_script *s = udata;
    const char *name = (const char *)(s + 1);
    duk_push_lstring(ctx, name + s->name_len, s->source_len);
    duk_push_lstring(ctx, name, s->name_len);
    duk_compile(ctx, 0);   /* a program: its top-level vars become globals */
    duk_dump_function(ctx);
    return 1;
}

/* Compile one script into code->scripts[i]; FN_RESULT_ERROR with the JSON. */
static int fn_code_compile_one(duk_context *ctx, const struct fn_script *s, struct fn_code_script *dst,
                               char *out, size_t out_cap, size_t *out_len)
{
    memcpy(dst->name, s + 1, s->name_len);
    dst->name[s->name_len] = '\0';
    if (duk_safe_call(ctx, fn_code_compile, (void *)s, 0, 1) != DUK_EXEC_SUCCESS) {
        long line = 0;
        if (duk_is_error(ctx, -1)) {
            duk_get_prop_string(ctx, -1, "lineNumber");
            line = (long)duk_get_int_default(ctx, -1, 0);
            duk_pop(ctx);
        }
        const char *msg = duk_safe_to_string(ctx, -1);
        *out_len = fn_json_error(out, out_cap, msg, line, dst->name);
        duk_pop(ctx);
        return FN_RESULT_ERROR;
    }
    duk_size_t len;
    const void *bc = duk_get_buffer_data(ctx, -1, &len);
    void *copy = fn_platform_shared_alloc(len ? len : 1);
    if (!copy) {
        duk_pop(ctx);
        return -ENOMEM;
    }
    memcpy(copy, bc, len);
    dst->bytecode = copy;
    dst->len = len;
    duk_pop(ctx);
    return FN_RESULT_OK;
}

/* Split in into scripts; -EINVAL when it does not hold together. */
static int fn_code_split(const void *in, size_t in_len, const struct fn_script *scripts[FN_MAX_SCRIPTS],
                         uint32_t *count)
{
    const uint8_t *p = in, *end = p + in_len;
    uint32_t n = 0;
    while (p < end) {
        struct fn_script s;
        if ((size_t)(end - p) < sizeof s || n == FN_MAX_SCRIPTS)
            return -EINVAL;
        memcpy(&s, p, sizeof s);
        if (s.name_len == 0 || s.name_len > FN_MAX_SCRIPT_NAME || s.source_len > FN_MAX_SOURCE ||
            (size_t)(end - p) - sizeof s < (size_t)s.name_len + s.source_len)
            return -EINVAL;
        if (((uintptr_t)p) % _Alignof(struct fn_script))
            return -EINVAL;   /* the ecall's copy is aligned; so is each header */
        if (memchr(p + sizeof s, '\0', s.name_len))
            return -EINVAL;
        scripts[n++] = (const struct fn_script *)p;
        size_t step = sizeof s + s.name_len + s.source_len;
        step = (step + 3) & ~(size_t)3;
        p += step < (size_t)(end - p) ? step : (size_t)(end - p);
    }
    *count = n;
    return n ? 0 : -EINVAL;
}

int fn_code_load(const void *in, size_t in_len, char *out, size_t out_cap, size_t *out_len)
{
    const struct fn_script *scripts[FN_MAX_SCRIPTS];
    uint32_t count;
    *out_len = 0;
    if (fn_code_current())
        return -EEXIST;
    int r = fn_code_split(in, in_len, scripts, &count);
    if (r < 0)
        return r;
    struct fn_code *code = fn_platform_shared_alloc(sizeof *code);
    if (!code)
        return -ENOMEM;
    memset(code, 0, sizeof *code);

    struct fn_heap heap = { 0 };
    jmp_buf fatal;
    heap.fatal = &fatal;
    duk_context *volatile ctx = NULL;
    if (setjmp(fatal)) {
        fn_heap_release(&heap);
        fn_code_free(code);
        *out_len = fn_json_error(out, out_cap, heap.fatal_msg, 0, NULL);
        return FN_RESULT_ERROR;
    }
    ctx = duk_create_heap(fn_heap_alloc, fn_heap_realloc, fn_heap_free, &heap, fn_engine_fatal);
    if (!ctx) {
        fn_heap_release(&heap);
        fn_code_free(code);
        return -ENOMEM;
    }
    r = FN_RESULT_OK;
    for (uint32_t i = 0; i < count && r == FN_RESULT_OK; i++) {
        r = fn_code_compile_one(ctx, scripts[i], &code->scripts[i], out, out_cap, out_len);
        if (r == FN_RESULT_OK)
            code->count = i + 1;
    }
    duk_destroy_heap(ctx);
    fn_heap_release(&heap);
    struct fn_code *expected = NULL;
    if (r == FN_RESULT_OK &&
        !__atomic_compare_exchange_n(&fn_code_loaded, &expected, code, false, __ATOMIC_RELEASE,
                                     __ATOMIC_ACQUIRE))
        r = -EEXIST;   /* another process loaded it meanwhile */
    if (r != FN_RESULT_OK)
        fn_code_free(code);
    return r;
}
