/* teemate run: create a container and run it to the end, in one of two forms.
 * With "--" in the arguments, TeeMate's quick form builds the spec from its
 * options (spec_run.c); without, runc's run takes an OCI bundle. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"
#include "container/spec_run.h"
#include "util/size.h"

static const char usage[] =
    "Usage: teemate run [OPTIONS] -- PROGRAM [ARGS...]\n"
    "       teemate run [--bundle DIR] [--pid-file F] [--console-socket S]\n"
    "                   [--detach] [--preserve-fds N] ID\n\n"
    "Create a container, run its process, wait for it, remove the container and\n"
    "exit with the process's exit code (128 + N when killed by signal N).\n"
    "SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to teemate are passed on to it.\n\n"
    "With '--', the quick form: no bundle; the container runs PROGRAM with the\n"
    "runtime-spec's default configuration narrowed by these options. It never\n"
    "outlives teemate: if teemate is killed, so is the container.\n"
    "  --rootfs DIR           root filesystem (default: the host's, with a new /proc)\n"
    "  --enclave NAME         attach to the shared enclave NAME (teemate enclave create)\n"
    "                         and run its main with PROGRAM ARGS as argv\n"
    "  --enclave-memory SIZE  cap of the container's enclave slot (\"16MiB\")\n"
    "  --memory SIZE          memory limit (\"64m\", \"1GiB\")\n"
    "  --pids N               at most N processes\n"
    "  --cpus X               CPU time as a number of CPUs (\"0.5\": half of one)\n"
    "  --net none|host        a network namespace with only loopback (default), or the host's\n"
    "  --hostname NAME        default \"teemate\"\n"
    "  --name ID              the container's id (default run-<teemate's pid>)\n"
    "  --stats                print where creation's time went on stderr (an\n"
    "                         enclave container's init adds its own phases)\n\n"
    "Without '--', runc's run of the OCI bundle's config.json as container ID:\n"
    "  --bundle, -b DIR       the bundle (default: the current directory)\n"
    "  --pid-file FILE        write init's pid to FILE\n"
    "  --console-socket PATH  where a terminal container's pty master is sent\n"
    "  --detach, -d           do not wait: exit once the process runs, leaving\n"
    "                         the container for 'teemate delete'\n"
    "  --preserve-fds N       pass fds 3..3+N-1 on to the process\n"
    "  --no-pivot, --no-new-keyring   accepted and ignored\n";

enum {
    O_BUNDLE = 'b', O_DETACH = 'd', O_HELP = 'h',
    O_PID_FILE = 256, O_CONSOLE, O_PRESERVE, O_IGNORED,
    O_ROOTFS, O_ENCLAVE, O_ENCLAVE_MEMORY, O_MEMORY, O_PIDS, O_CPUS, O_NET, O_HOSTNAME, O_NAME, O_STATS,
};

struct run_args {
    struct tm_container_options o;
    struct tm_run_options r;
    const char *bundle;
    const char *quick_only;   /* a quick-form option given (for the OCI form's error) */
    const char *oci_only;     /* and the other way round */
    bool detach, stats;
};

/* "0.5", "2": plain decimals only (no exponents, hex, inf or nan). */
static int parse_cpus(const char *text, double *out)
{
    if (!*text || strspn(text, "0123456789.") != strlen(text))
        return -1;
    char *end;
    *out = strtod(text, &end);
    return *end ? -1 : 0;
}

static int parse_option(int c, struct run_args *a)
{
    uint64_t v;
    const char *name = optarg;
    switch (c) {
    case O_BUNDLE: a->bundle = optarg; a->oci_only = "--bundle"; break;
    case O_PID_FILE: a->o.pid_file = optarg; a->oci_only = "--pid-file"; break;
    case O_CONSOLE: a->o.console_socket = optarg; a->oci_only = "--console-socket"; break;
    case O_DETACH: a->detach = true; a->oci_only = "--detach"; break;
    case O_PRESERVE:
        if (tm_cli_parse_u64(optarg, 1024, &v) < 0)
            return tm_cli_usage("run", "--preserve-fds takes 0 to 1024");
        a->o.preserve_fds = (int)v;
        a->oci_only = "--preserve-fds";
        break;
    case O_IGNORED: break;
    case O_ROOTFS: a->r.rootfs = optarg; a->quick_only = "--rootfs"; break;
    case O_ENCLAVE: a->r.enclave = optarg; a->quick_only = "--enclave"; break;
    case O_ENCLAVE_MEMORY:
        if (tm_parse_size(optarg, INT64_MAX, &a->r.enclave_memory) < 0 || !a->r.enclave_memory)
            return tm_cli_usage("run", "--enclave-memory takes a size such as 16MiB");
        a->quick_only = "--enclave-memory";
        break;
    case O_MEMORY:
        if (tm_parse_size(optarg, INT64_MAX, &v) < 0 || !v)
            return tm_cli_usage("run", "--memory takes a size such as 64m or 1GiB");
        a->r.memory_max = (int64_t)v;
        a->quick_only = "--memory";
        break;
    case O_PIDS:
        if (tm_cli_parse_u64(optarg, INT64_MAX, &v) < 0 || !v)
            return tm_cli_usage("run", "--pids takes a positive number");
        a->r.pids_max = (int64_t)v;
        a->quick_only = "--pids";
        break;
    case O_CPUS:
        if (parse_cpus(optarg, &a->r.cpus) < 0 || a->r.cpus < 0.01 || a->r.cpus > 4096)
            return tm_cli_usage("run", "--cpus takes a decimal from 0.01 to 4096, such as 0.5");
        a->quick_only = "--cpus";
        break;
    case O_NET:
        if (strcmp(name, "none") && strcmp(name, "host"))
            return tm_cli_usage("run", "--net takes none or host");
        a->r.host_network = !strcmp(name, "host");
        a->quick_only = "--net";
        break;
    case O_HOSTNAME:
        if (!*name || strlen(name) > 64)
            return tm_cli_usage("run", "--hostname takes 1 to 64 characters");
        a->r.hostname = name;
        a->quick_only = "--hostname";
        break;
    case O_NAME: a->o.id = optarg; a->quick_only = "--name"; break;
    case O_STATS: a->stats = true; a->quick_only = "--stats"; break;
    default: return TM_EXIT_USAGE;
    }
    return 0;
}

/* Create and (unless detached) wait and remove; the process's exit code.
 * A failed exec is init's exit: its reason (init.error) is said after. */
static int run_container(const struct tm_container_spec *spec, struct run_args *a)
{
    tm_error err = { 0 };
    struct tm_container_timing t;
    pid_t pid;
    a->o.state_root = tm_cli_oci_root();
    /* Detached: create + start, as runc's run, so start can wait for the
     * exec and report its failure before we exit. */
    a->o.wait_for_start = a->detach;
    if (tm_container_create(spec, &a->o, &pid, &t, &err) < 0)
        return tm_cli_fail(&err);
    if (a->stats)
        fprintf(stderr, "teemate: container created in %.3f ms (cgroup %.3f, clone %.3f, setup %.3f)\n",
                t.total_ms, t.cgroup_ms, t.clone_ms, t.setup_ms);
    if (a->detach) {
        if (tm_container_start(a->o.state_root, a->o.id, &err) == 0)
            return 0;
        tm_cli_fail(&err);
        tm_container_delete(a->o.state_root, a->o.id, true, &err);
        return TM_EXIT_ERROR;
    }
    tm_container_poststart(a->o.state_root, a->o.id);
    int code = tm_container_wait(pid);
    if (tm_state_init_error(a->o.state_root, a->o.id, err.msg, sizeof(err.msg)))
        tm_cli_fail(&err);
    if (tm_container_delete(a->o.state_root, a->o.id, true, &err) < 0) {
        tm_cli_fail(&err);
        return code ? code : TM_EXIT_ERROR;
    }
    return code;
}

static int run_bundle(struct run_args *a, int argc, char **argv)
{
    if (a->quick_only)
        return tm_cli_usage("run", "%s is for 'run [OPTIONS] -- PROGRAM' (a bundle's config.json says it)",
                            a->quick_only);
    if (!(a->o.id = tm_cli_oci_one_id("run", argc, argv)))
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    char dir[PATH_MAX];
    struct tm_container_spec spec = { 0 };
    if (tm_cli_oci_cgroup_manager_check(&err) < 0 || tm_state_id_check(a->o.id, &err) < 0 ||
        tm_cli_oci_bundle(a->bundle, dir, &err) < 0 || tm_spec_load_bundle(dir, &spec, &err) < 0)
        return tm_cli_fail(&err);
    a->o.bundle = dir;
    int code = run_container(&spec, a);
    tm_spec_free(&spec);
    return code;
}

static int run_quick(struct run_args *a, int nargs, char **args)
{
    if (a->oci_only)
        return tm_cli_usage("run", "%s is for runc's form 'run [OPTIONS] ID' (without '--')", a->oci_only);
    if (nargs == 0)
        return tm_cli_usage("run", "expects a PROGRAM after '--'");
    if (a->r.enclave_memory && !a->r.enclave)
        return tm_cli_usage("run", "--enclave-memory needs --enclave");
    tm_error err = { 0 };
    char id[32];
    if (!a->o.id) {
        snprintf(id, sizeof(id), "run-%d", (int)getpid());
        a->o.id = id;
    }
    a->r.args = args;
    a->r.nargs = (size_t)nargs;
    a->o.enclave_stats = a->stats;
    a->o.die_with_runtime = true;   /* the quick form never outlives its runtime */
    struct tm_container_spec spec = { 0 };
    if (tm_cli_oci_cgroup_manager_check(&err) < 0 || tm_state_id_check(a->o.id, &err) < 0 ||
        tm_spec_for_run(&a->r, &spec, &err) < 0)
        return tm_cli_fail(&err);
    int code = run_container(&spec, a);
    tm_spec_free(&spec);
    return code;
}

int tm_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "bundle", required_argument, NULL, O_BUNDLE },
        { "pid-file", required_argument, NULL, O_PID_FILE },
        { "console-socket", required_argument, NULL, O_CONSOLE },
        { "detach", no_argument, NULL, O_DETACH },
        { "preserve-fds", required_argument, NULL, O_PRESERVE },
        { "no-pivot", no_argument, NULL, O_IGNORED },
        { "no-new-keyring", no_argument, NULL, O_IGNORED },
        { "rootfs", required_argument, NULL, O_ROOTFS },
        { "enclave", required_argument, NULL, O_ENCLAVE },
        { "enclave-memory", required_argument, NULL, O_ENCLAVE_MEMORY },
        { "memory", required_argument, NULL, O_MEMORY },
        { "pids", required_argument, NULL, O_PIDS },
        { "cpus", required_argument, NULL, O_CPUS },
        { "net", required_argument, NULL, O_NET },
        { "hostname", required_argument, NULL, O_HOSTNAME },
        { "name", required_argument, NULL, O_NAME },
        { "stats", no_argument, NULL, O_STATS },
        { "help", no_argument, NULL, O_HELP },
        { 0 },
    };
    struct run_args a = { .r = { .memory_max = -1, .pids_max = -1 } };
    /* Options go before '--'; what follows it is the program's. */
    int dashes = 1;
    while (dashes < argc && strcmp(argv[dashes], "--"))
        dashes++;
    int c, ret;
    while ((c = tm_cli_getopt("run", dashes, argv, "b:dh", opts)) != -1) {
        if (c == O_HELP)
            return fputs(usage, stdout), 0;
        if ((ret = parse_option(c, &a)) != 0)
            return ret;
    }
    if (dashes == argc)
        return run_bundle(&a, argc, argv);
    if (optind < dashes)
        return tm_cli_usage("run", "put the program after '--' ('%s' is before it)", argv[optind]);
    return run_quick(&a, argc - dashes - 1, argv + dashes + 1);
}
