/* teemate fn: what its subcommands share (cli/cmd_fn*.c). */
#ifndef TM_CLI_CMD_FN_H
#define TM_CLI_CMD_FN_H

#include <stddef.h>

#include "fn_host.h"
#include "fn_record.h"
#include "util/error.h"
#include "util/state_dir.h"

int tm_cmd_fn_create(int argc, char **argv);
int tm_cmd_fn_invoke(int argc, char **argv);
/* The functions enclave image: $TEEMATE_FN_IMAGE, else beside this binary
 * (<dir of teemate>/apps/functions/fn.elf, where the build puts it). */
int tm_cli_fn_image(char *buf, size_t len, tm_error *err);
/* The host services of an instance: the object store <state dir>/objects,
 * console.log to stderr. */
int tm_cli_fn_services(struct fn_services *s, char *store, size_t len, tm_error *err);

#endif
