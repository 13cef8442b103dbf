/* Freezing a container's cgroup (pause/resume). As runc: the v1 freezer
 * hierarchy when this host mounts one (freezer.state), else the v2
 * directory's cgroup.freeze. A freeze takes effect asynchronously in both, so
 * the call waits, bounded, until the kernel reports it done: v1 by reading
 * freezer.state again (it has no notification), v2 by polling cgroup.events,
 * which the kernel signals (POLLPRI) when "frozen" changes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "container/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/clock.h"

#define FREEZE_TIMEOUT_MS 5000.0

/* The place that freezes: the v1 freezer, else v2 (NULL: neither). */
static const struct tm_cgroup_place *freezer_place(const struct tm_cgroup *cg)
{
    for (size_t i = 0; i < cg->n; i++)
        if (!cg->p[i].removed && !cg->p[i].h.v2 && (cg->p[i].h.controllers & TM_CGROUP_FREEZER))
            return &cg->p[i];
    for (size_t i = 0; i < cg->n; i++)
        if (!cg->p[i].removed && cg->p[i].h.v2 && tm_cgroup_has_file(cg->p[i].dir, "cgroup.freeze"))
            return &cg->p[i];
    return NULL;
}

static int no_freezer(const struct tm_cgroup *cg, tm_error *err)
{
    return tm_error_set(err, ENOTSUP, "cgroup %s: no freezer on this host (neither a v1 freezer "
                        "hierarchy nor cgroup.freeze)", cg->path);
}

/* v1: "FROZEN", "FREEZING" or "THAWED"; v2: "frozen 1" in cgroup.events. */
static int read_frozen(const struct tm_cgroup_place *p, bool *frozen, tm_error *err)
{
    if (p->h.v2) {
        uint64_t v;
        int ret = tm_cgroup_read_key(p->dir, "cgroup.events", "frozen", &v, err);
        *frozen = ret == 0 && v == 1;
        return ret;
    }
    _cleanup_free_ char *text = NULL;
    int ret = tm_cgroup_read(p->dir, "freezer.state", 64, &text, err);
    *frozen = ret == 0 && !strncmp(text, "FROZEN", 6);
    return ret;
}

int tm_cgroup_frozen(struct tm_cgroup *cg, bool *frozen, tm_error *err)
{
    const struct tm_cgroup_place *p = freezer_place(cg);
    if (!p)
        return no_freezer(cg, err);
    return read_frozen(p, frozen, err);
}

/* v2: wait for cgroup.events to say frozen == want; the kernel wakes a
 * POLLPRI waiter on every change of the file. */
static int wait_v2(const struct tm_cgroup_place *p, bool want, double deadline, tm_error *err)
{
    char path[TM_CGROUP_DIR_SIZE + 32];
    snprintf(path, sizeof path, "%s/cgroup.events", p->dir);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s", path);
    for (;;) {
        bool frozen;
        int ret = read_frozen(p, &frozen, err);   /* after open: no change is missed */
        if (ret < 0)
            return ret;
        if (frozen == want)
            return 0;
        double left = deadline - tm_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf = { .fd = fd, .events = POLLPRI };
        if (poll(&pf, 1, (int)left + 1) < 0 && errno != EINTR)
            return tm_error_sys(err, "cannot poll %s", path);
        char drain[256];
        (void)!pread(fd, drain, sizeof drain, 0);   /* re-arms the notification */
    }
}

/* v1: no notification; re-read freezer.state every millisecond. Writing
 * FROZEN again while it reads FREEZING retries tasks the kernel could not
 * freeze yet (runc does the same). */
static int wait_v1(const struct tm_cgroup_place *p, bool want, double deadline, tm_error *err)
{
    const char *word = want ? "FROZEN" : "THAWED";
    for (;;) {
        bool frozen;
        int ret = read_frozen(p, &frozen, err);
        if (ret < 0)
            return ret;
        if (frozen == want)
            return 0;
        if (tm_now_ms() > deadline)
            return -ETIMEDOUT;
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
        if ((ret = tm_cgroup_write(p->dir, "freezer.state", word, err)) < 0)
            return ret;
    }
}

int tm_cgroup_freeze(struct tm_cgroup *cg, bool freeze, tm_error *err)
{
    const struct tm_cgroup_place *p = freezer_place(cg);
    if (!p)
        return no_freezer(cg, err);
    int ret = p->h.v2 ? tm_cgroup_write(p->dir, "cgroup.freeze", freeze ? "1" : "0", err)
                      : tm_cgroup_write(p->dir, "freezer.state", freeze ? "FROZEN" : "THAWED", err);
    if (ret < 0)
        return ret;
    double deadline = tm_now_ms() + FREEZE_TIMEOUT_MS;
    ret = p->h.v2 ? wait_v2(p, freeze, deadline, err) : wait_v1(p, freeze, deadline, err);
    if (ret != -ETIMEDOUT)
        return ret;
    if (freeze) {   /* as runc: a freeze that does not complete is undone */
        tm_error ignored;
        tm_cgroup_freeze(cg, false, &ignored);
    }
    return tm_error_set(err, ETIMEDOUT, "cgroup %s: not %s after %.0f s", cg->path,
                        freeze ? "frozen" : "thawed", FREEZE_TIMEOUT_MS / 1000);
}
