/* Software copy-on-write for snapshots, natively: a frozen snapshot's RDB is
 * the same, byte for byte, before and after thousands of writes of every
 * kind (overwrites, deletes, renames, TTLs, expiry, list/hash/set/zset
 * changes, FLUSHDB, FLUSHALL); the live store is what the writes made; the
 * thaw frees everything kept (ASan's leak check at kv_stop). */
#include "../harness.h"
#include "kv_test.h"
#include "kv_persist.h"
#include "kv_rdb_io.h"
#include "kv_server.h"

static struct kvr_mem rdb_of(struct kv_snapshot *snap)
{
    struct kvr_mem b = { 0 };
    struct kv_sink sink = { kvr_mem_write, &b };
    snap->used_memory = 0;   /* the aux field, not the data */
    CHECK_EQ_INT(kv_rdb_save(snap, &sink), 0);
    return b;
}

static const char *key_of(unsigned n, char *buf)
{
    snprintf(buf, 32, "k%u", n % 200);
    return buf;
}

static void fill(void)
{
    char k[32], v[64];
    for (unsigned i = 0; i < 200; i++) {
        snprintf(v, sizeof v, i % 3 ? "value-%u" : "%u", i);
        switch (i % 6) {
        case 0: case 1: KVT(1, "SET", key_of(i, k), v); break;
        case 2: KVT(1, "RPUSH", key_of(i, k), v, "b", "c", v); break;
        case 3: KVT(1, "HSET", key_of(i, k), "f1", v, "f2", "x"); break;
        case 4: KVT(1, "SADD", key_of(i, k), v, "m2", "m3"); break;
        case 5: KVT(1, "ZADD", key_of(i, k), "1.5", v, "2", "z"); break;
        }
        if (i % 7 == 0)
            KVT(1, "PEXPIRE", k, "100000");
    }
    KVT(1, "SELECT", "3");
    KVT(1, "SET", "other-db", "x");
    KVT(1, "SELECT", "0");
}

/* One random write; a few kinds need the key's type, the others overwrite. */
static void random_write(unsigned r)
{
    char k[32], k2[32], v[32];
    key_of(r, k);
    key_of(r / 7 + 13, k2);
    snprintf(v, sizeof v, "%u", r);
    switch (r % 23) {
    case 0: KVT(1, "SET", k, v); break;
    case 1: KVT(1, "DEL", k); break;
    case 2: KVT(1, "APPEND", k, "tail"); break;
    case 3: KVT(1, "INCR", k); break;
    case 4: KVT(1, "LPUSH", k, v); break;
    case 5: KVT(1, "RPOP", k); break;
    case 6: KVT(1, "LSET", k, "0", v); break;
    case 7: KVT(1, "HSET", k, v, v); break;
    case 8: KVT(1, "HDEL", k, "f1"); break;
    case 9: KVT(1, "SADD", k, v); break;
    case 10: KVT(1, "SPOP", k); break;
    case 11: KVT(1, "ZADD", k, v, v); break;
    case 12: KVT(1, "ZINCRBY", k, "3", "z"); break;
    case 13: KVT(1, "PEXPIRE", k, "50"); break;
    case 14: KVT(1, "PERSIST", k); break;
    case 15: KVT(1, "RENAME", k, k2); break;
    case 16: KVT(1, "SETEX", k, "1", v); break;
    case 17: KVT(1, "LTRIM", k, "1", "-1"); break;
    case 18: KVT(1, "SREM", k, "m2"); break;
    case 19: KVT(1, "ZREM", k, "z"); break;
    case 20: KVT(1, "GETDEL", k); break;
    case 21: KVT(1, "MSET", k, v, k2, v); break;
    case 22:
        if (r % 5 == 0)
            KVT(1, "FLUSHDB");
        else
            KVT(1, "SET", "new", v);
        break;
    }
}

/* The live keyspace through a live view (what the store shows now). */
static struct kvr_mem live_rdb(void)
{
    struct kv_snapshot *v = kv_snapshot_view(kv_server()->snapshot_running);
    v->start_ms = 0;
    struct kvr_mem b = rdb_of(v);
    kv_free(v);
    return b;
}

static void test_snapshot_stays_put(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    fill();
    struct kv_snapshot *snap = kv_snapshot_begin(true);
    struct kvr_mem before = rdb_of(snap);
    unsigned seed = 12345;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        random_write(seed >> 8);
        if (i % 1000 == 999) {
            kvt_now_us += 30000;   /* TTLs of 50 ms run out: active expiry runs */
            kvt_batch(1, 0, NULL, 0, KV_BATCH_CRON, NULL, NULL);
        }
        if (i == 15000)
            KVT(1, "FLUSHALL");
    }
    struct kvr_mem after = rdb_of(snap);
    CHECK_EQ_INT(after.len, before.len);
    CHECK(before.len == after.len && memcmp(before.p, after.p, before.len) == 0);
    CHECK(kv_server()->cow_bytes > 0);
    struct kvr_mem live = live_rdb();
    kv_snapshot_end();
    struct kvr_mem thawed = live_rdb();
    CHECK_EQ_INT(thawed.len, live.len);
    CHECK(thawed.len == live.len && memcmp(thawed.p, live.p, live.len) == 0);
    CHECK(kv_server()->deferred_count == 0 && kv_server()->retired_count == 0);
    free(before.p);
    free(after.p);
    free(live.p);
    free(thawed.p);
    kvt_gone(1);
    kv_stop();
}

/* Without freezing (a native fork's parent, or SAVE) nothing is kept. */
static void test_unfrozen_keeps_nothing(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    fill();
    kv_snapshot_begin(false);
    for (unsigned i = 0; i < 2000; i++)
        random_write(i * 2654435761u);
    CHECK(kv_server()->deferred_count == 0);
    CHECK(kv_server()->cow_bytes == 0);
    kv_snapshot_end();
    kvt_gone(1);
    kv_stop();
}

/* BGSAVE's commands and INFO, natively without a host: the store asks for the
 * child (KV_SERVER_BGSAVE) and takes the report. */
static void test_bgsave_protocol(void)
{
    REQUIRE(kvt_start() == 0);
    kvt_connect(1);
    KVT(1, "SET", "a", "1");
    CHECK(strcmp(KVT(1, "BGSAVE", "now"), "-ERR syntax error\r\n") == 0);
    CHECK(strcmp(KVT(1, "BGSAVE"), "+Background saving started\r\n") == 0);
    CHECK(kvt_server_flags & KV_SERVER_BGSAVE);
    CHECK(strcmp(KVT(1, "BGSAVE"), "-ERR Background save already in progress\r\n") == 0);
    CHECK(strcmp(KVT(1, "SAVE"), "-ERR Background save already in progress\r\n") == 0);
    CHECK(strstr(KVT(1, "INFO", "persistence"), "rdb_bgsave_in_progress:1\r\n"));
    struct kv_snapshot_report rep = { .status = -EIO, .fork_usec = 321 };
    size_t len;
    CHECK_EQ_INT(kv_snapshot_done(&rep, sizeof rep, NULL, 0, &len), 0);
    CHECK_EQ_INT(kv_snapshot_done(&rep, sizeof rep, NULL, 0, &len), -ESRCH);
    const char *info = KVT(1, "INFO", "persistence");
    CHECK(strstr(info, "rdb_bgsave_in_progress:0\r\n"));
    CHECK(strstr(info, "rdb_last_bgsave_status:err\r\n"));
    CHECK(strstr(KVT(1, "INFO", "stats"), "latest_fork_usec:321\r\n"));
    /* no save points: a failed save does not stop writes */
    CHECK(strcmp(KVT(1, "SET", "b", "2"), "+OK\r\n") == 0);
    kvt_gone(1);
    kv_stop();
}

/* With save points, a failed BGSAVE refuses writes and PING (-MISCONF) until
 * one succeeds; reads go on. */
static void test_misconf(void)
{
    struct kv_config cfg;
    kvt_config(&cfg);
    strcpy(cfg.save, "3600 1");
    cfg.stop_writes_on_bgsave_error = 1;
    REQUIRE(kvt_start_with(&cfg) == 0);
    kvt_connect(1);
    CHECK(strcmp(KVT(1, "CONFIG", "GET", "save"), "*2\r\n$4\r\nsave\r\n$6\r\n3600 1\r\n") == 0);
    KVT(1, "BGSAVE");
    struct kv_snapshot_report rep = { .status = -ENOSPC };
    size_t len;
    CHECK_EQ_INT(kv_snapshot_done(&rep, sizeof rep, NULL, 0, &len), 0);
    const char *r = KVT(1, "SET", "a", "1");
    CHECK(strncmp(r, "-MISCONF Redis is configured to save RDB snapshots", 50) == 0);
    CHECK(strncmp(KVT(1, "PING"), "-MISCONF", 8) == 0);
    CHECK(strcmp(KVT(1, "GET", "a"), "$-1\r\n") == 0);
    KVT(1, "BGSAVE");
    rep.status = 0;
    CHECK_EQ_INT(kv_snapshot_done(&rep, sizeof rep, NULL, 0, &len), 0);
    CHECK(strcmp(KVT(1, "SET", "a", "1"), "+OK\r\n") == 0);
    CHECK(strstr(KVT(1, "INFO", "persistence"), "rdb_changes_since_last_save:1\r\n"));
    kvt_gone(1);
    kv_stop();
}

int main(void)
{
    RUN(test_snapshot_stays_put);
    RUN(test_unfrozen_keeps_nothing);
    RUN(test_bgsave_protocol);
    RUN(test_misconf);
    TEST_EXIT();
}
