/* `teemate kv export` and `teemate kv import` (kvh_dump.c): kv.elf in an
 * enclave of this process's own, signed with the development key as
 * teemated signs the server's kv-NAME (the same signer: the MRSIGNER
 * sealing key is the server's), running KV_ECALL_EXPORT / KV_ECALL_IMPORT
 * over the two files. Outputs appear whole or not at all: a temporary file
 * next to the target, fsynced, renamed, the directory fsynced. */
#ifndef KVH_DUMP_H
#define KVH_DUMP_H

#include <stdbool.h>

#include "util/error.h"

/* The sealed dump at sealed_path to a plain RDB at out_path ("-": standard
 * output, written only after a first pass authenticated the whole file). */
int kvh_export(const char *image, const char *sealed_path, const char *out_path, tm_error *err);
/* The plain RDB at rdb_path sealed to sealed_path; an existing sealed_path
 * is replaced only with force (-EEXIST otherwise). */
int kvh_import(const char *image, const char *rdb_path, const char *sealed_path, bool force,
               tm_error *err);

#endif
