/* teemate daemon: run teemated, in the background (default) or here. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "daemon/client.h"
#include "daemon/daemon.h"
#include "util/size.h"

static const char usage[] =
    "Usage: teemate daemon [--socket PATH] [--state-dir DIR] [--foreground]\n"
    "                      [--max-enclave-size SIZE] [--max-epc SIZE]\n"
    "                      [--idle-timeout SECONDS] [--conns-per-process N]\n\n"
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
    "  --foreground      stay in the foreground and log to stderr\n"
    "  --max-enclave-size SIZE\n"
    "                    refuse to create an enclave with a larger ELRANGE\n"
    "                    (default 64g, the largest the loader takes)\n"
    "  --max-epc SIZE    EPC all enclaves may commit: what each adds before EINIT\n"
    "                    and its heap, and slots and TCSs as their pages come (a\n"
    "                    new instance's slot is capped at what is left; default:\n"
    "                    half of the RAM)\n"
    "  --idle-timeout SECONDS\n"
    "                    close a connection that holds no lease and sends no\n"
    "                    request for this long (default 30)\n"
    "  --conns-per-process N\n"
    "                    connections one process may hold (default 64)\n";

int tm_cmd_daemon(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "state-dir", required_argument, NULL, 'd' },
        { "foreground", no_argument, NULL, 'f' },
        { "max-enclave-size", required_argument, NULL, 'E' },
        { "max-epc", required_argument, NULL, 'P' },
        { "idle-timeout", required_argument, NULL, 'I' },
        { "conns-per-process", required_argument, NULL, 'C' },
        { "ready-fd", required_argument, NULL, 'r' },   /* internal: the spawner's pipe */
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct tm_daemon_options o = { .ready_fd = -1 };
    bool foreground = false;
    const char *pass[TM_DAEMON_SPAWN_MAX_ARGS + 1] = { 0 };   /* the limits, for the background daemon */
    size_t npass = 0;
    uint64_t v;
    int c;
    while ((c = tm_cli_getopt("daemon", argc, argv, "h", opts)) != -1) {
        if (npass + 2 > TM_DAEMON_SPAWN_MAX_ARGS)
            return tm_cli_usage("daemon", "too many options");
        switch (c) {
        case 's': o.socket_path = optarg; break;
        case 'd': setenv("TEEMATE_STATE_DIR", optarg, 1); break;
        case 'f': foreground = true; break;
        case 'r':
            if (tm_cli_parse_u64(optarg, INT_MAX, &v) < 0)
                return tm_cli_usage("daemon", "bad --ready-fd '%s'", optarg);
            o.ready_fd = (int)v;
            break;
        case 'E':
        case 'P':
            pass[npass++] = c == 'E' ? "--max-enclave-size" : "--max-epc";
            pass[npass++] = optarg;
            if (tm_parse_size(optarg, 1ULL << 50, &v) < 0 || v < 4096)
                return tm_cli_usage("daemon", "--%s takes a size of at least 4k (512m, 8g)",
                                    c == 'E' ? "max-enclave-size" : "max-epc");
            *(c == 'E' ? &o.max_enclave_size : &o.max_epc) = v;
            break;
        case 'I':
            if (tm_cli_parse_u64(optarg, 86400, &v) < 0 || v == 0)
                return tm_cli_usage("daemon", "--idle-timeout takes 1 to 86400 seconds");
            o.idle_timeout_ms = (uint32_t)v * 1000;
            pass[npass++] = "--idle-timeout";
            pass[npass++] = optarg;
            break;
        case 'C':
            if (tm_cli_parse_u64(optarg, 1024, &v) < 0 || v == 0)
                return tm_cli_usage("daemon", "--conns-per-process takes 1 to 1024");
            o.conns_per_pid = (uint32_t)v;
            pass[npass++] = "--conns-per-process";
            pass[npass++] = optarg;
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
        tm_daemon_spawn_with(path, pass, &pid, &err) < 0)
        return tm_cli_fail(&err);
    printf("teemated listening on %s (pid %d)\n", path, pid);
    return 0;
}
