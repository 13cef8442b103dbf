/* teemate resume: thaw a paused container. */
#include <stdio.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"

static const char usage[] =
    "Usage: teemate resume ID\n\n"
    "Thaw the processes of the paused container ID; its status goes back to\n"
    "running (or created, if it was paused before start).\n";

int tm_cmd_resume(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int c;
    while ((c = tm_cli_getopt("resume", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    const char *id = tm_cli_oci_one_id("resume", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    return tm_container_resume(tm_cli_oci_root(), id, &err) < 0 ? tm_cli_fail(&err) : 0;
}
