/* fn-native: a JS function run natively (no enclave) by the same runtime the
 * enclave image carries. Prints main(params)'s result JSON; exit 0 for a
 * result, 1 for an error result, 2 when it could not load or run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn_host.h"
#include "util/cleanup.h"

static const char usage[] =
    "Usage: fn-native [--params JSON] [--timeout MS] [--memory BYTES] [--store DIR]\n"
    "                 [--runs N] SCRIPT.js...\n"
    "Load the scripts (libraries first, the function last), run main(params)\n"
    "N times (default 1) in one instance and print each result JSON.\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "params", required_argument, NULL, 'p' }, { "timeout", required_argument, NULL, 't' },
        { "memory", required_argument, NULL, 'm' }, { "store", required_argument, NULL, 's' },
        { "runs", required_argument, NULL, 'n' },   { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *params = "{}";
    struct fn_run_request req = { 0 };
    struct fn_services services = { .store_dir = NULL, .log_fd = 2 };
    long runs = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': params = optarg; break;
        case 't': req.timeout_ms = strtoull(optarg, NULL, 10); break;
        case 'm': req.memory_limit = strtoull(optarg, NULL, 10); break;
        case 's': services.store_dir = optarg; break;
        case 'n': runs = strtol(optarg, NULL, 10); break;
        case 'h': return fputs(usage, stdout), 0;
        default: return fputs(usage, stderr), 2;
        }
    }
    if (optind >= argc || runs < 1)
        return fputs(usage, stderr), 2;
    tm_error err = { 0 };
    _cleanup_free_ void *wire = NULL;
    size_t len;
    fn_native_init(&services);
    if (fn_sources_read(argv + optind, (size_t)(argc - optind), &wire, &len, &err) < 0 ||
        fn_native_load(wire, len, NULL, &err) < 0) {
        fprintf(stderr, "fn-native: %s\n", err.msg);
        return 2;
    }
    int status = 0;
    for (long i = 0; i < runs; i++) {
        struct fn_result res = { 0 };
        if (fn_native_run(&req, params, &res, &err) < 0) {
            fprintf(stderr, "fn-native: %s\n", err.msg);
            return 2;
        }
        printf("%s\n", res.json);
        status = res.ok ? 0 : 1;
        fn_result_free(&res);
    }
    return status;
}
