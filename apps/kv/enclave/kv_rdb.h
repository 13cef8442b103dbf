/* Internals of the RDB codec shared by kv_rdb_save.c, kv_rdb_load*.c and
 * kv_lzf.c: Redis 7.0's opcodes and types (rdb.h), the loader's reader. */
#ifndef KV_RDB_H
#define KV_RDB_H

#include <stddef.h>
#include <stdint.h>

#include "kv_persist.h"

#define KV_RDB_VERSION 10            /* REDIS0010: what 7.0 writes, the newest it reads */

/* Value types. */
#define KV_RDB_TYPE_STRING 0
#define KV_RDB_TYPE_LIST 1
#define KV_RDB_TYPE_SET 2
#define KV_RDB_TYPE_ZSET 3           /* scores as strings */
#define KV_RDB_TYPE_HASH 4
#define KV_RDB_TYPE_ZSET_2 5         /* scores as binary doubles */
#define KV_RDB_TYPE_MODULE 6
#define KV_RDB_TYPE_MODULE_2 7
#define KV_RDB_TYPE_HASH_ZIPMAP 9
#define KV_RDB_TYPE_LIST_ZIPLIST 10
#define KV_RDB_TYPE_SET_INTSET 11
#define KV_RDB_TYPE_ZSET_ZIPLIST 12
#define KV_RDB_TYPE_HASH_ZIPLIST 13
#define KV_RDB_TYPE_LIST_QUICKLIST 14
#define KV_RDB_TYPE_STREAM_LISTPACKS 15
#define KV_RDB_TYPE_HASH_LISTPACK 16
#define KV_RDB_TYPE_ZSET_LISTPACK 17
#define KV_RDB_TYPE_LIST_QUICKLIST_2 18
#define KV_RDB_TYPE_STREAM_LISTPACKS_2 19

/* Opcodes. */
#define KV_RDB_OP_FUNCTION2 245
#define KV_RDB_OP_FUNCTION 246
#define KV_RDB_OP_MODULE_AUX 247
#define KV_RDB_OP_IDLE 248
#define KV_RDB_OP_FREQ 249
#define KV_RDB_OP_AUX 250
#define KV_RDB_OP_RESIZEDB 251
#define KV_RDB_OP_EXPIRETIME_MS 252
#define KV_RDB_OP_EXPIRETIME 253
#define KV_RDB_OP_SELECTDB 254
#define KV_RDB_OP_EOF 255

/* Length encodings (the two top bits of the first byte). */
#define KV_RDB_6BITLEN 0
#define KV_RDB_14BITLEN 1
#define KV_RDB_32BITLEN 0x80
#define KV_RDB_64BITLEN 0x81
#define KV_RDB_ENCVAL 3
#define KV_RDB_ENC_INT8 0
#define KV_RDB_ENC_INT16 1
#define KV_RDB_ENC_INT32 2
#define KV_RDB_ENC_LZF 3

/* quicklist 2 node containers */
#define KV_RDB_QL_PLAIN 1
#define KV_RDB_QL_PACKED 2

/* The longest string the loader takes: Redis's proto-max-bulk-len default,
 * and the ceiling of an LZF expansion relative to its compressed bytes (a
 * back reference of 3 bytes copies at most 264). */
#define KV_RDB_MAX_STRING (512U << 20)
#define KV_LZF_MAX_RATIO 100

/* LZF (liblzf's lzf_d.c format): out_len bytes exactly from in, or -EINVAL
 * for anything that would read or write out of bounds or leave bytes over. */
int kv_lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len);

#endif
