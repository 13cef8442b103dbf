/* The JS function runtime, platform-independent: load (compile once to
 * bytecode kept in shared memory) and run (an instance heap per container,
 * main(params) JSON in, JSON out). The enclave's ecalls and the native build
 * both call these. */
#ifndef FN_RUNTIME_H
#define FN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "duktape.h"
#include "fn_abi.h"
#include "fn_engine.h"

/* FN_ECALL_LOAD's work: in = the scripts (fn_abi.h). Returns FN_RESULT_OK,
 * FN_RESULT_ERROR with the error JSON in out, or -errno. */
int fn_code_load(const void *in, size_t in_len, char *out, size_t out_cap, size_t *out_len);

/* The compiled scripts, in load order; NULL until loaded. */
struct fn_code_script {
    char name[FN_MAX_SCRIPT_NAME + 1];
    size_t len;
    const void *bytecode;
};
struct fn_code {
    uint32_t count;
    struct fn_code_script scripts[FN_MAX_SCRIPTS];
};
const struct fn_code *fn_code_current(void);

/* FN_ECALL_RUN's work: in = struct fn_run_request + params JSON. */
int fn_instance_run(const void *in, size_t in_len, char *out, size_t out_cap, size_t *out_len);
/* FN_ECALL_RESULT's work: the staged result into out. */
int fn_instance_result(char *out, size_t out_cap, size_t *out_len);
/* FN_ECALL_STATS: this instance's figures (zeros without one). */
void fn_instance_stats(struct fn_stats *stats);

/* The global `teemate` object and console.log (fn_bindings.c). */
void fn_bindings_install(duk_context *ctx);

/* {"error": msg} (plus "line"/"script" when line > 0) into out; its length.
 * Always valid JSON, truncating msg to fit. */
size_t fn_json_error(char *out, size_t cap, const char *msg, long line, const char *script);
/* s[0..len) as strict UTF-8 in place (CESU-8 surrogates folded); new length. */
size_t fn_json_utf8(char *s, size_t len);

#endif
