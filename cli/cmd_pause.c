/* teemate pause: freeze every process of a container (its cgroup). */
#include <stdio.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"

static const char usage[] =
    "Usage: teemate pause ID\n\n"
    "Suspend every process in the container ID (freeze its cgroup: the v1\n"
    "freezer, else cgroup v2's cgroup.freeze), and wait until all are frozen.\n"
    "The container's status becomes paused; 'teemate resume ID' undoes it.\n";

int tm_cmd_pause(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int c;
    while ((c = tm_cli_getopt("pause", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    const char *id = tm_cli_oci_one_id("pause", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    return tm_container_pause(tm_cli_oci_root(), id, &err) < 0 ? tm_cli_fail(&err) : 0;
}
