/* One BGSAVE as a client sees it: from sending BGSAVE until INFO persistence
 * says rdb_bgsave_in_progress:0 (polled every millisecond) with
 * rdb_last_bgsave_status:ok; then the server's own figures: latest_fork_usec
 * (INFO stats in Redis) and rdb_last_cow_size. Redis notices its child's end
 * in serverCron (hz 10 by default), so its total includes up to ~100 ms of
 * that; the figure is what a client waits, for every server alike. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "snb.h"

static double snb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void snb_poll_pause(void)
{
    nanosleep(&(struct timespec){ 0, 1000000 }, NULL);   /* the 1 ms INFO poll */
}

/* INFO persistence into info; false (why set) on a broken connection. */
static bool snb_persistence(struct snb_conn *c, char *info, size_t len, struct snb_save *out)
{
    int r = snb_call(c, info, len, "INFO", "persistence", NULL);
    if (r == '$')
        return true;
    snprintf(out->why, sizeof out->why, "INFO persistence: %.150s", r < 0 ? strerror(-r) : info);
    return false;
}

/* Until no save is in progress (one of ours left running, or the server's). */
static bool snb_wait_idle(struct snb_conn *c, char *info, size_t len, double deadline, struct snb_save *out)
{
    for (;;) {
        if (!snb_persistence(c, info, len, out))
            return false;
        long long busy = snb_info_ll(info, "rdb_bgsave_in_progress");
        if (busy < 0) {
            snprintf(out->why, sizeof out->why, "no rdb_bgsave_in_progress in INFO persistence");
            return false;
        }
        if (!busy)
            return true;
        if (snb_now_ms() > deadline) {
            snprintf(out->why, sizeof out->why, "a BGSAVE still in progress after %d s", SNB_SAVE_TIMEOUT_S);
            return false;
        }
        snb_poll_pause();
    }
}

void snb_bgsave(struct snb_conn *c, const char *dir, struct snb_save *out)
{
    static _Thread_local char info[16384];
    memset(out, 0, sizeof *out);
    out->cow_bytes = out->dump_bytes = -1;
    double deadline = snb_now_ms() + SNB_SAVE_TIMEOUT_S * 1e3;
    if (!snb_wait_idle(c, info, sizeof info, deadline, out))
        return;
    char reply[256];
    double t0 = snb_now_ms();
    int r = snb_call(c, reply, sizeof reply, "BGSAVE", NULL);
    if (r != '+') {
        snprintf(out->why, sizeof out->why, "BGSAVE: %.180s", r < 0 ? strerror(-r) : reply);
        return;
    }
    deadline = t0 + SNB_SAVE_TIMEOUT_S * 1e3;
    if (!snb_wait_idle(c, info, sizeof info, deadline, out))
        return;
    out->total_ms = snb_now_ms() - t0;
    char status[32];
    snb_info_str(info, "rdb_last_bgsave_status", status, sizeof status);
    if (strcmp(status, "ok")) {
        snprintf(out->why, sizeof out->why, "rdb_last_bgsave_status:%s", *status ? status : "(absent)");
        return;
    }
    out->cow_bytes = snb_info_ll(info, "rdb_last_cow_size");
    long long fork_us = snb_info_ll(info, "latest_fork_usec");   /* TeeMate may put it here */
    if (fork_us < 0) {
        r = snb_call(c, info, sizeof info, "INFO", "stats", NULL);
        fork_us = r == '$' ? snb_info_ll(info, "latest_fork_usec") : -1;
    }
    if (fork_us < 0) {
        snprintf(out->why, sizeof out->why, "no latest_fork_usec in INFO persistence or stats");
        return;
    }
    out->fork_ms = (double)fork_us / 1e3;
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/dump.rdb", dir);
    if (stat(path, &st) < 0) {
        snprintf(out->why, sizeof out->why, "status ok but no %.100s: %.60s", path, strerror(errno));
        return;
    }
    out->dump_bytes = (long long)st.st_size;
    out->ok = true;
}

static void *snb_looper_main(void *arg)
{
    struct snb_looper *l = arg;
    struct snb_conn c;
    if (snb_connect(&c, l->port) < 0) {
        snprintf(l->why, sizeof l->why, "cannot connect to port %u", l->port);
        l->failed++;
        return NULL;
    }
    while (!atomic_load(&l->stop)) {
        struct snb_save s;
        snb_bgsave(&c, l->dir, &s);
        if (atomic_load(&l->stop) && !s.ok)
            break;
        if (!s.ok) {
            if (!l->failed++)
                snprintf(l->why, sizeof l->why, "%s", s.why);
            if (l->failed >= 3 || strstr(s.why, "INFO persistence:"))
                break;   /* the connection is gone, or saves keep failing */
            continue;
        }
        if (l->count < SNB_MAX_SAVES)
            l->saves[l->count] = s;
        l->count++;
    }
    snb_close(&c);
    return NULL;
}

int snb_looper_start(struct snb_looper *l, unsigned port, const char *dir)
{
    memset(l, 0, sizeof *l);
    l->port = port, l->dir = dir;
    atomic_init(&l->stop, false);
    int r = pthread_create(&l->thread, NULL, snb_looper_main, l);
    return r ? -r : 0;
}

void snb_looper_stop(struct snb_looper *l)
{
    atomic_store(&l->stop, true);
    pthread_join(l->thread, NULL);
}
