/* SCAN and its family (db.c scanGenericCommand): the cursor, MATCH, COUNT
 * and, for the keyspace, TYPE; up to COUNT*10 dict scan steps per call. Keys
 * of the keyspace are copied while scanning (a later lazy expiry may delete
 * them); entries of a data type stay valid for the call (nothing deletes). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kv_server.h"

struct kv_scan_batch {
    bool copy;
    size_t count, cap;
    const struct kv_dict_entry **entries;
    struct kv_str **keys;
};

static void kv_scan_collect(void *arg, const struct kv_dict_entry *e)
{
    struct kv_scan_batch *b = arg;
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->entries = kv_realloc(b->entries, b->cap * sizeof *b->entries);
        b->keys = kv_realloc(b->keys, b->cap * sizeof *b->keys);
    }
    b->entries[b->count] = e;
    b->keys[b->count] = b->copy ? kv_str_dup(e->key) : NULL;
    b->count++;
}

/* parseScanCursorOrReply: strtoul's rules (so "-1" wraps, as in Redis). */
static bool kv_scan_cursor(struct kv_client *c, const struct kv_str *arg, uint64_t *cursor)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg->data, &end, 10);
    if (isspace((unsigned char)arg->data[0]) || end[0] != '\0' || errno == ERANGE) {
        kv_reply_error(c, "invalid cursor");
        return false;
    }
    *cursor = v;
    return true;
}

void kv_scan_reply(struct kv_client *c, struct kv_dict *d, int first,
                   void (*emit_value)(struct kv_client *c, const struct kv_dict_entry *e))
{
    uint64_t cursor;
    if (!kv_scan_cursor(c, c->argv[first], &cursor))
        return;
    bool keyspace = first == 1;
    int64_t count = 10;
    const struct kv_str *pattern = NULL, *type = NULL;
    for (int j = first + 1; j < c->argc;) {
        int remaining = c->argc - j;
        if (kv_str_is(c->argv[j], "count") && remaining >= 2) {
            if (!kv_arg_int64(c, c->argv[j + 1], &count))
                return;
            if (count < 1) {
                kv_reply_syntax_error(c);
                return;
            }
            j += 2;
        } else if (kv_str_is(c->argv[j], "match") && remaining >= 2) {
            pattern = c->argv[j + 1];
            if (pattern->len == 1 && pattern->data[0] == '*')
                pattern = NULL;
            j += 2;
        } else if (kv_str_is(c->argv[j], "type") && keyspace && remaining >= 2) {
            type = c->argv[j + 1];
            j += 2;
        } else {
            kv_reply_syntax_error(c);
            return;
        }
    }
    struct kv_scan_batch b = { .copy = keyspace };
    if (d) {
        int64_t max_iterations = count * 10;
        do {
            cursor = kv_dict_scan(d, cursor, kv_scan_collect, &b);
        } while (cursor && max_iterations-- && b.count < (size_t)count);
    } else {
        cursor = 0;
    }
    kv_reply_array(c, 2);
    kv_reply_bulk_int(c, (int64_t)cursor);   /* as addReplyBulkLongLong does */
    void *len = kv_reply_deferred_len(c);
    int64_t n = 0;
    for (size_t i = 0; i < b.count; i++) {
        const struct kv_str *key = keyspace ? b.keys[i] : b.entries[i]->key;
        bool keep = !pattern || kv_glob_match(pattern->data, pattern->len, key->data, key->len, false);
        if (keep && keyspace) {
            /* the TYPE filter, and lazy expiry as Redis's scan does */
            struct kv_dict_entry *e = NULL;
            if (kv_db_expire_if_needed(c->db, c, key))
                keep = false;
            else if (type) {
                e = kv_dict_find(c->db->keys, key->data, key->len);
                keep = e && strcasecmp(type->data, kv_type_ops(e->v.ptr)->name) == 0;
            }
        }
        if (keep) {
            kv_reply_bulk_str(c, key);
            n++;
            if (emit_value) {
                emit_value(c, b.entries[i]);
                n++;
            }
        }
        if (keyspace)
            kv_str_free(b.keys[i]);
    }
    kv_reply_set_deferred_len(c, len, n);
    kv_free(b.entries);
    kv_free(b.keys);
}
