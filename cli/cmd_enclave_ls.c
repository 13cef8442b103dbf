/* teemate enclave ls: one line per shared enclave. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "daemon/client.h"
#include "util/cleanup.h"
#include "util/hex.h"

static const char usage[] =
    "Usage: teemate enclave ls [--socket PATH]\n\n"
    "List teemated's shared enclaves: name, backend, ELRANGE size, TCSs leased\n"
    "of the pool, container slots in use, EPC pages held, and the start of the\n"
    "MRENCLAVE. A name marked '*' is being removed (after its last detach).\n"
    "An enclave still being built shows its progress instead of a MRENCLAVE.\n";

int tm_cmd_enclave_ls(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *socket = NULL;
    int c;
    while ((c = tm_cli_getopt("enclave ls", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 's': socket = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tm_cli_usage("enclave ls", "takes no arguments ('%s')", argv[optind]);
    tm_error err = { 0 };
    _cleanup_close_ int conn = tm_cli_daemon_connect(socket, &err);
    _cleanup_free_ struct tm_enclave_info *infos = NULL;
    size_t n;
    if (conn < 0 || tm_daemon_list(conn, &infos, &n, &err) < 0)
        return tm_cli_fail(&err);
    printf("%-24s %-7s %-8s %-8s %-8s %-8s %s\n", "NAME", "BACKEND", "SIZE", "TCS", "SLOTS", "EPC",
           "MRENCLAVE");
    for (size_t i = 0; i < n; i++) {
        const struct tm_enclave_info *e = &infos[i];
        char size[32], tcs[24], slots[24], mr[65], name[80];
        if (e->tcs_made < e->tcs_total && !e->building)   /* leased/made/total */
            snprintf(tcs, sizeof tcs, "%u/%u/%u", e->tcs_leased, e->tcs_made, e->tcs_total);
        else
            snprintf(tcs, sizeof tcs, "%u/%u", e->tcs_leased, e->tcs_total);
        snprintf(slots, sizeof slots, "%u/%u", e->slots_in_use, e->slots_total);
        snprintf(name, sizeof name, "%s%s", e->name, e->removing ? "*" : "");
        tm_hex(mr, e->mrenclave, 32);
        mr[12] = '\0';
        if (e->building)
            snprintf(mr, sizeof mr, "building %llu%%",
                     (unsigned long long)(e->build_pages_total
                                              ? e->build_pages_done * 100 / e->build_pages_total : 0));
        printf("%-24s %-7s %-8s %-8s %-8s %-8llu %s\n", name, e->backend, tm_cli_size(e->size, size),
               tcs, slots, (unsigned long long)e->epc_total, mr);
    }
    return 0;
}
