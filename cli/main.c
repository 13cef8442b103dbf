/* teemate: the command-line front of libteemate. Argument parsing only; each
 * verb lives in its own file. Global options (runc's, for engines that run
 * teemate as their OCI runtime) come before the verb: cli_oci.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/state.h"

static const struct tm_command commands[] = {
    { "keygen",    "generate an enclave signing key (RSA-3072, e=3)", tm_cmd_keygen },
    { "sign",      "sign an enclave image, writing its SIGSTRUCT",    tm_cmd_sign },
    { "measure",   "print an image's MRENCLAVE",                      tm_cmd_measure },
    { "sgxs",      "write an image's canonical SGXS stream",          tm_cmd_sgxs },
    { "sigstruct", "show and verify a SIGSTRUCT",                     tm_cmd_sigstruct },
    { "layout",    "show an image's enclave layout",                  tm_cmd_layout },
    { "daemon",    "run teemated, the owner of shared enclaves",      tm_cmd_daemon },
    { "enclave",   "shared enclaves (create, ls, inspect, rm); run: a private one", tm_cmd_enclave },
    { "attach",    "run an image's main attached to a shared enclave", tm_cmd_attach },
    { "fn",        "JavaScript functions: create, invoke, ls, rm",      tm_cmd_fn },
    { "gateway",   "OpenWhisk REST API for actions and activations",  tm_cmd_gateway },
    { "kv",        "the confidential key-value store (Redis's protocol)", tm_cmd_kv },
    { "run",       "create and start a container, wait for it, remove it", tm_cmd_run },
    { "create",    "create a container from an OCI bundle (parked until start)", tm_cmd_create },
    { "start",     "start a created container's process",            tm_cmd_start },
    { "exec",      "run a new process in a created or running container", tm_cmd_exec },
    { "state",     "print a container's OCI state (JSON)",           tm_cmd_state },
    { "kill",      "send a signal to a container's init (or all its processes)", tm_cmd_kill },
    { "delete",    "remove a stopped container (--force: any)",      tm_cmd_delete },
    { "list",      "list the containers under the state root",       tm_cmd_list },
    { "spec",      "write a default config.json into a bundle",      tm_cmd_spec },
    { "events",    "stream a container's stats and OOM kills (--stats: one sample)",   tm_cmd_events },
    { "update",    "change a container's cgroup limits",             tm_cmd_update },
    { "pause",     "freeze every process of a container",            tm_cmd_pause },
    { "resume",    "thaw a paused container",                        tm_cmd_resume },
    { "ps",        "list a container's processes (ps -ef, or --format json)", tm_cmd_ps },
    { "features",  "print the OCI features this runtime supports (JSON)", tm_cmd_features },
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: teemate [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
                 "TeeMate: confidential containers that share enclaves.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s  %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nGlobal options (runc's, so engines can use teemate with --runtime):\n"
                 "  --root DIR            container state root (default " TM_STATE_ROOT_DEFAULT
                 " for root,\n"
                 "                        else $XDG_RUNTIME_DIR/teemate)\n"
                 "  --log FILE            also append every error to FILE\n"
                 "  --log-format FORMAT   text (default) or json: one {\"level\",\"msg\",\"time\"} a line\n"
                 "  --debug               accepted\n"
                 "  --systemd-cgroup      accepted, but create and run then fail: teemate\n"
                 "                        manages cgroups itself (cgroupfs) only\n"
                 "  --rootless VALUE      false or auto (true is not supported)\n"
                 "  --version, -v         print the version and the OCI spec version\n"
                 "  --help, -h            this text\n"
                 "\nRun 'teemate COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    int v;
    int rc = tm_cli_oci_globals(argc, argv, &v);
    if (rc >= 0)
        return rc;
    if (v >= argc) {
        usage(stderr);
        return TM_EXIT_USAGE;
    }
    const char *verb = argv[v];
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(verb, "--version") || !strcmp(verb, "-v") || !strcmp(verb, "version")) {
        tm_cli_oci_version();
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(verb, commands[i].name))
            return commands[i].run(argc - v, argv + v);
    fprintf(stderr, "teemate: unknown command '%s' (see 'teemate --help')\n", verb);
    tm_cli_oci_log_error("unknown command");
    return TM_EXIT_USAGE;
}
