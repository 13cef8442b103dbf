/* A container's event stream, as runc's `events` gives it: its cgroup's
 * counters every interval and each OOM kill when the kernel reports it,
 * until the container goes away (its state or cgroup removed; on cgroup v2
 * also its cgroup emptying, where runc stops). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "container/cgroup.h"
#include "container/container.h"
#include "util/cleanup.h"

int tm_container_check_live(const char *root, const char *id, tm_error *err)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    int ret = tm_state_load(root, id, &st, err);
    if (ret < 0)
        return ret;
    if (tm_state_status(root, &st) == TM_CONTAINER_STOPPED)
        return tm_error_set(err, ESRCH, "container with id %s is not running", id);
    return 0;
}

static int open_watch(const char *root, const char *id, struct tm_cgroup_oom_watch *w, tm_error *err)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    int ret = tm_state_load(root, id, &st, err);
    if (ret < 0)
        return ret;
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    if (!st.cgroup_path[0])
        return tm_error_set(err, ENOENT, "container \"%s\" has no cgroup", id);
    if ((ret = tm_cgroup_open(NULL, st.cgroup_path, &cg, err)) < 0)
        return ret;
    return tm_cgroup_oom_watch(cg, w, err);
}

/* One sample; 1 when the container is gone (its stream ends), 0 after
 * emitting, emit's or a read's error otherwise. */
static int sample(const char *root, const char *id, tm_container_event_fn emit, void *ctx, tm_error *err)
{
    struct tm_cgroup_stats s;
    tm_error read_err = { 0 };
    int ret = tm_container_stats(root, id, &s, &read_err);
    if (ret == -ENOENT)
        return 1;
    if (ret < 0) {
        /* as runc: say so and keep going; the next tick may read */
        fprintf(stderr, "teemate: events: %s\n", read_err.msg);
        return 0;
    }
    return emit(ctx, &s, err);
}

int tm_container_events(const char *root, const char *id, int64_t interval_ns, tm_container_event_fn emit,
                        void *ctx, tm_error *err)
{
    int ret = tm_container_check_live(root, id, err);
    if (ret < 0)
        return ret;
    struct tm_cgroup_oom_watch w;
    ret = open_watch(root, id, &w, err);
    if (ret == -ENOTSUP || ret == -ENOENT)
        w.fd = -1;   /* no memory controller: no OOM events, the ticks still see the end */
    else if (ret < 0)
        return ret;
    _cleanup_close_ int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec period = {
        .it_interval = { interval_ns / 1000000000, interval_ns % 1000000000 },
        .it_value = { interval_ns / 1000000000, interval_ns % 1000000000 },
    };
    if (timer < 0 || timerfd_settime(timer, 0, &period, NULL) < 0) {
        ret = tm_error_sys(err, "events: cannot set a timer");
        goto out;
    }
    for (;;) {
        struct pollfd fds[2] = { { .fd = timer, .events = POLLIN }, { .fd = w.fd, .events = POLLIN } };
        if (poll(fds, w.fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            ret = tm_error_sys(err, "events: poll");
            break;
        }
        if (w.fd >= 0 && fds[1].revents) {
            uint64_t ooms;
            bool gone;
            if ((ret = tm_cgroup_oom_read(&w, &ooms, &gone, err)) < 0)
                break;
            for (uint64_t i = 0; i < ooms && ret == 0; i++)
                ret = emit(ctx, NULL, err);
            if (ret < 0 || gone)
                break;
        }
        if (fds[0].revents) {
            uint64_t expirations;
            if (read(timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) {
                ret = tm_error_sys(err, "events: reading the timer");
                break;
            }
            if ((ret = sample(root, id, emit, ctx, err)) != 0) {
                ret = ret > 0 ? 0 : ret;
                break;
            }
        }
    }
out:
    tm_cgroup_oom_unwatch(&w);
    return ret;
}
