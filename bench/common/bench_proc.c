#include "bench_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "util/cleanup.h"

pid_t tm_bench_spawn(char *const argv[], const char *log, int out_fd, int fd3)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* the bench's handlers and mask are not the child's */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
        _exit(127);
    /* every fd above 10 first (close-on-exec), so no dup2 below overwrites another */
    int null = fcntl(open("/dev/null", O_RDWR | O_CLOEXEC), F_DUPFD_CLOEXEC, 10);
    int lfd = log ? fcntl(open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), F_DUPFD_CLOEXEC, 10) : -1;
    int out = out_fd >= 0 ? fcntl(out_fd, F_DUPFD_CLOEXEC, 10) : -1;
    int f3 = fd3 >= 0 ? fcntl(fd3, F_DUPFD_CLOEXEC, 10) : -1;
    if (lfd < 0)
        lfd = null;
    if (dup2(null, 0) < 0 || dup2(out >= 0 ? out : lfd, 1) < 0 || dup2(lfd, 2) < 0 ||
        (f3 >= 0 && dup2(f3, 3) < 0))
        _exit(127);
    execvp(argv[0], argv);
    _exit(127);
}

static int tm_bench_status(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tm_bench_run(char *const argv[], const char *log, char *out, size_t len)
{
    int p[2] = { -1, -1 };
    if (out && pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = tm_bench_spawn(argv, log, p[1], -1);
    if (p[1] >= 0)
        close(p[1]);
    size_t have = 0;
    while (out && pid > 0) {
        ssize_t n = read(p[0], out + have, len - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
        if (have == len - 1) {   /* the rest is not wanted, but must not block the child */
            char sink[512];
            while (read(p[0], sink, sizeof sink) > 0)
                ;
            break;
        }
    }
    if (out)
        out[have] = '\0', close(p[0]);
    int status;
    if (pid < 0)
        return -1;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return tm_bench_status(status);
}

int tm_bench_stop(pid_t *pid, double grace_s)
{
    int status, ret = -1;
    if (*pid <= 0)
        return -1;
    kill(*pid, SIGTERM);
    for (double end = tm_bench_now_s() + grace_s;;) {
        pid_t r = waitpid(*pid, &status, WNOHANG);
        if (r == *pid) {
            ret = tm_bench_status(status);
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        if (tm_bench_now_s() > end) {
            kill(*pid, SIGKILL);
            if (waitpid(*pid, &status, 0) == *pid)
                ret = tm_bench_status(status);
            break;
        }
        nanosleep(&(struct timespec){ 0, 20000000 }, NULL);   /* polling its exit */
    }
    *pid = 0;
    return ret;
}

int tm_bench_free_port(void)
{
    _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) < 0)
        return -1;
    return ntohs(a.sin_port);
}

void tm_bench_pause_ms(long ms)
{
    nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
}

void tm_bench_loadavg(char *out, size_t len)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double a = 0, b = 0, c = 0;
    if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(out, len, "%.2f, %.2f, %.2f", a, b, c);
    else
        snprintf(out, len, "unknown");
    if (f)
        fclose(f);
}

pid_t tm_bench_daemon_start(const char *teemate, const char *socket, const char *log)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    char *argv[] = { (char *)teemate, "daemon", "--foreground", "--ready-fd", "3",
                     socket ? "--socket" : NULL, (char *)socket, NULL };
    pid_t pid = tm_bench_spawn(argv, log, -1, p[1]);
    close(p[1]);
    char line[512];
    ssize_t n = pid < 0 ? -1 : read(p[0], line, sizeof line - 1);
    close(p[0]);
    if (n > 0 && line[0] == 'R')
        return pid;
    if (pid > 0)
        tm_bench_stop(&pid, 10);
    return -1;
}
