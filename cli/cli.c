#include "cli.h"
#include "cli_oci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Both also go to the runtime log (--log), where engines look for errors. */
int tm_cli_fail(const tm_error *err)
{
    const char *msg = err->msg[0] ? err->msg : "unknown error";
    fprintf(stderr, "teemate: %s\n", msg);
    tm_cli_oci_log_error(msg);
    return TM_EXIT_ERROR;
}

int tm_cli_usage(const char *verb, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "teemate %s: %s (see 'teemate %s --help')\n", verb, msg, verb);
    tm_cli_oci_log_error(msg);
    return TM_EXIT_USAGE;
}

int tm_cli_getopt(const char *verb, int argc, char **argv, const char *shortopts,
                  const struct option *longopts)
{
    /* A leading ':' makes getopt report a missing value as ':' rather than '?'. */
    /* ("+" = stop at the first non-option must stay first.) */
    char opts[64];
    bool stop = shortopts[0] == '+';
    snprintf(opts, sizeof(opts), "%s:%s", stop ? "+" : "", shortopts + stop);
    opterr = 0;
    /* Options after operands, as every synopsis shows them, whatever the
     * environment: GNU getopt stops at the first operand when it sees
     * POSIXLY_CORRECT (at its first call); runc's parser never does. */
    const char *posix = getenv("POSIXLY_CORRECT");
    char *saved = posix ? strdup(posix) : NULL;
    if (posix)
        unsetenv("POSIXLY_CORRECT");
    int c = getopt_long(argc, argv, opts, longopts, NULL);
    if (saved)
        setenv("POSIXLY_CORRECT", saved, 1);
    free(saved);
    if (c == '?') {
        if (optopt)
            tm_cli_usage(verb, "unknown option -%c", optopt);
        else
            tm_cli_usage(verb, "unknown option or missing value in '%s'", argv[optind - 1]);
        return '?';
    }
    if (c == ':') {
        const char *given = argv[optind - 1];
        if (!strncmp(given, "--", 2))
            tm_cli_usage(verb, "option '%s' needs a value", given);
        else
            tm_cli_usage(verb, "option -%c needs a value", optopt);
        return '?';
    }
    return c;
}

int tm_cli_parse_u64(const char *text, uint64_t max, uint64_t *out)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || *end || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}
