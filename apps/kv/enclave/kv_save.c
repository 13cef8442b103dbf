/* Persistence as Redis's rdb.c drives it: SAVE, BGSAVE [SCHEDULE], LASTSAVE,
 * the `save <seconds> <changes>` policy run by the cron, INFO persistence and
 * -MISCONF after a failed background save.
 *
 * BGSAVE begins a frozen snapshot here (kv_snapshot.c) and asks the host for
 * the child (KV_SERVER_BGSAVE): a process attached to this same enclave that
 * runs kv_snapshot_write on its own slot, reading this store's snapshot in
 * place, and writes the RDB (sealed in the enclave) through the host's file
 * calls. The host reports its end (kv_snapshot_done), which thaws the
 * snapshot and frees what the store kept for it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kv_entry.h"
#include "kv_persist.h"
#include "kv_server.h"

#define KV_BGSAVE_RETRY_MS 5000   /* Redis's CONFIG_BGSAVE_RETRY_DELAY */

/* "S C [S C ...]" (the host checked the syntax; checked again, without
 * allocating: this runs before the store exists). */
bool kv_save_parse_points(const char *spec, struct kv_persist *p)
{
    struct kv_save_point points[KV_SAVE_POINTS_MAX] = { { 0, 0 } };
    int64_t nums[2 * KV_SAVE_POINTS_MAX];
    int n = 0;
    for (const char *c = spec; *c;) {
        if (*c == ' ') {
            c++;
            continue;
        }
        const char *start = c;
        while (*c && *c != ' ')
            c++;
        if (n == 2 * KV_SAVE_POINTS_MAX || !kv_parse_int64(start, (size_t)(c - start), &nums[n]) ||
            nums[n] < (n % 2 ? 0 : 1))
            return false;
        n++;
    }
    if (n % 2)
        return false;
    for (int i = 0; i < n / 2; i++)
        points[i] = (struct kv_save_point){ nums[2 * i], nums[2 * i + 1] };
    memcpy(p->points, points, sizeof points);
    p->npoints = n / 2;
    return true;
}

void kv_save_init(struct kv_server *s)
{
    struct kv_persist *p = &s->persist;
    memset(p, 0, sizeof *p);
    s->config.save[sizeof s->config.save - 1] = '\0';
    s->config.dbfilename[sizeof s->config.dbfilename - 1] = '\0';
    if (!kv_save_parse_points(s->config.save, p))
        p->npoints = 0;   /* the host checked it; never trust it blindly */
    p->lastsave = s->start_ms / 1000;
    p->last_bgsave_ok = true;
    p->last_bgsave_time_sec = -1;
}

/* ---- Writing a snapshot: the host's file calls, the sealer, the RDB. */
/* kill_child: SHUTDOWN's save, which replaces a running BGSAVE's. */
static int kv_save_write(const struct kv_snapshot *snap, bool kill_child)
{
    struct kv_sink file = kv_file_sink();
    int32_t kill = kill_child;
    long r = kv_platform_host_call(KV_OCALL_SAVE_OPEN, &kill, sizeof kill, NULL, 0, NULL);
    if (r < 0)
        return (int)r;
    if (kv_platform_seals()) {
        struct kv_sealed *w = NULL;
        struct kv_sink plain;
        r = kv_sealed_writer_new(&file, &w, &plain);
        if (r == 0)
            r = kv_rdb_save(snap, &plain);
        if (r == 0)
            r = kv_sealed_writer_finish(w);
        kv_sealed_free(w);
    } else {
        r = kv_rdb_save(snap, &file);
    }
    int32_t commit = r == 0;
    long c = kv_platform_host_call(KV_OCALL_SAVE_CLOSE, &commit, sizeof commit, NULL, 0, NULL);
    return r < 0 ? (int)r : (int)c;
}

/* KV_ECALL_SNAPSHOT_WRITE, in the child. */
int kv_snapshot_write(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    (void)in_len;
    (void)out;
    (void)out_cap;
    *out_len = 0;
    const struct kv_server *parent = kv_platform_snapshot_parent();
    if (!parent || !parent->snapshot)
        return -ENOENT;
    return kv_save_write(parent->snapshot, false);
}

/* ---- The parent's side. */
static void kv_save_succeeded(struct kv_server *s, uint64_t dirty_before)
{
    s->persist.lastsave = s->now_ms / 1000;
    s->persist.last_bgsave_ok = true;
    s->dirty = s->dirty > dirty_before ? s->dirty - dirty_before : 0;
}

int kv_save_now(bool shutdown)
{
    struct kv_server *s = kv_server();
    if (s->snapshot && !shutdown)
        return -EBUSY;
    uint64_t dirty = s->dirty;
    struct kv_snapshot *snap = kv_snapshot_view(s->snapshot_running);
    int r = kv_save_write(snap, s->snapshot != NULL);
    kv_free(snap);
    if (r == 0) {
        kv_save_succeeded(s, dirty);
        s->persist.saves++;
    } else {
        s->persist.last_bgsave_ok = false;   /* rdbSave's failure counts for MISCONF too */
    }
    return r;
}

static bool kv_bgsave_start(void)
{
    struct kv_server *s = kv_server();
    struct kv_persist *p = &s->persist;
    if (s->snapshot)
        return false;
    /* frozen natively too: the host forks after this batch, whose later
     * commands must not reach the child's copy either */
    kv_snapshot_begin(true);
    p->bgsave_pending = true;
    p->bgsave_start_ms = s->now_ms;
    p->last_try_ms = s->now_ms;
    p->dirty_at_start = s->dirty;
    return true;
}

/* KV_ECALL_SNAPSHOT_DONE: the host's report on the child. */
int kv_snapshot_done(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out;
    (void)out_cap;
    *out_len = 0;
    struct kv_server *s = kv_server();
    struct kv_snapshot_report rep;
    if (!s)
        return -ENOENT;
    if (in_len != sizeof rep)
        return -EINVAL;
    if (!s->snapshot || s->persist.bgsave_pending)
        return -ESRCH;   /* no background save to end */
    memcpy(&rep, in, sizeof rep);
    struct kv_persist *p = &s->persist;
    p->latest_fork_usec = rep.fork_usec;
    p->last_cow_size = s->cow_bytes;
    p->last_bgsave_time_sec = (s->now_ms - p->bgsave_start_ms) / 1000;
    kv_snapshot_end();
    if (rep.status == 0) {
        kv_save_succeeded(s, p->dirty_at_start);
        p->bgsaves_ok++;
    } else {
        p->last_bgsave_ok = false;
        p->bgsaves_err++;
    }
    return 0;
}

/* Redis's serverCron: a save point reached starts a BGSAVE (after a failed
 * one, not before 5 s have passed). */
void kv_save_cron(void)
{
    struct kv_server *s = kv_server();
    struct kv_persist *p = &s->persist;
    if (s->snapshot)
        return;
    int64_t now_s = s->now_ms / 1000;
    for (int i = 0; i < p->npoints; i++) {
        const struct kv_save_point *sp = &p->points[i];
        if ((int64_t)s->dirty >= sp->changes && now_s - p->lastsave > sp->seconds &&
            (p->last_bgsave_ok || s->now_ms - p->last_try_ms > KV_BGSAVE_RETRY_MS)) {
            kv_bgsave_start();
            return;
        }
    }
}

bool kv_save_denies_writes(void)
{
    const struct kv_server *s = kv_server();
    return s->config.stop_writes_on_bgsave_error && s->persist.npoints > 0 &&
           !s->persist.last_bgsave_ok;
}

void kv_save_info(struct kv_str **o)
{
    const struct kv_server *s = kv_server();
    const struct kv_persist *p = &s->persist;
    char buf[1024];
    int n = snprintf(
        buf, sizeof buf,
        "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:%llu\r\n"
        "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\n"
        "current_save_keys_total:0\r\nrdb_changes_since_last_save:%llu\r\n"
        "rdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\n"
        "rdb_last_bgsave_time_sec:%lld\r\nrdb_current_bgsave_time_sec:%lld\r\nrdb_saves:%llu\r\n"
        "rdb_last_cow_size:%llu\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\n"
        "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n"
        "aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n"
        "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\n"
        "aof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\n"
        "module_fork_last_cow_size:0\r\n",
        (unsigned long long)(s->snapshot ? s->cow_bytes : 0), (unsigned long long)s->dirty,
        s->snapshot != NULL,
        (long long)p->lastsave, p->last_bgsave_ok ? "ok" : "err",
        (long long)p->last_bgsave_time_sec,
        (long long)(s->snapshot ? (s->now_ms - p->bgsave_start_ms) / 1000 : -1),
        (unsigned long long)(p->saves + p->bgsaves_ok), (unsigned long long)p->last_cow_size);
    *o = kv_str_append(*o, buf, (size_t)n);
}

/* ---- Commands. */
static void kv_cmd_save(struct kv_client *c)
{
    if (kv_server()->snapshot) {
        kv_reply_error(c, "Background save already in progress");
        return;
    }
    if (kv_save_now(false) == 0)
        kv_reply_ok(c);
    else
        kv_reply_error(c, "-ERR");
}

static void kv_cmd_bgsave(struct kv_client *c)
{
    if (c->argc > 1 && !(c->argc == 2 && kv_str_is(c->argv[1], "schedule"))) {
        kv_reply_syntax_error(c);
        return;
    }
    if (kv_server()->snapshot) {
        kv_reply_error(c, "Background save already in progress");
        return;
    }
    kv_bgsave_start();
    kv_reply_status(c, "Background saving started");
}

static void kv_cmd_lastsave(struct kv_client *c) { kv_reply_int(c, kv_server()->persist.lastsave); }

const struct kv_command kv_persist_commands[] = {
    { "save", kv_cmd_save, 1, 0, 0, 0, 0, "server",
      "Synchronously saves the database(s) to disk." },
    { "bgsave", kv_cmd_bgsave, -1, 0, 0, 0, 0, "server",
      "Asynchronously saves the database(s) to disk." },
    { "lastsave", kv_cmd_lastsave, 1, KV_CMD_FAST, 0, 0, 0, "server",
      "Returns the Unix timestamp of the last successful save to disk." },
    { .name = NULL },
};
