/* teemate enclave run IMAGE -- ARGS: build a fresh enclave from IMAGE and run
 * its main(argc, argv) inside, streaming its output; exit with its return code.
 * (It was `teemate exec` until OCI exec took that name.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli.h"
#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "enclave/image.h"
#include "enclave/sigstruct.h"
#include "util/cleanup.h"
#include "util/clock.h"
#include "util/file.h"

static const char usage[] =
    "Usage: teemate enclave run IMAGE [--sig FILE] [--backend sim|sgx|auto] [--stats]\n"
    "                           [-- ARGS...]\n\n"
    "Build a fresh enclave from IMAGE, run its main(argc, argv) inside with\n"
    "argv = IMAGE ARGS..., stream its output and exit with its return code.\n\n"
    "Options:\n"
    "  --sig FILE      the image's SIGSTRUCT (teemate sign); without it the image is\n"
    "                  signed as a debug enclave with the development key in the\n"
    "                  state directory, and run says so\n"
    "  --backend B     sim (software TEE), sgx (/dev/sgx_enclave) or auto (default:\n"
    "                  sgx when /dev/sgx_enclave exists, else sim)\n"
    "  --stats         print each phase's time and the EPC pages used, on stderr\n";

static int load_sigstruct(const char *path, struct sgx_sigstruct *ss, tm_error *err)
{
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    int ret = tm_file_read(path, 4096, &data, &len, err);
    if (ret == 0 && (ret = tm_sigstruct_parse(ss, data, len, err)) < 0)
        tm_error_prefix(err, "%s", path);
    return ret;
}

static void print_stats(const struct tm_enclave *e, double first_entry_ms, double run_ms)
{
    const struct tm_enclave_stats *s = &e->stats;
    fprintf(stderr,
            "teemate: backend %s, enclave %llu MiB at 0x%llx\n"
            "teemate:   create        %9.3f ms\n"
            "teemate:   add+measure   %9.3f ms  (%llu pages added, %llu measured)\n"
            "teemate:   init          %9.3f ms\n"
            "teemate:   first entry   %9.3f ms\n"
            "teemate:   run           %9.3f ms\n"
            "teemate:   EPC pages     %llu\n",
            e->ops->name, (unsigned long long)(e->size >> 20), (unsigned long long)e->base,
            s->create_ms, s->add_ms, (unsigned long long)s->pages_added,
            (unsigned long long)s->pages_measured, s->init_ms, first_entry_ms, run_ms,
            (unsigned long long)e->ops->epc_pages(e->be));
}

/* The index of the first "--" (argc if none): what follows is the program's argv. */
static int args_start(int argc, char **argv)
{
    int i = 1;
    while (i < argc && strcmp(argv[i], "--"))
        i++;
    return i;
}

int tm_cmd_enclave_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "sig", required_argument, NULL, 's' },
        { "backend", required_argument, NULL, 'b' },
        { "stats", no_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *sig_path = NULL;
    enum tm_backend_kind kind = TM_BACKEND_AUTO;
    bool stats = false;
    /* Options go anywhere before '--' (getopt permutes them to the front);
     * everything after it is the program's, options included. */
    int dashdash = args_start(argc, argv);
    int c;
    while ((c = tm_cli_getopt("enclave run", dashdash, argv, "h", opts)) != -1) {
        switch (c) {
        case 's': sig_path = optarg; break;
        case 'b':
            if (tm_backend_parse(optarg, &kind) < 0)
                return tm_cli_usage("enclave run", "unknown backend '%s' (sim, sgx or auto)", optarg);
            break;
        case 'S': stats = true; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind >= dashdash)
        return tm_cli_usage("enclave run", "expects an IMAGE");
    if (optind + 1 < dashdash)
        return tm_cli_usage("enclave run", "put the program's arguments after '--' (got '%s')",
                            argv[optind + 1]);
    const char *image_path = argv[optind];
    optind = dashdash < argc ? dashdash + 1 : argc;

    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL;
    struct sgx_sigstruct ss;
    const struct tm_backend_ops *ops;
    if (tm_image_load(image_path, &image, &err) < 0 || tm_backend_select(kind, &ops, &err) < 0)
        return tm_cli_fail(&err);
    if (sig_path) {
        if (load_sigstruct(sig_path, &ss, &err) < 0)
            return tm_cli_fail(&err);
    } else {
        char key_path[4200];
        if (tm_devkey_sign(image, &ss, key_path, sizeof(key_path), &err) < 0)
            return tm_cli_fail(&err);
        fprintf(stderr, "teemate: no --sig given: signed %s as a debug enclave with the "
                        "development key %s\n", image_path, key_path);
    }

    _cleanup_enclave_ struct tm_enclave *enclave = NULL;
    if (tm_enclave_build(image, &ss, ops, &enclave, &err) < 0)
        return tm_cli_fail(&err);

    /* main's argv: the image, then ARGS. */
    argv[optind - 1] = (char *)image_path;
    _cleanup_free_ char *packed = NULL;
    size_t packed_len;
    if (tm_ecall_pack_argv(argc - optind + 1, argv + optind - 1, &packed, &packed_len, &err) < 0)
        return tm_cli_fail(&err);

    uint64_t tcs = tm_enclave_tcs_offset(enclave, 0);
    struct tm_ecall_call ping = { .ecall = TM_ECALL_PING };
    double t0 = tm_now_ms();
    int ret = tm_ecall(ops, enclave->be, enclave->base, enclave->size, tcs, &ping, &err);
    double t1 = tm_now_ms();
    struct tm_ecall_call call = { .ecall = TM_ECALL_MAIN, .in = packed, .in_len = packed_len };
    if (ret == 0)
        ret = tm_ecall(ops, enclave->be, enclave->base, enclave->size, tcs, &call, &err);
    double t2 = tm_now_ms();
    fflush(stdout);
    if (stats)
        print_stats(enclave, t1 - t0, t2 - t1);
    if (ret < 0)
        return tm_cli_fail(&err);
    return (int)(call.retval & 0xff);
}
