/* The functions `teemate fn` knows: <state dir>/functions/<NAME>/function.json
 * (mode, limits, script names) and, for the native and both strawman modes, the
 * scripts themselves (as a conventional platform keeps them in its image).
 * A teemate-mode function's code lives in its shared enclave (fn-<NAME>);
 * on disk only sealed by that enclave (code.sealed), so that a new enclave of
 * the same image can take it up after a daemon restart: never in the clear. */
#ifndef FN_RECORD_H
#define FN_RECORD_H

#include <stdint.h>

#include "fn_abi.h"
#include "util/error.h"

#define FN_NAME_MAX 48   /* [A-Za-z0-9_-]; its enclave is "fn-NAME" */

/* strawman-edmm: the strawman with its heap added on demand (SGX2). */
enum fn_mode { FN_MODE_NATIVE, FN_MODE_TEEMATE, FN_MODE_STRAWMAN, FN_MODE_STRAWMAN_EDMM };

struct fn_record {
    char name[FN_NAME_MAX + 1];
    enum fn_mode mode;
    uint64_t memory;       /* bytes of JS heap (the function's memory limit) */
    uint64_t timeout_ms;
    uint32_t instances;    /* teemate mode: fn-NAME's slots (a rebuild lays it out the same) */
    uint32_t nscripts;
    char scripts[FN_MAX_SCRIPTS][FN_MAX_SCRIPT_NAME + 1];
};

int fn_name_check(const char *name, tm_error *err);
const char *fn_mode_name(enum fn_mode mode);
int fn_mode_parse(const char *text, enum fn_mode *mode);
/* "fn-NAME", the function's shared enclave. */
void fn_enclave_name(const char *name, char buf[64]);

/* Where the records live: <state dir>/functions unless set (the gateway
 * keeps its actions in <state dir>/gateway/actions). */
void fn_record_set_root(const char *dir);
/* <root>/NAME (the root made when create). */
int fn_record_dir(const char *name, bool create, char *buf, size_t len, tm_error *err);
/* Write function.json (-EEXIST: one exists) and beside it copies of the
 * scripts (texts[i] of lens[i] bytes), or in the teemate mode the sealed code
 * (sealed, sealed_len bytes). */
int fn_record_save(const struct fn_record *rec, const char *const *texts, const size_t *lens,
                   const void *sealed, size_t sealed_len, tm_error *err);
/* A teemate-mode function's sealed code (*blob malloc'ed). */
int fn_record_sealed_read(const char *name, void **blob, size_t *len, tm_error *err);
int fn_record_load(const char *name, struct fn_record *rec, tm_error *err);
/* The stored script paths (not in the teemate mode) (count = rec->nscripts). */
void fn_record_script_path(const char *dir, const struct fn_record *rec, uint32_t i, char *buf,
                           size_t len);
/* Names of every function, sorted; *names malloc'ed (free each and it). */
int fn_record_list(char ***names, size_t *count, tm_error *err);
int fn_record_remove(const char *name, tm_error *err);

#endif
