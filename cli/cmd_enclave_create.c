/* teemate enclave create NAME --image IMAGE: a shared enclave in teemated. */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "cli.h"
#include "daemon/client.h"
#include "util/cleanup.h"
#include "util/hex.h"

static const char usage[] =
    "Usage: teemate enclave create NAME --image IMAGE [--sig FILE] [--backend B]\n"
    "                              [--socket PATH]\n\n"
    "Build a shared enclave called NAME from IMAGE in teemated, for containers\n"
    "to attach to (teemate attach). The image and SIGSTRUCT are handed to the\n"
    "daemon as open files. Without --sig the daemon signs the image as a debug\n"
    "enclave with the development key in its state directory, and says so.\n"
    "NAME: letters, digits, '_', '.', '-' (at most 63, not starting with '.' or '-').\n\n"
    "Options:\n"
    "  --image IMAGE   the enclave image (required)\n"
    "  --sig FILE      its SIGSTRUCT (teemate sign)\n"
    "  --backend B     sim, sgx or auto (default)\n"
    "  --socket PATH   teemated's socket\n";

int tm_cmd_enclave_create(int argc, char **argv)
{
    static const struct option opts[] = {
        { "image", required_argument, NULL, 'i' },
        { "sig", required_argument, NULL, 'g' },
        { "backend", required_argument, NULL, 'b' },
        { "socket", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *image = NULL, *sig = NULL, *backend = "auto", *socket = NULL;
    enum tm_backend_kind kind;
    int c;
    while ((c = tm_cli_getopt("enclave create", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 'i': image = optarg; break;
        case 'g': sig = optarg; break;
        case 'b':
            if (tm_backend_parse(optarg, &kind) < 0)
                return tm_cli_usage("enclave create", "unknown backend '%s' (sim, sgx or auto)", optarg);
            backend = optarg;
            break;
        case 's': socket = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return tm_cli_usage("enclave create", "expects a NAME");
    if (optind + 1 < argc)
        return tm_cli_usage("enclave create", "takes one NAME ('%s' is extra)", argv[optind + 1]);
    if (!image)
        return tm_cli_usage("enclave create", "needs --image IMAGE");
    const char *name = argv[optind];
    tm_error err = { 0 };
    if (tm_enclave_name_check(name, &err) < 0)
        return tm_cli_usage("enclave create", "%s", err.msg);
    _cleanup_close_ int image_fd = open(image, O_RDONLY | O_CLOEXEC);
    if (image_fd < 0)
        return tm_error_sys(&err, "cannot open %s", image), tm_cli_fail(&err);
    _cleanup_close_ int sig_fd = sig ? open(sig, O_RDONLY | O_CLOEXEC) : -1;
    if (sig && sig_fd < 0)
        return tm_error_sys(&err, "cannot open %s", sig), tm_cli_fail(&err);
    _cleanup_close_ int conn = tm_cli_daemon_connect(socket, &err);
    if (conn < 0)
        return tm_cli_fail(&err);
    char base[256], note[256];
    snprintf(base, sizeof base, "%s", image);
    struct tm_enclave_info info;
    if (tm_daemon_create(conn, name, image_fd, sig_fd, backend, basename(base), &info, note,
                         sizeof note, &err) < 0)
        return tm_cli_fail(&err);
    if (note[0])
        fprintf(stderr, "teemate: %s\n", note);
    char mr[65], size[32];
    printf("%s: %s backend, %s at 0x%llx, MRENCLAVE %s\n", info.name, info.backend,
           tm_cli_size(info.size, size), (unsigned long long)info.base,
           tm_hex(mr, info.mrenclave, 32));
    return 0;
}
