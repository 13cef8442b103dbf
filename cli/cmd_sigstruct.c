/* teemate sigstruct: show a SIGSTRUCT and verify it as EINIT would. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "enclave/image.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "util/cleanup.h"
#include "util/file.h"
#include "util/hex.h"

/* Large enough to report a wrong size rather than "too large" for near misses. */
#define SIGSTRUCT_MAX_FILE_SIZE (1 << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: teemate sigstruct FILE [--json] [--image IMAGE]\n\n"
            "Show every field of the SIGSTRUCT in FILE, its MRSIGNER, and whether its\n"
            "signature verifies as EINIT checks it. Exits 0 when it does, 1 when not.\n\n"
            "Options:\n"
            "      --json           print one JSON object instead of text\n"
            "      --image IMAGE    also check that IMAGE measures to its ENCLAVEHASH\n"
            "  -h, --help           show this help\n");
}

static int check_image(const struct sgx_sigstruct *ss, const char *path, const char *image_path,
                       tm_error *err)
{
    _cleanup_image_ struct tm_image *image = NULL;
    uint8_t mrenclave[SGX_HASH_SIZE];
    int ret = tm_image_load(image_path, &image, err);
    if (ret == 0)
        ret = tm_measure_layout(&image->layout, NULL, NULL, mrenclave, err);
    if (ret < 0)
        return ret;
    if (memcmp(mrenclave, ss->body.enclave_hash, SGX_HASH_SIZE)) {
        char want[2 * SGX_HASH_SIZE + 1], got[2 * SGX_HASH_SIZE + 1];
        return tm_error_set(err, EKEYREJECTED, "%s: SIGSTRUCT is for MRENCLAVE %s, %s measures to %s",
                            path, tm_hex(want, ss->body.enclave_hash, SGX_HASH_SIZE), image_path,
                            tm_hex(got, mrenclave, SGX_HASH_SIZE));
    }
    return 0;
}

enum { OPT_JSON = 256, OPT_IMAGE };

int tm_cmd_sigstruct(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "image", required_argument, NULL, OPT_IMAGE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *image_path = NULL;
    bool json = false;
    int c;
    while ((c = tm_cli_getopt("sigstruct", argc, argv, "h", longopts)) != -1) {
        switch (c) {
        case OPT_JSON: json = true; break;
        case OPT_IMAGE: image_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return tm_cli_usage("sigstruct", "missing FILE");
    if (optind + 1 < argc)
        return tm_cli_usage("sigstruct", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];

    tm_error err = { 0 };
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    struct sgx_sigstruct ss;
    if (tm_file_read(path, SIGSTRUCT_MAX_FILE_SIZE, &data, &len, &err) < 0)
        return tm_cli_fail(&err);
    if (tm_sigstruct_parse(&ss, data, len, &err) < 0) {
        tm_error_prefix(&err, "%s", path);
        return tm_cli_fail(&err);
    }
    if (image_path && check_image(&ss, path, image_path, &err) < 0)
        return tm_cli_fail(&err);
    if (tm_sigstruct_print(stdout, &ss, json, &err) < 0)
        return tm_cli_fail(&err);
    if (image_path && !json)
        printf("image: %s measures to this ENCLAVEHASH\n", image_path);
    if (tm_sigstruct_verify(&ss, &err) < 0) {
        tm_error_prefix(&err, "%s", path);
        return tm_cli_fail(&err);
    }
    return 0;
}
