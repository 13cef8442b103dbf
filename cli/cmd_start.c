/* teemate start: let a created container's init go on to exec its process. */
#include <stdio.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"

static const char usage[] =
    "Usage: teemate start ID\n\n"
    "Start the process of the created container ID (teemate create): its init,\n"
    "parked before exec, goes on. Exits once its process has been exec'd; if\n"
    "that failed (a program that is no executable), with init's reason.\n";

int tm_cmd_start(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int c;
    while ((c = tm_cli_getopt("start", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    const char *id = tm_cli_oci_one_id("start", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    return tm_container_start(tm_cli_oci_root(), id, &err) < 0 ? tm_cli_fail(&err) : 0;
}
