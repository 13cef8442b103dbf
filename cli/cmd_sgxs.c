/* teemate sgxs IMAGE -o FILE: the canonical SGXS stream (the exact bytes the
 * CPU hashes into MRENCLAVE), for tools that speak SGXS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "enclave/image.h"
#include "enclave/measure.h"
#include "util/cleanup.h"
#include "util/hex.h"

static const char usage[] =
    "Usage: teemate sgxs IMAGE -o FILE\n\n"
    "Write IMAGE's canonical SGXS stream to FILE ('-' for standard output). Its\n"
    "SHA-256 is the MRENCLAVE that 'teemate measure' prints.\n\n"
    "Options:\n"
    "  -o, --output FILE   where to write the stream\n";

static int write_stream(void *arg, const void *data, size_t len, tm_error *err)
{
    if (fwrite(data, 1, len, (FILE *)arg) != len)
        return tm_error_sys(err, "cannot write the SGXS stream");
    return 0;
}

int tm_cmd_sgxs(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { 0 },
    };
    const char *output = NULL;
    int c;
    while ((c = tm_cli_getopt("sgxs", argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return tm_cli_usage("sgxs", "expects exactly one IMAGE");
    if (!output)
        return tm_cli_usage("sgxs", "missing -o FILE");

    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL;
    if (tm_image_load(argv[optind], &image, &err) < 0)
        return tm_cli_fail(&err);

    bool to_stdout = !strcmp(output, "-");
    _cleanup_fclose_ FILE *out = to_stdout ? NULL : fopen(output, "wb");
    if (!to_stdout && !out) {
        tm_error_sys(&err, "cannot create %s", output);
        return tm_cli_fail(&err);
    }
    uint8_t mr[32];
    if (tm_measure_layout(&image->layout, write_stream, out ? out : stdout, mr, &err) < 0 ||
        fflush(out ? out : stdout) != 0) {
        if (!err.code)
            tm_error_sys(&err, "cannot write %s", output);
        if (out)
            unlink(output);
        return tm_cli_fail(&err);
    }
    if (!to_stdout) {
        char hex[65];
        fprintf(stderr, "wrote %s (MRENCLAVE %s)\n", output, tm_hex(hex, mr, sizeof(mr)));
    }
    return 0;
}
