/* teemate state: the runtime-spec state of one container, as JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/state.h"

static const char usage[] =
    "Usage: teemate state ID\n\n"
    "Print the OCI runtime state of the container ID as JSON: ociVersion, id,\n"
    "status (creating, created, running, stopped), pid (0 once stopped), bundle,\n"
    "rootfs, created, owner and annotations.\n";

int tm_cmd_state(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int c;
    while ((c = tm_cli_getopt("state", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    const char *id = tm_cli_oci_one_id("state", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    const char *root = tm_cli_oci_root();
    struct tm_container_state st;
    if (tm_state_load(root, id, &st, &err) < 0)
        return tm_cli_fail(&err);
    char *json = tm_state_oci_json(&st, tm_state_status(root, &st));
    tm_state_clear(&st);
    if (!json) {
        tm_error_set(&err, ENOMEM, "container \"%s\": cannot encode its state", id);
        return tm_cli_fail(&err);
    }
    puts(json);
    free(json);
    return 0;
}
