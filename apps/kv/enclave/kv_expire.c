/* The active expiry cycle (expire.c, in short): each cron run samples keys
 * with a TTL in every database, 20 at a time, deletes those past their time,
 * and samples again while more than 10% of a sample had expired, within a
 * budget of samples per run so one cron never stalls the clients. Plus the
 * cron's share of incremental rehashing and shrinking. */
#include "kv_server.h"

#define KV_EXPIRE_KEYS_PER_LOOP 20
#define KV_EXPIRE_STALE_PERCENT 10
#define KV_EXPIRE_BUDGET 2000   /* samples per cron run, all dbs */

void kv_expire_cycle(void)
{
    struct kv_server *s = kv_server();
    if (s->active_expire_off)
        return;
    int budget = KV_EXPIRE_BUDGET;
    int64_t now = kv_now_ms();
    for (int n = 0; n < s->dbnum && budget > 0; n++) {
        /* start where the last run stopped: fair to every db */
        int i = (int)(s->expire_cursor_db++ % (uint64_t)s->dbnum);
        struct kv_db *db = &s->db[i];
        for (;;) {
            size_t with_ttl = kv_dict_size(db->expires);
            if (!with_ttl)
                break;
            int sampled = 0, expired = 0;
            int want = with_ttl < KV_EXPIRE_KEYS_PER_LOOP ? (int)with_ttl : KV_EXPIRE_KEYS_PER_LOOP;
            while (sampled < want) {
                struct kv_dict_entry *e = kv_dict_random(db->expires);
                if (!e)
                    break;
                sampled++;
                if (e->v.i <= now) {
                    kv_db_delete_expired(db, e);
                    expired++;
                }
            }
            budget -= sampled;
            if (budget <= 0 || !sampled || expired * 100 / sampled <= KV_EXPIRE_STALE_PERCENT)
                break;
        }
    }
}

/* databasesCron's rehash part: shrink nearly empty tables, then move
 * buckets, while no snapshot runs (kv_dict.c checks). */
void kv_db_cron(void)
{
    struct kv_server *s = kv_server();
    for (int i = 0; i < s->dbnum; i++) {
        kv_dict_shrink_if_needed(s->db[i].keys);
        kv_dict_shrink_if_needed(s->db[i].expires);
        kv_dict_rehash_cron(s->db[i].keys);
        kv_dict_rehash_cron(s->db[i].expires);
    }
}
