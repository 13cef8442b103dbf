/* OOM kills in a cgroup as the kernel reports them, for `events`: on v2 an
 * inotify watch of memory.events (its oom_kill count going up) and of
 * cgroup.events (the cgroup emptying, where runc stops); on v1 an eventfd
 * registered through cgroup.event_control on memory.oom_control, which the
 * kernel also signals when the cgroup is removed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "container/cgroup_internal.h"
#include "util/cleanup.h"

int tm_cgroup_oom_watch(struct tm_cgroup *cg, struct tm_cgroup_oom_watch *w, tm_error *err)
{
    *w = (struct tm_cgroup_oom_watch){ .fd = -1, .wd_memory = -1, .wd_cgroup = -1 };
    const struct tm_cgroup_place *p = tm_cgroup_place_for(cg, TM_CGROUP_MEMORY);
    if (!p)
        return tm_error_set(err, ENOTSUP, "no memory controller for cgroup %s", cg->path);
    snprintf(w->dir, sizeof w->dir, "%s", p->dir);
    w->v2 = p->h.v2;
    char path[PATH_MAX];
    if (w->v2) {
        _cleanup_close_ int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
            return tm_error_sys(err, "inotify_init1");
        snprintf(path, sizeof path, "%s/memory.events", w->dir);
        if ((w->wd_memory = inotify_add_watch(fd, path, IN_MODIFY)) < 0)
            return tm_error_sys(err, "cannot watch %s", path);
        snprintf(path, sizeof path, "%s/cgroup.events", w->dir);
        if ((w->wd_cgroup = inotify_add_watch(fd, path, IN_MODIFY)) < 0)
            return tm_error_sys(err, "cannot watch %s", path);
        /* counted from now: kills before the watch are not news */
        int ret = tm_cgroup_read_key(w->dir, "memory.events", "oom_kill", &w->kills, err);
        if (ret < 0 && ret != -ENOENT)
            return ret;
        w->fd = TM_STEAL_FD(fd);
        return 0;
    }
    _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return tm_error_sys(err, "eventfd");
    snprintf(path, sizeof path, "%s/memory.oom_control", w->dir);
    _cleanup_close_ int ofd = open(path, O_RDONLY | O_CLOEXEC);
    if (ofd < 0)
        return tm_error_sys(err, "cannot open %s", path);
    char line[64];
    snprintf(line, sizeof line, "%d %d", efd, ofd);
    int ret = tm_cgroup_write(w->dir, "cgroup.event_control", line, err);
    if (ret < 0)
        return ret;
    w->fd = TM_STEAL_FD(efd);
    return 0;
}

/* v2: drain the inotify events; the cgroup is gone when a watch is dropped
 * (the directory removed) or cgroup.events says "populated 0". */
static int read_v2(struct tm_cgroup_oom_watch *w, uint64_t *ooms, bool *gone, tm_error *err)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool memory = false, cgroup = false;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0)
            return tm_error_sys(err, "reading the inotify events of %s", w->dir);
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
            off += (ssize_t)sizeof *ev + ev->len;
            if (ev->mask & IN_IGNORED)
                *gone = true;
            else if (ev->wd == w->wd_memory)
                memory = true;
            else if (ev->wd == w->wd_cgroup)
                cgroup = true;
        }
    }
    tm_error ignored = { 0 };
    uint64_t kills, populated;
    if (memory && tm_cgroup_read_key(w->dir, "memory.events", "oom_kill", &kills, &ignored) == 0 &&
        kills > w->kills) {
        *ooms = kills - w->kills;
        w->kills = kills;
    }
    if (cgroup && (tm_cgroup_read_key(w->dir, "cgroup.events", "populated", &populated, &ignored) < 0 ||
                   populated == 0))
        *gone = true;
    return 0;
}

int tm_cgroup_oom_read(struct tm_cgroup_oom_watch *w, uint64_t *ooms, bool *gone, tm_error *err)
{
    *ooms = 0;
    *gone = false;
    if (w->v2)
        return read_v2(w, ooms, gone, err);
    uint64_t count;
    ssize_t n = read(w->fd, &count, sizeof count);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n != sizeof count)
        return tm_error_sys(err, "reading the OOM eventfd of %s", w->dir);
    /* the kernel signals removal through the same eventfd */
    if (!tm_cgroup_has_file(w->dir, "memory.oom_control"))
        *gone = true;
    else
        *ooms = count;
    return 0;
}

void tm_cgroup_oom_unwatch(struct tm_cgroup_oom_watch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}
