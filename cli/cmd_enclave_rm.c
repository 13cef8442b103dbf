/* teemate enclave rm NAME [--force]. */
#include <stdio.h>

#include "cli.h"
#include "daemon/client.h"
#include "util/cleanup.h"

static const char usage[] =
    "Usage: teemate enclave rm NAME [--force] [--socket PATH]\n\n"
    "Remove a shared enclave. One that processes are attached to is refused,\n"
    "unless --force: then no new process may attach and the enclave is freed\n"
    "when the last one detaches or exits.\n";

int tm_cmd_enclave_rm(int argc, char **argv)
{
    static const struct option opts[] = {
        { "force", no_argument, NULL, 'f' },
        { "socket", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *socket = NULL;
    bool force = false;
    int c;
    while ((c = tm_cli_getopt("enclave rm", argc, argv, "fh", opts)) != -1) {
        switch (c) {
        case 'f': force = true; break;
        case 's': socket = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind != argc - 1)
        return tm_cli_usage("enclave rm", "expects one NAME");
    const char *name = argv[optind];
    tm_error err = { 0 };
    if (tm_enclave_name_check(name, &err) < 0)
        return tm_cli_usage("enclave rm", "%s", err.msg);
    _cleanup_close_ int conn = tm_cli_daemon_connect(socket, &err);
    bool pending;
    if (conn < 0 || tm_daemon_remove(conn, name, force, &pending, &err) < 0)
        return tm_cli_fail(&err);
    if (pending)
        printf("%s: in use; removed when the last process detaches\n", name);
    else
        printf("%s: removed\n", name);
    return 0;
}
