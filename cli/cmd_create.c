/* teemate create: runc's create. The container is made up to the point of
 * exec and parked there (waiting on ROOT/ID/exec.fifo) until `teemate start`. */
#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"

static const char usage[] =
    "Usage: teemate create [OPTIONS] ID\n\n"
    "Create the container ID from an OCI bundle (a directory holding config.json\n"
    "and usually the root filesystem): namespaces, cgroup, mounts, credentials\n"
    "and, for a container of a shared enclave (annotation org.teemate.enclave),\n"
    "the attach. Its process is not run until 'teemate start ID'; this command\n"
    "exits once the container is created, leaving its init behind.\n\n"
    "Options:\n"
    "  --bundle, -b DIR        the bundle (default: the current directory)\n"
    "  --pid-file FILE         write init's pid to FILE\n"
    "  --console-socket PATH   send the pty master of a terminal container\n"
    "                          (process.terminal) to this unix socket\n"
    "  --preserve-fds N        pass fds 3..3+N-1 on to the container's process\n"
    "  --no-pivot              accepted and ignored (teemate always uses pivot_root)\n"
    "  --no-new-keyring        accepted and ignored (no session keyring is made)\n";

int tm_cmd_create(int argc, char **argv)
{
    static const struct option opts[] = {
        { "bundle", required_argument, NULL, 'b' },
        { "pid-file", required_argument, NULL, 'p' },
        { "console-socket", required_argument, NULL, 'c' },
        { "preserve-fds", required_argument, NULL, 'f' },
        { "no-pivot", no_argument, NULL, 'P' },
        { "no-new-keyring", no_argument, NULL, 'K' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct tm_container_options o = { .wait_for_start = true };
    const char *bundle = NULL;
    uint64_t v;
    int c;
    while ((c = tm_cli_getopt("create", argc, argv, "b:h", opts)) != -1) {
        switch (c) {
        case 'b': bundle = optarg; break;
        case 'p': o.pid_file = optarg; break;
        case 'c': o.console_socket = optarg; break;
        case 'f':
            if (tm_cli_parse_u64(optarg, 1024, &v) < 0)
                return tm_cli_usage("create", "--preserve-fds takes 0 to 1024");
            o.preserve_fds = (int)v;
            break;
        case 'P': case 'K': break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (!(o.id = tm_cli_oci_one_id("create", argc, argv)))
        return TM_EXIT_USAGE;

    tm_error err = { 0 };
    char dir[PATH_MAX];
    struct tm_container_spec spec = { 0 };
    pid_t pid;
    if (tm_cli_oci_cgroup_manager_check(&err) < 0 || tm_state_id_check(o.id, &err) < 0 ||
        tm_cli_oci_bundle(bundle, dir, &err) < 0 || tm_spec_load_bundle(dir, &spec, &err) < 0)
        return tm_cli_fail(&err);
    o.bundle = dir;
    o.state_root = tm_cli_oci_root();
    int ret = tm_container_create(&spec, &o, &pid, NULL, &err);
    tm_spec_free(&spec);
    return ret < 0 ? tm_cli_fail(&err) : 0;
}
