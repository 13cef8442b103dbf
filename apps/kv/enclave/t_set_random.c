/* Random distinct samples of a dict (SRANDMEMBER, ZRANDMEMBER with a
 * positive count) and the SCAN helpers for missing keys. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "t_set.h"

static const struct kv_dict_type sample_type = { .value_free = NULL };

struct kv_dict *kv_dict_sample_unique(struct kv_dict *d, uint64_t count)
{
    struct kv_dict *out = kv_dict_new(&sample_type);
    uint64_t size = kv_dict_size(d);
    if (count * 3 > size) {
        /* close to the whole: copy, then drop random entries */
        struct kv_dict_iter it;
        struct kv_dict_entry *e;
        kv_dict_iter_init(&it, d);
        while ((e = kv_dict_iter_next(&it)))
            kv_dict_add(out, e->key->data, e->key->len, NULL)->v.ptr = e;
        kv_dict_iter_done(&it);
        while (kv_dict_size(out) > count) {
            struct kv_dict_entry *r = kv_dict_random(out);
            kv_dict_delete(out, r->key->data, r->key->len);
        }
        return out;
    }
    /* far from the whole: add random entries until there are enough */
    while (kv_dict_size(out) < count) {
        struct kv_dict_entry *e = kv_dict_random(d);
        struct kv_dict_entry *n = kv_dict_add(out, e->key->data, e->key->len, NULL);
        if (n)
            n->v.ptr = e;
    }
    return out;
}

bool kv_random_count(struct kv_client *c, const struct kv_str *arg, int64_t *out)
{
    if (!kv_arg_int64(c, arg, out))
        return false;
    if (*out == INT64_MIN) {
        kv_reply_error(c, "value is out of range, value must between -9223372036854775807 and "
                          "9223372036854775807");
        return false;
    }
    return true;
}

bool kv_scan_cursor_valid(struct kv_client *c, const struct kv_str *arg)
{
    char *end;
    errno = 0;
    (void)strtoull(arg->data, &end, 10);
    if (isspace((unsigned char)arg->data[0]) || end[0] != '\0' || errno == ERANGE) {
        kv_reply_error(c, "invalid cursor");
        return false;
    }
    return true;
}

void kv_reply_empty_scan(struct kv_client *c)
{
    kv_reply_array(c, 2);
    kv_reply_bulk(c, "0", 1);
    kv_reply_array(c, 0);
}
