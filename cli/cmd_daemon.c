/* teemate daemon: run teemated, in the background (default) or here. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "daemon/client.h"
#include "daemon/daemon.h"

static const char usage[] =
    "Usage: teemate daemon [--socket PATH] [--state-dir DIR] [--foreground]\n\n"
    "Run teemated, which owns shared enclaves, their container slots and TCS\n"
    "leases, and answers on a unix socket (directory 0700, socket 0600, only\n"
    "this user or root may connect). Without --foreground it starts in the\n"
    "background, logging to DIR/teemated.log, and returns once it listens.\n"
    "Other verbs start it the same way when none runs. SIGTERM stops it;\n"
    "enclaves are not kept across restarts.\n\n"
    "Options:\n"
    "  --socket PATH     where to listen (default: $TEEMATE_SOCKET, else\n"
    "                    <state dir>/teemated.sock)\n"
    "  --state-dir DIR   the state directory (sets TEEMATE_STATE_DIR)\n"
    "  --foreground      stay in the foreground and log to stderr\n";

int tm_cmd_daemon(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "state-dir", required_argument, NULL, 'd' },
        { "foreground", no_argument, NULL, 'f' },
        { "ready-fd", required_argument, NULL, 'r' },   /* internal: the spawner's pipe */
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct tm_daemon_options o = { .ready_fd = -1 };
    bool foreground = false;
    uint64_t v;
    int c;
    while ((c = tm_cli_getopt("daemon", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 's': o.socket_path = optarg; break;
        case 'd': setenv("TEEMATE_STATE_DIR", optarg, 1); break;
        case 'f': foreground = true; break;
        case 'r':
            if (tm_cli_parse_u64(optarg, INT_MAX, &v) < 0)
                return tm_cli_usage("daemon", "bad --ready-fd '%s'", optarg);
            o.ready_fd = (int)v;
            break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tm_cli_usage("daemon", "takes no arguments ('%s')", argv[optind]);
    tm_error err = { 0 };
    if (foreground)
        return tm_daemon_run(&o, &err) < 0 ? tm_cli_fail(&err) : 0;
    char path[PATH_MAX];
    int pid;
    if (tm_daemon_socket_resolve(o.socket_path, path, sizeof path, &err) < 0 ||
        tm_daemon_spawn(path, &pid, &err) < 0)
        return tm_cli_fail(&err);
    printf("teemated listening on %s (pid %d)\n", path, pid);
    return 0;
}
