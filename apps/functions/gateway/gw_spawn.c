/* The gateway's helper processes (a cold invocation, a warm container's
 * keeper) are new processes of this binary, `teemate gateway --helper KIND
 * ...`, started with posix_spawn, not fork()ed copies of the gateway: the
 * gateway is multi-threaded, and a child forked while another thread held
 * a lock (OpenSSL takes its own while a worker hashes a name or signs an
 * enclave) waits on that lock forever. A new process starts with none held.
 *
 * The helper gets: argv = KIND PPID STATE_DIR OCI_ROOT SOCKET IMAGE ARGS...
 * (an empty SOCKET or IMAGE: none), its input on stdin, its report on fd 3,
 * one more descriptor on fd 4, nothing else of the gateway's. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "fn_invoke.h"
#include "gw.h"
#include "gw_warm.h"
#include "util/cleanup.h"

extern char **environ;

#define GW_HELPER_FIXED_ARGS 6   /* KIND PPID STATE_DIR OCI_ROOT SOCKET IMAGE */

/* fd where the helper finds it, or -1 to give it /dev/null. */
static int gw_spawn_place(posix_spawn_file_actions_t *fa, int fd, int at)
{
    if (fd < 0)
        return posix_spawn_file_actions_addopen(fa, at, "/dev/null", O_RDWR, 0);
    return posix_spawn_file_actions_adddup2(fa, fd, at);
}

int gw_spawn_helper(const struct gw *g, const char *kind, const char *const *args, int in_fd,
                    int report_fd, int extra_fd, pid_t *pid, tm_error *err)
{
    /* dup2 into 0, 3 and 4 must not overwrite a source still to be placed */
    int src[3] = { in_fd, report_fd, extra_fd }, moved[3] = { -1, -1, -1 };
    for (int i = 0; i < 3; i++)
        if (src[i] >= 0 && src[i] <= 4) {
            if ((moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10)) < 0)
                return tm_error_sys(err, "fcntl");
            src[i] = moved[i];
        }
    char ppid[24];
    snprintf(ppid, sizeof ppid, "%d", (int)getpid());
    const char *argv[GW_HELPER_FIXED_ARGS + 16] = {
        "teemate", "gateway", "--helper", kind, ppid, g->cfg.state_dir, g->cfg.oci_root ?: "",
        g->cfg.daemon_socket ?: "", g->cfg.image ?: "",
    };
    size_t n = 9;
    for (; args && *args && n < sizeof argv / sizeof argv[0] - 1; args++)
        argv[n++] = *args;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    /* the gateway's threads block the stop signals; SIGPIPE stays ignored,
     * as fn serve in a container expects (its stdout may have no reader) */
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    int r = gw_spawn_place(&fa, src[0], 0);
    if (!r)
        r = gw_spawn_place(&fa, src[1], 3);
    if (!r)
        r = gw_spawn_place(&fa, src[2], 4);
    if (!r)   /* none of the gateway's other descriptors (memfds, sockets) */
        r = posix_spawn_file_actions_addclosefrom_np(&fa, 5);
    if (!r)
        r = posix_spawn(pid, "/proc/self/exe", &fa, &at, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    for (int i = 0; i < 3; i++)
        if (moved[i] >= 0)
            close(moved[i]);
    if (r)
        return tm_error_set(err, r, "cannot start the gateway's %s helper: %s", kind, strerror(r));
    return 0;
}

/* All of stdin (at most max bytes), NUL-terminated; NULL on error. */
static char *gw_helper_stdin(size_t max)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (ssize_t k; buf; len += (size_t)k) {
        if (len + 1 == cap) {
            char *more = cap < max ? realloc(buf, cap * 2) : NULL;
            if (!more)
                break;
            buf = more, cap *= 2;
        }
        if ((k = read(0, buf + len, cap - 1 - len)) < 0 && errno == EINTR)
            k = 0;
        else if (k <= 0) {
            buf[len] = '\0';
            return buf;
        }
    }
    free(buf);
    return NULL;
}

int gw_helper_main(const struct gw_config *base, int argc, char **argv)
{
    if (argc < GW_HELPER_FIXED_ARGS) {
        fprintf(stderr, "teemate gateway --helper: the gateway's own; not for use by hand\n");
        return 2;
    }
    /* ends with the gateway (SIGTERM: a cold run ends its container first) */
    prctl(PR_SET_PDEATHSIG, !strcmp(argv[0], "warm") ? SIGKILL : SIGTERM);
    if (getppid() != (pid_t)atoi(argv[1]))
        return 1;
    struct gw g = { .cfg = *base };
    g.cfg.state_dir = argv[2];
    g.cfg.oci_root = *argv[3] ? argv[3] : NULL;
    g.cfg.daemon_socket = *argv[4] ? argv[4] : NULL;
    g.cfg.image = *argv[5] ? argv[5] : NULL;
    gw_dirs_init(&g);
    char **args = argv + GW_HELPER_FIXED_ARGS;
    int nargs = argc - GW_HELPER_FIXED_ARGS;
    if (!strcmp(argv[0], "cold") && nargs == 2) {   /* NAME ACTIVATION_ID, params on stdin */
        struct gw_job job = { .params = gw_helper_stdin((size_t)1 << 30)   /* --max-body's bound */ };
        snprintf(job.name, sizeof job.name, "%s", args[0]);
        snprintf(job.activation_id, sizeof job.activation_id, "%s", args[1]);
        gw_cold_helper(&g, &job, 3);
    }
    if (!strcmp(argv[0], "warm") && nargs == 3) {   /* ACTION ID SOCK, console.log to fd 4 */
        struct gw_warm w = { .logs = 4 };
        snprintf(w.action, sizeof w.action, "%s", args[0]);
        snprintf(w.id, sizeof w.id, "%s", args[1]);
        snprintf(w.sock, sizeof w.sock, "%s", args[2]);
        gw_warm_helper(&g, &w, 3);
    }
    fprintf(stderr, "teemate gateway --helper: unknown helper '%s'\n", argv[0]);
    return 2;
}
