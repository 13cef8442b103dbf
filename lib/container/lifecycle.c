/* start, kill and delete: the runtime-spec operations on a container that an
 * earlier CLI process created. Each holds the container's lock, reads its
 * state and acts on init through a pidfd whose start time was checked, so a
 * pid the kernel has since reused is never signalled. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "container/cgroup.h"
#include "container/container.h"
#include "container/hooks.h"
#include "util/cleanup.h"
#include "util/clock.h"

#define DELETE_WAIT_MS 5000

/* A pidfd on init, or -ESRCH when init is gone (or its pid is someone else's
 * now). The start time is checked after opening: if it still matches, the
 * pidfd holds our process. */
static int open_init(const struct tm_container_state *st)
{
    if (st->pid <= 0)
        return -ESRCH;
    int fd = pidfd_open(st->pid, 0);
    if (fd < 0)
        return -errno;
    if (tm_proc_start_time(st->pid) != st->pid_start) {
        close(fd);
        return -ESRCH;
    }
    return fd;
}

/* Lock and load; the lock fd (>= 0) or -errno. */
/* Init is gone: what it wrote on its way out (ROOT/ID/init.error), else
 * runc's words. */
static int stopped_error(const char *root, const char *id, tm_error *err)
{
    char msg[sizeof(err->msg)];
    if (tm_state_init_error(root, id, msg, sizeof(msg)))
        return tm_error_set(err, EIO, "%s", msg);
    return tm_error_set(err, EINVAL, "cannot start a container that has stopped");
}

/* Init, parked in create, blocks opening exec.fifo for writing, writes one
 * byte, and keeps the fifo open (close-on-exec) until its exec. Opening the
 * fifo for reading lets it go on; reading to the end waits for the exec, or
 * for init's exit after it wrote why it failed. The open does not block
 * (O_NONBLOCK) and the wait watches init's pidfd too, so an init that died
 * never hangs start. */
static int release_init(const char *root, const struct tm_container_state *st, tm_error *err)
{
    char fifo[PATH_MAX];
    int ret = tm_state_path(root, st->id, "exec.fifo", fifo, sizeof(fifo), err);
    if (ret < 0)
        return ret;
    _cleanup_close_ int pidfd = open_init(st);
    if (pidfd < 0)
        return stopped_error(root, st->id, err);
    _cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s", fifo);
    bool released = false;
    for (;;) {
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return tm_error_sys(err, "waiting for container \"%s\" to start", st->id);
        }
        char byte;
        ssize_t n = read(fd, &byte, 1);
        if (n == 1) {
            released = true;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return tm_error_sys(err, "cannot read %s", fifo);
        /* EOF: init exec'd or exited (a poll before any writer never says
         * HUP, so EOF before the byte is an init that opened and quit). */
        if (n == 0 || (p[1].revents & POLLIN))
            break;
    }
    if (unlink(fifo) < 0 && errno != ENOENT)
        return tm_error_sys(err, "cannot remove %s", fifo);
    char msg[sizeof(err->msg)];
    if (tm_state_init_error(root, st->id, msg, sizeof(msg)))
        return tm_error_set(err, EIO, "%s", msg);
    return released ? 0 : stopped_error(root, st->id, err);
}

/* poststart/poststop: the hooks create kept; failures are warnings. */
static void run_post_hooks(const char *root, const struct tm_container_state *st, enum tm_hook_kind k,
                           enum tm_container_status s)
{
    struct tm_hooks h;
    tm_error err = { 0 };
    if (tm_hooks_load(root, st->id, &h, &err) < 0) {
        fprintf(stderr, "teemate: warning: %s hooks not run: %s\n", tm_hook_kind_name(k), err.msg);
        return;
    }
    if (tm_hooks_any(&h, k)) {
        _cleanup_free_ char *json = tm_state_oci_json(st, s);
        if (json)
            tm_hooks_run_warn(&h, k, json);
    }
    tm_hooks_free(&h);
}

void tm_container_poststart(const char *root, const char *id)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    tm_error err = { 0 };
    _cleanup_close_ int lock = tm_state_open(root, id, &st, &err);
    if (lock >= 0)
        run_post_hooks(root, &st, TM_HOOK_POSTSTART, TM_CONTAINER_RUNNING);
}

int tm_container_start(const char *root, const char *id, tm_error *err)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    _cleanup_close_ int lock = tm_state_open(root, id, &st, err);
    if (lock < 0)
        return lock;
    switch (tm_state_status(root, &st)) {
    case TM_CONTAINER_CREATED: {
        int ret = release_init(root, &st, err);
        if (ret == 0)
            run_post_hooks(root, &st, TM_HOOK_POSTSTART, TM_CONTAINER_RUNNING);
        return ret;
    }
    case TM_CONTAINER_STOPPED:
        return stopped_error(root, id, err);
    case TM_CONTAINER_RUNNING:
        return tm_error_set(err, EINVAL, "cannot start an already running container");
    case TM_CONTAINER_PAUSED:
        return tm_error_set(err, EINVAL, "cannot start a container in the paused state");
    case TM_CONTAINER_CREATING:
        break;
    }
    return tm_error_set(err, EINVAL, "cannot start container \"%s\": it is still being created", id);
}

static int signal_init(const struct tm_container_state *st, int sig, tm_error *err)
{
    _cleanup_close_ int pidfd = open_init(st);
    if (pidfd < 0)
        return tm_error_set(err, ESRCH, "container not running");
    if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
        return errno == ESRCH ? tm_error_set(err, ESRCH, "container not running")
                              : tm_error_sys(err, "cannot send signal %d to container \"%s\"", sig, st->id);
    return 0;
}

/* A SIGKILL to a frozen process takes effect only once it is thawed (v1):
 * as runc, a paused container that is killed is thawed after the signal, so
 * it dies without running another instruction of its own. (kill --all thaws
 * a paused container after any signal, as runc 1.1's signalAllProcesses.) */
static int thaw_killed(const struct tm_container_state *st, tm_error *err)
{
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    int ret = tm_cgroup_open(NULL, st->cgroup_path, &cg, err);
    if (ret == 0)
        ret = tm_cgroup_freeze(cg, false, err);
    return ret;
}

int tm_container_kill(const char *root, const char *id, int sig, bool all, tm_error *err)
{
    if (sig < 0 || sig >= NSIG)
        return tm_error_set(err, EINVAL, "invalid signal %d", sig);
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    _cleanup_close_ int lock = tm_state_open(root, id, &st, err);
    if (lock < 0)
        return lock;
    enum tm_container_status s = tm_state_status(root, &st);
    bool stopped = s == TM_CONTAINER_STOPPED || s == TM_CONTAINER_CREATING;
    bool thaw = s == TM_CONTAINER_PAUSED && sig == SIGKILL;
    int ret;
    if (all && st.cgroup_path[0]) {
        /* Every process in the container's cgroup, init included. As runc,
         * also once init is gone: what it left behind is killed too. */
        _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
        ret = tm_cgroup_open(NULL, st.cgroup_path, &cg, err);
        if (ret == -ENOENT && stopped)
            return 0;   /* nothing left to signal */
        if (ret == 0)
            ret = tm_cgroup_signal(cg, sig, err);
        if (ret >= 0 && s == TM_CONTAINER_PAUSED)
            ret = tm_cgroup_freeze(cg, false, err);
        return ret < 0 ? ret : 0;
    }
    if (stopped)
        return tm_error_set(err, EINVAL, "container not running");
    if ((ret = signal_init(&st, sig, err)) < 0)
        return ret;
    return thaw ? thaw_killed(&st, err) : 0;
}

/* SIGKILL init and wait (bounded) for it to exit. It need not be our child:
 * a pidfd becomes readable when the process exits, reaped or not. */
static int kill_init(const struct tm_container_state *st, tm_error *err)
{
    _cleanup_close_ int pidfd = open_init(st);
    if (pidfd < 0)
        return 0;
    if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
        return tm_error_sys(err, "cannot kill container \"%s\"", st->id);
    double deadline = tm_now_ms() + DELETE_WAIT_MS;
    for (;;) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        double left = deadline - tm_now_ms();
        if (left <= 0)
            return tm_error_set(err, EBUSY, "container \"%s\": init (pid %d) did not exit after SIGKILL",
                                st->id, (int)st->pid);
        int n = poll(&p, 1, (int)left + 1);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return tm_error_sys(err, "waiting for container \"%s\" to exit", st->id);
    }
}

/* delete --force of a paused container: SIGKILL all of it, then thaw. */
static int kill_frozen(const struct tm_container_state *st, tm_error *err)
{
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    int ret = tm_cgroup_open(NULL, st->cgroup_path, &cg, err);
    if (ret == 0 && (ret = tm_cgroup_signal(cg, SIGKILL, err)) >= 0)
        ret = tm_cgroup_freeze(cg, false, err);
    return ret < 0 ? ret : 0;
}

int tm_container_delete(const char *root, const char *id, bool force, tm_error *err)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    _cleanup_close_ int lock = tm_state_lock(root, id, err);
    if (lock == -ENOENT) {
        /* A creation killed between its mkdir and its lock file leaves an
         * empty directory (a live one's is never empty for long). */
        char dir[PATH_MAX];
        tm_error ignored;
        if (tm_state_path(root, id, NULL, dir, sizeof(dir), &ignored) == 0 && rmdir(dir) == 0)
            return 0;
    }
    if (lock < 0)
        return lock;
    /* Creation holds the lock until it is done or undone: what is still
     * "creating" under our lock is a creation that died (see container.h). */
    int ret = tm_state_load(root, id, &st, err);
    if (ret < 0)
        return ret;
    enum tm_container_status s = tm_state_status(root, &st);
    /* As runc: a created container (parked before exec) is deleted without
     * --force; a running one only with it. */
    if (!force && s != TM_CONTAINER_STOPPED && s != TM_CONTAINER_CREATED)
        return tm_error_set(err, EBUSY, "cannot delete container %s that is not stopped: %s", id,
                            tm_container_status_name(s));
    /* Paused: kill everything first, then thaw, so nothing runs again. */
    if (s == TM_CONTAINER_PAUSED && ((ret = kill_frozen(&st, err)) < 0))
        return ret;
    if ((ret = kill_init(&st, err)) < 0)
        return ret;
    if (st.cgroup_path[0]) {
        _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
        ret = tm_cgroup_open(NULL, st.cgroup_path, &cg, err);
        if (ret == 0)
            ret = tm_cgroup_destroy(cg, err);
        if (ret < 0 && ret != -ENOENT)   /* ENOENT: no cgroup left */
            return ret;
    }
    /* poststop runs once the container is gone, but create left its hooks in ROOT/ID. */
    struct tm_hooks h;
    tm_error hooks_err = { 0 };
    if (tm_hooks_load(root, id, &h, &hooks_err) < 0)
        fprintf(stderr, "teemate: warning: poststop hooks not run: %s\n", hooks_err.msg);
    _cleanup_free_ char *json = tm_hooks_any(&h, TM_HOOK_POSTSTOP) ? tm_state_oci_json(&st, TM_CONTAINER_STOPPED) : NULL;
    if ((ret = tm_state_remove(root, id, err)) == 0 && json)
        tm_hooks_run_warn(&h, TM_HOOK_POSTSTOP, json);
    tm_hooks_free(&h);
    return ret;
}
