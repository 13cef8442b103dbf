/* The store's files, outside: writes go to DIR/temp-PID.rdb, which becomes
 * DIR/dbfilename only once complete, fsynced and renamed (then DIR fsynced),
 * as Redis's rdbSave does, so a crash or a kill at any moment leaves the
 * last good dump. The BGSAVE child is a fork of this process attached to the
 * same enclave (the engine's fork); it writes the snapshot its parent froze
 * and reports through a pipe: 8 bytes (fork time, µs) once it runs inside
 * the enclave, 4 (its status) when done. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enclave/ecall.h"
#include "kv_entry.h"
#include "kvh_files.h"
#include "kvh_persist.h"
#include "util/file.h"

static struct {
    char dir[256], dbfilename[128];
    int save_fd, load_fd;
    char save_path[512];
    pid_t child;           /* the BGSAVE child, 0: none */
    int child_fd;
    uint8_t report[12];    /* fork usec, status */
    size_t report_len;
    uint64_t fork_start_ns;
    bool ahead;            /* --fork ahead: keep a standby child */
    pid_t standby;         /* forked and attached, waiting on standby_go */
    int standby_go, standby_fd;
    void (*in_child)(void *ctx);
    void *in_child_ctx;
} kvh_p = { .save_fd = -1, .load_fd = -1, .child_fd = -1 };

static uint64_t kvh_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void kvh_temp_path(char *buf, size_t len, pid_t pid)
{
    snprintf(buf, len, "%s/temp-%d.rdb", kvh_p.dir, (int)pid);
}

static void kvh_kill_child(void)
{
    if (kvh_p.child_fd >= 0) {
        close(kvh_p.child_fd);   /* leaves the loop's epoll with it */
        kvh_p.child_fd = -1;
    }
    if (!kvh_p.child)
        return;
    kill(kvh_p.child, SIGKILL);
    waitpid(kvh_p.child, NULL, 0);
    char tmp[512];
    kvh_temp_path(tmp, sizeof tmp, kvh_p.child);
    unlink(tmp);
    kvh_p.child = 0;
}

static long kvh_save_open(const void *in, size_t in_len)
{
    int32_t kill_child = 0;
    if (in_len == sizeof kill_child)
        memcpy(&kill_child, in, sizeof kill_child);
    if (kill_child)
        kvh_kill_child();   /* SHUTDOWN's save replaces the background one */
    if (kvh_p.save_fd >= 0)
        return -EBUSY;
    kvh_temp_path(kvh_p.save_path, sizeof kvh_p.save_path, getpid());
    kvh_p.save_fd = open(kvh_p.save_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (kvh_p.save_fd < 0) {
        int e = errno;
        kvh_log(KVH_LOG_WARNING, "Failed opening the temp RDB file %s (in server root dir %s) for "
                "saving: %s", kvh_p.save_path, kvh_p.dir, strerror(e));
        return -e;
    }
    kvh_files_set(-1, kvh_p.save_fd);
    return 0;
}

static long kvh_save_close(const void *in, size_t in_len)
{
    int32_t commit = 0;
    if (in_len == sizeof commit)
        memcpy(&commit, in, sizeof commit);
    if (kvh_p.save_fd < 0)
        return -EBADF;
    kvh_files_set(-1, -1);
    int r = 0;
    if (commit && fsync(kvh_p.save_fd) < 0)
        r = -errno;
    if (close(kvh_p.save_fd) < 0 && r == 0)
        r = -errno;
    kvh_p.save_fd = -1;
    char final[512];
    snprintf(final, sizeof final, "%s/%s", kvh_p.dir, kvh_p.dbfilename);
    if (commit && r == 0 && rename(kvh_p.save_path, final) < 0)
        r = -errno;
    if (!commit || r < 0) {
        unlink(kvh_p.save_path);
        if (commit)
            kvh_log(KVH_LOG_WARNING, "Write error saving DB on disk: %s", strerror(-r));
        return r;
    }
    int dfd = open(kvh_p.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) < 0)
            r = -errno;
        close(dfd);
    }
    return r;
}

static int64_t kvh_persist_call(void *ctx, uint32_t number, const void *in, size_t in_len,
                                void *out, size_t out_cap, size_t *out_len)
{
    (void)ctx;
    *out_len = 0;
    switch (number) {
    case KV_OCALL_SAVE_OPEN: return kvh_save_open(in, in_len);
    case KV_OCALL_SAVE_CLOSE: return kvh_save_close(in, in_len);
    }
    return kvh_files_ocall(ctx, number, in, in_len, out, out_cap, out_len);   /* reads, writes */
}

static long kvh_persist_native_call(uint32_t number, const void *in, size_t in_len, void *out,
                                    size_t out_cap, size_t *out_len)
{
    size_t got = 0;
    int64_t r = kvh_persist_call(NULL, number, in, in_len, out, out_cap, &got);
    if (out_len)
        *out_len = got;
    return (long)r;
}

void kvh_persist_init(const char *dir, const char *dbfilename, bool ahead)
{
    kvh_p.ahead = ahead;
    snprintf(kvh_p.dir, sizeof kvh_p.dir, "%s", dir);
    snprintf(kvh_p.dbfilename, sizeof kvh_p.dbfilename, "%s", dbfilename);
    tm_ecall_register_app_ocalls(kvh_persist_call, NULL);
    kv_platform_native_set_host(kvh_persist_native_call);
}

int kvh_persist_load(struct kvh_engine *e, uint64_t *keys, tm_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", kvh_p.dir, kvh_p.dbfilename);
    *keys = 0;
    kvh_p.load_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (kvh_p.load_fd < 0) {
        if (errno == ENOENT)
            return 0;
        return tm_error_sys(err, "cannot open %s", path);
    }
    kvh_files_set(kvh_p.load_fd, -1);
    char msg[512] = "";
    size_t out_len = 0;
    int rc = 0;
    uint64_t t0 = kvh_now_ns();
    int r = e->call(e, KV_ECALL_LOAD, NULL, 0, msg, sizeof msg - 1, &out_len, &rc, err);
    kvh_files_set(-1, -1);
    close(kvh_p.load_fd);
    kvh_p.load_fd = -1;
    if (r < 0)
        return r;
    if (rc < 0) {
        msg[out_len < sizeof msg ? out_len : sizeof msg - 1] = '\0';
        return tm_error_set(err, -rc, "%s: %s", path, msg[0] ? msg : strerror(-rc));
    }
    struct kv_info info;
    if ((r = kvh_engine_info(e, &info, err)) < 0)
        return r;
    *keys = info.keys;
    kvh_log(KVH_LOG_NOTICE, "DB loaded from disk: %.3f seconds (%llu keys)",
            (double)(kvh_now_ns() - t0) / 1e9, (unsigned long long)info.keys);
    return 0;
}

static void kvh_persist_report(struct kvh_engine *e, int32_t status, uint64_t fork_usec,
                               tm_error *err)
{
    struct kv_snapshot_report rep = { .status = status, .fork_usec = fork_usec };
    size_t out_len = 0;
    int rc = 0;
    if (e->call(e, KV_ECALL_SNAPSHOT_DONE, &rep, sizeof rep, NULL, 0, &out_len, &rc, err) < 0 ||
        rc < 0)
        kvh_log(KVH_LOG_WARNING, "the store did not take the background save's end: %s",
                rc < 0 ? strerror(-rc) : err->msg);
}

/* In the child: never returns. A standby (go >= 0) first waits for the
 * BGSAVE (the parent writes its start time) and makes a first ecall, so that
 * fork_usec runs to a return from inside the enclave as a cold child's does
 * (its attach ends with TM_ECALL_FORK_CHILD); EOF on go: not needed, exit. */
static void kvh_persist_child(struct kvh_engine *child, int go, int fd)
{
    size_t out_len = 0;
    int rc = 0;
    tm_error err = { 0 };
    uint64_t start_ns = kvh_p.fork_start_ns;
    if (go >= 0) {
        ssize_t n;
        do
            n = read(go, &start_ns, sizeof start_ns);
        while (n < 0 && errno == EINTR);
        if (n != sizeof start_ns)
            _exit(0);
        (void)child->call(child, KV_ECALL_INFO, NULL, 0, NULL, 0, &out_len, &rc, &err);
    }
    uint64_t fork_usec = (kvh_now_ns() - start_ns) / 1000;
    (void)tm_write_full(fd, &fork_usec, sizeof fork_usec);
    int32_t status = child->call(child, KV_ECALL_SNAPSHOT_WRITE, NULL, 0, NULL, 0, &out_len, &rc,
                                 &err) < 0 ? -EIO : rc;
    if (status < 0)
        kvh_log(KVH_LOG_WARNING, "Background saving error: %s",
                err.msg[0] ? err.msg : strerror(-status));
    else
        kvh_log(KVH_LOG_NOTICE, "DB saved on disk");
    (void)tm_write_full(fd, &status, sizeof status);
    _exit(status == 0 ? 0 : 1);
}

/* A snapshot child: status pipe's read end in *fd; with standby, it waits on
 * the go pipe (write end in *go). */
static pid_t kvh_persist_fork(struct kvh_engine *e, bool standby, int *fd, int *go, tm_error *err)
{
    int p[2], g[2] = { -1, -1 };
    if (pipe2(p, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    if (standby && pipe2(g, O_CLOEXEC) < 0) {
        close(p[0]);
        close(p[1]);
        return tm_error_sys(err, "pipe");
    }
    kvh_p.fork_start_ns = kvh_now_ns();
    struct kvh_engine *child = NULL;
    pid_t pid = e->fork(e, &child, err);
    if (pid == 0) {
        close(p[0]);
        if (g[1] >= 0)
            close(g[1]);
        if (kvh_p.in_child)
            kvh_p.in_child(kvh_p.in_child_ctx);
        kvh_persist_child(child, g[0], p[1]);
    }
    close(p[1]);
    if (g[0] >= 0)
        close(g[0]);
    if (pid < 0) {
        close(p[0]);
        if (g[1] >= 0)
            close(g[1]);
        return pid;
    }
    *fd = p[0];
    *go = g[1];
    return pid;
}

/* --fork ahead: the next BGSAVE's child, forked and attached now. */
static void kvh_persist_make_standby(struct kvh_engine *e)
{
    if (!kvh_p.ahead || kvh_p.standby)
        return;
    tm_error err = { 0 };
    pid_t pid = kvh_persist_fork(e, true, &kvh_p.standby_fd, &kvh_p.standby_go, &err);
    if (pid < 0)
        kvh_log(KVH_LOG_WARNING, "No snapshot child ahead of time (the next BGSAVE forks): %s",
                err.msg);
    else
        kvh_p.standby = pid;
}

void kvh_persist_start(struct kvh_engine *e, void (*in_child)(void *ctx), void *ctx)
{
    kvh_p.in_child = in_child;
    kvh_p.in_child_ctx = ctx;
    kvh_persist_make_standby(e);
}

static void kvh_persist_drop_standby(void)
{
    if (!kvh_p.standby)
        return;
    close(kvh_p.standby_go);   /* EOF: it exits */
    close(kvh_p.standby_fd);
    waitpid(kvh_p.standby, NULL, 0);
    kvh_p.standby = 0;
}

int kvh_persist_bgsave(struct kvh_engine *e, int *fd, tm_error *err)
{
    *fd = -1;
    pid_t pid = kvh_p.standby;
    int go = -1;
    if (pid) {
        uint64_t now = kvh_now_ns();
        go = kvh_p.standby_go;
        *fd = kvh_p.standby_fd;
        kvh_p.standby = 0;
        if (tm_write_full(go, &now, sizeof now) < 0) {   /* it died meanwhile */
            close(*fd);
            pid = 0;
        }
        close(go);
    }
    if (!pid)
        pid = kvh_persist_fork(e, false, fd, &go, err);
    if (pid < 0) {
        kvh_log(KVH_LOG_WARNING, "Can't save in background: %s", err->msg);
        kvh_persist_report(e, (int32_t)pid, 0, err);
        return (int)pid;
    }
    kvh_log(KVH_LOG_NOTICE, "Background saving started by pid %d", (int)pid);
    kvh_p.child = pid;
    kvh_p.child_fd = *fd;
    kvh_p.report_len = 0;
    return 0;
}

bool kvh_persist_child_event(struct kvh_engine *e, tm_error *err)
{
    if (kvh_p.child_fd < 0 || !kvh_p.child)
        return true;
    ssize_t n = read(kvh_p.child_fd, kvh_p.report + kvh_p.report_len,
                     sizeof kvh_p.report - kvh_p.report_len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return false;
    if (n > 0) {
        kvh_p.report_len += (size_t)n;
        return false;   /* the end is EOF: the child's exit closes the pipe */
    }
    close(kvh_p.child_fd);
    kvh_p.child_fd = -1;
    int ws = 0;
    pid_t pid = kvh_p.child;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    kvh_p.child = 0;
    uint64_t fork_usec = 0;
    int32_t status = -EIO;
    if (kvh_p.report_len >= sizeof fork_usec)
        memcpy(&fork_usec, kvh_p.report, sizeof fork_usec);
    if (kvh_p.report_len == sizeof kvh_p.report)
        memcpy(&status, kvh_p.report + sizeof fork_usec, sizeof status);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        if (status == 0)
            status = -EIO;
        char tmp[512];
        kvh_temp_path(tmp, sizeof tmp, pid);
        unlink(tmp);
        if (WIFSIGNALED(ws))
            kvh_log(KVH_LOG_WARNING, "Background saving terminated by signal %d", WTERMSIG(ws));
        else
            kvh_log(KVH_LOG_WARNING, "Background saving error");
    } else {
        kvh_log(KVH_LOG_NOTICE, "Background saving terminated with success");
    }
    kvh_persist_report(e, status, fork_usec, err);
    kvh_persist_make_standby(e);
    return true;
}

void kvh_persist_stop(void)
{
    kvh_kill_child();
    kvh_persist_drop_standby();
}
