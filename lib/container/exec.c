/* exec: a process that joins a container made earlier (exec.h).
 *
 *   teemate (subreaper)           intermediate              process
 *   checks, spec, ns fds
 *   fork -------------------->    into the cgroup
 *                                 setns: user first, then
 *                                 ipc, uts, net, cgroup, pid
 *                                 fork -------------------> (in the pid ns)
 *   <-- its pid (host's) -------  exits                     attach (enclave exec)
 *                                                           setns mnt, console,
 *                                                           credentials, seccomp,
 *   <-- error pipe: EOF (exec'd) or why not ---------------  execve / enclave main
 *   pid file; wait (or return: detach)
 *
 * The process is orphaned by the intermediate, so teemate is made a child
 * subreaper first: it is reparented to teemate, which waits for it. */
#include "container/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/cgroup.h"
#include "container/container.h"
#include "container/exec_tty.h"
#include "container/init.h"
#include "util/cleanup.h"
#include "util/file.h"

extern char **environ;

/* The order of joining: the user namespace first (it owns the others), the
 * mount namespace last (the others' paths are on the host). */
static const struct {
    const char *name;
    int type;
} namespaces[] = {
    { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC },       { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
    { "cgroup", CLONE_NEWCGROUP }, { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};
#define NNS (sizeof(namespaces) / sizeof(namespaces[0]))
#define NS_MNT (NNS - 1)

struct exec_ctx {
    const struct tm_container_spec *spec;
    const struct tm_exec_options *o;
    struct tm_cgroup *cg;
    int ns[NNS];               /* the container's, or -1 where it is ours already */
    int console_fd;            /* connected --console-socket, or -1 */
    int error_fd;              /* write end: why the process did not start */
    int pid_fd;                /* write end: the process's pid */
    bool enclave;              /* attach and run the image's main */
    sigset_t mask;             /* the signal mask to run with */
};

__attribute__((noreturn)) static void child_fail(const struct exec_ctx *c, const tm_error *err)
{
    char msg[sizeof(err->msg) + 64];
    int n = snprintf(msg, sizeof msg, "unable to start container process: %s", err->msg);
    if (tm_write_full(c->error_fd, msg, (size_t)n) < 0)
        fprintf(stderr, "teemate: %s\n", msg);
    _exit(1);
}

/* The process, in every namespace but the mount one, in the pid one's view. */
__attribute__((noreturn)) static void run_process(struct exec_ctx *c)
{
    const struct tm_container_spec *spec = c->spec;
    tm_error err = { 0 };
    struct tm_container_options co = { .daemon_socket = c->o->daemon_socket };
    struct tm_init_args a = { .spec = spec, .o = &co, .sync_fd = -1, .fifo_fd = -1, .console_fd = -1,
                              .error_fd = -1, .runtime_pidfd = -1 };
    /* The daemon's socket is on the host's filesystem: attach before the mount namespace. */
    if (c->enclave && tm_init_enclave_attach(&a, &err) < 0)
        child_fail(c, &err);
    if (c->ns[NS_MNT] >= 0 && setns(c->ns[NS_MNT], CLONE_NEWNS) < 0) {
        tm_error_sys(&err, "cannot join the container's mount namespace");
        child_fail(c, &err);
    }
    if (c->console_fd >= 0) {
        if (tm_console_setup(c->console_fd, &err) < 0)
            child_fail(c, &err);
        close(c->console_fd);
    }
    bool seccomp_late = spec->has_seccomp && spec->no_new_privileges;
    if (spec->has_seccomp && !seccomp_late && tm_seccomp_apply(&spec->seccomp, &err) < 0)
        child_fail(c, &err);
    if (tm_credentials_apply(spec, &err) < 0)
        child_fail(c, &err);
    if (chdir(spec->cwd) < 0) {
        tm_error_sys(&err, "chdir to cwd (\"%s\") set in config.json failed", spec->cwd);
        child_fail(c, &err);
    }
    char program[PATH_MAX];
    if (!c->enclave && tm_init_find_program(spec, program, sizeof program, &err) < 0)
        child_fail(c, &err);
    if (seccomp_late && tm_seccomp_apply(&spec->seccomp, &err) < 0)
        child_fail(c, &err);
    sigprocmask(SIG_SETMASK, &c->mask, NULL);
    if (c->enclave) {
        close(c->error_fd);   /* started: main's own failures are its exit code */
        close_range(3 + (unsigned)c->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
        tm_init_enclave_main(&a);
    }
    close_range(3 + (unsigned)c->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
    execve(program, spec->args, spec->env ? spec->env : environ);
    tm_error_sys(&err, "exec: \"%s\"", program);
    child_fail(c, &err);
}

__attribute__((noreturn)) static void intermediate(struct exec_ctx *c)
{
    tm_error err = { 0 };
    if (tm_cgroup_add_pid(c->cg, getpid(), &err) < 0) {
        tm_error_prefix(&err, "error adding pid %d to cgroups", (int)getpid());
        child_fail(c, &err);
    }
    /* process.oomScoreAdj, while we are still root on the host (inherited by the process) */
    if (c->spec->has_oom_score_adj) {
        char text[16];
        int n = snprintf(text, sizeof text, "%d", c->spec->oom_score_adj);
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || tm_write_full(fd, text, (size_t)n) < 0) {
            tm_error_sys(&err, "cannot set oomScoreAdj %d", c->spec->oom_score_adj);
            child_fail(c, &err);
        }
        close(fd);
    }
    for (size_t i = 0; i < NNS; i++)
        if (i != NS_MNT && c->ns[i] >= 0 && setns(c->ns[i], namespaces[i].type) < 0) {
            tm_error_sys(&err, "cannot join the container's %s namespace", namespaces[i].name);
            child_fail(c, &err);
        }
    pid_t pid = fork();
    if (pid < 0) {
        tm_error_sys(&err, "fork");
        child_fail(c, &err);
    }
    if (pid == 0)
        run_process(c);
    _exit(tm_write_full(c->pid_fd, &pid, sizeof pid) < 0);
}

static void close_ns(struct exec_ctx *c)
{
    for (size_t i = 0; i < NNS; i++)
        if (c->ns[i] >= 0)
            close(c->ns[i]);
}

/* The container's namespaces that are not ours, while init (pidfd) lives. */
static int open_namespaces(struct exec_ctx *c, pid_t pid, int pidfd, tm_error *err)
{
    for (size_t i = 0; i < NNS; i++) {
        char path[64], self[64];
        struct stat theirs, ours;
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, namespaces[i].name);
        snprintf(self, sizeof self, "/proc/self/ns/%s", namespaces[i].name);
        c->ns[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (c->ns[i] < 0 && errno == ENOENT && stat(self, &ours) < 0)
            continue;   /* a namespace this kernel lacks */
        if (c->ns[i] < 0 || fstat(c->ns[i], &theirs) < 0)
            return tm_error_sys(err, "cannot open %s", path);
        if (stat(self, &ours) == 0 && ours.st_ino == theirs.st_ino && ours.st_dev == theirs.st_dev) {
            close(c->ns[i]);
            c->ns[i] = -1;
        }
    }
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    if (poll(&p, 1, 0) != 0)
        return tm_error_set(err, ESRCH, "cannot exec in a stopped container");
    return 0;
}

/* Read fd to its end into buf (NUL-terminated); the length. */
static size_t read_all(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, len - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

/* Start the process (c filled); its pid, or -errno with nothing left running. */
static pid_t start_process(struct exec_ctx *c, tm_error *err)
{
    int errp[2], pidp[2];
    if (pipe2(errp, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    if (pipe2(pidp, O_CLOEXEC) < 0) {
        close(errp[0]);
        close(errp[1]);
        return tm_error_sys(err, "pipe");
    }
    c->error_fd = errp[1];
    c->pid_fd = pidp[1];
    pid_t mid = fork();
    if (mid == 0) {
        close(errp[0]);
        close(pidp[0]);
        intermediate(c);
    }
    int saved = errno;
    close(errp[1]);
    close(pidp[1]);
    _cleanup_close_ int er = errp[0], pr = pidp[0];
    if (mid < 0) {
        errno = saved;
        return tm_error_sys(err, "fork");
    }
    int ws;
    while (waitpid(mid, &ws, 0) < 0 && errno == EINTR)
        ;
    pid_t pid = 0;
    if (read(pr, &pid, sizeof pid) != sizeof pid)
        pid = 0;
    char msg[sizeof(err->msg)];
    size_t n = read_all(er, msg, sizeof msg);
    if (n == 0 && pid > 0)
        return pid;
    if (pid > 0) {
        kill(pid, SIGKILL);   /* an enclave main that wrote nothing can still run: no stray */
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
            ;
    }
    return tm_error_set(err, EIO, "%s", n ? msg : "unable to start container process: the exec's helper died");
}

static int check_status(const char *root, const struct tm_container_state *st, bool ignore_paused, tm_error *err)
{
    switch (tm_state_status(root, st)) {
    case TM_CONTAINER_CREATED:
    case TM_CONTAINER_RUNNING:
        return 0;
    case TM_CONTAINER_PAUSED:
        return ignore_paused ? 0
                             : tm_error_set(err, EINVAL,
                                            "cannot exec in a paused container (use --ignore-paused to override)");
    case TM_CONTAINER_CREATING:
    case TM_CONTAINER_STOPPED:
        break;
    }
    return tm_error_set(err, EINVAL, "cannot exec in a stopped container");
}

/* runc's rules: a console socket only for a detached terminal; a terminal
 * in the foreground is teemate's own. */
static int check_terminal(const struct tm_container_spec *spec, const struct tm_exec_options *o, tm_error *err)
{
    if (o->console_socket && !(spec->terminal && o->detach))
        return tm_error_set(err, EINVAL, "cannot use console socket if teemate will not detach or allocate tty");
    if (!spec->terminal || o->console_socket)
        return 0;
    if (o->detach)
        return tm_error_set(err, EINVAL, "cannot allocate tty if teemate will detach without setting console socket");
    /* teemate's own terminal, relayed (exec_tty.c) */
    _cleanup_close_ int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0)
        return tm_error_set(err, errno, "open /dev/tty: %s", errno == ENXIO ? "no such device or address" : strerror(errno));
    return 0;
}

/* The signals a foreground exec passes on (tm_container_wait's). */
static void forwarded_signals(sigset_t *set)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };
    sigemptyset(set);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(set, sigs[i]);
}

int tm_container_exec(const char *root, const char *id, const struct tm_exec_options *o, int *status,
                      tm_error *err)
{
    *status = 0;
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    _cleanup_close_ int lock = tm_state_open(root, id, &st, err);
    if (lock < 0)
        return lock;
    int ret = check_status(root, &st, o->ignore_paused, err);
    if (ret < 0)
        return ret;
    _cleanup_(tm_spec_free) struct tm_container_spec spec = { 0 };
    _cleanup_free_ char *entry = NULL;
    if ((ret = tm_exec_spec(st.bundle, o, &spec, &entry, err)) < 0)
        return ret;
    if ((ret = check_terminal(&spec, o, err)) < 0)
        return ret;
    struct exec_ctx c = { .spec = &spec, .o = o, .console_fd = -1 };
    /* A command named as the container's own entry runs the image's main (exec.h). */
    c.enclave = st.enclave[0] && entry && !strcmp(entry, spec.args[0]);
    if (c.enclave && (!spec.enclave || strcmp(spec.enclave, st.enclave)))
        return tm_error_set(err, EINVAL, "config.json no longer names the container's enclave %s", st.enclave);
    for (size_t i = 0; i < NNS; i++)
        c.ns[i] = -1;
    _cleanup_close_ int pidfd = pidfd_open(st.pid, 0);
    if (pidfd < 0 || tm_proc_start_time(st.pid) != st.pid_start)
        return tm_error_set(err, ESRCH, "cannot exec in a stopped container");
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    int relay[2] = { -1, -1 };   /* a foreground terminal: the master comes back here */
    if ((ret = open_namespaces(&c, st.pid, pidfd, err)) < 0 ||
        (ret = tm_cgroup_open(NULL, st.cgroup_path, &cg, err)) < 0 ||
        (spec.terminal && o->console_socket && (ret = c.console_fd = tm_console_connect(o->console_socket, err)) < 0) ||
        (spec.terminal && !o->console_socket &&
         (ret = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, relay)) < 0 &&
         (ret = tm_error_sys(err, "socketpair")) < 0)) {
        close_ns(&c);
        return ret;
    }
    if (relay[1] >= 0)
        c.console_fd = relay[1];
    c.cg = cg;
    sigset_t forward;
    forwarded_signals(&forward);
    sigprocmask(SIG_BLOCK, &forward, &c.mask);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    /* Init is held by pidfd and the namespaces and cgroup by fds: other verbs
     * may go on (a resume, for an exec into a paused container). */
    close(TM_STEAL_FD(lock));
    pid_t pid = start_process(&c, err);
    /* A foreground exec waits holding nothing of the container's. */
    close_ns(&c);
    if (c.console_fd >= 0)
        close(c.console_fd);
    close(TM_STEAL_FD(pidfd));
    tm_cgroup_free(TM_STEAL(cg));
    if (pid > 0 && o->pid_file && (ret = tm_file_write_pid(o->pid_file, pid, err)) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = ret;
    }
    if (pid > 0 && relay[0] >= 0)
        pid = tm_exec_tty_relay(relay[0], pid, &forward, status, err);
    else if (pid > 0 && !o->detach)
        *status = tm_container_wait(pid);
    if (relay[0] >= 0)
        close(relay[0]);
    sigprocmask(SIG_SETMASK, &c.mask, NULL);
    return pid < 0 ? pid : 0;
}
