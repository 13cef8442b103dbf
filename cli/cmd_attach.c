/* teemate attach NAME -- ARGS: this process becomes a container of a shared
 * enclave (EPC aliasing) and runs the image's main(argc, argv) there. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "enclave/ecall.h"
#include "shared/attach.h"
#include "shared/attach_stats.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/size.h"

static const char usage[] =
    "Usage: teemate attach NAME [--threads N] [--enclave-memory SIZE] [--stats]\n"
    "                      [--socket PATH] [-- ARGS...]\n\n"
    "Attach this process to the shared enclave NAME (teemate enclave create):\n"
    "lease a container slot and N TCSs from teemated, map the enclave's shared\n"
    "pages and this container's own at the enclave's addresses, then run the\n"
    "image's main(argc, argv) with argv = NAME ARGS..., stream its output and\n"
    "exit with its return code. The lease ends when this process exits.\n\n"
    "Options:\n"
    "  --threads N     TCSs to lease (default 1; main runs on the first)\n"
    "  --enclave-memory SIZE\n"
    "                  cap the enclave memory of this container (the EPC pages\n"
    "                  of its slot) at SIZE: 512k, 64m, 1g (rounded up to pages;\n"
    "                  more than the slot means the slot). Past it, malloc in\n"
    "                  the enclave returns NULL. Default: the whole slot\n"
    "  --stats         print where the time went on stderr: alias (connect,\n"
    "                  lease, map), first entry (a PING, this process's first\n"
    "                  entry into the enclave), expand (slot pages added), run\n"
    "  --socket PATH   teemated's socket\n";

int tm_cmd_attach(int argc, char **argv)
{
    static const struct option opts[] = {
        { "threads", required_argument, NULL, 't' },
        { "enclave-memory", required_argument, NULL, 'm' },
        { "stats", no_argument, NULL, 'S' },
        { "socket", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct tm_attach_options o = { .threads = 1 };
    bool stats = false;
    uint64_t v;
    int c;
    /* Options go anywhere before '--'; what follows it is the program's. */
    int dashes = 1;
    while (dashes < argc && strcmp(argv[dashes], "--"))
        dashes++;
    while ((c = tm_cli_getopt("attach", dashes, argv, "h", opts)) != -1) {
        switch (c) {
        case 't':
            if (tm_cli_parse_u64(optarg, TM_ATTACH_MAX_THREADS, &v) < 0 || v == 0)
                return tm_cli_usage("attach", "--threads takes 1 to %d", TM_ATTACH_MAX_THREADS);
            o.threads = (uint32_t)v;
            break;
        case 'm':
            if (tm_parse_size(optarg, UINT64_MAX, &v) < 0 || v == 0)
                return tm_cli_usage("attach", "--enclave-memory takes a size above 0 (512k, 64m, 1g)");
            o.slot_limit = v;
            break;
        case 'S': stats = true; break;
        case 's': o.socket_path = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind >= dashes)
        return tm_cli_usage("attach", "expects an enclave NAME");
    if (optind + 1 < dashes)
        return tm_cli_usage("attach", "put the program's arguments after '--'");
    const char *name = argv[optind];
    optind = dashes < argc ? dashes + 1 : argc;

    tm_error err = { 0 };
    /* main's argv: the enclave's name, then ARGS. */
    argv[optind - 1] = (char *)name;
    _cleanup_free_ char *packed = NULL;
    size_t packed_len;
    if (tm_ecall_pack_argv(argc - optind + 1, argv + optind - 1, &packed, &packed_len, &err) < 0)
        return tm_cli_fail(&err);
    _cleanup_attachment_ struct tm_attachment *a = NULL;
    if (tm_attach(name, &o, &a, &err) < 0)
        return tm_cli_fail(&err);
    /* With --stats, the first entry is a PING of its own, so that run is main alone. */
    if (stats && tm_attach_first_entry(a, &err) < 0)
        return tm_cli_fail(&err);
    struct tm_ecall_call call = { .ecall = TM_ECALL_MAIN, .in = packed, .in_len = packed_len };
    double t0 = tm_now_ms();
    int ret = tm_attach_ecall(a, 0, &call, &err);
    double t1 = tm_now_ms();
    fflush(stdout);
    if (stats)
        tm_attach_print_stats(a, t1 - t0, stderr);
    if (ret < 0)
        return tm_cli_fail(&err);
    return (int)(call.retval & 0xff);
}
