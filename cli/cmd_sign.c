/* teemate sign: measure an image and write its SIGSTRUCT. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "enclave/image.h"
#include "enclave/key.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "util/file.h"
#include "util/hex.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: teemate sign IMAGE --key KEY.pem -o IMAGE.sig [OPTIONS]\n\n"
            "Measure IMAGE (MRENCLAVE) and write its SIGSTRUCT (1808 bytes), signed with\n"
            "KEY.pem (RSA-3072, e = 3; see 'teemate keygen').\n\n"
            "Options:\n"
            "  -k, --key KEY.pem       the signing key\n"
            "  -o, --output FILE       where to write the SIGSTRUCT\n"
            "      --debug             set ATTRIBUTES.DEBUG (the enclave can be debugged)\n"
            "      --isvprodid N       ISVPRODID, 0..65535 (default 0)\n"
            "      --isvsvn N          ISVSVN, 0..65535 (default 0)\n"
            "      --xfrm X            ATTRIBUTES.XFRM, must include x87 and SSE (default 0x3)\n"
            "      --miscselect N      MISCSELECT (default 0)\n"
            "      --date YYYYMMDD     the signing date (default today, UTC)\n"
            "  -h, --help              show this help\n");
}

/* YYYYMMDD: the BCD value is the same digits read as hex. */
static int parse_date(const char *text, uint32_t *out)
{
    if (strlen(text) != 8 || strspn(text, "0123456789") != 8)
        return -EINVAL;
    uint32_t v = (uint32_t)strtoul(text, NULL, 16);
    uint32_t month = (v >> 8) & 0xff, day = v & 0xff;
    if (month < 0x01 || month > 0x12 || day < 0x01 || day > 0x31)
        return -EINVAL;
    *out = v;
    return 0;
}

enum { OPT_DEBUG = 256, OPT_ISVPRODID, OPT_ISVSVN, OPT_XFRM, OPT_MISCSELECT, OPT_DATE };

static int parse_option(int c, struct tm_sign_options *o)
{
    uint64_t v;
    switch (c) {
    case OPT_DEBUG:
        o->debug = true;
        return 0;
    case OPT_ISVPRODID:
        if (tm_cli_parse_u64(optarg, UINT16_MAX, &v) < 0)
            return tm_cli_usage("sign", "--isvprodid wants a number 0..65535, not '%s'", optarg);
        o->isv_prod_id = (uint16_t)v;
        return 0;
    case OPT_ISVSVN:
        if (tm_cli_parse_u64(optarg, UINT16_MAX, &v) < 0)
            return tm_cli_usage("sign", "--isvsvn wants a number 0..65535, not '%s'", optarg);
        o->isv_svn = (uint16_t)v;
        return 0;
    case OPT_XFRM:
        if (tm_cli_parse_u64(optarg, UINT64_MAX, &v) < 0 ||
            (v & SGX_XFRM_LEGACY) != SGX_XFRM_LEGACY)
            return tm_cli_usage("sign", "--xfrm wants a mask with bits 0 and 1 (x87, SSE) set, not '%s'",
                                optarg);
        o->xfrm = v;
        return 0;
    case OPT_MISCSELECT:
        if (tm_cli_parse_u64(optarg, UINT32_MAX, &v) < 0)
            return tm_cli_usage("sign", "--miscselect wants a 32-bit number, not '%s'", optarg);
        o->miscselect = (uint32_t)v;
        return 0;
    case OPT_DATE:
        if (parse_date(optarg, &o->date) < 0)
            return tm_cli_usage("sign", "--date wants a date YYYYMMDD, not '%s'", optarg);
        return 0;
    }
    return TM_EXIT_USAGE;
}

int tm_cmd_sign(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "key", required_argument, NULL, 'k' },
        { "output", required_argument, NULL, 'o' },
        { "debug", no_argument, NULL, OPT_DEBUG },
        { "isvprodid", required_argument, NULL, OPT_ISVPRODID },
        { "isvsvn", required_argument, NULL, OPT_ISVSVN },
        { "xfrm", required_argument, NULL, OPT_XFRM },
        { "miscselect", required_argument, NULL, OPT_MISCSELECT },
        { "date", required_argument, NULL, OPT_DATE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *key_path = NULL, *output = NULL;
    struct tm_sign_options opts;
    tm_sign_options_default(&opts);
    int c;
    while ((c = tm_cli_getopt("sign", argc, argv, "k:o:h", longopts)) != -1) {
        if (c == 'k')
            key_path = optarg;
        else if (c == 'o')
            output = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else if (c == '?' || parse_option(c, &opts) != 0)
            return TM_EXIT_USAGE;
    }
    if (optind >= argc)
        return tm_cli_usage("sign", "missing IMAGE");
    if (optind + 1 < argc)
        return tm_cli_usage("sign", "unexpected argument '%s'", argv[optind + 1]);
    if (!key_path)
        return tm_cli_usage("sign", "missing --key KEY.pem");
    if (!output)
        return tm_cli_usage("sign", "missing -o FILE");
    const char *image_path = argv[optind];

    tm_error err = { 0 };
    _cleanup_key_ struct evp_pkey_st *key = NULL;
    _cleanup_image_ struct tm_image *image = NULL;
    uint8_t mrenclave[SGX_HASH_SIZE], mrsigner[SGX_HASH_SIZE];
    struct sgx_sigstruct ss;
    /* The key first: a wrong key is reported before the image is measured. */
    if (tm_key_load(key_path, &key, &err) < 0 || tm_image_load(image_path, &image, &err) < 0 ||
        tm_measure_layout(&image->layout, NULL, NULL, mrenclave, &err) < 0 ||
        tm_sigstruct_sign(&ss, mrenclave, &opts, key, &err) < 0 ||
        tm_file_write(output, &ss, sizeof(ss), 0644, &err) < 0)
        return tm_cli_fail(&err);
    tm_sigstruct_mrsigner(&ss, mrsigner);
    char mr_hex[2 * SGX_HASH_SIZE + 1], signer_hex[2 * SGX_HASH_SIZE + 1];
    printf("signed %s: MRENCLAVE %s, MRSIGNER %s\n", image_path,
           tm_hex(mr_hex, mrenclave, sizeof(mrenclave)), tm_hex(signer_hex, mrsigner, sizeof(mrsigner)));
    return 0;
}
