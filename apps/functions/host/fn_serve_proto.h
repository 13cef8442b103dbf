/* OpenWhisk's action protocol, the bodies only (REFERENCE.md "OpenWhisk
 * action protocol"): /init and /run requests parsed into what an instance
 * needs, with no I/O, so that the parsing can be fuzzed (fuzz/fuzz_action.c).
 * Every parse returns 0, or the HTTP status to answer with *error its
 * message (a static string, OpenWhisk's text where it has one). */
#ifndef FN_SERVE_PROTO_H
#define FN_SERVE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Node proxy's body limit (48 MB): code may be large, params are
 * bounded by the runtime (FN_MAX_PARAMS) after that. */
#define FN_SERVE_BODY_MAX (48U << 20)

#define FN_SERVE_SENTINEL "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
#define FN_SERVE_BAD_REQUEST "Bad request."
#define FN_SERVE_NO_CODE "Missing main/no code to execute."
#define FN_SERVE_INIT_TWICE "Cannot initialize the action more than once."
#define FN_SERVE_NOT_INIT "System not initialized."

struct fn_action_init {
    char *main;       /* the function to call ("main" by default) */
    char *code;       /* the script's text (base64-decoded when binary), NUL-terminated */
    size_t code_len;
    char *env;        /* a JSON object of strings (the init's env), NULL when none */
};

struct fn_action_run {
    char *params;     /* "value" as JSON text ("{}" when absent) */
    char *env;        /* every other key as __OW_<KEY> (a JSON object of strings) */
    int64_t deadline_ms;   /* epoch ms, 0 when none */
};

int fn_action_init_parse(const char *body, size_t len, struct fn_action_init *init,
                         const char **error);
void fn_action_init_free(struct fn_action_init *init);
int fn_action_run_parse(const char *body, size_t len, struct fn_action_run *run, const char **error);
void fn_action_run_free(struct fn_action_run *run);

/* {"error": msg} as JSON text (malloc'ed; NULL when out of memory). */
char *fn_action_error_json(const char *msg);

/* The init's script as the runtime's FN_ECALL_LOAD input: the code, then,
 * when main is not "main", a line that makes main that function. */
int fn_action_main_alias(const char *main, char *buf, size_t len);

/* Base64 (RFC 4648, padding optional, whitespace ignored): -1 if invalid. */
long fn_action_base64_decode(const char *in, size_t len, char *out, size_t cap);

#endif
