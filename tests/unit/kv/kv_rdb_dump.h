/* A canonical text dump of the native store, for comparing stores across
 * an RDB save and load, and with Redis (tests/cli/kv/rdb_vs_redis.py prints
 * the same format from a live redis-server). One line per key, sorted:
 *   DB KEY TYPE TTL VALUE
 * TTL is 1 when the key has an expiry. Bytes outside [A-Za-z0-9_.-] are
 * written \xHH. VALUE: a string's bytes; a list's elements in order, a set's
 * members sorted, a hash's field=value sorted, a zset's member=score ("%.17g")
 * by score then member; elements joined by ','. */
#ifndef KV_RDB_DUMP_H
#define KV_RDB_DUMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_server.h"
#include "t_list.h"
#include "t_zset.h"

static inline void kvr_esc(FILE *f, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = b[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-')
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
}

static inline char *kvr_esc_str(const void *p, size_t len)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    kvr_esc(f, p, len);
    fclose(f);
    return s;
}

struct kvr_item {
    char *text;
    double score;
};

static inline int kvr_cmp_text(const void *a, const void *b)
{
    return strcmp(((const struct kvr_item *)a)->text, ((const struct kvr_item *)b)->text);
}

static inline int kvr_cmp_score(const void *a, const void *b)
{
    const struct kvr_item *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return strcmp(x->text, y->text);
}

static inline void kvr_items_print(FILE *f, struct kvr_item *it, size_t n, int (*cmp)(const void *, const void *))
{
    if (cmp)
        qsort(it, n, sizeof *it, cmp);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s%s", i ? "," : "", it[i].text);
        free(it[i].text);
    }
    free(it);
}

static inline void kvr_value(FILE *f, const struct kv_obj *o)
{
    struct kvr_item *it = NULL;
    size_t n = 0;
    struct kv_dict_iter di;
    struct kv_dict_entry *e;
    switch (o->type) {
    case KV_STRING: {
        char buf[32];
        size_t len;
        const char *p = kv_obj_string(o, buf, &len);
        kvr_esc(f, p, len);
        return;
    }
    case KV_LIST: {
        struct kv_list *l = o->ptr;
        struct kv_list_iter li;
        it = calloc(l->len + 1, sizeof *it);
        if (kv_list_iter_at(l, 0, true, &li))
            do {
                size_t len;
                const unsigned char *p = kv_list_iter_get(&li, &len);
                it[n++].text = kvr_esc_str(p, len);
            } while (kv_list_iter_next(&li));
        kvr_items_print(f, it, n, NULL);
        return;
    }
    case KV_SET:
    case KV_HASH:
        it = calloc(kv_dict_size(o->ptr) + 1, sizeof *it);
        kv_dict_iter_init(&di, o->ptr);
        while ((e = kv_dict_iter_next(&di))) {
            char *k = kvr_esc_str(e->key->data, e->key->len);
            if (o->type == KV_HASH) {
                const struct kv_str *v = e->v.ptr;
                char *vs = kvr_esc_str(v->data, v->len);
                if (asprintf(&it[n].text, "%s=%s", k, vs) < 0)
                    abort();
                free(k);
                free(vs);
            } else {
                it[n].text = k;
            }
            n++;
        }
        kv_dict_iter_done(&di);
        kvr_items_print(f, it, n, kvr_cmp_text);
        return;
    case KV_ZSET: {
        const struct kv_zset *zs = o->ptr;
        it = calloc(zs->zsl.length + 1, sizeof *it);
        for (const struct kv_zsl_node *z = zs->zsl.header->level[0].forward; z;
             z = z->level[0].forward) {
            char *m = kvr_esc_str(z->ele->data, z->ele->len);
            if (asprintf(&it[n].text, "%s=%.17g", m, z->score) < 0)
                abort();
            it[n++].score = z->score;
            free(m);
        }
        kvr_items_print(f, it, n, kvr_cmp_score);
        return;
    }
    }
}

static inline int kvr_cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole store, malloc'ed. */
static inline char *kvr_dump(void)
{
    struct kv_server *s = kv_server();
    size_t cap = 16, count = 0;
    char **lines = malloc(cap * sizeof *lines);
    for (int i = 0; i < s->dbnum; i++) {
        struct kv_db *db = kv_db_at(i);
        struct kv_dict_iter di;
        struct kv_dict_entry *e;
        kv_dict_iter_init(&di, db->keys);
        while ((e = kv_dict_iter_next(&di))) {
            char *line = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&line, &len);
            const struct kv_obj *o = e->v.ptr;
            fprintf(f, "%d ", i);
            kvr_esc(f, e->key->data, e->key->len);
            fprintf(f, " %s %d ", kv_type_ops(o)->name,
                    kv_dict_find(db->expires, e->key->data, e->key->len) ? 1 : 0);
            kvr_value(f, o);
            fclose(f);
            if (count == cap)
                lines = realloc(lines, (cap *= 2) * sizeof *lines);
            lines[count++] = line;
        }
        kv_dict_iter_done(&di);
    }
    qsort(lines, count, sizeof *lines, kvr_cmp_line);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (size_t i = 0; i < count; i++) {
        fprintf(f, "%s\n", lines[i]);
        free(lines[i]);
    }
    fclose(f);
    free(lines);
    return out;
}

#endif
