/* `run` in the foreground: wait for init, passing on the signals a user
 * sends to the runtime (Ctrl-C, kill) to the container. */
#include "container/container.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

int tm_container_wait(pid_t pid)
{
    static const int passed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
        sigaddset(&set, passed[i]);
    sigprocmask(SIG_BLOCK, &set, &old);
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            break;
        int sig = sigwaitinfo(&set, NULL);
        if (sig > 0 && sig != SIGCHLD)
            kill(pid, sig);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
