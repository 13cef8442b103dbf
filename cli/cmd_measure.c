/* teemate measure IMAGE: MRENCLAVE as 64 lowercase hex characters. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "enclave/image.h"
#include "enclave/measure.h"
#include "util/hex.h"

static const char usage[] =
    "Usage: teemate measure IMAGE\n\n"
    "Print the MRENCLAVE the CPU would compute for IMAGE (64 lowercase hex characters).\n"
    "It does not depend on where the enclave is placed.\n";

int tm_cmd_measure(int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
    int c;
    while ((c = tm_cli_getopt("measure", argc, argv, "h", opts)) != -1) {
        if (c == 'h')
            return fputs(usage, stdout), 0;
        return TM_EXIT_USAGE;
    }
    if (optind + 1 != argc)
        return tm_cli_usage("measure", "expects exactly one IMAGE");

    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL;
    uint8_t mr[32];
    char hex[65];
    if (tm_image_load(argv[optind], &image, &err) < 0 ||
        tm_measure_layout(&image->layout, NULL, NULL, mr, &err) < 0)
        return tm_cli_fail(&err);
    printf("%s\n", tm_hex(hex, mr, sizeof(mr)));
    return 0;
}
