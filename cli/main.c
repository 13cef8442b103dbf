/* teemate: the command-line front of libteemate. Argument parsing only; each
 * verb lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct tm_command commands[] = {
    { "keygen",    "generate an enclave signing key (RSA-3072, e=3)", tm_cmd_keygen },
    { "sign",      "sign an enclave image, writing its SIGSTRUCT",    tm_cmd_sign },
    { "measure",   "print an image's MRENCLAVE",                      tm_cmd_measure },
    { "sgxs",      "write an image's canonical SGXS stream",          tm_cmd_sgxs },
    { "sigstruct", "show and verify a SIGSTRUCT",                     tm_cmd_sigstruct },
    { "layout",    "show an image's enclave layout",                  tm_cmd_layout },
    { "exec",      "run an image's main in a fresh enclave",          tm_cmd_exec },
    { "daemon",    "run teemated, the owner of shared enclaves",      tm_cmd_daemon },
    { "enclave",   "create, list, inspect and remove shared enclaves", tm_cmd_enclave },
    { "attach",    "run an image's main attached to a shared enclave", tm_cmd_attach },
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: teemate COMMAND [OPTIONS] [ARGS]\n\n"
                 "TeeMate: confidential containers that share enclaves.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s  %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'teemate COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TM_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(verb, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "teemate: unknown command '%s' (see 'teemate --help')\n", verb);
    return TM_EXIT_USAGE;
}
