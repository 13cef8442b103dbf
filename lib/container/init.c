/* The container's init, from "go" to exec. Until READY every failure goes
 * back to the runtime as a message (create then fails with it). After READY
 * the runtime has returned (or only waits), so a failure is written to
 * ROOT/ID/init.error: start, which waits for the exec, or run, after its
 * wait, reports it (on stderr and in --log). */
#include "container/init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/clock.h"

extern char **environ;

__attribute__((noreturn)) static void fail(const struct tm_init_args *a, const tm_error *err)
{
    tm_sync_send(a->sync_fd, TM_SYNC_ERROR, -(err->code ? err->code : EIO), 0, err->msg);
    _exit(1);
}

/* After READY: nobody reads the sync socket any more. */
__attribute__((noreturn, format(printf, 3, 4))) static void fail_late(const struct tm_init_args *a, int code,
                                                                      const char *fmt, ...)
{
    char msg[1200];
    int n = snprintf(msg, sizeof(msg), "container init: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    if (a->error_fd < 0 || write(a->error_fd, msg, strlen(msg)) < 0)
        fprintf(stderr, "teemate: %s\n", msg);
    _exit(code);
}

/* A change of uid clears the parent-death signal: set it again, and catch a
 * runtime that died before it was set (getppid() says nothing across a pid
 * namespace, the runtime's pidfd does). */
static void rearm_parent_death(const struct tm_init_args *a)
{
    struct pollfd p = { .fd = a->runtime_pidfd, .events = POLLIN };
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || (a->runtime_pidfd >= 0 && poll(&p, 1, 0) != 0))
        _exit(1);
}

static const int nstype[TM_NS_COUNT] = {
    [TM_NS_PID] = CLONE_NEWPID, [TM_NS_MOUNT] = CLONE_NEWNS, [TM_NS_UTS] = CLONE_NEWUTS,
    [TM_NS_IPC] = CLONE_NEWIPC, [TM_NS_NET] = CLONE_NEWNET, [TM_NS_CGROUP] = CLONE_NEWCGROUP,
    [TM_NS_USER] = CLONE_NEWUSER,
};

/* A joined user namespace goes first: the others we join or make must be
 * its own, and we have its privileges only once in it. */
static int join_user_namespace(const struct tm_container_spec *spec, tm_error *err)
{
    const struct tm_ns_spec *ns = &spec->namespaces[TM_NS_USER];
    if (!ns->enabled || !ns->path)
        return 0;
    _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0)
        return tm_error_sys(err, "cannot join the namespace %s", ns->path);
    return 0;
}

/* In a user namespace (the runtime wrote its maps before "go") we are still
 * the host's root, seen as nobody, with every capability there: become the
 * namespace's root, as runc does, before the mounts, so files we make and
 * the process's credentials are the mapped root's. */
static int become_namespace_root(const struct tm_container_spec *spec, tm_error *err)
{
    if (!spec->namespaces[TM_NS_USER].enabled)
        return 0;
    if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
        return tm_error_sys(err, "cannot become root of the user namespace");
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the uid change cleared it */
    return 0;
}

static int join_namespaces(const struct tm_container_spec *spec, tm_error *err)
{
    /* The pid namespace was joined before the clone; the mount namespace
     * goes last, while the other paths still resolve on the host. */
    static const int order[] = { TM_NS_IPC, TM_NS_UTS, TM_NS_NET, TM_NS_CGROUP, TM_NS_MOUNT };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const struct tm_ns_spec *ns = &spec->namespaces[order[i]];
        if (!ns->enabled || !ns->path)
            continue;
        _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, nstype[order[i]]) < 0)
            return tm_error_sys(err, "cannot join the namespace %s", ns->path);
    }
    return 0;
}

/* With a joined user namespace the clone made none (they would have been
 * the host's): make the new ones now, inside it. The pid namespace cannot
 * be made so (create refuses that pairing). */
static int unshare_in_joined_user(const struct tm_container_spec *spec, tm_error *err)
{
    if (!spec->namespaces[TM_NS_USER].path)
        return 0;
    static const int kinds[] = { TM_NS_IPC, TM_NS_UTS, TM_NS_NET, TM_NS_MOUNT };
    int flags = 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (spec->namespaces[kinds[i]].enabled && !spec->namespaces[kinds[i]].path)
            flags |= nstype[kinds[i]];
    if (flags && unshare(flags) < 0)
        return tm_error_sys(err, "cannot make the namespaces inside the user namespace %s",
                            spec->namespaces[TM_NS_USER].path);
    return 0;
}

static int set_names(const struct tm_container_spec *spec, tm_error *err)
{
    bool uts = spec->namespaces[TM_NS_UTS].enabled;
    if ((spec->hostname || spec->domainname) && !uts)
        return tm_error_set(err, EINVAL, "a hostname or domainname needs a UTS namespace");
    if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        return tm_error_sys(err, "cannot set the hostname to %s", spec->hostname);
    if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
        return tm_error_sys(err, "cannot set the domainname to %s", spec->domainname);
    return 0;
}

/* The program as execvp would find it, but with the container's PATH (exec.c too). */
int tm_init_find_program(const struct tm_container_spec *spec, char *out, size_t len, tm_error *err)
{
    const char *prog = spec->args[0];
    if (strchr(prog, '/')) {
        if (access(prog, X_OK) < 0 && errno == ENOENT)   /* runc's words, which engines match */
            return tm_error_set(err, ENOENT, "exec: \"%s\": stat %s: no such file or directory", prog, prog);
        if (access(prog, X_OK) < 0)
            return tm_error_sys(err, "exec: \"%s\"", prog);
        snprintf(out, len, "%s", prog);
        return 0;
    }
    const char *path = TM_DEFAULT_PATH;
    for (size_t i = 0; i < spec->nenv; i++)
        if (!strncmp(spec->env[i], "PATH=", 5))
            path = spec->env[i] + 5;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        struct stat st;
        snprintf(out, len, "%.*s%s%s", (int)n, p, n ? "/" : "", prog);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 0;
        p += n + (p[n] == ':');
    }
    return tm_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", prog);
}

/* Block until `start` opens exec.fifo (reopened through /proc: the fifo's
 * path is on the host, outside our root) and tell it so with one byte. The
 * fd stays open, close-on-exec: start reads to its end, which comes when the
 * exec succeeded or init exited (having written why). */
static int wait_for_start(const struct tm_init_args *a)
{
    char path[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", a->fifo_fd);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        fail_late(a, 1, "cannot wait for start on exec.fifo: %s", strerror(errno));
    if (write(fd, "0", 1) != 1)
        fail_late(a, 1, "cannot write exec.fifo: %s", strerror(errno));
    close(a->fifo_fd);
    return fd;
}

struct hook_ctx {
    const struct tm_init_args *a;
    pid_t pid;
};

static int hooks_before_pivot(void *ctx, tm_error *err)
{
    struct hook_ctx *hc = ctx;
    return tm_init_hooks_before_pivot(hc->a, hc->pid, err);
}

void tm_init_run(const struct tm_init_args *a)
{
    const struct tm_container_spec *spec = a->spec;
    tm_error err = { 0 };
    /* The runtime died during setup: so do we (a death before this line
     * shows as the sync socket's end, below). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    struct tm_sync_msg go;
    if (tm_sync_recv(a->sync_fd, &go) < 0 || go.type != TM_SYNC_GO)
        _exit(1);
    double t0 = tm_now_ms();
    struct hook_ctx hc = { a, go.status };
    if (join_user_namespace(spec, &err) < 0 || join_namespaces(spec, &err) < 0 ||
        unshare_in_joined_user(spec, &err) < 0)
        fail(a, &err);
    const struct tm_ns_spec *cgns = &spec->namespaces[TM_NS_CGROUP];
    if (cgns->enabled && !cgns->path && unshare(CLONE_NEWCGROUP) < 0) {
        tm_error_sys(&err, "cannot make the cgroup namespace");
        fail(a, &err);
    }
    /* Still the host's root here (teemated's socket is its alone); then
     * the user namespace's root, which makes the container's files. */
    if ((spec->enclave && tm_init_enclave_attach(a, &err) < 0) || become_namespace_root(spec, &err) < 0)
        fail(a, &err);
    if (tm_rootfs_setup(spec, a->rootfs, hooks_before_pivot, &hc, &err) < 0 || tm_sysctl_write(spec, &err) < 0 ||
        tm_rootfs_mask_paths(spec, &err) < 0 || set_names(spec, &err) < 0)
        fail(a, &err);
    if (a->console_fd >= 0) {
        if (tm_console_setup(a->console_fd, &err) < 0)
            fail(a, &err);
        close(a->console_fd);
    }
    /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
     * while we still have it (runc does the same). */
    bool seccomp_late = spec->has_seccomp && spec->no_new_privileges;
    if (spec->has_seccomp && !seccomp_late && tm_seccomp_apply(&spec->seccomp, &err) < 0)
        fail(a, &err);
    if (tm_credentials_apply(spec, &err) < 0)
        fail(a, &err);
    rearm_parent_death(a);
    if (chdir(spec->cwd ? spec->cwd : "/") < 0) {
        tm_error_sys(&err, "cannot change to the working directory %s", spec->cwd);
        fail(a, &err);
    }
    /* Only an exec runs a program (and loses the close-on-exec fds). */
    bool execs = !spec->enclave && !a->o->init_main;
    char program[PATH_MAX];
    if (execs && tm_init_find_program(spec, program, sizeof(program), &err) < 0)
        fail(a, &err);
    if (execs)
        close_range(3 + (unsigned)a->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
    /* create returns and leaves us running; the quick run keeps us tied to it. */
    if (!a->o->die_with_runtime)
        prctl(PR_SET_PDEATHSIG, 0);
    if (tm_sync_send(a->sync_fd, TM_SYNC_READY, 0, tm_now_ms() - t0, NULL) < 0)
        _exit(1);   /* the runtime is gone: it can neither save nor start us */
    close(a->sync_fd);
    int started = a->fifo_fd >= 0 ? wait_for_start(a) : -1;
    if (tm_init_hooks_start(a, hc.pid, &err) < 0)
        fail_late(a, 1, "%s", err.msg);
    if (seccomp_late && tm_seccomp_apply(&spec->seccomp, &err) < 0)
        fail_late(a, 1, "%s", err.msg);
    if (!execs && started >= 0)
        close(started);   /* main runs here, in init: start must not wait for its end */
    if (a->o->init_main)
        tm_init_call_main(a);
    if (spec->enclave)
        tm_init_enclave_main(a);
    execve(program, spec->args, spec->env ? spec->env : environ);
    fail_late(a, 127, "exec %s: %s", program, strerror(errno));
}
