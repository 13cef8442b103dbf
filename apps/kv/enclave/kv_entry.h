/* The store's entry points, one per ecall of kv_abi.h, with the ecall's
 * signature: the enclave image's TM_ECALLs (kv_image.c) forward to them, and
 * the host's native engine (`teemate kv serve --no-enclave`), the unit tests
 * and the fuzz target call them directly (build/apps/kv/libkv_native.a).
 *
 * in/out are the store's to read and write only for the call: it copies what
 * it keeps. Every length is checked (a malformed request is -EINVAL and
 * changes nothing). Values: 0 or -errno, as the ecalls return them.
 *
 * One store per process natively, one per container slot in the enclave. */
#ifndef KV_ENTRY_H
#define KV_ENTRY_H

#include <stddef.h>

#include "kv_abi.h"

/* KV_ECALL_START: in = struct kv_config (exactly). Makes the store, or takes
 * the new settings when it exists. out unused (*out_len = 0). */
int kv_start(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/* KV_ECALL_BATCH: in = struct kv_batch_in + records; out = struct
 * kv_batch_out + records (kv_abi.h). -ENOENT before kv_start. out_cap must
 * hold at least a struct kv_batch_out. -EINVAL (nothing done) for: a record
 * past the end, id 0, an unknown flag, bytes on a record without NEW or
 * DATA, NEW and DATA in one record (a NEW record's bytes are its "ADDR
 * LADDR"; its data comes in a record of its own). DATA or GONE for an id the
 * store does not know (closed inside already) is ignored. A client closed
 * inside (KV_OUT_CLOSE) is forgotten once that record is out. */
int kv_batch(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/* KV_ECALL_INFO: out = struct kv_info (out_cap >= its size). */
int kv_info(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/* Persistence (kv_abi.h): KV_ECALL_SNAPSHOT_WRITE (in a snapshot child: no
 * in), KV_ECALL_SNAPSHOT_DONE (in: struct kv_snapshot_report), KV_ECALL_LOAD
 * (at start, before any client: the file through KV_OCALL_FILE_READ; out:
 * a NUL-terminated error message on failure). */
int kv_snapshot_write(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
int kv_snapshot_done(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
int kv_load(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/* Natively only: the host's side of the store's file calls (KV_OCALL_*,
 * which are ocalls in the enclave). */
typedef long (*kv_host_call_fn)(uint32_t number, const void *in, size_t in_len, void *out,
                                size_t out_cap, size_t *out_len);
void kv_platform_native_set_host(kv_host_call_fn fn);
/* KV_ECALL_EXPORT: a sealed dump (read through the host's input file) to a
 * plain RDB (the host's output file); in: nothing. KV_ECALL_IMPORT: a plain
 * RDB (magic, version 5..10 and CRC64 trailer checked as it streams) to a
 * sealed dump. On failure out (if out_cap) holds a NUL-terminated reason,
 * and the output file holds garbage: the host throws it away. -EBADMSG /
 * -ENODATA: does not authenticate or is cut (export), bad checksum or cut
 * (import); -EINVAL: not an RDB; the files' -errno; -ENOTSUP natively
 * without a test sealing key. */
int kv_export(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);
int kv_import(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/* Natively only: frees the whole store (every client, key and block), so a
 * process or a test can end without leaks. A no-op without a store. */
void kv_stop(void);

#endif
