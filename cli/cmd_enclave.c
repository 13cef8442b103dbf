/* teemate enclave COMMAND: the shared enclaves teemated holds, and what its
 * subcommands share. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon/client.h"

int tm_cli_daemon_connect(const char *socket_path, tm_error *err)
{
    return tm_daemon_connect(socket_path, true, NULL, err);
}

char *tm_cli_size(uint64_t bytes, char buf[32])
{
    static const char units[] = "KMGT";
    if (bytes < 1024 || bytes % 1024) {
        snprintf(buf, 32, "%llu", (unsigned long long)bytes);
        return buf;
    }
    int u = -1;
    while (bytes >= 1024 && bytes % 1024 == 0 && u < 3) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, 32, "%llu%ciB", (unsigned long long)bytes, units[u]);
    return buf;
}

static const struct tm_command subcommands[] = {
    { "create",  "build a shared enclave from an image",      tm_cmd_enclave_create },
    { "ls",      "list the shared enclaves",                  tm_cmd_enclave_ls },
    { "inspect", "show one shared enclave and its processes", tm_cmd_enclave_inspect },
    { "rm",      "remove a shared enclave",                   tm_cmd_enclave_rm },
    { "run",     "run an image's main in a fresh private enclave", tm_cmd_enclave_run },
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: teemate enclave COMMAND [OPTIONS]\n\n"
                 "Shared enclaves, owned by teemated (started when none runs), and private\n"
                 "ones (run).\n\nCommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %-8s  %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\nEvery command but run takes --socket PATH (default: $TEEMATE_SOCKET, else\n"
                 "<state dir>/teemated.sock). Run 'teemate enclave COMMAND --help' for more.\n");
}

int tm_cmd_enclave(int argc, char **argv)
{
    if (argc < 2)
        return tm_cli_usage("enclave", "expects a COMMAND (create, ls, inspect, rm, run)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    return tm_cli_usage("enclave", "unknown command '%s' (create, ls, inspect, rm, run)", argv[1]);
}
