/* Sorted sets and sets inside the store, natively: the skiplist's order,
 * spans and back links against a plain sorted array under random changes,
 * the deep copy snapshots rely on, random samples, and replies checked byte
 * for byte against Redis 7.0's (taken from redis-server 7.0.15). */
#include "../harness.h"
#include "kv_replay.h"
#include "t_set.h"
#include "t_zset.h"

struct ref_item {
    char name[16];
    double score;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref_item *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    struct kv_str *sx = kv_str_new(x->name, strlen(x->name)), *sy = kv_str_new(y->name, strlen(y->name));
    int c = kv_str_cmp(sx, sy);
    kv_str_free(sx);
    kv_str_free(sy);
    return c;
}

/* Every level's spans add up to the ranks level 0 gives. */
static void check_zset(struct kv_zset *zs, struct ref_item *ref, int n)
{
    qsort(ref, (size_t)n, sizeof(*ref), ref_cmp);
    REQUIRE(kv_zset_length(zs) == (uint64_t)n);
    REQUIRE(kv_dict_size(zs->dict) == (size_t)n);
    const struct kv_zsl_node *prev = NULL;
    int i = 0;
    for (const struct kv_zsl_node *x = zs->zsl.header->level[0].forward; x; x = x->level[0].forward, i++) {
        REQUIRE(i < n);
        CHECK(x->ele->len == strlen(ref[i].name) && !memcmp(x->ele->data, ref[i].name, x->ele->len));
        CHECK(x->score == ref[i].score);
        CHECK(x->backward == prev);
        CHECK_EQ_INT(kv_zsl_rank(&zs->zsl, x->score, x->ele), i + 1);
        CHECK(kv_zsl_by_rank(&zs->zsl, (uint64_t)i + 1) == x);
        struct kv_dict_entry *e = kv_dict_find(zs->dict, x->ele->data, x->ele->len);
        CHECK(e && e->key == x->ele && e->v.d == x->score);
        prev = x;
    }
    CHECK_EQ_INT(i, n);
    CHECK(zs->zsl.tail == prev);
    for (int lvl = 0; lvl < zs->zsl.level; lvl++) {
        uint64_t rank = 0;
        for (const struct kv_zsl_node *x = zs->zsl.header; x; x = x->level[lvl].forward) {
            if (x != zs->zsl.header)
                CHECK_EQ_INT(kv_zsl_rank(&zs->zsl, x->score, x->ele), rank);
            if (!x->level[lvl].forward)
                break;
            rank += x->level[lvl].span;
        }
    }
}

static void test_skiplist_matches_a_sorted_array(void)
{
    struct rp_native n;
    REQUIRE(rp_native_start(&n) == 0);
    struct kv_zset *zs = kv_zset_new();
    static struct ref_item ref[300];
    int count = 0;
    uint64_t rng = 12345;
    for (int op = 0; op < 6000; op++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int m = (int)((rng >> 33) % 300);
        double score = (double)((rng >> 20) % 8) - 3;   /* many ties */
        char name[16];
        snprintf(name, sizeof(name), "m%d", m);
        struct kv_str *s = kv_str_new(name, strlen(name));
        int at = -1;
        for (int i = 0; i < count; i++)
            if (!strcmp(ref[i].name, name))
                at = i;
        if ((rng >> 40) % 3 == 0) {
            CHECK(kv_zset_remove(zs, s) == (at >= 0));
            if (at >= 0)
                ref[at] = ref[--count];
        } else {
            double ns = 0;
            enum kv_zadd_result r = kv_zset_add(zs, score, s, 0, &ns);
            if (at < 0) {
                CHECK_EQ_INT(r, KV_ZADD_ADDED);
                snprintf(ref[count].name, sizeof(ref[count].name), "%s", name);
                ref[count++].score = score;
            } else {
                CHECK_EQ_INT(r, ref[at].score == score ? KV_ZADD_SAME : KV_ZADD_UPDATED);
                ref[at].score = score;
            }
        }
        kv_str_free(s);
        if (op % 500 == 0)
            check_zset(zs, ref, count);
    }
    check_zset(zs, ref, count);
    /* the deep copy is the same set and shares nothing */
    struct kv_obj src = { .type = KV_ZSET, .encoding = KV_ENC_SKIPLIST, .ptr = zs }, copy = src;
    kv_zset_type.dup(&copy, &src);
    struct kv_zset *cz = copy.ptr;
    CHECK(cz != zs && cz->dict != zs->dict);
    check_zset(cz, ref, count);
    while (kv_zset_length(zs))
        kv_zset_remove_node(zs, zs->zsl.header->level[0].forward);
    check_zset(cz, ref, count);
    kv_zset_type.free(&copy);
    kv_zset_free(zs);
    rp_native_stop(&n);
}

static void test_random_samples_are_distinct_members(void)
{
    struct rp_native n;
    REQUIRE(rp_native_start(&n) == 0);
    struct kv_dict *d = kv_set_dict_new();
    for (int i = 0; i < 100; i++) {
        char b[8];
        int len = snprintf(b, sizeof(b), "%d", i);
        kv_dict_add(d, b, (size_t)len, NULL);
    }
    const uint64_t counts[] = { 2, 10, 40, 90, 99 };
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        struct kv_dict *s = kv_dict_sample_unique(d, counts[k]);
        CHECK_EQ_INT(kv_dict_size(s), counts[k]);
        struct kv_dict_iter it;
        struct kv_dict_entry *e;
        kv_dict_iter_init(&it, s);
        while ((e = kv_dict_iter_next(&it))) {
            struct kv_dict_entry *orig = e->v.ptr;
            CHECK(orig == kv_dict_find(d, e->key->data, e->key->len));
        }
        kv_dict_iter_done(&it);
        kv_dict_free(s);
    }
    kv_dict_free(d);
    rp_native_stop(&n);
}

/* The raw reply bytes of one command line. */
static char *raw(struct rp_native *n, const char *line)
{
    struct rp_cmd c;
    const char *err;
    struct rp_buf req = { 0 };
    if (!rp_cmd_parse(line, &c, &err))
        return strdup("(bad line)");
    rp_cmd_resp(&c, &req);
    rp_cmd_free(&c);
    n->pending.len = 0;
    rp_native_batch(n, KV_IN_DATA, req.p, req.len);
    free(req.p);
    return strdup(n->pending.p);
}

#define EXPECT_RAW(n, line, want)                                                   \
    do {                                                                            \
        char *got_ = raw(n, line);                                                  \
        if (strcmp(got_, want)) {                                                   \
            fprintf(stderr, "  %s:%d: %s: got \"%s\"\n", __FILE__, __LINE__, line, got_); \
            tm_test_current_failed = 1;                                             \
        }                                                                           \
        free(got_);                                                                 \
    } while (0)

static void test_replies_are_redis_bytes(void)
{
    struct rp_native n;
    REQUIRE(rp_native_start(&n) == 0);
    EXPECT_RAW(&n, "ZADD z 1 a 2 b 1.1 c", ":3\r\n");
    EXPECT_RAW(&n, "ZSCORE z c", "$18\r\n1.1000000000000001\r\n");
    EXPECT_RAW(&n, "ZRANGE z 0 -1 WITHSCORES",
               "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$18\r\n1.1000000000000001\r\n$1\r\nb\r\n$1\r\n2\r\n");
    EXPECT_RAW(&n, "ZADD z NX XX 1 a", "-ERR XX and NX options at the same time are not compatible\r\n");
    EXPECT_RAW(&n, "ZADD z GT LT 1 a",
               "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n");
    EXPECT_RAW(&n, "ZADD z INCR 1 a 2 b", "-ERR INCR option supports a single increment-element pair\r\n");
    EXPECT_RAW(&n, "ZADD z inf p", ":1\r\n");
    EXPECT_RAW(&n, "ZINCRBY z -inf p", "-ERR resulting score is not a number (NaN)\r\n");
    EXPECT_RAW(&n, "ZADD z GT INCR -1 a", "$-1\r\n");
    EXPECT_RAW(&n, "ZRANGEBYSCORE z (1 +inf LIMIT 1 1", "*1\r\n$1\r\nb\r\n");
    EXPECT_RAW(&n, "ZRANGEBYSCORE z x 1", "-ERR min or max is not a float\r\n");
    EXPECT_RAW(&n, "ZRANGEBYLEX z a b", "-ERR min or max not valid string range item\r\n");
    EXPECT_RAW(&n, "ZRANGE z 0 1 LIMIT 0 1",
               "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
    EXPECT_RAW(&n, "ZREVRANK z p", ":0\r\n");
    EXPECT_RAW(&n, "ZPOPMAX z", "*2\r\n$1\r\np\r\n$3\r\ninf\r\n");
    EXPECT_RAW(&n, "ZUNIONSTORE d 0 z", "-ERR at least 1 input key is needed for 'zunionstore' command\r\n");
    EXPECT_RAW(&n, "ZUNIONSTORE d 1 z WEIGHTS x", "-ERR weight value is not a float\r\n");
    EXPECT_RAW(&n, "SADD s a b", ":2\r\n");
    EXPECT_RAW(&n, "SPOP s -1", "-ERR value is out of range, must be positive\r\n");
    EXPECT_RAW(&n, "SRANDMEMBER s -9223372036854775808",
               "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
    EXPECT_RAW(&n, "SINTERCARD 0 s", "-ERR numkeys should be greater than 0\r\n");
    EXPECT_RAW(&n, "SINTERCARD 1 s LIMIT -1", "-ERR LIMIT can't be negative\r\n");
    EXPECT_RAW(&n, "SADD z x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    EXPECT_RAW(&n, "SSCAN nosuch 0", "*2\r\n$1\r\n0\r\n*0\r\n");
    EXPECT_RAW(&n, "SSCAN nosuch x", "-ERR invalid cursor\r\n");
    EXPECT_RAW(&n, "SMOVE s t a", ":1\r\n");
    EXPECT_RAW(&n, "SPOP s 5", "*1\r\n$1\r\nb\r\n");
    EXPECT_RAW(&n, "SCARD s", ":0\r\n");
    rp_native_stop(&n);
}

int main(void)
{
    RUN(test_skiplist_matches_a_sorted_array);
    RUN(test_random_samples_are_distinct_members);
    RUN(test_replies_are_redis_bytes);
    TEST_EXIT();
}
