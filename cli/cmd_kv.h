/* `teemate kv` (cli/cmd_kv.c: serve; cli/cmd_kv_dump.c: export, import). */
#ifndef TM_CMD_KV_H
#define TM_CMD_KV_H

#include <stddef.h>

#include "util/error.h"

/* Where kv.elf is: $TEEMATE_KV_IMAGE, or apps/kv/kv.elf next to this binary. */
int tm_cli_kv_image(char *buf, size_t len, tm_error *err);

int tm_cmd_kv_export(int argc, char **argv);
int tm_cmd_kv_import(int argc, char **argv);

#endif
