/* exec --tty in the foreground without --console-socket: as runc, the
 * process's terminal is a pty made in the container whose master comes back
 * to teemate (over a socketpair, as it would go to an engine), and teemate
 * relays: its stdin to the pty, the pty to its stdout, its own terminal in
 * raw mode meanwhile, window size changes passed on. */
#include "container/exec_tty.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/file.h"

static int recv_fd(int sock, tm_error *err)
{
    char name[256], control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                          .msg_controllen = sizeof control };
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
        return tm_error_set(err, EIO, "the process sent no terminal");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return tm_error_set(err, EIO, "the process sent no terminal");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void copy_winsize(int master)
{
    struct winsize ws;
    if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ioctl(master, TIOCSWINSZ, &ws);
}

/* What the pty has left, once the process is gone. */
static void drain(int master)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(master, buf, sizeof buf)) > 0 && tm_write_full(STDOUT_FILENO, buf, (size_t)n) == 0)
        ;
}

int tm_exec_tty_relay(int sock, pid_t pid, const sigset_t *forwarded, int *status, tm_error *err)
{
    _cleanup_close_ int master = recv_fd(sock, err);
    if (master < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return master;
    }
    sigset_t set = *forwarded;
    sigaddset(&set, SIGWINCH);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    struct termios saved;
    bool raw = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        cfmakeraw(&t);
        tcsetattr(STDIN_FILENO, TCSANOW, &t);
        copy_winsize(master);
    }
    bool in_open = true;
    int ws = 0;
    for (;;) {
        struct pollfd p[3] = { { .fd = sfd, .events = POLLIN }, { .fd = master, .events = POLLIN },
                               { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH)
                    copy_winsize(master);
                else if (si.ssi_signo != SIGCHLD)
                    kill(pid, (int)si.ssi_signo);
            }
            if (waitpid(pid, &ws, WNOHANG) == pid)
                break;
        }
        char buf[4096];
        ssize_t n;
        if (p[1].revents & (POLLIN | POLLHUP)) {
            n = read(master, buf, sizeof buf);
            if (n > 0)
                tm_write_full(STDOUT_FILENO, buf, (size_t)n);
            else if (waitpid(pid, &ws, 0) == pid)   /* the terminal's last holder closed it */
                break;
        }
        if (p[2].revents & (POLLIN | POLLHUP)) {
            n = read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0 || tm_write_full(master, buf, (size_t)n) < 0)
                in_open = false;
        }
    }
    drain(master);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    *status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
    return 0;
}
