/* tm_container_create: the runtime's half of creation (container.h has the
 * picture). Whatever fails, nothing is left: init killed, cgroup and state
 * removed. */
#include "container/init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/hooks.h"
#include "daemon/client.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/file.h"

static int resolve_rootfs(const struct tm_container_spec *spec, const char *bundle, char *out,
                          size_t len, tm_error *err)
{
    if (!spec->root_path) {
        *out = '\0';
        return 0;
    }
    char joined[PATH_MAX];
    if (spec->root_path[0] == '/')
        snprintf(joined, sizeof(joined), "%s", spec->root_path);
    else if (snprintf(joined, sizeof(joined), "%s/%s", bundle ? bundle : ".", spec->root_path) >=
             (int)sizeof(joined))
        return tm_error_set(err, ENAMETOOLONG, "root.path %s is too long", spec->root_path);
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(joined, real) || stat(real, &st) < 0)
        return tm_error_sys(err, "root.path %s", joined);
    if (!S_ISDIR(st.st_mode))
        return tm_error_set(err, ENOTDIR, "root.path %s is not a directory", joined);
    snprintf(out, len, "%s", real);
    return 0;
}

static int clone_flags(const struct tm_container_spec *spec)
{
    static const int flag[TM_NS_COUNT] = {
        [TM_NS_PID] = CLONE_NEWPID, [TM_NS_MOUNT] = CLONE_NEWNS, [TM_NS_UTS] = CLONE_NEWUTS,
        [TM_NS_IPC] = CLONE_NEWIPC, [TM_NS_NET] = CLONE_NEWNET, [TM_NS_USER] = CLONE_NEWUSER,
    };
    /* Not the cgroup namespace: its root is the cgroup at unshare time, so
     * init unshares it once it is in its own cgroup. Made with a new user
     * namespace, the others are its own; with a joined one init makes them
     * once inside it (init.c). */
    if (spec->namespaces[TM_NS_USER].path)
        return 0;
    int flags = 0;
    for (int t = 0; t < TM_NS_COUNT; t++)
        if (spec->namespaces[t].enabled && !spec->namespaces[t].path)
            flags |= flag[t];
    return flags;
}

/* Before init goes on, as runc: its id maps (as root, so setgroups stays
 * allowed), and its rlimits, which it could no longer raise in there. */
static int set_up_user_namespace(const struct tm_container_spec *spec, pid_t pid, tm_error *err)
{
    const struct tm_ns_spec *user = &spec->namespaces[TM_NS_USER];
    if (!user->enabled)
        return 0;
    int ret;
    if (!user->path &&
        ((ret = tm_idmap_write(pid, "uid_map", spec->uid_mappings, spec->nuid_mappings, err)) < 0 ||
         (ret = tm_idmap_write(pid, "gid_map", spec->gid_mappings, spec->ngid_mappings, err)) < 0))
        return ret;
    for (size_t i = 0; i < spec->nrlimits; i++) {
        struct rlimit rl = { .rlim_cur = spec->rlimits[i].soft, .rlim_max = spec->rlimits[i].hard };
        if (prlimit(pid, spec->rlimits[i].resource, &rl, NULL) < 0)
            return tm_error_sys(err, "cannot set rlimit %d to %llu/%llu", spec->rlimits[i].resource,
                                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
    }
    return 0;
}

/* Fill the saved state; annotations are borrowed from the spec for the save. */
static void describe(struct tm_container_state *st, const struct tm_container_spec *spec,
                     const struct tm_container_options *o, const char *rootfs, const char *cgroup_path)
{
    snprintf(st->id, sizeof(st->id), "%s", o->id);
    snprintf(st->bundle, sizeof(st->bundle), "%s", o->bundle ? o->bundle : "");
    snprintf(st->rootfs, sizeof(st->rootfs), "%s", rootfs);
    snprintf(st->cgroup_path, sizeof(st->cgroup_path), "%s", cgroup_path);
    tm_rfc3339_now(st->created, sizeof(st->created));
    snprintf(st->enclave, sizeof(st->enclave), "%s", spec->enclave ? spec->enclave : "");
    st->owner = getuid();
    st->annotations = spec->annotations;
    st->nannotations = spec->nannotations;
    st->creating = true;
    st->creator = getpid();
    st->creator_start = tm_proc_start_time(st->creator);
}

static int cgroup_path_of(const struct tm_container_spec *spec, const char *id, char *out, size_t len,
                          tm_error *err)
{
    if (spec->cgroups_path && strchr(spec->cgroups_path, ':'))
        return tm_error_set(err, ENOTSUP, "cgroupsPath %s is in the systemd format; teemate uses cgroupfs "
                            "(run the engine with --cgroup-manager cgroupfs)", spec->cgroups_path);
    if (!spec->cgroups_path)
        snprintf(out, len, "/teemate/%s", id);
    else
        snprintf(out, len, "%s%s", spec->cgroups_path[0] == '/' ? "" : "/", spec->cgroups_path);
    return 0;
}

/* A file of ROOT/ID that init uses once it is the container's user:
 * exec.fifo, which it opens to write (mkfifo's mode is cut by our umask, so
 * 0622 is set after), or init.error, opened here for it, as root. */
static int make_init_file(const char *root, const char *id, const char *name, uid_t owner_uid,
                          gid_t owner_gid, int *fd, tm_error *err)
{
    char path[PATH_MAX];
    int ret = tm_state_path(root, id, name, path, sizeof(path), err);
    if (ret < 0)
        return ret;
    bool fifo = !strcmp(name, "exec.fifo");
    if (fifo ? mkfifo(path, 0600) < 0 || chmod(path, 0622) < 0 || (*fd = open(path, O_PATH | O_CLOEXEC)) < 0
             : (*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return tm_error_sys(err, "cannot make %s", path);
    /* runc gives exec.fifo to the user namespace's root (0 and 0 without one). */
    if (fifo && (owner_uid || owner_gid) && chown(path, owner_uid, owner_gid) < 0)
        return tm_error_sys(err, "cannot give %s to the container's root", path);
    return 0;
}

struct creation {
    char root[PATH_MAX];
    int lock;
    struct tm_cgroup *cg;
    pid_t pid;
    bool state_made;
    char *stopped_json;   /* the state poststop gets if init was made and the creation fails */
};

static void creation_undo(struct creation *c, const char *id)
{
    tm_error ignored = { 0 };
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    if (c->cg)
        tm_cgroup_destroy(c->cg, &ignored);
    if (c->state_made)
        tm_state_remove(c->root, id, &ignored);
}

/* prestart then createRuntime, in our namespaces, with the state as it will
 * be saved (status "creating"): init waits for them before pivot_root. */
static int run_runtime_hooks(const struct tm_container_spec *spec, const struct tm_container_state *st,
                             pid_t pid, tm_error *err)
{
    struct tm_container_state now = *st;
    now.pid = pid;
    _cleanup_free_ char *json = tm_state_oci_json(&now, TM_CONTAINER_CREATING);
    if (!json)
        return tm_error_set(err, ENOMEM, "cannot describe container \"%s\" for its hooks", st->id);
    int ret = tm_hooks_run(&spec->hooks, TM_HOOK_PRESTART, json, err);
    return ret < 0 ? ret : tm_hooks_run(&spec->hooks, TM_HOOK_CREATE_RUNTIME, json, err);
}

/* Everything up to the clone; then the runtime's side of the handshake. */
static int create(const struct tm_container_spec *spec, const struct tm_container_options *o,
                  struct creation *c, struct tm_container_timing *t, tm_error *err)
{
    double t0 = tm_now_ms();
    int ret = tm_state_id_check(o->id, err);
    if (ret < 0)
        return ret;
    if (!spec->args || !spec->nargs)
        return tm_error_set(err, EINVAL, "process.args must not be empty");
    if (spec->terminal && !o->console_socket)
        return tm_error_set(err, EINVAL, "process.terminal is true: give --console-socket (or set it false)");
    const struct tm_ns_spec *user = &spec->namespaces[TM_NS_USER], *newpid = &spec->namespaces[TM_NS_PID];
    if (user->path && newpid->enabled && !newpid->path)
        return tm_error_set(err, ENOTSUP, "a new pid namespace inside a joined user namespace (%s) is not "
                            "supported: join its pid namespace too", user->path);
    char rootfs[PATH_MAX], cgroup_path[PATH_MAX];
    if ((ret = tm_sysctl_check(spec, err)) < 0 ||
        (ret = cgroup_path_of(spec, o->id, cgroup_path, sizeof(cgroup_path), err)) < 0 ||
        (ret = resolve_rootfs(spec, o->bundle, rootfs, sizeof(rootfs), err)) < 0)
        return ret;
    snprintf(c->root, sizeof(c->root), "%s", tm_state_root(o->state_root));
    if (spec->enclave) {
        /* Start teemated here, on the host: never from inside the container. */
        bool started;
        int fd = tm_daemon_connect(o->daemon_socket, true, &started, err);
        if (fd < 0)
            return fd;
        close(fd);
    }
    if ((c->lock = tm_state_create(c->root, o->id, err)) < 0)
        return c->lock;
    c->state_made = true;
    /* Recorded before the cgroup and init exist: whenever we die from here
     * on, list shows what we leave and delete --force removes it. */
    struct tm_container_state st = { 0 };
    describe(&st, spec, o, rootfs, cgroup_path);
    if ((ret = tm_state_save(c->root, &st, err)) < 0)
        return ret;
    if ((tm_hooks_any(&spec->hooks, TM_HOOK_POSTSTART) || tm_hooks_any(&spec->hooks, TM_HOOK_POSTSTOP)) &&
        (ret = tm_hooks_save(c->root, o->id, &spec->hooks, err)) < 0)
        return ret;
    if ((ret = tm_cgroup_create(NULL, cgroup_path, &spec->resources, &c->cg, err)) < 0)
        return ret;
    double t_cgroup = tm_now_ms();

    _cleanup_close_ int fifo = -1, console = -1, error = -1;
    _cleanup_close_ int self = o->die_with_runtime ? pidfd_open(getpid(), 0) : -1;
    uid_t root_uid = tm_spec_host_root_uid(spec);
    gid_t root_gid = tm_spec_host_root_gid(spec);
    if ((o->wait_for_start &&
         (ret = make_init_file(c->root, o->id, "exec.fifo", root_uid, root_gid, &fifo, err)) < 0) ||
        (ret = make_init_file(c->root, o->id, "init.error", root_uid, root_gid, &error, err)) < 0)
        return ret;
    if (o->console_socket && (console = tm_console_connect(o->console_socket, err)) < 0)
        return console;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return tm_error_sys(err, "socketpair");
    _cleanup_close_ int sync = sv[0];
    const struct tm_ns_spec *pidns = &spec->namespaces[TM_NS_PID];
    _cleanup_close_ int own_pidns = -1;
    if (pidns->enabled && pidns->path) {
        /* setns of a pid namespace applies to children: join before the
         * clone, and come back after it (below). */
        _cleanup_close_ int fd = open(pidns->path, O_RDONLY | O_CLOEXEC);
        own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || own_pidns < 0 || setns(fd, CLONE_NEWPID) < 0) {
            close(sv[1]);
            return tm_error_sys(err, "cannot join the pid namespace %s", pidns->path);
        }
    }
    fflush(NULL);
    pid_t pid = (pid_t)syscall(SYS_clone, clone_flags(spec) | SIGCHLD, NULL, NULL, NULL, NULL);
    /* Our later children (hooks; LSan's tracer, which hangs in another pid
     * namespace) belong in ours. */
    if (pid != 0 && own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0) {
        ret = tm_error_sys(err, "cannot return to the runtime's pid namespace");
        if (pid > 0)
            c->pid = pid;   /* killed and reaped by creation_undo */
        close(sv[1]);
        return ret;
    }
    if (pid < 0) {
        close(sv[1]);
        return tm_error_sys(err, "cannot clone the container's init");
    }
    if (pid == 0) {
        if (own_pidns >= 0)
            close(own_pidns);
        close(sync);
        close(c->lock);   /* the state's lock has no business inside the container */
        struct tm_init_args a = { .spec = spec, .o = o, .rootfs = *rootfs ? rootfs : NULL,
                                  .sync_fd = sv[1], .fifo_fd = fifo, .console_fd = console,
                                  .error_fd = error, .runtime_pidfd = self };
        tm_init_run(&a);
    }
    close(sv[1]);
    c->pid = pid;
    if (tm_hooks_any(&spec->hooks, TM_HOOK_POSTSTOP)) {
        struct tm_container_state gone = st;
        gone.pid = pid;
        c->stopped_json = tm_state_oci_json(&gone, TM_CONTAINER_STOPPED);
    }
    /* Not saved until ready: if we die now, init dies too (parent-death
     * signal, or the sync socket's end) or waits in its cgroup, which
     * delete --force empties. */
    if ((ret = tm_cgroup_add_pid(c->cg, pid, err)) < 0 || (ret = set_up_user_namespace(spec, pid, err)) < 0)
        return ret;
    if (spec->has_oom_score_adj) {
        char path[64], text[16];
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
        int n = snprintf(text, sizeof(text), "%d", spec->oom_score_adj);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, (size_t)n) != n)
            return tm_error_sys(err, "cannot set oomScoreAdj %d", spec->oom_score_adj);
    }
    double t_clone = tm_now_ms();
    struct tm_sync_msg m;
    if (tm_sync_send(sync, TM_SYNC_GO, pid, 0, NULL) < 0 || tm_sync_recv(sync, &m) < 0)
        return tm_error_set(err, EIO, "the container's init exited during setup");
    if (m.type == TM_SYNC_HOOKS) {
        if ((ret = run_runtime_hooks(spec, &st, pid, err)) < 0)
            return ret;
        if (tm_sync_send(sync, TM_SYNC_GO, pid, 0, NULL) < 0 || tm_sync_recv(sync, &m) < 0)
            return tm_error_set(err, EIO, "the container's init exited during setup");
    }
    if (m.type == TM_SYNC_ERROR)
        return tm_error_set(err, m.status < 0 ? -m.status : EIO, "%s", m.message);
    if (m.type != TM_SYNC_READY)
        return tm_error_set(err, EPROTO, "the container's init sent message %u", m.type);

    st.pid = pid;
    st.pid_start = tm_proc_start_time(pid);
    st.creating = false;
    if ((ret = tm_state_save(c->root, &st, err)) < 0)
        return ret;
    if (o->pid_file && (ret = tm_file_write_pid(o->pid_file, pid, err)) < 0)
        return ret;
    if (t) {
        double now = tm_now_ms();
        *t = (struct tm_container_timing){ .cgroup_ms = t_cgroup - t0, .clone_ms = t_clone - t_cgroup,
                                           .setup_ms = now - t_clone, .total_ms = now - t0 };
    }
    return 0;
}

int tm_container_create(const struct tm_container_spec *spec, const struct tm_container_options *o,
                        pid_t *pid, struct tm_container_timing *timing, tm_error *err)
{
    struct creation c = { .lock = -1 };
    int ret = create(spec, o, &c, timing, err);
    if (ret < 0) {
        creation_undo(&c, o->id);
        /* The spec's lifecycle goes on to destroy (done) and poststop once
         * the environment existed: warnings only, create's error stands. */
        if (c.stopped_json)
            tm_hooks_run_warn(&spec->hooks, TM_HOOK_POSTSTOP, c.stopped_json);
    } else
        *pid = c.pid;
    if (c.lock >= 0)
        close(c.lock);
    tm_cgroup_free(c.cg);
    free(c.stopped_json);
    return ret;
}
