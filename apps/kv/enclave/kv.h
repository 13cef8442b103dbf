/* The store inside the enclave: the contract between its core (strings,
 * dict, db, replies, dispatch: kv_*.c) and its data types (t_*.c), as
 * Redis's server.h is. The same sources build natively for the unit tests
 * and the fuzz target (no enclave header is needed here).
 *
 * Snapshots (BGSAVE, issue 13) fork by attaching: a child process reads this
 * slot in place while the parent keeps serving. So the parent must never
 * change or free what a running snapshot may read. The rule that makes it
 * work, and that every data type keeps: an object is only changed in place
 * through kv_db_lookup_write(), which copies it first (the type's dup) when a
 * snapshot holds it, and every free goes through kv_obj_release(), which
 * defers the free while a snapshot runs. Commands never keep pointers into
 * the keyspace across calls. */
#ifndef KV_H
#define KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Memory: every allocation of the store goes through these, so that
 * used_memory (INFO, maxmemory) is exact. kv_alloc never returns NULL (out of
 * slot memory is fatal, as zmalloc's OOM is in Redis; maxmemory refuses
 * writes before that). */
void *kv_alloc(size_t n);
void *kv_calloc(size_t n);
void *kv_realloc(void *p, size_t n);
void kv_free(void *p);
size_t kv_used_memory(void);

/* ---- Binary-safe strings: length-prefixed, always NUL-terminated (so a
 * number can be parsed in place). Keys, values, members, arguments. */
struct kv_str {
    uint32_t len;
    uint32_t cap;      /* bytes of data[] excluding the NUL */
    char data[];
};
struct kv_str *kv_str_new(const void *p, size_t len);
struct kv_str *kv_str_dup(const struct kv_str *s);
struct kv_str *kv_str_from_int(int64_t v);
/* Grows s to hold len bytes (keeps the content); may move it. */
struct kv_str *kv_str_reserve(struct kv_str *s, size_t len);
struct kv_str *kv_str_append(struct kv_str *s, const void *p, size_t len);
void kv_str_free(struct kv_str *s);
bool kv_str_eq(const struct kv_str *a, const struct kv_str *b);
int kv_str_cmp(const struct kv_str *a, const struct kv_str *b);  /* memcmp order, then length */
/* Case-insensitive comparison with a C string (option names). */
bool kv_str_is(const struct kv_str *s, const char *word);
uint64_t kv_hash(const void *p, size_t len);   /* keyed SipHash (seed from tm_random) */
uint64_t kv_hash_seeded(const uint64_t seed[2], const void *p, size_t len);   /* another store's */
/* Redis's string2ll / string2ld rules: the whole string, no spaces. */
bool kv_str_to_int64(const struct kv_str *s, int64_t *out);
bool kv_str_to_double(const struct kv_str *s, double *out);
/* Redis's formatting of a double reply (ld2string / "%.17g", inf, -inf). */
int kv_double_format(double d, char *buf, size_t cap);
/* Redis's string2ld and ld2string(LD_STR_HUMAN) (INCRBYFLOAT, HINCRBYFLOAT:
 * "%.17Lf" without trailing zeros; 0 when it does not fit cap, which 5 kB
 * always does). Defined in kv_util.c. */
bool kv_str_to_long_double(const struct kv_str *s, long double *out);
int kv_long_double_format(long double v, char *buf, size_t cap);

/* ---- Dictionary: chained hash table with incremental rehash (Redis's
 * dict.c semantics: two tables while rehashing, a step per operation, more
 * in the cron). Keys are struct kv_str, owned by the dict; the value is a
 * union the owner interprets. Used by the keyspace, hashes, sets, zsets. */
struct kv_dict_entry {
    struct kv_dict_entry *next;
    struct kv_str *key;
    union {
        void *ptr;
        double d;
        int64_t i;
    } v;
};
struct kv_dict;
struct kv_dict_type {
    /* frees an entry's value when the entry is deleted (NULL: nothing) */
    void (*value_free)(struct kv_dict_entry *e);
};
struct kv_dict *kv_dict_new(const struct kv_dict_type *type);
void kv_dict_free(struct kv_dict *d);          /* every entry, key and value */
size_t kv_dict_size(const struct kv_dict *d);
struct kv_dict_entry *kv_dict_find(struct kv_dict *d, const void *key, size_t len);
/* Adds key (copied) and returns its new entry (v zeroed), or NULL if the key
 * is there (*existing = its entry when existing != NULL). */
struct kv_dict_entry *kv_dict_add(struct kv_dict *d, const void *key, size_t len,
                                  struct kv_dict_entry **existing);
/* As kv_dict_add but takes ownership of key (no copy); when the key is
 * already there (NULL returned) it stays the caller's to free. */
struct kv_dict_entry *kv_dict_add_owned(struct kv_dict *d, struct kv_str *key,
                                        struct kv_dict_entry **existing);
bool kv_dict_delete(struct kv_dict *d, const void *key, size_t len);  /* frees key and value */
struct kv_dict_entry *kv_dict_random(struct kv_dict *d);   /* NULL when empty */
/* Redis's SCAN cursor (reverse-binary increment): visits every entry present
 * for the whole scan at least once, across rehashes. Returns the next
 * cursor, 0 when done. */
uint64_t kv_dict_scan(struct kv_dict *d, uint64_t cursor,
                      void (*fn)(void *arg, const struct kv_dict_entry *e), void *arg);
/* Safe iteration (no rehash step while it runs; deleting the current entry
 * is allowed). */
struct kv_dict_iter {
    struct kv_dict *d;
    int table;
    uint64_t index;
    struct kv_dict_entry *entry, *next;
};
void kv_dict_iter_init(struct kv_dict_iter *it, struct kv_dict *d);
struct kv_dict_entry *kv_dict_iter_next(struct kv_dict_iter *it);
void kv_dict_iter_done(struct kv_dict_iter *it);
bool kv_dict_rehash_step(struct kv_dict *d, int steps);  /* true: more to do */
size_t kv_dict_memory(const struct kv_dict *d);          /* table bytes (INFO) */

/* ---- Objects (values of the keyspace). */
enum kv_type { KV_STRING = 0, KV_LIST = 1, KV_SET = 2, KV_ZSET = 3, KV_HASH = 4 };
enum kv_encoding {
    KV_ENC_RAW = 0,       /* string: kv_str in ptr */
    KV_ENC_INT = 1,       /* string: the integer in i */
    KV_ENC_LIST = 2,      /* list: struct kv_list (t_list.c) */
    KV_ENC_HASHTABLE = 3, /* hash, set: struct kv_dict */
    KV_ENC_SKIPLIST = 4,  /* zset: struct kv_zset (t_zset.c) */
};
struct kv_obj {
    uint8_t type;         /* enum kv_type */
    uint8_t encoding;     /* enum kv_encoding */
    uint16_t reserved;
    uint32_t epoch;       /* the store's write epoch when made: a running
                           * snapshot holds objects with epoch <= its own */
    union {
        void *ptr;
        int64_t i;
    };
};
/* Per type: how to free and copy a value (core calls these for COW and
 * deferred frees). Each t_*.c defines its entry of kv_types[]. */
struct kv_type_ops {
    const char *name;     /* TYPE's reply: "string", "list", ... */
    void (*free)(struct kv_obj *o);              /* the value (o->ptr), not o */
    void (*dup)(struct kv_obj *dst, const struct kv_obj *src);  /* deep copy of the value */
};
extern const struct kv_type_ops kv_string_type, kv_list_type, kv_set_type, kv_zset_type,
    kv_hash_type;
const struct kv_type_ops *kv_type_ops(const struct kv_obj *o);
struct kv_obj *kv_obj_new(enum kv_type type, enum kv_encoding enc, void *ptr);
struct kv_obj *kv_obj_new_string(const void *p, size_t len);   /* INT-encodes numbers that fit */
struct kv_obj *kv_obj_new_int(int64_t v);
/* The value as bytes (INT formatted into buf, >= 21 bytes). */
const char *kv_obj_string(const struct kv_obj *o, char *buf, size_t *len);
void kv_obj_release(struct kv_obj *o);   /* frees now, or after the running snapshot */

/* ---- Clients and replies. */
struct kv_db;
struct kv_client {
    uint64_t id;
    struct kv_db *db;
    int db_index;
    int argc;
    struct kv_str **argv;  /* the command's arguments; a command may take
                            * one (set argv[i] = NULL) instead of copying it */
    uint32_t flags;        /* KV_CLIENT_* (core) */
    /* the rest is the core's (query buffer, reply buffer, name, MULTI state) */
    struct kv_client_core *core;
};

/* RESP2 replies (what Redis writes for addReply*). */
void kv_reply_ok(struct kv_client *c);                       /* +OK */
void kv_reply_status(struct kv_client *c, const char *s);    /* +s */
/* "-ERR msg", or msg as it is when it starts with '-' ("-WRONGTYPE ..."). */
void kv_reply_error(struct kv_client *c, const char *msg);
void kv_reply_errorf(struct kv_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kv_reply_int(struct kv_client *c, int64_t v);           /* :v */
void kv_reply_bulk(struct kv_client *c, const void *p, size_t len);
void kv_reply_bulk_str(struct kv_client *c, const struct kv_str *s);
void kv_reply_bulk_obj(struct kv_client *c, const struct kv_obj *o);  /* a string object */
void kv_reply_bulk_int(struct kv_client *c, int64_t v);      /* the number as a bulk */
void kv_reply_double(struct kv_client *c, double d);         /* bulk, Redis's format */
void kv_reply_null(struct kv_client *c);                     /* $-1 */
void kv_reply_null_array(struct kv_client *c);               /* *-1 */
void kv_reply_array(struct kv_client *c, int64_t n);         /* *n, n elements follow */
/* An array whose length is known later. */
void *kv_reply_deferred_len(struct kv_client *c);
void kv_reply_set_deferred_len(struct kv_client *c, void *handle, int64_t n);
/* The shared errors, Redis 7's exact texts. */
void kv_reply_wrongtype(struct kv_client *c);    /* -WRONGTYPE Operation against a key holding the wrong kind of value */
void kv_reply_syntax_error(struct kv_client *c); /* -ERR syntax error */
void kv_reply_not_integer(struct kv_client *c);  /* -ERR value is not an integer or out of range */
void kv_reply_not_float(struct kv_client *c);    /* -ERR value is not a valid float */

/* Argument parsing: false after replying the error. */
bool kv_arg_int64(struct kv_client *c, const struct kv_str *arg, int64_t *out);
bool kv_arg_double(struct kv_client *c, const struct kv_str *arg, double *out);
/* As kv_arg_int64, in [min, max], else replies msg (NULL: not_integer). */
bool kv_arg_range(struct kv_client *c, const struct kv_str *arg, int64_t min, int64_t max,
                  const char *msg, int64_t *out);

/* ---- The keyspace (kv_db.c). Lookups apply lazy expiry. */
struct kv_db {
    struct kv_dict *keys;      /* key -> struct kv_obj * (v.ptr) */
    struct kv_dict *expires;   /* key -> expiry in ms since the epoch (v.i) */
    int index;
};
/* For reading; NULL when missing or expired. Counts keyspace hits/misses. */
struct kv_obj *kv_db_lookup_read(struct kv_client *c, const struct kv_str *key);
/* For changing in place: NULL when missing; a copy of the value when a
 * snapshot holds it (installed in the keyspace, the old one kept for the
 * snapshot). */
struct kv_obj *kv_db_lookup_write(struct kv_client *c, const struct kv_str *key);
/* Redis's lookupKeyWrite as a test: the key is there (expired keys go
 * first), nothing is copied (the caller replaces or deletes, never changes). */
bool kv_db_exists_for_write(struct kv_client *c, const struct kv_str *key);
/* The same, checking the type: NULL and -WRONGTYPE replied (*replied set)
 * when the key holds another type; NULL without reply when missing. */
struct kv_obj *kv_db_lookup_read_type(struct kv_client *c, const struct kv_str *key,
                                      enum kv_type type, bool *replied);
struct kv_obj *kv_db_lookup_write_type(struct kv_client *c, const struct kv_str *key,
                                       enum kv_type type, bool *replied);
/* Adds a new key (must be missing; key copied) with value o (taken). */
void kv_db_add(struct kv_client *c, const struct kv_str *key, struct kv_obj *o);
/* Sets key to o (taken), replacing any value; keep_ttl false removes the TTL. */
void kv_db_set(struct kv_client *c, const struct kv_str *key, struct kv_obj *o, bool keep_ttl);
bool kv_db_delete(struct kv_client *c, const struct kv_str *key);
/* After any change of a key's value (WATCH, dirty counter, COW epoch). A
 * command that empties an aggregate deletes the key (Redis never keeps an
 * empty list, hash, set or zset). */
void kv_key_modified(struct kv_client *c, const struct kv_str *key);
int64_t kv_db_get_expire(struct kv_client *c, const struct kv_str *key);  /* ms, -1: none */
void kv_db_set_expire(struct kv_client *c, const struct kv_str *key, int64_t when_ms);
int64_t kv_now_ms(void);   /* the batch's clock */

/* ---- Commands: each t_*.c / kv_cmd_*.c exports a table ending with
 * { .name = NULL }; kv_command.c joins them. */
#define KV_CMD_WRITE 1U    /* changes data: refused under OOM (with DENYOOM), counted */
#define KV_CMD_DENYOOM 2U  /* may grow memory: -OOM when over maxmemory */
#define KV_CMD_READONLY 4U
#define KV_CMD_NOAUTH 8U   /* allowed before AUTH (AUTH, HELLO, QUIT) */
#define KV_CMD_NOMULTI 16U /* runs immediately even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT) */
#define KV_CMD_FAST 32U
struct kv_command {
    const char *name;      /* lower case */
    void (*proc)(struct kv_client *c);
    int arity;             /* Redis's: N exact, -N at least N (name included) */
    uint32_t flags;
    int first_key, last_key, key_step;   /* COMMAND's key spec (last -1: to the end) */
    const char *group;     /* COMMAND DOCS group: "string", "list", ... */
    const char *summary;   /* COMMAND DOCS summary */
};
extern const struct kv_command kv_string_commands[], kv_list_commands[], kv_set_commands[],
    kv_zset_commands[], kv_hash_commands[], kv_key_commands[], kv_connection_commands[],
    kv_server_commands[], kv_transaction_commands[];

/* SCAN-family helper (kv_scan.c): parses "cursor [MATCH p] [COUNT n]" from
 * argv[first], replies [next-cursor, [items...]] walking d. emit_value: for
 * HSCAN/ZSCAN (hash value / zset score after each field). */
void kv_scan_reply(struct kv_client *c, struct kv_dict *d, int first,
                   void (*emit_value)(struct kv_client *c, const struct kv_dict_entry *e));
/* Redis's rank range (LRANGE, LTRIM, ZRANGE, ZREMRANGEBYRANK): start and end
 * as the user gave them (negative from the end) clamped to [0, len - 1];
 * false when the range is empty. Defined in kv_util.c. */
bool kv_rank_range(int64_t len, int64_t *start, int64_t *end);
/* Redis's glob matching (stringmatchlen), for KEYS and MATCH. */
bool kv_glob_match(const char *pattern, size_t plen, const char *s, size_t slen, bool nocase);

#endif
