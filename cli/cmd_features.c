/* teemate features: what this runtime supports, as runc's JSON document. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"

static const char usage[] =
    "Usage: teemate features\n\n"
    "Print, as JSON (the runtime spec's features document, as runc prints it),\n"
    "what config.json may use with this runtime: OCI versions, hooks, mount\n"
    "options, namespaces, capabilities, cgroup versions, seccomp actions,\n"
    "operators and architectures, AppArmor, SELinux.\n";

int tm_cmd_features(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int c;
    while ((c = tm_cli_getopt("features", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tm_cli_usage("features", "takes no arguments ('%s' is extra)", argv[optind]);
    char *json = tm_container_features_json(TM_VERSION);
    if (!json) {
        tm_error err = { 0 };
        tm_error_set(&err, ENOMEM, "cannot encode the features: out of memory");
        return tm_cli_fail(&err);
    }
    puts(json);
    free(json);
    return 0;
}
