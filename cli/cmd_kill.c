/* teemate kill: a signal to a container's init, or to all its processes. */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"

static const char usage[] =
    "Usage: teemate kill [--all] ID [SIGNAL]\n\n"
    "Send SIGNAL (default SIGTERM) to the init of the container ID. SIGNAL is a\n"
    "number or a name, with or without SIG (9, KILL, SIGKILL, RTMIN+1).\n\n"
    "Options:\n"
    "  --all, -a   signal every process in the container's cgroup (also once\n"
    "              init has exited: what it left behind)\n";

int tm_cmd_kill(int argc, char **argv)
{
    static const struct option opts[] = {
        { "all", no_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    bool all = false;
    int c;
    while ((c = tm_cli_getopt("kill", argc, argv, "ah", opts)) != -1) {
        switch (c) {
        case 'a': all = true; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return tm_cli_usage("kill", "expects a container ID");
    if (optind + 2 < argc)
        return tm_cli_usage("kill", "takes an ID and a SIGNAL ('%s' is extra)", argv[optind + 2]);
    const char *id = argv[optind];
    int sig = optind + 1 < argc ? tm_cli_oci_signal(argv[optind + 1]) : SIGTERM;
    if (sig < 0)
        return tm_cli_usage("kill", "unknown signal '%s'", argv[optind + 1]);
    tm_error err = { 0 };
    return tm_container_kill(tm_cli_oci_root(), id, sig, all, &err) < 0 ? tm_cli_fail(&err) : 0;
}
