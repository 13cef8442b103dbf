/* Keyspace commands (db.c, expire.c, object.c): DEL, UNLINK, EXISTS, TYPE,
 * the EXPIRE family with NX/XX/GT/LT, TTL/PTTL, EXPIRETIME/PEXPIRETIME,
 * PERSIST, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX, OBJECT ENCODING. */
#include <string.h>

#include "kv_server.h"

static void kv_cmd_del(struct kv_client *c)
{
    int64_t n = 0;
    for (int j = 1; j < c->argc; j++) {
        kv_db_expire_if_needed(c->db, c, c->argv[j]);
        if (kv_db_delete(c, c->argv[j]))
            n++;
    }
    kv_reply_int(c, n);
}

static void kv_cmd_exists(struct kv_client *c)
{
    int64_t n = 0;
    for (int j = 1; j < c->argc; j++)
        if (kv_db_lookup_read(c, c->argv[j]))
            n++;
    kv_reply_int(c, n);
}

static void kv_cmd_type(struct kv_client *c)
{
    struct kv_obj *o = kv_db_lookup_read(c, c->argv[1]);
    kv_reply_status(c, o ? kv_type_ops(o)->name : "none");
}

#define KV_EXPIRE_NX 1
#define KV_EXPIRE_XX 2
#define KV_EXPIRE_GT 4
#define KV_EXPIRE_LT 8

static void kv_expire_generic(struct kv_client *c, int64_t basetime, bool seconds)
{
    int flags = 0;
    for (int j = 3; j < c->argc; j++) {
        const struct kv_str *opt = c->argv[j];
        if (kv_str_is(opt, "nx"))
            flags |= KV_EXPIRE_NX;
        else if (kv_str_is(opt, "xx"))
            flags |= KV_EXPIRE_XX;
        else if (kv_str_is(opt, "gt"))
            flags |= KV_EXPIRE_GT;
        else if (kv_str_is(opt, "lt"))
            flags |= KV_EXPIRE_LT;
        else {
            kv_reply_errorf(c, "Unsupported option %s", opt->data);
            return;
        }
    }
    if ((flags & KV_EXPIRE_NX) && (flags & (KV_EXPIRE_XX | KV_EXPIRE_GT | KV_EXPIRE_LT))) {
        kv_reply_error(c, "NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & KV_EXPIRE_GT) && (flags & KV_EXPIRE_LT)) {
        kv_reply_error(c, "GT and LT options at the same time are not compatible");
        return;
    }
    int64_t when;
    if (!kv_arg_int64(c, c->argv[2], &when))
        return;
    if (seconds) {
        if (when > INT64_MAX / 1000 || when < INT64_MIN / 1000) {
            kv_reply_errorf(c, "invalid expire time in '%s' command", c->core->last_cmd->name);
            return;
        }
        when *= 1000;
    }
    if (when > INT64_MAX - basetime) {
        kv_reply_errorf(c, "invalid expire time in '%s' command", c->core->last_cmd->name);
        return;
    }
    when += basetime;
    const struct kv_str *key = c->argv[1];
    if (!kv_db_exists_for_write(c, key)) {
        kv_reply_int(c, 0);
        return;
    }
    if (flags) {
        int64_t current = kv_db_get_expire(c, key);
        if (((flags & KV_EXPIRE_NX) && current != -1) ||
            ((flags & KV_EXPIRE_XX) && current == -1) ||
            ((flags & KV_EXPIRE_GT) && (when <= current || current == -1)) ||
            ((flags & KV_EXPIRE_LT) && current != -1 && when >= current)) {
            kv_reply_int(c, 0);
            return;
        }
    }
    if (when <= kv_now_ms()) {
        kv_db_delete(c, key);
    } else {
        kv_db_set_expire(c, key, when);
        kv_key_modified(c, key);
    }
    kv_reply_int(c, 1);
}

static void kv_cmd_expire(struct kv_client *c) { kv_expire_generic(c, kv_now_ms(), true); }
static void kv_cmd_pexpire(struct kv_client *c) { kv_expire_generic(c, kv_now_ms(), false); }
static void kv_cmd_expireat(struct kv_client *c) { kv_expire_generic(c, 0, true); }
static void kv_cmd_pexpireat(struct kv_client *c) { kv_expire_generic(c, 0, false); }

static void kv_ttl_generic(struct kv_client *c, bool ms, bool absolute)
{
    if (!kv_db_lookup_read(c, c->argv[1])) {
        kv_reply_int(c, -2);
        return;
    }
    int64_t expire = kv_db_get_expire(c, c->argv[1]);
    if (expire == -1) {
        kv_reply_int(c, -1);
        return;
    }
    int64_t v = expire;
    if (!absolute) {
        v = expire - kv_now_ms();
        if (v < 0)
            v = 0;
    }
    kv_reply_int(c, ms ? v : (v + 500) / 1000);
}

static void kv_cmd_ttl(struct kv_client *c) { kv_ttl_generic(c, false, false); }
static void kv_cmd_pttl(struct kv_client *c) { kv_ttl_generic(c, true, false); }
static void kv_cmd_expiretime(struct kv_client *c) { kv_ttl_generic(c, false, true); }
static void kv_cmd_pexpiretime(struct kv_client *c) { kv_ttl_generic(c, true, true); }

static void kv_cmd_persist(struct kv_client *c)
{
    if (!kv_db_exists_for_write(c, c->argv[1])) {
        kv_reply_int(c, 0);
        return;
    }
    if (kv_dict_delete(c->db->expires, c->argv[1]->data, c->argv[1]->len)) {
        kv_key_modified(c, c->argv[1]);
        kv_reply_int(c, 1);
    } else {
        kv_reply_int(c, 0);
    }
}

static bool kv_key_is_expired(struct kv_db *db, const struct kv_str *key)
{
    if (!kv_dict_size(db->expires))
        return false;
    struct kv_dict_entry *e = kv_dict_find(db->expires, key->data, key->len);
    return e && e->v.i <= kv_now_ms();
}

static void kv_cmd_keys(struct kv_client *c)
{
    const struct kv_str *pattern = c->argv[1];
    bool all = pattern->len == 1 && pattern->data[0] == '*';
    void *len = kv_reply_deferred_len(c);
    int64_t n = 0;
    struct kv_dict_iter it;
    kv_dict_iter_init(&it, c->db->keys);
    for (struct kv_dict_entry *e; (e = kv_dict_iter_next(&it));) {
        if ((all || kv_glob_match(pattern->data, pattern->len, e->key->data, e->key->len, false)) &&
            !kv_key_is_expired(c->db, e->key)) {
            kv_reply_bulk_str(c, e->key);
            n++;
        }
    }
    kv_dict_iter_done(&it);
    kv_reply_set_deferred_len(c, len, n);
}

static void kv_cmd_scan(struct kv_client *c) { kv_scan_reply(c, c->db->keys, 1, NULL); }

static void kv_cmd_randomkey(struct kv_client *c)
{
    for (;;) {
        struct kv_dict_entry *e = kv_dict_random(c->db->keys);
        if (!e) {
            kv_reply_null(c);
            return;
        }
        if (kv_key_is_expired(c->db, e->key)) {
            struct kv_str *key = kv_str_dup(e->key);
            kv_db_expire_if_needed(c->db, c, key);
            kv_str_free(key);
            continue;
        }
        kv_reply_bulk_str(c, e->key);
        return;
    }
}

static void kv_rename_generic(struct kv_client *c, bool nx)
{
    const struct kv_str *from = c->argv[1], *to = c->argv[2];
    if (!kv_db_exists_for_write(c, from)) {
        kv_reply_error(c, "no such key");
        return;
    }
    if (kv_str_eq(from, to)) {
        if (nx)
            kv_reply_int(c, 0);
        else
            kv_reply_ok(c);
        return;
    }
    int64_t expire = kv_db_get_expire(c, from);
    if (kv_db_exists_for_write(c, to)) {
        if (nx) {
            kv_reply_int(c, 0);
            return;
        }
        kv_db_delete(c, to);
    }
    struct kv_obj *o = kv_db_take(c, from);   /* the object itself moves */
    kv_db_add(c, to, o);
    if (expire != -1)
        kv_db_set_expire(c, to, expire);
    if (nx)
        kv_reply_int(c, 1);
    else
        kv_reply_ok(c);
}

static void kv_cmd_rename(struct kv_client *c) { kv_rename_generic(c, false); }
static void kv_cmd_renamenx(struct kv_client *c) { kv_rename_generic(c, true); }

static void kv_cmd_object_encoding(struct kv_client *c)
{
    struct kv_obj *o = kv_db_lookup_read(c, c->argv[2]);
    if (!o) {
        kv_reply_null(c);
        return;
    }
    const char *enc = "raw";
    switch (o->encoding) {
    case KV_ENC_INT: enc = "int"; break;
    case KV_ENC_RAW:
        enc = !(o->reserved & KV_OBJ_GROWN) && ((const struct kv_str *)o->ptr)->len <= 44 ? "embstr"
                                                                                     : "raw";
        break;
    case KV_ENC_LIST: enc = "quicklist"; break;
    case KV_ENC_HASHTABLE: enc = "hashtable"; break;
    case KV_ENC_SKIPLIST: enc = "skiplist"; break;
    }
    kv_reply_bulk(c, enc, strlen(enc));
}

static void kv_cmd_object_help(struct kv_client *c)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "HELP",
        "    Prints this help.",
    };
    kv_reply_array(c, (int64_t)(sizeof lines / sizeof lines[0]));
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        kv_reply_status(c, lines[i]);
}

#define W (KV_CMD_WRITE)
#define R (KV_CMD_READONLY)
#define F KV_CMD_FAST
const struct kv_command kv_key_commands[] = {
    { "del", kv_cmd_del, -2, W, 1, -1, 1, "generic", "Deletes one or more keys." },
    { "unlink", kv_cmd_del, -2, W | F, 1, -1, 1, "generic",
      "Asynchronously deletes one or more keys." },
    { "exists", kv_cmd_exists, -2, R | F, 1, -1, 1, "generic",
      "Determines whether one or more keys exist." },
    { "type", kv_cmd_type, 2, R | F, 1, 1, 1, "generic",
      "Determines the type of value stored at a key." },
    { "expire", kv_cmd_expire, -3, W | F, 1, 1, 1, "generic",
      "Sets the expiration time of a key in seconds." },
    { "pexpire", kv_cmd_pexpire, -3, W | F, 1, 1, 1, "generic",
      "Sets the expiration time of a key in milliseconds." },
    { "expireat", kv_cmd_expireat, -3, W | F, 1, 1, 1, "generic",
      "Sets the expiration time of a key to a Unix timestamp." },
    { "pexpireat", kv_cmd_pexpireat, -3, W | F, 1, 1, 1, "generic",
      "Sets the expiration time of a key to a Unix milliseconds timestamp." },
    { "ttl", kv_cmd_ttl, 2, R | F, 1, 1, 1, "generic",
      "Returns the expiration time in seconds of a key." },
    { "pttl", kv_cmd_pttl, 2, R | F, 1, 1, 1, "generic",
      "Returns the expiration time in milliseconds of a key." },
    { "expiretime", kv_cmd_expiretime, 2, R | F, 1, 1, 1, "generic",
      "Returns the expiration time of a key as a Unix timestamp." },
    { "pexpiretime", kv_cmd_pexpiretime, 2, R | F, 1, 1, 1, "generic",
      "Returns the expiration time of a key as a Unix milliseconds timestamp." },
    { "persist", kv_cmd_persist, 2, W | F, 1, 1, 1, "generic",
      "Removes the expiration time of a key." },
    { "keys", kv_cmd_keys, 2, R, 0, 0, 0, "generic",
      "Returns all key names that match a pattern." },
    { "scan", kv_cmd_scan, -2, R, 0, 0, 0, "generic",
      "Iterates over the key names in the database." },
    { "randomkey", kv_cmd_randomkey, 1, R, 0, 0, 0, "generic",
      "Returns a random key name from the database." },
    { "rename", kv_cmd_rename, 3, W, 1, 2, 1, "generic",
      "Renames a key and overwrites the destination." },
    { "renamenx", kv_cmd_renamenx, 3, W | F, 1, 2, 1, "generic",
      "Renames a key only when the target key name doesn't exist." },
    { "object", NULL, -2, KV_CMD_CONTAINER, 0, 0, 0, "generic", "A container for object introspection commands." },
    { "object|encoding", kv_cmd_object_encoding, 3, R, 2, 2, 1, "generic",
      "Returns the internal encoding of a Redis object." },
    { "object|help", kv_cmd_object_help, 2, 0, 0, 0, 0, "generic",
      "Returns helpful text about the different subcommands." },
    { .name = NULL },
};
