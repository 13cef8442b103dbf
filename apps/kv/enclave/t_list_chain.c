/* The list's chain of packed nodes (see t_list.h for the layout). */
#include <string.h>

#include "kv.h"
#include "t_list.h"

/* ---- Entries: varint length, bytes, backwards varint length. */

static uint32_t varint_size(uint32_t v)
{
    uint32_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint32_t entry_size(uint32_t len)
{
    return 2 * varint_size(len) + len;
}

static void put_front(unsigned char *p, uint32_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p = (unsigned char)v;
}

static uint32_t get_front(const unsigned char *p, uint32_t *hdr)
{
    uint32_t v = 0, shift = 0, n = 0;
    for (;;) {
        unsigned char b = p[n++];
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *hdr = n;
    return v;
}

/* The lowest 7 bits sit in the last byte; a set high bit means more
 * groups precede it. */
static void put_back(unsigned char *p, uint32_t v)
{
    uint32_t n = varint_size(v);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char g = (unsigned char)((v >> (7 * i)) & 0x7f);
        p[n - 1 - i] = (unsigned char)(g | (i + 1 < n ? 0x80 : 0));
    }
}

static uint32_t get_back(const unsigned char *end)
{
    const unsigned char *p = end - 1;
    uint32_t v = *p & 0x7f, shift = 7;
    while (*p & 0x80) {
        p--;
        v |= (uint32_t)(*p & 0x7f) << shift;
        shift += 7;
    }
    return v;
}

static void entry_write(unsigned char *p, const void *data, uint32_t len)
{
    uint32_t h = varint_size(len);
    put_front(p, len);
    if (len)
        memcpy(p + h, data, len);
    put_back(p + h + len, len);
}

/* Size of the entry at off. */
static uint32_t entry_at_size(const struct kv_list_node *n, uint32_t off)
{
    uint32_t hdr, len = get_front(n->buf + off, &hdr);
    return 2 * hdr + len;
}

/* Offset of the entry before the one at off (off > 0). */
static uint32_t entry_before(const struct kv_list_node *n, uint32_t off)
{
    return off - entry_size(get_back(n->buf + off));
}

static uint32_t entry_last(const struct kv_list_node *n)
{
    return entry_before(n, n->used);
}

/* ---- Nodes. */

static struct kv_list_node *node_new(void)
{
    return kv_calloc(sizeof(struct kv_list_node));
}

static void node_free(struct kv_list_node *n)
{
    kv_free(n->buf);
    kv_free(n);
}

static bool node_fits(const struct kv_list_node *n, uint32_t esize)
{
    return n->count == 0 || n->used + esize <= KV_LIST_NODE_BYTES;
}

static void node_reserve(struct kv_list_node *n, uint32_t need)
{
    if (need <= n->cap)
        return;
    uint32_t cap = n->cap ? n->cap : 64;
    while (cap < need && cap < KV_LIST_NODE_BYTES)
        cap *= 2;
    if (cap < need)
        cap = need;
    n->buf = kv_realloc(n->buf, cap);
    n->cap = cap;
}

/* Gives back memory a node no longer needs. */
static void node_shrink(struct kv_list_node *n)
{
    if (n->cap > 256 && n->used < n->cap / 4) {
        uint32_t cap = n->used < 64 ? 64 : n->used;
        n->buf = kv_realloc(n->buf, cap);
        n->cap = cap;
    }
}

static void node_insert_at(struct kv_list_node *n, uint32_t off, const void *p, uint32_t len)
{
    uint32_t es = entry_size(len);
    node_reserve(n, n->used + es);
    memmove(n->buf + off + es, n->buf + off, n->used - off);
    entry_write(n->buf + off, p, len);
    n->used += es;
    n->count++;
}

static void node_remove_at(struct kv_list_node *n, uint32_t off)
{
    uint32_t es = entry_at_size(n, off);
    memmove(n->buf + off, n->buf + off + es, n->used - off - es);
    n->used -= es;
    n->count--;
    node_shrink(n);
}

static void link_after(struct kv_list *l, struct kv_list_node *at, struct kv_list_node *n)
{
    n->prev = at;
    n->next = at ? at->next : l->head;
    if (n->next)
        n->next->prev = n;
    else
        l->tail = n;
    if (at)
        at->next = n;
    else
        l->head = n;
}

static void unlink_node(struct kv_list *l, struct kv_list_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
}

/* Moves the entries of n from off on into a new node after n (which may
 * get none). */
static struct kv_list_node *node_split(struct kv_list *l, struct kv_list_node *n, uint32_t off)
{
    struct kv_list_node *right = node_new();
    uint32_t moved = 0;
    for (uint32_t o = off; o < n->used; o += entry_at_size(n, o))
        moved++;
    if (moved) {
        node_reserve(right, n->used - off);
        memcpy(right->buf, n->buf + off, n->used - off);
        right->used = n->used - off;
        right->count = moved;
        n->used = off;
        n->count -= moved;
    }
    link_after(l, n, right);
    return right;
}

/* Inserts an entry at offset off of node n, splitting n when it is full. */
static void list_insert_at(struct kv_list *l, struct kv_list_node *n, uint32_t off,
                           const void *p, uint32_t len)
{
    uint32_t es = entry_size(len);
    l->len++;
    if (node_fits(n, es)) {
        node_insert_at(n, off, p, len);
        return;
    }
    /* At an edge, a neighbour with room takes it. */
    if (off == 0 && n->prev && node_fits(n->prev, es)) {
        node_insert_at(n->prev, n->prev->used, p, len);
        return;
    }
    if (off == n->used && n->next && node_fits(n->next, es)) {
        node_insert_at(n->next, 0, p, len);
        return;
    }
    struct kv_list_node *right = node_split(l, n, off);
    if (node_fits(n, es)) {
        node_insert_at(n, n->used, p, len);
    } else if (node_fits(right, es)) {
        node_insert_at(right, 0, p, len);
    } else {
        struct kv_list_node *mid = node_new();
        link_after(l, n, mid);
        node_insert_at(mid, 0, p, len);
    }
    if (right->count == 0) {
        unlink_node(l, right);
        node_free(right);
    }
}

/* ---- The list. */

struct kv_list *kv_list_new(void)
{
    return kv_calloc(sizeof(struct kv_list));
}

void kv_list_free(struct kv_list *l)
{
    if (!l)
        return;
    struct kv_list_node *n = l->head;
    while (n) {
        struct kv_list_node *next = n->next;
        node_free(n);
        n = next;
    }
    kv_free(l);
}

struct kv_list *kv_list_dup(const struct kv_list *l)
{
    struct kv_list *d = kv_list_new();
    for (const struct kv_list_node *n = l->head; n; n = n->next) {
        struct kv_list_node *c = node_new();
        node_reserve(c, n->used);
        memcpy(c->buf, n->buf, n->used);
        c->used = n->used;
        c->count = n->count;
        link_after(d, d->tail, c);
    }
    d->len = l->len;
    return d;
}

size_t kv_list_bytes(const struct kv_list *l)
{
    size_t b = sizeof(*l);
    for (const struct kv_list_node *n = l->head; n; n = n->next)
        b += sizeof(*n) + n->cap;
    return b;
}

void kv_list_push(struct kv_list *l, const void *p, size_t len, bool head)
{
    uint32_t es = entry_size((uint32_t)len);
    struct kv_list_node *n = head ? l->head : l->tail;
    if (!n || !node_fits(n, es)) {
        n = node_new();
        link_after(l, head ? NULL : l->tail, n);
    }
    node_insert_at(n, head ? 0 : n->used, p, (uint32_t)len);
    l->len++;
}

struct kv_str *kv_list_pop(struct kv_list *l, bool head)
{
    struct kv_list_node *n = head ? l->head : l->tail;
    if (!n)
        return NULL;
    uint32_t off = head ? 0 : entry_last(n), hdr;
    uint32_t len = get_front(n->buf + off, &hdr);
    struct kv_str *s = kv_str_new(n->buf + off + hdr, len);
    node_remove_at(n, off);
    l->len--;
    if (n->count == 0) {
        unlink_node(l, n);
        node_free(n);
    }
    return s;
}

void kv_list_remove_ends(struct kv_list *l, bool head, uint64_t count)
{
    while (count > 0) {
        struct kv_list_node *n = head ? l->head : l->tail;
        if (!n)
            return;
        if (count >= n->count) {
            count -= n->count;
            l->len -= n->count;
            unlink_node(l, n);
            node_free(n);
            continue;
        }
        /* Part of this node: one move of the bytes that stay. */
        uint32_t k = (uint32_t)count;
        if (head) {
            uint32_t off = 0;
            for (uint32_t i = 0; i < k; i++)
                off += entry_at_size(n, off);
            memmove(n->buf, n->buf + off, n->used - off);
            n->used -= off;
        } else {
            uint32_t off = n->used;
            for (uint32_t i = 0; i < k; i++)
                off = entry_before(n, off);
            n->used = off;
        }
        n->count -= k;
        l->len -= k;
        node_shrink(n);
        return;
    }
}

/* ---- Iteration. */

bool kv_list_iter_at(struct kv_list *l, uint64_t index, bool forward, struct kv_list_iter *it)
{
    if (index >= l->len)
        return false;
    it->l = l;
    it->forward = forward;
    struct kv_list_node *n;
    uint64_t i;     /* index within n */
    if (index < l->len / 2) {
        n = l->head;
        i = index;
        while (i >= n->count) {
            i -= n->count;
            n = n->next;
        }
    } else {
        n = l->tail;
        uint64_t from_tail = l->len - 1 - index;
        while (from_tail >= n->count) {
            from_tail -= n->count;
            n = n->prev;
        }
        i = n->count - 1 - from_tail;
    }
    uint32_t off;
    if (i < n->count / 2) {
        off = 0;
        for (uint64_t k = 0; k < i; k++)
            off += entry_at_size(n, off);
    } else {
        off = n->used;
        for (uint64_t k = n->count; k > i; k--)
            off = entry_before(n, off);
    }
    it->node = n;
    it->off = off;
    return true;
}

const unsigned char *kv_list_iter_get(const struct kv_list_iter *it, size_t *len)
{
    uint32_t hdr;
    *len = get_front(it->node->buf + it->off, &hdr);
    return it->node->buf + it->off + hdr;
}

bool kv_list_iter_eq(const struct kv_list_iter *it, const void *p, size_t len)
{
    size_t elen;
    const unsigned char *e = kv_list_iter_get(it, &elen);
    return elen == len && (len == 0 || memcmp(e, p, len) == 0);
}

bool kv_list_iter_next(struct kv_list_iter *it)
{
    struct kv_list_node *n = it->node;
    if (it->forward) {
        it->off += entry_at_size(n, it->off);
        if (it->off < n->used)
            return true;
        if (!n->next)
            return false;
        it->node = n->next;
        it->off = 0;
        return true;
    }
    if (it->off > 0) {
        it->off = entry_before(n, it->off);
        return true;
    }
    if (!n->prev)
        return false;
    it->node = n->prev;
    it->off = entry_last(it->node);
    return true;
}

bool kv_list_iter_delete(struct kv_list_iter *it)
{
    struct kv_list_node *n = it->node;
    struct kv_list *l = it->l;
    node_remove_at(n, it->off);
    l->len--;
    if (n->count == 0) {
        struct kv_list_node *nx = it->forward ? n->next : n->prev;
        unlink_node(l, n);
        node_free(n);
        if (!nx)
            return false;
        it->node = nx;
        it->off = it->forward ? 0 : entry_last(nx);
        return true;
    }
    if (it->forward) {
        if (it->off < n->used)
            return true;   /* the next entry moved into place */
        if (!n->next)
            return false;
        it->node = n->next;
        it->off = 0;
        return true;
    }
    if (it->off > 0) {
        it->off = entry_before(n, it->off);
        return true;
    }
    if (!n->prev)
        return false;
    it->node = n->prev;
    it->off = entry_last(it->node);
    return true;
}

void kv_list_iter_insert(struct kv_list_iter *it, const void *p, size_t len, bool after)
{
    uint32_t off = it->off;
    if (after)
        off += entry_at_size(it->node, off);
    list_insert_at(it->l, it->node, off, p, (uint32_t)len);
}

void kv_list_iter_replace(struct kv_list_iter *it, const void *p, size_t len)
{
    /* The node stays linked while empty: the insert refills it. */
    node_remove_at(it->node, it->off);
    it->l->len--;
    list_insert_at(it->l, it->node, it->off, p, (uint32_t)len);
}
