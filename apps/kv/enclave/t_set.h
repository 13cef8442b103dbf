/* Sets (t_set*.c): a kv_dict of members without values. The random
 * sampling is shared with ZRANDMEMBER. */
#ifndef KV_T_SET_H
#define KV_T_SET_H

#include "kv.h"

struct kv_dict *kv_set_dict_new(void);

/* SRANDMEMBER / ZRANDMEMBER's count: an integer (Redis's usual error),
 * then within +-INT64_MAX (Redis 7.0's text, its missing "be" included).
 * False after replying. */
bool kv_random_count(struct kv_client *c, const struct kv_str *arg, int64_t *out);

/* count distinct entries of d picked at random (count < size), as Redis's
 * SRANDMEMBER: by removing random entries from a copy when count is close
 * to the size, else by adding random entries to an empty dict. Returns a
 * new dict whose entries' v.ptr point at d's entries (valid until d
 * changes); the caller frees it with kv_dict_free. */
struct kv_dict *kv_dict_sample_unique(struct kv_dict *d, uint64_t count);

/* "cursor" of a SCAN-family command on a missing key: Redis's
 * parseScanCursorOrReply (false after replying "invalid cursor"). */
bool kv_scan_cursor_valid(struct kv_client *c, const struct kv_str *arg);
/* The reply of a SCAN-family command on a missing key: [ "0", [] ]. */
void kv_reply_empty_scan(struct kv_client *c);

#endif
