/* teemate keygen: generate an enclave signing key. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "enclave/key.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: teemate keygen -o KEY.pem [--force]\n\n"
            "Generate an enclave signing key: RSA-3072 with public exponent 3, as SGX\n"
            "requires, written as PEM (PKCS#8) readable only by its owner (mode 0600).\n\n"
            "Options:\n"
            "  -o, --output KEY.pem  where to write the key\n"
            "  -f, --force           overwrite KEY.pem if it exists\n"
            "  -h, --help            show this help\n");
}

int tm_cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *output = NULL;
    bool force = false;
    int c;
    /* The leading ':' makes a missing value come back as ':' (one clear message). */
    while ((c = tm_cli_getopt("keygen", argc, argv, "o:fh", longopts)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'f': force = true; break;
        case 'h': usage(stdout); return 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tm_cli_usage("keygen", "unexpected argument '%s'", argv[optind]);
    if (!output)
        return tm_cli_usage("keygen", "missing -o KEY.pem");

    tm_error err = { 0 };
    struct stat st;
    if (!force && lstat(output, &st) == 0) {
        tm_error_set(&err, EEXIST, "%s already exists (use --force to replace it)", output);
        return tm_cli_fail(&err);
    }
    _cleanup_key_ struct evp_pkey_st *key = NULL;
    if (tm_key_generate(&key, &err) < 0 || tm_key_save(key, output, &err) < 0)
        return tm_cli_fail(&err);
    printf("wrote %s: RSA-3072 signing key, e = 3\n", output);
    return 0;
}
