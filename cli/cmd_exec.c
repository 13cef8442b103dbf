/* teemate exec: runc's exec, a new process in a created or running
 * container (lib/container/exec.c). Options come before the ID or right
 * after it; the first word after the ID that is not an option starts the
 * command, whose own options are its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/exec.h"
#include "container/state.h"

#define EXEC_EXIT_FAILED 255   /* runc's status when the process could not be run */
#define MAX_LIST 256

static const char usage[] =
    "Usage: teemate exec [OPTIONS] ID COMMAND [ARGS...]\n"
    "       teemate exec [OPTIONS] --process FILE ID\n\n"
    "Run a new process in the created or running container ID: it joins the\n"
    "container's cgroup and namespaces and takes the user, capabilities,\n"
    "rlimits, no_new_privs and seccomp filter of config.json's process, with\n"
    "the changes below. In the foreground teemate waits, passing on the\n"
    "signals it gets, and exits with the process's status (128 + signal when\n"
    "it was killed); 255 when it could not be started.\n"
    "In a container of a shared enclave, a COMMAND equal to the container's own\n"
    "process.args[0] (the image's entry) attaches to that enclave with a slot\n"
    "of its own and runs the image's main with ARGS (a second instance); any\n"
    "other COMMAND is an ordinary program in the container.\n\n"
    "Options:\n"
    "  --process, -p FILE      a runtime-spec process (JSON) instead of COMMAND\n"
    "                          and the options that change config.json's\n"
    "  --tty, -t               give the process a terminal: with --detach, its pty\n"
    "                          master goes to --console-socket; else teemate relays\n"
    "                          its own terminal to it\n"
    "  --console-socket PATH   send the terminal's pty master to this unix socket\n"
    "  --detach, -d            return once the process runs\n"
    "  --pid-file FILE         write the process's pid (the host's view) to FILE\n"
    "  --cwd DIR               working directory in the container\n"
    "  --env, -e NAME=VALUE    add to the environment (repeatable)\n"
    "  --user, -u UID[:GID]    run as this user (numbers)\n"
    "  --additional-gids, -g GID  a supplementary group (repeatable)\n"
    "  --cap, -c CAP           add a capability (repeatable)\n"
    "  --no-new-privs          set no_new_privs\n"
    "  --preserve-fds N        pass fds 3..3+N-1 on to the process\n"
    "  --ignore-paused         exec into a paused container too\n"
    "  --apparmor PROFILE      refused: teemate applies no AppArmor profile\n"
    "  --process-label LABEL   refused: teemate has no SELinux support\n"
    "  --cgroup PATH           refused: only the container's own cgroup\n";

struct lists {
    char *env[MAX_LIST], *caps[MAX_LIST];
    gid_t gids[MAX_LIST];
    size_t nenv, ncaps, ngids;
};

static int parse(int argc, char **argv, struct tm_exec_options *o, struct lists *l, const char **id)
{
    static const struct option opts[] = {
        { "process", required_argument, NULL, 'p' },   { "tty", no_argument, NULL, 't' },
        { "console-socket", required_argument, NULL, 'S' }, { "detach", no_argument, NULL, 'd' },
        { "pid-file", required_argument, NULL, 'P' },  { "cwd", required_argument, NULL, 'w' },
        { "env", required_argument, NULL, 'e' },       { "user", required_argument, NULL, 'u' },
        { "additional-gids", required_argument, NULL, 'g' }, { "cap", required_argument, NULL, 'c' },
        { "no-new-privs", no_argument, NULL, 'N' },    { "preserve-fds", required_argument, NULL, 'f' },
        { "ignore-paused", no_argument, NULL, 'I' },   { "apparmor", required_argument, NULL, 'A' },
        { "process-label", required_argument, NULL, 'L' }, { "cgroup", required_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },            { 0 },
    };
    uint64_t v;
    int c;
    for (;;) {
        c = tm_cli_getopt("exec", argc, argv, "+p:tde:u:g:c:h", opts);
        if (c == -1) {
            /* The ID ends the options only if a command follows it */
            if (*id || optind >= argc || !strcmp(argv[optind - 1], "--"))
                break;
            *id = argv[optind++];
            continue;
        }
        switch (c) {
        case 'p': o->process_file = optarg; break;
        case 't': o->tty = true; break;
        case 'S': o->console_socket = optarg; break;
        case 'd': o->detach = true; break;
        case 'P': o->pid_file = optarg; break;
        case 'w': o->cwd = optarg; break;
        case 'u': o->user = optarg; break;
        case 'N': o->no_new_privs = true; break;
        case 'I': o->ignore_paused = true; break;
        case 'A': o->apparmor = optarg; break;
        case 'L': o->process_label = optarg; break;
        case 'C': return tm_cli_usage("exec", "--cgroup is not supported: the process joins the container's cgroup");
        case 'e': case 'c':
            if ((c == 'e' ? l->nenv : l->ncaps) == MAX_LIST)
                return tm_cli_usage("exec", "at most %d of --env and of --cap", MAX_LIST);
            if (c == 'e')
                l->env[l->nenv++] = optarg;
            else
                l->caps[l->ncaps++] = optarg;
            break;
        case 'g':
            if (optarg[0] == '-')
                return tm_cli_usage("exec", "additional-gids must be a positive number %s", optarg);
            if (tm_cli_parse_u64(optarg, UINT32_MAX, &v) < 0 || l->ngids == MAX_LIST)
                return tm_cli_usage("exec", "--additional-gids takes a number (at most %d of them)", MAX_LIST);
            l->gids[l->ngids++] = (gid_t)v;
            break;
        case 'f':
            if (tm_cli_parse_u64(optarg, 1024, &v) < 0)
                return tm_cli_usage("exec", "--preserve-fds takes 0 to 1024");
            o->preserve_fds = (int)v;
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (!*id)
        return tm_cli_usage("exec", "expects a container ID");
    o->args = argv + optind;
    o->nargs = (size_t)(argc - optind);
    if (o->process_file && o->nargs)
        return tm_cli_usage("exec", "takes either --process or a command ('%s' is extra)", argv[optind]);
    o->env = l->env;
    o->nenv = l->nenv;
    o->caps = l->caps;
    o->ncaps = l->ncaps;
    o->additional_gids = l->gids;
    o->nadditional_gids = l->ngids;
    return -1;
}

int tm_cmd_exec(int argc, char **argv)
{
    struct tm_exec_options o = { 0 };
    static struct lists l;
    const char *id = NULL;
    int rc = parse(argc, argv, &o, &l, &id);
    if (rc >= 0)
        return rc;
    tm_error err = { 0 };
    int status;
    if (tm_state_id_check(id, &err) < 0 || tm_container_exec(tm_cli_oci_root(), id, &o, &status, &err) < 0) {
        tm_error_prefix(&err, "exec failed");
        tm_cli_fail(&err);
        return EXEC_EXIT_FAILED;
    }
    return status;
}
