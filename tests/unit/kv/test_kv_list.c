/* Lists: the chain of packed nodes (t_list_chain.c) against a plain array
 * under random operations across node boundaries, and the commands' replies
 * byte for byte as Redis 7.0 gives them (taken from redis-server 7.0). */
#include "../harness.h"
#include "kv.h"
#include "kv_batch_client.h"
#include "t_list.h"

/* ---- The chain against a model. */

#define MODEL_MAX 4000
static char *model[MODEL_MAX];
static size_t model_len[MODEL_MAX];
static int model_n;
static unsigned rng = 12345;

static unsigned rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* A value: mostly short, sometimes long (a node of its own), some empty. */
static size_t make_value(char *buf, int tag)
{
    unsigned k = rnd() % 100;
    size_t len = k < 5 ? 0 : k < 90 ? rnd() % 20 : k < 97 ? 100 + rnd() % 300 : 8000 + rnd() % 3000;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)('a' + (tag + (int)i) % 26);
    if (len > 2)
        buf[1] = (char)(tag & 0xff);   /* binary bytes too */
    return len;
}

static void model_insert(int at, const char *p, size_t len)
{
    memmove(model + at + 1, model + at, (size_t)(model_n - at) * sizeof *model);
    memmove(model_len + at + 1, model_len + at, (size_t)(model_n - at) * sizeof *model_len);
    model[at] = malloc(len + 1);
    memcpy(model[at], p, len);
    model_len[at] = len;
    model_n++;
}

static void model_delete(int at)
{
    free(model[at]);
    memmove(model + at, model + at + 1, (size_t)(model_n - at - 1) * sizeof *model);
    memmove(model_len + at, model_len + at + 1, (size_t)(model_n - at - 1) * sizeof *model_len);
    model_n--;
}

static bool same_as_model(struct kv_list *l)
{
    if (l->len != (uint64_t)model_n)
        return false;
    struct kv_list_iter it;
    int i = 0;
    for (bool ok = kv_list_iter_at(l, 0, true, &it); ok; ok = kv_list_iter_next(&it), i++)
        if (i >= model_n || !kv_list_iter_eq(&it, model[i], model_len[i]))
            return false;
    if (i != model_n)
        return false;
    i = model_n - 1;
    for (bool ok = kv_list_iter_at(l, l->len ? l->len - 1 : 0, false, &it); ok;
         ok = kv_list_iter_next(&it), i--)
        if (i < 0 || !kv_list_iter_eq(&it, model[i], model_len[i]))
            return false;
    for (struct kv_list_node *n = l->head; n; n = n->next)
        if (n->count == 0)
            return false;   /* no empty node is ever left linked */
    return i == -1;
}

static void test_chain_random(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    static char buf[12000];
    struct kv_list *l = kv_list_new();
    for (int step = 0; step < 20000; step++) {
        unsigned op = rnd() % 10;
        size_t len = make_value(buf, step);
        struct kv_list_iter it;
        if (op <= 2 && model_n < MODEL_MAX - 1) {          /* push */
            bool head = op == 0;
            kv_list_push(l, buf, len, head);
            model_insert(head ? 0 : model_n, buf, len);
        } else if (op == 3 && model_n) {                    /* pop */
            bool head = rnd() % 2;
            struct kv_str *s = kv_list_pop(l, head);
            int at = head ? 0 : model_n - 1;
            REQUIRE(s && s->len == model_len[at] && memcmp(s->data, model[at], s->len) == 0);
            kv_str_free(s);
            model_delete(at);
        } else if (op == 4 && model_n) {                    /* replace */
            int at = (int)(rnd() % (unsigned)model_n);
            REQUIRE(kv_list_iter_at(l, (uint64_t)at, true, &it));
            kv_list_iter_replace(&it, buf, len);
            model_delete(at);
            model_insert(at, buf, len);
        } else if (op == 5 && model_n && model_n < MODEL_MAX - 1) {   /* insert */
            int at = (int)(rnd() % (unsigned)model_n);
            bool after = rnd() % 2;
            REQUIRE(kv_list_iter_at(l, (uint64_t)at, true, &it));
            kv_list_iter_insert(&it, buf, len, after);
            model_insert(at + after, buf, len);
        } else if (op == 6 && model_n) {                    /* delete a run */
            int at = (int)(rnd() % (unsigned)model_n), k = (int)(rnd() % 50);
            bool fwd = rnd() % 2;
            REQUIRE(kv_list_iter_at(l, (uint64_t)at, fwd, &it));
            bool ok = true;
            for (int j = 0; j < k && ok; j++) {
                ok = kv_list_iter_delete(&it);
                model_delete(at);
                if (!fwd)
                    at--;
            }
        } else if (op == 7 && model_n) {                    /* trim an end */
            bool head = rnd() % 2;
            int k = (int)(rnd() % 300);
            kv_list_remove_ends(l, head, (uint64_t)k);
            for (int j = 0; j < k && model_n; j++)
                model_delete(head ? 0 : model_n - 1);
        } else if (op == 8 && model_n) {                    /* read by index */
            int at = (int)(rnd() % (unsigned)model_n);
            REQUIRE(kv_list_iter_at(l, (uint64_t)at, true, &it));
            CHECK(kv_list_iter_eq(&it, model[at], model_len[at]));
            CHECK(!kv_list_iter_at(l, (uint64_t)model_n, true, &it));
        } else if (op == 9 && step % 50 == 0) {             /* a copy (snapshots) */
            struct kv_list *d = kv_list_dup(l);
            kv_list_free(l);
            l = d;
        }
        if (step % 97 == 0 || model_n < 3)
            REQUIRE(same_as_model(l));
    }
    REQUIRE(same_as_model(l));
    kv_list_free(l);
    while (model_n)
        model_delete(0);
}

/* Small values cost their bytes plus two: far below a pointer per element. */
static void test_chain_is_compact(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    struct kv_list *l = kv_list_new();
    for (int i = 0; i < 100000; i++)
        kv_list_push(l, "xxx", 3, i % 2);
    size_t b = kv_list_bytes(l);
    CHECK(b < 100000 * 7);
    kv_list_free(l);
}

/* ---- Commands (replies of redis-server 7.0 for the same commands). */

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

static void test_push_pop_range(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    CHECK_REPLY(":3\r\n", "RPUSH", "l", "a", "b", "c");
    CHECK_REPLY(":5\r\n", "lpush", "l", "z", "y");
    CHECK_REPLY(":0\r\n", "lpushx", "nol", "a");
    CHECK_REPLY(":7\r\n", "rpushx", "l", "q", "r");
    CHECK_REPLY(":7\r\n", "llen", "l");
    CHECK_REPLY(":0\r\n", "llen", "nol");
    CHECK_REPLY("*7\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nq\r\n$1\r\nr\r\n",
                "lrange", "l", "0", "-1");
    CHECK_REPLY("*2\r\n$1\r\nq\r\n$1\r\nr\r\n", "lrange", "l", "-2", "100");
    CHECK_REPLY("*0\r\n", "lrange", "l", "3", "1");
    CHECK_REPLY("*0\r\n", "lrange", "l", "100", "200");
    CHECK_REPLY("*1\r\n$1\r\ny\r\n", "lrange", "l", "-100", "0");
    CHECK_REPLY("*0\r\n", "lrange", "nol", "0", "-1");
    CHECK_REPLY("-ERR value is not an integer or out of range\r\n", "lrange", "l", "x", "1");
    CHECK_REPLY("$1\r\ny\r\n", "lpop", "l");
    CHECK_REPLY("$1\r\nr\r\n", "rpop", "l");
    CHECK_REPLY("*2\r\n$1\r\nz\r\n$1\r\na\r\n", "lpop", "l", "2");
    CHECK_REPLY("*2\r\n$1\r\nq\r\n$1\r\nc\r\n", "rpop", "l", "2");
    CHECK_REPLY("*0\r\n", "lpop", "l", "0");
    CHECK_REPLY("-ERR value is out of range, must be positive\r\n", "rpop", "l", "-1");
    CHECK_REPLY("-ERR value is out of range, must be positive\r\n", "lpop", "l", "x");
    CHECK_REPLY("-ERR wrong number of arguments for 'lpop' command\r\n", "lpop", "l", "1", "2");
    CHECK_REPLY("$-1\r\n", "lpop", "nol");
    CHECK_REPLY("*-1\r\n", "lpop", "nol", "2");
    CHECK_REPLY("*1\r\n$1\r\nb\r\n", "rpop", "l", "1000");
    CHECK_REPLY(":0\r\n", "exists", "l");   /* the emptied list's key is gone */
}

static void test_index_set_insert(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    CHECK_REPLY(":4\r\n", "rpush", "l", "a", "b", "c", "d");
    CHECK_REPLY("$1\r\na\r\n", "lindex", "l", "0");
    CHECK_REPLY("$1\r\nd\r\n", "lindex", "l", "-1");
    CHECK_REPLY("$-1\r\n", "lindex", "l", "4");
    CHECK_REPLY("$-1\r\n", "lindex", "l", "-5");
    CHECK_REPLY("$-1\r\n", "lindex", "l", "-9223372036854775808");
    CHECK_REPLY("-ERR value is not an integer or out of range\r\n", "lindex", "l", "abc");
    CHECK_REPLY("$-1\r\n", "lindex", "nol", "abc");
    CHECK_REPLY("+OK\r\n", "lset", "l", "-1", "D");
    CHECK_REPLY("-ERR index out of range\r\n", "lset", "l", "4", "x");
    CHECK_REPLY("-ERR no such key\r\n", "lset", "nol", "0", "x");
    CHECK_REPLY(":5\r\n", "linsert", "l", "before", "a", "A0");
    CHECK_REPLY(":6\r\n", "linsert", "l", "AFTER", "D", "E");
    CHECK_REPLY(":-1\r\n", "linsert", "l", "after", "nothere", "x");
    CHECK_REPLY(":0\r\n", "linsert", "nol", "after", "a", "x");
    CHECK_REPLY("-ERR syntax error\r\n", "linsert", "nol", "middle", "a", "x");
    CHECK_REPLY("*6\r\n$2\r\nA0\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nD\r\n$1\r\nE\r\n",
                "lrange", "l", "0", "-1");
    CHECK_REPLY("+OK\r\n", "ltrim", "l", "1", "-2");
    CHECK_REPLY("*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nD\r\n", "lrange", "l", "0", "-1");
    CHECK_REPLY("+OK\r\n", "ltrim", "nol", "0", "1");
    CHECK_REPLY("+OK\r\n", "ltrim", "l", "2", "1");
    CHECK_REPLY(":0\r\n", "exists", "l");
}

static void test_lpos_lrem(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    CHECK_REPLY(":7\r\n", "rpush", "l2", "a", "b", "a", "c", "a", "b", "a");
    CHECK_REPLY(":0\r\n", "lpos", "l2", "a");
    CHECK_REPLY(":2\r\n", "lpos", "l2", "a", "rank", "2");
    CHECK_REPLY(":6\r\n", "lpos", "l2", "a", "rank", "-1");
    CHECK_REPLY("$-1\r\n", "lpos", "l2", "a", "rank", "5");
    CHECK_REPLY("*4\r\n:0\r\n:2\r\n:4\r\n:6\r\n", "lpos", "l2", "a", "count", "0");
    CHECK_REPLY("*2\r\n:2\r\n:4\r\n", "lpos", "l2", "a", "rank", "2", "count", "2");
    CHECK_REPLY("*4\r\n:6\r\n:4\r\n:2\r\n:0\r\n", "lpos", "l2", "a", "rank", "-1", "count", "0");
    CHECK_REPLY("*2\r\n:0\r\n:2\r\n", "lpos", "l2", "a", "maxlen", "3", "count", "0");
    CHECK_REPLY("*1\r\n:4\r\n", "lpos", "l2", "a", "rank", "-2", "maxlen", "4", "count", "0");
    CHECK_REPLY(":6\r\n", "lpos", "l2", "a", "rank", "-9223372036854775808");
    CHECK_REPLY("-ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                "second ... or use negative to start from the end of the list\r\n",
                "lpos", "l2", "a", "rank", "0");
    CHECK_REPLY("-ERR COUNT can't be negative\r\n", "lpos", "l2", "a", "count", "x");
    CHECK_REPLY("-ERR MAXLEN can't be negative\r\n", "lpos", "l2", "a", "maxlen", "-1");
    CHECK_REPLY("-ERR syntax error\r\n", "lpos", "l2", "a", "rank");
    CHECK_REPLY("*0\r\n", "lpos", "nol", "a", "count", "0");
    CHECK_REPLY("$-1\r\n", "lpos", "nol", "a");
    CHECK_REPLY(":2\r\n", "lrem", "l2", "2", "a");
    CHECK_REPLY(":1\r\n", "lrem", "l2", "-1", "a");
    CHECK_REPLY("*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n", "lrange", "l2", "0", "-1");
    CHECK_REPLY(":2\r\n", "lrem", "l2", "0", "b");
    CHECK_REPLY("-ERR value is not an integer or out of range\r\n", "lrem", "l2", "x", "a");
    CHECK_REPLY(":0\r\n", "lrem", "nol", "1", "a");
    CHECK_REPLY(":1\r\n", "lrem", "l2", "0", "c");
    CHECK_REPLY(":1\r\n", "lrem", "l2", "-9223372036854775808", "a");
    CHECK_REPLY(":0\r\n", "exists", "l2");
}

static void test_move_and_wrongtype(void)
{
    if (kvt_start() != 0)
        SKIP("the native store does not start");
    CHECK_REPLY(":3\r\n", "rpush", "l", "a", "b", "c");
    CHECK_REPLY("$1\r\nc\r\n", "rpoplpush", "l", "l");
    CHECK_REPLY("$1\r\nc\r\n", "lmove", "l", "l2", "left", "right");
    CHECK_REPLY("$1\r\nb\r\n", "lmove", "l", "l2", "RIGHT", "LEFT");
    CHECK_REPLY("*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "lrange", "l2", "0", "-1");
    CHECK_REPLY("-ERR syntax error\r\n", "lmove", "l", "l2", "up", "left");
    CHECK_REPLY("$-1\r\n", "lmove", "nol", "l2", "left", "left");
    CHECK_REPLY("$1\r\na\r\n", "rpoplpush", "l", "l3");
    CHECK_REPLY(":0\r\n", "exists", "l");
    CHECK_REPLY("+OK\r\n", "set", "s", "str");
    CHECK_REPLY(WRONGTYPE, "lpush", "s", "a");
    CHECK_REPLY(WRONGTYPE, "rpushx", "s", "a");
    CHECK_REPLY(WRONGTYPE, "llen", "s");
    CHECK_REPLY(WRONGTYPE, "lrange", "s", "0", "-1");
    CHECK_REPLY(WRONGTYPE, "lindex", "s", "abc");
    CHECK_REPLY(WRONGTYPE, "lset", "s", "0", "x");
    CHECK_REPLY(WRONGTYPE, "linsert", "s", "before", "a", "x");
    CHECK_REPLY(WRONGTYPE, "lpos", "s", "a");
    CHECK_REPLY(WRONGTYPE, "lrem", "s", "1", "a");
    CHECK_REPLY(WRONGTYPE, "ltrim", "s", "0", "1");
    CHECK_REPLY(WRONGTYPE, "lpop", "s");
    CHECK_REPLY(WRONGTYPE, "rpop", "s", "1");
    CHECK_REPLY(WRONGTYPE, "lmove", "l2", "s", "left", "left");
    CHECK_REPLY("*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "lrange", "l2", "0", "-1");  /* untouched */
    CHECK_REPLY("+list\r\n", "type", "l2");
}

int main(void)
{
    RUN(test_chain_random);
    RUN(test_chain_is_compact);
    RUN(test_push_pop_range);
    RUN(test_index_set_insert);
    RUN(test_lpos_lrem);
    RUN(test_move_and_wrongtype);
    kv_stop();
    free(kvt_reply);
    TEST_EXIT();
}
