/* teemate spec: runc's spec, a default config.json to start a bundle from. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "container/spec.h"
#include "util/cleanup.h"

static const char usage[] =
    "Usage: teemate spec [--bundle DIR]\n\n"
    "Write the runtime-spec's default configuration (as runc spec does: root\n"
    "filesystem \"rootfs\", process [\"sh\"] on a terminal, the usual mounts,\n"
    "namespaces, capabilities and masked paths) to DIR/config.json. An existing\n"
    "config.json is never overwritten. Add the annotation org.teemate.enclave to\n"
    "make it a container of a shared enclave.\n\n"
    "Options:\n"
    "  --bundle, -b DIR   where to write config.json (default: the current directory)\n";

int tm_cmd_spec(int argc, char **argv)
{
    static const struct option opts[] = {
        { "bundle", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *bundle = ".";
    int c;
    while ((c = tm_cli_getopt("spec", argc, argv, "b:h", opts)) != -1) {
        switch (c) {
        case 'b': bundle = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tm_cli_usage("spec", "takes no arguments ('%s')", argv[optind]);
    tm_error err = { 0 };
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path)) {
        tm_error_set(&err, ENAMETOOLONG, "bundle path %s is too long", bundle);
        return tm_cli_fail(&err);
    }
    _cleanup_free_ char *json = tm_spec_default_json();
    if (!json) {
        tm_error_set(&err, ENOMEM, "cannot make the default configuration");
        return tm_cli_fail(&err);
    }
    /* O_EXCL: never overwrite, even one made between a check and the write. */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) {
        tm_error_set(&err, EEXIST, "File config.json exists. Remove it first");
        return tm_cli_fail(&err);
    }
    size_t len = strlen(json);
    bool newline = len && json[len - 1] != '\n';
    if (fd < 0 || write(fd, json, len) != (ssize_t)len || (newline && write(fd, "\n", 1) != 1)) {
        tm_error_sys(&err, "cannot write %s", path);
        if (fd >= 0)
            unlink(path);
        return tm_cli_fail(&err);
    }
    return 0;
}
