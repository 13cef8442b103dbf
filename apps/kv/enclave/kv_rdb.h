/* Internals of the RDB codec shared by kv_rdb_save.c, kv_rdb_load*.c and
 * kv_lzf.c: Redis 7.0's opcodes and types (rdb.h), the loader's reader. */
#ifndef KV_RDB_H
#define KV_RDB_H

#include <stdbool.h>
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
 * or the store's own when it is higher (no command makes a longer one), and
 * the ceiling of an LZF expansion relative to its compressed bytes (a back
 * reference of 3 bytes copies at most 264). */
#define KV_RDB_MAX_STRING (512U << 20)
#define KV_LZF_MAX_RATIO 100

/* LZF (liblzf's lzf_d.c format): out_len bytes exactly from in, or -EINVAL
 * for anything that would read or write out of bounds or leave bytes over. */
int kv_lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len);

/* The loader's reader (kv_rdb_read.c): exact reads from the source, the
 * offset for messages, the running CRC64 of every byte read. Each function
 * returns 0 or -errno after writing its message to err. */
struct kv_str;
struct kv_obj;
struct kv_rdb_reader {
    struct kv_source *in;
    uint64_t offset;
    uint64_t crc;
    char *err;
    size_t err_len;
};
int kv_rdb_fail(struct kv_rdb_reader *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int kv_rdb_read(struct kv_rdb_reader *r, void *p, size_t n);
int kv_rdb_read_byte(struct kv_rdb_reader *r, unsigned char *b);
/* A length; *encoded (may be NULL: then refused) tells a special string
 * encoding, its number in *len. */
int kv_rdb_read_len(struct kv_rdb_reader *r, uint64_t *len, bool *encoded);
/* A string in any of its encodings (raw, int8/16/32, LZF) as a new kv_str. */
int kv_rdb_read_string(struct kv_rdb_reader *r, struct kv_str **out);
/* A zset score as a string of type 3 (253 nan, 254 inf, 255 -inf). */
int kv_rdb_read_string_double(struct kv_rdb_reader *r, double *out);
/* A value of `type` (kv_rdb_load_value.c), whose type byte was at type_at;
 * *out NULL when it is empty (Redis skips such keys too). */
int kv_rdb_read_object(struct kv_rdb_reader *r, int type, uint64_t type_at, struct kv_obj **out);

/* The packed encodings Redis keeps small values in (kv_rdb_packed.c),
 * walked with every bound and internal length checked, as Redis's deep
 * integrity validation does. Each element goes to fn as bytes (integers
 * formatted in decimal); fn's nonzero return stops the walk and is returned.
 * -EINVAL with *why set when the blob is malformed. */
typedef int (*kv_rdb_elem_fn)(void *arg, const unsigned char *p, size_t len);
int kv_rdb_ziplist_walk(const unsigned char *zl, size_t len, kv_rdb_elem_fn fn, void *arg,
                        const char **why);
int kv_rdb_listpack_walk(const unsigned char *lp, size_t len, kv_rdb_elem_fn fn, void *arg,
                         const char **why);
/* Sorted distinct integers (strictly ascending, as intsetValidateIntegrity). */
int kv_rdb_intset_walk(const unsigned char *is, size_t len, kv_rdb_elem_fn fn, void *arg,
                       const char **why);
/* Redis < 2.6's zipmap: field, value, field, value... */
int kv_rdb_zipmap_walk(const unsigned char *zm, size_t len, kv_rdb_elem_fn fn, void *arg,
                       const char **why);

#endif
