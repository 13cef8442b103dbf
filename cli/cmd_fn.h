/* teemate fn: what its subcommands share (cli/cmd_fn*.c). */
#ifndef TM_CLI_CMD_FN_H
#define TM_CLI_CMD_FN_H

#include <stdbool.h>
#include <stddef.h>

#include "fn_host.h"
#include "fn_record.h"
#include "util/error.h"
#include "util/state_dir.h"

int tm_cmd_fn_create(int argc, char **argv);
int tm_cmd_fn_invoke(int argc, char **argv);
int tm_cmd_fn_serve(int argc, char **argv);
/* The functions enclave image: $TEEMATE_FN_IMAGE, else beside this binary
 * (<dir of teemate>/apps/functions/fn.elf, where the build puts it). */
int tm_cli_fn_image(char *buf, size_t len, tm_error *err);
/* The host services of an instance: the object store <state dir>/objects,
 * console.log to stderr. */
int tm_cli_fn_services(struct fn_services *s, char *store, size_t len, tm_error *err);

/* Build fn-NAME (the functions image laid out for rec->instances) and load
 * the code into it: in = the
 * scripts (FN_ECALL_LOAD's input), *sealed then gets them sealed by the
 * enclave; or, with sealed NULL, in = that sealed blob (a rebuild). On any
 * failure the enclave this call built is removed: nothing half-loaded stays.
 * -EEXIST: fn-NAME exists already (create); a rebuild that finds it loads the
 * blob into it too, unless its builder's load came first. st (may be NULL)
 * gets the times, ms. */
struct tm_cli_fn_build_stats {
    bool built;        /* this process built fn-NAME (a rebuild may find another's) */
    double build_ms;   /* CREATE: the daemon builds and initialises the enclave */
    double load_ms;    /* attach + load (unseal) + compile inside + detach */
};
int tm_cli_fn_enclave_build(const struct fn_record *rec, const char *socket, const void *in, size_t len,
                            void **sealed, size_t *sealed_len, struct tm_cli_fn_build_stats *st,
                            tm_error *err);
/* fn serve's fn_serve_build_fn: tm_cli_fn_enclave_build (the sealed code
 * dropped: the enclave is named by the code's hash, and a container that
 * finds it gone gets the code again at its /init), or, when it exists, a
 * wait until the daemon has it ready (*built false). */
int tm_cli_fn_serve_build(const struct fn_record *rec, const char *socket, const void *wire,
                          size_t len, bool *built, tm_error *err);
/* Whether a teemate-mode function's enclave, fn-NAME, is gone (a daemon
 * restart) or being rebuilt by a concurrent invoke: what an attach refused
 * for that reason asks tm_cli_fn_restore to mend. */
bool tm_cli_fn_enclave_gone(const struct fn_record *rec, const char *socket);
/* fn-NAME built again from the image and the function's sealed code
 * (st->built), or, when a concurrent invoke is at that, waited for and the
 * code loaded too if need be (one load wins). */
int tm_cli_fn_restore(const struct fn_record *rec, const char *socket,
                      struct tm_cli_fn_build_stats *st, tm_error *err);

#endif
