/* teemate delete: remove a container's state, cgroup and (with --force) init. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"

static const char usage[] =
    "Usage: teemate delete [--force] ID\n\n"
    "Remove the container ID: its cgroup and its state. A stopped or a created\n"
    "(not yet started) container is removed as it is; a running one only with\n"
    "--force.\n\n"
    "Options:\n"
    "  --force, -f   SIGKILL a running container first; a container that does\n"
    "                not exist is then not an error\n";

int tm_cmd_delete(int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    bool force = false;
    int c;
    while ((c = tm_cli_getopt("delete", argc, argv, "fh", opts)) != -1) {
        switch (c) {
        case 'f': force = true; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    const char *id = tm_cli_oci_one_id("delete", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    int ret = tm_container_delete(tm_cli_oci_root(), id, force, &err);
    /* As runc: deleting what is already gone is what --force asks for. */
    if (ret == -ENOENT && force)
        return 0;
    return ret < 0 ? tm_cli_fail(&err) : 0;
}
