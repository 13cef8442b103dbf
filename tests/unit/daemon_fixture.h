/* A teemated for a test binary: the daemon runs as a child process
 * (tm_daemon_run after fork) on a socket in a temporary state directory. */
#ifndef TM_TEST_DAEMON_FIXTURE_H
#define TM_TEST_DAEMON_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/client.h"
#include "daemon/daemon.h"
#include "daemon/protocol.h"
#include "daemon/request.h"
#include "harness.h"

static char dir[128], sock[192];
static pid_t daemon_pid = -1;
static struct tm_daemon_options fixture_options;   /* limits for the next daemon_up */
static unsigned fixture_nofile;                    /* and its RLIMIT_NOFILE (0: inherited) */

/* ---- helpers ---- */

static inline const char *image(const char *name)
{
    static char buf[4][256];
    static int k;
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    char *b = buf[k++ % 4];
    snprintf(b, 256, "%s/examples/%s.elf", build, name);
    return b;
}

static inline void reap(pid_t *pid, int sig)
{
    if (*pid > 0) {
        kill(*pid, sig);
        waitpid(*pid, NULL, 0);
    }
    *pid = -1;
}

/* Read until EOF (or cap) from fd. */
static inline size_t read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && ((n = read(fd, buf + len, cap - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    buf[len] = '\0';
    return len;
}

/* A daemon on path in a child process; report gets its readiness line. */
static pid_t daemon_spawn_at(const char *path, char *report, size_t cap)
{
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        char log[256];
        snprintf(log, sizeof log, "%s/daemon.log", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        struct rlimit rl = { fixture_nofile, fixture_nofile };
        if (fixture_nofile && setrlimit(RLIMIT_NOFILE, &rl) < 0)
            exit(1);
        struct tm_daemon_options o = fixture_options;
        o.socket_path = path;
        o.ready_fd = p[1];
        tm_error err = { 0 };
        exit(tm_daemon_run(&o, &err) < 0 ? 1 : 0);   /* exit: LeakSanitizer checks the daemon */
    }
    close(p[1]);
    read_all(p[0], report, cap);
    close(p[0]);
    return pid;
}

static inline void daemon_up(void)
{
    char report[256];
    reap(&daemon_pid, SIGKILL);
    daemon_pid = daemon_spawn_at(sock, report, sizeof report);
    if (report[0] != 'R')
        fprintf(stderr, "  daemon did not start: %s\n", report);
    REQUIRE(report[0] == 'R');
}

/* SIGTERM; true when it exited cleanly (no leak, no crash). */
static inline bool daemon_down(void)
{
    int status = -1;
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, &status, 0);
    }
    daemon_pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        fprintf(stderr, "  daemon exit status 0x%x (see %s/daemon.log)\n", status, dir);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static inline int conn(void)
{
    tm_error err = { 0 };
    int fd = tm_daemon_connect(sock, false, NULL, &err);
    if (fd < 0)
        fprintf(stderr, "  connect: %s\n", err.msg);
    return fd;
}

static inline int create(int c, const char *name, const char *img, tm_error *err)
{
    int fd = open(image(img), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "%s", image(img));
    int ret = tm_daemon_create(c, name, fd, -1, "sim", img, NULL, NULL, 0, err);
    close(fd);
    return ret;
}

static inline struct tm_daemon_status status(int c)
{
    struct tm_daemon_status st = { 0 };
    tm_error err = { 0 };
    if (tm_daemon_status(c, &st, &err) < 0)
        fprintf(stderr, "  status: %s\n", err.msg);
    return st;
}

static inline void inspect(int c, const char *name, struct tm_enclave_info *info)
{
    tm_error err = { 0 };
    REQUIRE(tm_daemon_inspect(c, name, info, &err) == 0);
}

/* An ATTACH on connection c without mapping anything: the lease is this
 * process's until DETACH. */
struct raw_lease {
    uint64_t id;
    uint8_t token[TM_LEASE_TOKEN_SIZE];
    uint32_t slot;
};

static inline int raw_attach(int c, const char *name, uint32_t threads, struct raw_lease *l, tm_error *err)
{
    struct tm_proto_attach req = { .threads = threads };
    snprintf(req.name, sizeof req.name, "%s", name);
    _cleanup_reply_ struct tm_daemon_reply *r = NULL;
    int ret = tm_daemon_request(c, TM_REQ_ATTACH, &req, sizeof req, NULL, 0, &r, err);
    if (ret < 0)
        return ret;
    struct tm_proto_attach_reply *a = malloc(sizeof *a);
    memcpy(a, r->payload, sizeof *a);
    l->id = a->attach_id;
    l->slot = a->slot;
    memcpy(l->token, a->token, sizeof l->token);
    ret = tm_proto_check_attach_reply(a, r->nfds, err);
    free(a);
    return ret;
}

static inline int raw_detach(int c, const struct raw_lease *l, tm_error *err)
{
    struct tm_proto_detach req = { .attach_id = l->id };
    memcpy(req.token, l->token, sizeof req.token);
    _cleanup_reply_ struct tm_daemon_reply *r = NULL;
    return tm_daemon_request(c, TM_REQ_DETACH, &req, sizeof req, NULL, 0, &r, err);
}

static inline int fixture_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

/* A fresh state directory with the socket in run/ below it. */
static inline void fixture_init(const char *name)
{
    char tmpl[128];
    snprintf(tmpl, sizeof tmpl, "/tmp/teemate-%s.XXXXXX", name);
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(dir, sizeof dir, "%s", tmpl);
    snprintf(sock, sizeof sock, "%s/run/teemated.sock", dir);
    setenv("TEEMATE_STATE_DIR", dir, 1);
    unsetenv("TEEMATE_SOCKET");
    signal(SIGPIPE, SIG_IGN);
}

/* Stop a daemon a failed test left, between tests. */
static inline void fixture_between(void)
{
    reap(&daemon_pid, SIGKILL);
}

/* Keep the directory when something failed (its daemon.log tells why). */
static inline void fixture_finish(void)
{
    reap(&daemon_pid, SIGKILL);
    if (tm_test_failures)
        fprintf(stderr, "  kept %s (daemon.log there)\n", dir);
    else
        nftw(dir, fixture_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Whether the example images are there (else the caller skips). */
static inline bool fixture_images(void)
{
    return access(image("hello"), R_OK) == 0 && access(image("tests/spin"), R_OK) == 0;
}

#endif
