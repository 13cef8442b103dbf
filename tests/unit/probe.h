/* Whether this process can touch an address, asked in a child process so that
 * a fault kills the child, not the test. */
#ifndef TM_TEST_PROBE_H
#define TM_TEST_PROBE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Read (or, with write, rewrite) the byte at addr in a child: 0 if it could,
 * the signal that killed it, 1000 + its exit status, or -1 if it did not run. */
static inline int probe_access(uintptr_t addr, int write)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        volatile uint8_t *p = (volatile uint8_t *)addr;
        if (write)
            *p = *p;
        else
            (void)*p;
        _exit(0);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status) ? 1000 + WEXITSTATUS(status) : 0;
}

#endif
