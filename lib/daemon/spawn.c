/* Starting teemated in the background and waiting until it listens. The
 * daemon reports on a pipe (daemon/ready.h): readiness is an event, not a
 * guess, so nothing here sleeps or polls the socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/client.h"
#include "daemon/ready.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/state_dir.h"

#define SPAWN_TIMEOUT_MS 10000
#define HIGH_FD 10   /* where the child's fds wait, clear of 0..3 */

extern char **environ;

/* environ with TEEMATE_STATE_DIR=state (absolute): the daemon must find the
 * same state directory whatever its working directory. */
static char **daemon_environ(const char *state)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    char *var = malloc(strlen(state) + sizeof "TEEMATE_STATE_DIR=");
    if (!env || !var) {
        free(env);
        free(var);
        return NULL;
    }
    sprintf(var, "TEEMATE_STATE_DIR=%s", state);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "TEEMATE_STATE_DIR=", 18))
            env[k++] = environ[i];
    env[k++] = var;
    env[k] = NULL;
    return env;
}

static void free_environ(char **env)
{
    if (!env)
        return;
    for (size_t i = 0; env[i]; i++)
        if (!strncmp(env[i], "TEEMATE_STATE_DIR=", 18))
            free(env[i]);
    free(env);
}

static int absolute_state_dir(char *buf, size_t len, tm_error *err)
{
    char dir[PATH_MAX], cwd[PATH_MAX];
    int ret = tm_state_dir(dir, sizeof dir, err);
    if (ret < 0)
        return ret;
    if (dir[0] != '/' && !getcwd(cwd, sizeof cwd))
        return tm_error_sys(err, "cannot resolve the state directory %s", dir);
    int n = dir[0] == '/' ? snprintf(buf, len, "%s", dir) : snprintf(buf, len, "%s/%s", cwd, dir);
    if (n < 0 || (size_t)n >= len)
        return tm_error_set(err, ENAMETOOLONG, "state directory path is too long");
    return 0;
}

/* In the grandchild: fds 0..2 and the report pipe as 3, nothing else, then exec. */
static void __attribute__((noreturn))
exec_daemon(const char *exe, char *const argv[], char *const envp[], int null_fd, int log_fd,
            int ready_fd)
{
    if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(log_fd, 2) < 0 || dup2(ready_fd, 3) < 0)
        _exit(127);
    close_range(4, ~0U, 0);
    if (chdir("/") == 0)
        execve(exe, argv, envp);
    static const char msg[] = "E2 cannot execute the teemate program (set TEEMATE_EXE)\n";
    ssize_t ignored = write(3, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
}

/* Read the daemon's report (until EOF or the deadline) into buf. */
static int read_report(int fd, char *buf, size_t cap, tm_error *err)
{
    size_t len = 0;
    double deadline = tm_now_ms() + SPAWN_TIMEOUT_MS;
    for (;;) {
        int left = (int)(deadline - tm_now_ms());
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = left > 0 ? poll(&p, 1, left) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return tm_error_sys(err, "waiting for teemated to start");
        if (r == 0)
            return tm_error_set(err, ETIMEDOUT, "teemated did not report that it listens within %d s",
                                SPAWN_TIMEOUT_MS / 1000);
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t)n) == cap - 1)
            break;
    }
    buf[len] = '\0';
    return 0;
}

/* The log: never through a symlink, and only a file of ours that others
 * cannot read (someone of another uid in a shared state directory could
 * otherwise plant one and have the daemon append to a file of its choice). */
static int open_log(const char *path, tm_error *err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
                                  O_NOCTTY | O_NONBLOCK, 0600);
    if (fd < 0 && errno == ELOOP)
        return tm_error_set(err, ELOOP, "the daemon log %s is a symbolic link: refusing to write "
                            "through it", path);
    if (fd < 0)
        return tm_error_sys(err, "cannot open the daemon log %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return tm_error_sys(err, "cannot stat the daemon log %s", path);
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1)
        return tm_error_set(err, EPERM, "the daemon log %s is not a regular file of this user "
                            "(uid %u) with one link: remove it", path, (unsigned)geteuid());
    if (st.st_mode & 022)
        return tm_error_set(err, EPERM, "the daemon log %s can be written by others (mode %04o): "
                            "remove it", path, (unsigned)(st.st_mode & 07777));
    if (fcntl(fd, F_SETFL, O_APPEND) < 0)   /* blocking again: O_NONBLOCK only kept a fifo from hanging */
        return tm_error_sys(err, "cannot open the daemon log %s", path);
    return TM_STEAL_FD(fd);
}

int tm_daemon_spawn(const char *path, int *pid, tm_error *err)
{
    return tm_daemon_spawn_with(path, NULL, pid, err);
}

int tm_daemon_spawn_with(const char *path, const char *const *args, int *pid, tm_error *err)
{
    char state[PATH_MAX], log_path[PATH_MAX + 16];
    int ret = absolute_state_dir(state, sizeof state, err);
    if (ret < 0)
        return ret;
    snprintf(log_path, sizeof log_path, "%s/teemated.log", state);
    _cleanup_close_ int log_fd = open_log(log_path, err);
    if (log_fd < 0)
        return log_fd;
    _cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int pipefd[2];
    if (null_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0)
        return tm_error_sys(err, "cannot start teemated");
    _cleanup_close_ int rd = pipefd[0];
    _cleanup_close_ int wr = pipefd[1];
    /* Out of 0..3, so that the child's dup2 calls cannot clobber one another. */
    _cleanup_close_ int hi_null = fcntl(null_fd, F_DUPFD_CLOEXEC, HIGH_FD);
    _cleanup_close_ int hi_log = fcntl(log_fd, F_DUPFD_CLOEXEC, HIGH_FD);
    _cleanup_close_ int hi_wr = fcntl(wr, F_DUPFD_CLOEXEC, HIGH_FD);
    if (hi_null < 0 || hi_log < 0 || hi_wr < 0)
        return tm_error_sys(err, "cannot start teemated");

    /* Absolute: the daemon starts in "/". */
    char exe[PATH_MAX];
    const char *env = getenv("TEEMATE_EXE");
    if (!realpath(env && *env ? env : "/proc/self/exe", exe))
        return tm_error_sys(err, "cannot find the teemate program %s", env && *env ? env : "");
    char *argv[8 + TM_DAEMON_SPAWN_MAX_ARGS] = { "teemate", "daemon", "--foreground", "--socket",
                                                 (char *)path, "--ready-fd", "3" };
    for (size_t i = 0, k = 7; args && args[i] && i < TM_DAEMON_SPAWN_MAX_ARGS; i++)
        argv[k++] = (char *)args[i];
    char **envp = daemon_environ(state);
    if (!envp)
        return tm_error_set(err, ENOMEM, "out of memory");
    pid_t child = fork();
    if (child == 0) {
        /* A session of its own, and a grandchild so that nobody has to reap it. */
        if (setsid() < 0)
            _exit(1);
        pid_t grandchild = fork();
        if (grandchild == 0)
            exec_daemon(exe, argv, envp, hi_null, hi_log, hi_wr);
        _exit(grandchild < 0 ? 1 : 0);
    }
    free_environ(envp);
    if (child < 0)
        return tm_error_sys(err, "cannot fork to start teemated");
    close(TM_STEAL_FD(wr));
    close(TM_STEAL_FD(hi_wr));   /* only the daemon holds the write end now */
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    char report[TM_READY_REPORT_MAX];
    ret = read_report(rd, report, sizeof report, err);
    if (ret < 0)
        return tm_error_prefix(err, "starting teemated (log: %s)", log_path);
    ret = tm_daemon_ready_parse(report, pid, err);
    if (ret < 0 && ret != -EALREADY)
        tm_error_prefix(err, "teemated did not start (log: %s)", log_path);
    return ret;
}
