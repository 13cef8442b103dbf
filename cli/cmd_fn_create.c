/* teemate fn create NAME FILE.js: the function compiled once. In the teemate
 * mode its shared enclave (fn-NAME) is built and the code loaded into it
 * through an attached process (FN_ECALL_LOAD_SEAL: compiled inside, bytecode
 * kept in the enclave-global heap); only the code sealed by that enclave is
 * written to disk (for a rebuild after a daemon restart). In the
 * native mode the code is compiled here to check it, then kept in the state
 * directory; the strawman mode keeps it the same way (each invoke compiles it
 * in a fresh enclave). Either way a script that does not compile is refused with
 * Duktape's message and line, and nothing is left behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_fn.h"
#include "util/cleanup.h"
#include "util/file.h"
#include "util/size.h"

static const char usage[] =
    "Usage: teemate fn create NAME FILE.js [--lib FILE.js]...\n"
    "                         [--mode native|teemate|strawman|strawman-edmm]\n"
    "                         [--memory SIZE] [--timeout SECONDS] [--instances N] [--socket PATH]\n\n"
    "Create the function NAME from FILE.js (OpenWhisk's contract: a global\n"
    "main(params) that returns an object). --lib scripts (e.g. mustache.js) run\n"
    "first, in the order given. A script that does not compile is refused with\n"
    "Duktape's message and line.\n\n"
    "Options:\n"
    "  --mode M        teemate (default): one shared enclave per function (fn-NAME),\n"
    "                  the code compiled once inside it and kept on disk only sealed\n"
    "                  by it (fn invoke rebuilds fn-NAME after a daemon restart);\n"
    "                  native: no enclave;\n"
    "                  strawman: a fresh enclave per invoke (image + memory limit\n"
    "                  committed before EINIT, the code compiled inside);\n"
    "                  strawman-edmm: the same, but only the image and its TCS\n"
    "                  added before EINIT, the heap added on demand (SGX2)\n"
    "  --memory SIZE   the instance's JS heap limit (default 256m, OpenWhisk's)\n"
    "  --timeout S     a run's time limit in seconds (default 60, OpenWhisk's)\n"
    "  --instances N   teemate mode: instances that may run at once (1-255, default\n"
    "                  64): fn-NAME's slots and TCSs, the TCSs made as they come\n"
    "  --socket PATH   teemated's socket (teemate mode)\n";

int tm_cmd_fn_create(int argc, char **argv)
{
    static const struct option opts[] = {
        { "lib", required_argument, NULL, 'l' },     { "mode", required_argument, NULL, 'M' },
        { "memory", required_argument, NULL, 'm' },  { "timeout", required_argument, NULL, 't' },
        { "socket", required_argument, NULL, 's' },  { "help", no_argument, NULL, 'h' },
        { "instances", required_argument, NULL, 'n' },
        { 0 },
    };
    struct fn_record rec = { .mode = FN_MODE_TEEMATE, .memory = 256ULL << 20,
                             .timeout_ms = FN_DEFAULT_TIMEOUT_MS };
    char *files[FN_MAX_SCRIPTS];
    size_t nfiles = 0;
    const char *socket = NULL;
    uint64_t v, instances = FN_DEFAULT_INSTANCES;
    int c;
    while ((c = tm_cli_getopt("fn create", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'l':
            if (nfiles == FN_MAX_SCRIPTS - 1)
                return tm_cli_usage("fn create", "at most %d --lib scripts", FN_MAX_SCRIPTS - 1);
            files[nfiles++] = optarg;
            break;
        case 'M':
            if (fn_mode_parse(optarg, &rec.mode) < 0)
                return tm_cli_usage("fn create", "unknown mode '%s' (native, teemate, strawman or strawman-edmm)", optarg);
            break;
        case 'm':
            if (tm_parse_size(optarg, UINT64_MAX, &v) < 0 || v < (1U << 20))
                return tm_cli_usage("fn create", "--memory takes a size of at least 1m (256m, 1g)");
            rec.memory = v;
            break;
        case 't':
            if (tm_cli_parse_u64(optarg, 3600, &v) < 0 || v == 0)
                return tm_cli_usage("fn create", "--timeout takes 1 to 3600 seconds");
            rec.timeout_ms = v * 1000;
            break;
        case 's': socket = optarg; break;
        case 'n':
            if (tm_cli_parse_u64(optarg, FN_MAX_INSTANCES, &instances) < 0 || instances == 0)
                return tm_cli_usage("fn create", "--instances takes 1 to %d", FN_MAX_INSTANCES);
            break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind + 2 != argc)
        return tm_cli_usage("fn create", "expects NAME and FILE.js");
    const char *name = argv[optind];
    files[nfiles++] = argv[optind + 1];
    tm_error err = { 0 };
    if (fn_name_check(name, &err) < 0)
        return tm_cli_usage("fn create", "%s", err.msg);
    snprintf(rec.name, sizeof rec.name, "%s", name);
    struct fn_record old;
    if (fn_record_load(name, &old, &err) == 0)
        return tm_error_set(&err, EEXIST, "function '%s' exists (teemate fn rm first)", name),
               tm_cli_fail(&err);

    _cleanup_free_ void *wire = NULL;
    size_t len;
    if (fn_sources_read(files, nfiles, &wire, &len, &err) < 0)
        return tm_cli_fail(&err);
    rec.nscripts = (uint32_t)nfiles;
    char *texts[FN_MAX_SCRIPTS] = { 0 };
    size_t lens[FN_MAX_SCRIPTS];
    for (size_t i = 0; i < nfiles; i++) {
        const char *slash = strrchr(files[i], '/');
        snprintf(rec.scripts[i], sizeof rec.scripts[i], "%s", slash ? slash + 1 : files[i]);
    }
    _cleanup_free_ void *sealed = NULL;
    size_t sealed_len = 0;
    int r;
    if (rec.mode == FN_MODE_TEEMATE) {
        rec.instances = (uint32_t)instances;
        r = tm_cli_fn_enclave_build(&rec, socket, wire, len, &sealed, &sealed_len, NULL, &err);
    } else {
        struct fn_services services = { .log_fd = 2 };
        fn_native_init(&services);
        r = fn_native_load(wire, len, NULL, &err);
        for (size_t i = 0; r == 0 && i < nfiles; i++)
            r = tm_file_read(files[i], FN_MAX_SOURCE, (uint8_t **)&texts[i], &lens[i], &err);
    }
    if (r == 0)
        r = fn_record_save(&rec, (const char *const *)texts, lens, sealed, sealed_len, &err);
    for (size_t i = 0; i < nfiles; i++)
        free(texts[i]);
    return r < 0 ? tm_cli_fail(&err) : 0;
}
