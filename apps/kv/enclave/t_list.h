/* The list value (KV_LIST / KV_ENC_LIST): a chain of nodes, each a packed
 * buffer of up to KV_LIST_NODE_BYTES of entries, as Redis's quicklist of
 * listpacks is. An entry is its length as a varint, its bytes, and its
 * length again as a backwards varint, so a node is walked both ways and
 * costs two bytes per short element. Push and pop at either end are O(1)
 * (amortised: within a node, bytes move as in a listpack); an index walks
 * whole nodes from the nearer end, then entries within one node. */
#ifndef T_LIST_H
#define T_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis's list-max-listpack-size -2: nodes of 8 kB. A longer entry gets a
 * node of its own. */
#define KV_LIST_NODE_BYTES 8192U

struct kv_str;

struct kv_list_node {
    struct kv_list_node *prev, *next;
    unsigned char *buf;
    uint32_t count;   /* entries */
    uint32_t used;    /* bytes of buf in use */
    uint32_t cap;     /* bytes allocated */
};

struct kv_list {
    struct kv_list_node *head, *tail;
    uint64_t len;
};

/* A position in a list (valid until the list changes, except through the
 * iterator's own delete). */
struct kv_list_iter {
    struct kv_list *l;
    struct kv_list_node *node;
    uint32_t off;     /* the current entry's offset in node->buf */
    bool forward;
};

struct kv_list *kv_list_new(void);
void kv_list_free(struct kv_list *l);
struct kv_list *kv_list_dup(const struct kv_list *l);
void kv_list_push(struct kv_list *l, const void *p, size_t len, bool head);
/* Removes and returns the first (head) or last element; NULL when empty. */
struct kv_str *kv_list_pop(struct kv_list *l, bool head);
/* Removes n elements (at most the length) from the head or the tail. */
void kv_list_remove_ends(struct kv_list *l, bool head, uint64_t n);
/* Memory of the value, for the cost of a copy (INFO and tests). */
size_t kv_list_bytes(const struct kv_list *l);

/* Positions it at index (0..len-1, from the head) to walk towards the tail
 * (forward) or the head; false when out of range. */
bool kv_list_iter_at(struct kv_list *l, uint64_t index, bool forward, struct kv_list_iter *it);
/* The current entry's bytes (inside the list). */
const unsigned char *kv_list_iter_get(const struct kv_list_iter *it, size_t *len);
bool kv_list_iter_eq(const struct kv_list_iter *it, const void *p, size_t len);
/* Moves to the next entry in its direction; false at the end. */
bool kv_list_iter_next(struct kv_list_iter *it);
/* Deletes the current entry and moves to the next in its direction; false
 * when there is none. The list may be left empty (the caller deletes the key). */
bool kv_list_iter_delete(struct kv_list_iter *it);
/* Inserts before or after the current entry; the iterator is spent. */
void kv_list_iter_insert(struct kv_list_iter *it, const void *p, size_t len, bool after);
/* Replaces the current entry; the iterator is spent. */
void kv_list_iter_replace(struct kv_list_iter *it, const void *p, size_t len);

#endif
