/* runc's global options and runtime log (see cli_oci.h). Engines put the
 * global options before the verb, in Go's flag syntax: "--root DIR",
 * "--root=DIR" and "-root DIR" all occur. */
#include "cli_oci.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "container/state.h"
#include "util/cleanup.h"
#include "util/runtime_log.h"

static struct {
    const char *root;
    const char *log;
    bool log_json;
    bool debug;
    bool systemd_cgroup;
} g;

enum { OPT_ROOT, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD_CGROUP, OPT_ROOTLESS };

static const struct {
    const char *name;
    bool takes_value;
} globals[] = {
    [OPT_ROOT] = { "root", true },
    [OPT_LOG] = { "log", true },
    [OPT_LOG_FORMAT] = { "log-format", true },
    [OPT_DEBUG] = { "debug", false },
    [OPT_SYSTEMD_CGROUP] = { "systemd-cgroup", false },
    [OPT_ROOTLESS] = { "rootless", true },
};

/* "teemate: MESSAGE (see 'teemate --help')", also to the log; exit code 2. */
static int global_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int global_usage(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "teemate: %s (see 'teemate --help')\n", msg);
    tm_cli_oci_log_error(msg);
    return TM_EXIT_USAGE;
}

/* Go's strconv.ParseBool, the spellings engines use. */
static int parse_bool(const char *text, bool *out)
{
    static const char *yes[] = { "1", "t", "true", "T", "TRUE", "True" };
    static const char *no[] = { "0", "f", "false", "F", "FALSE", "False" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcmp(text, yes[i]))
            return *out = true, 0;
        if (!strcmp(text, no[i]))
            return *out = false, 0;
    }
    return -EINVAL;
}

static int find_global(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
        if (strlen(globals[i].name) == len && !strncmp(globals[i].name, name, len))
            return (int)i;
    return -1;
}

int tm_cli_oci_globals(int argc, char **argv, int *verb)
{
    const char *log_format = "text", *rootless = "auto";
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-h") || !strcmp(a, "-v") || !strcmp(a, "--help") ||
            !strcmp(a, "--version"))
            break;   /* the verb, or what main handles itself */
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        int opt = find_global(name, eq ? (size_t)(eq - name) : strlen(name));
        if (opt < 0)
            return global_usage("unknown global option '%s'", a);
        const char *value = eq ? eq + 1 : NULL;
        bool flag = true;
        if (globals[opt].takes_value && !value) {
            if (i + 1 >= argc)
                return global_usage("option '%s' needs a value", a);
            value = argv[++i];
        } else if (!globals[opt].takes_value && value && parse_bool(value, &flag) < 0) {
            return global_usage("option '%s' takes true or false", a);
        }
        switch (opt) {
        case OPT_ROOT: g.root = value; break;
        case OPT_LOG: g.log = *value ? value : NULL; break;
        case OPT_LOG_FORMAT: log_format = value; break;
        case OPT_DEBUG: g.debug = flag; break;
        case OPT_SYSTEMD_CGROUP: g.systemd_cgroup = flag; break;
        case OPT_ROOTLESS: rootless = value; break;
        }
    }
    /* Checked once all are read, so the error reaches --log wherever it was. */
    if (strcmp(log_format, "text") && strcmp(log_format, "json"))
        return global_usage("--log-format takes text or json, not '%s'", log_format);
    g.log_json = !strcmp(log_format, "json");
    if (g.root && !*g.root)
        return global_usage("--root needs a directory");
    bool yes;
    if (strcmp(rootless, "auto") && parse_bool(rootless, &yes) < 0)
        return global_usage("--rootless takes true, false or auto, not '%s'", rootless);
    if (strcmp(rootless, "auto") && yes) {
        tm_error err;
        tm_error_set(&err, ENOTSUP, "--rootless=true is not supported (use false or auto)");
        return tm_cli_fail(&err);
    }
    *verb = i;
    return -1;
}

const char *tm_cli_oci_root(void)
{
    return tm_state_root(g.root);
}

bool tm_cli_oci_debug(void)
{
    return g.debug;
}

int tm_cli_oci_cgroup_manager_check(tm_error *err)
{
    if (g.systemd_cgroup)
        return tm_error_set(err, ENOTSUP, "systemd cgroup manager is not supported; use cgroupfs");
    return 0;
}

void tm_cli_oci_log_error(const char *msg)
{
    _cleanup_close_ int fd = tm_runtime_log_open(g.log);
    tm_runtime_log_error(fd, g.log_json, msg);
}

void tm_cli_oci_version(void)
{
    printf("teemate version %s\nspec: %s\n", TM_VERSION, TM_OCI_SPEC_VERSION);
}

const char *tm_cli_oci_one_id(const char *verb, int argc, char **argv)
{
    if (optind >= argc) {
        tm_cli_usage(verb, "expects a container ID");
        return NULL;
    }
    if (optind + 1 < argc) {
        tm_cli_usage(verb, "takes one container ID ('%s' is extra)", argv[optind + 1]);
        return NULL;
    }
    return argv[optind];
}

int tm_cli_oci_bundle(const char *given, char *out, tm_error *err)
{
    const char *dir = given && *given ? given : ".";
    struct stat st;
    if (!realpath(dir, out))
        return tm_error_sys(err, "bundle %s", dir);
    if (stat(out, &st) < 0)
        return tm_error_sys(err, "bundle %s", dir);
    if (!S_ISDIR(st.st_mode))
        return tm_error_set(err, ENOTDIR, "bundle %s is not a directory", dir);
    return 0;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" */
static int realtime_signal(const char *name)
{
    uint64_t n = 0;
    int base;
    if (!strncasecmp(name, "RTMIN", 5))
        base = SIGRTMIN;
    else if (!strncasecmp(name, "RTMAX", 5))
        base = SIGRTMAX;
    else
        return -EINVAL;
    const char *rest = name + 5;
    if (*rest) {
        char sign = base == SIGRTMIN ? '+' : '-';
        if (*rest != sign || tm_cli_parse_u64(rest + 1, (uint64_t)(SIGRTMAX - SIGRTMIN), &n) < 0)
            return -EINVAL;
    }
    return base == SIGRTMIN ? base + (int)n : base - (int)n;
}

int tm_cli_oci_signal(const char *text)
{
    uint64_t n;
    if (!text || !*text)
        return -EINVAL;
    if (text[0] >= '0' && text[0] <= '9')
        return tm_cli_parse_u64(text, (uint64_t)(NSIG - 1), &n) == 0 && n > 0 ? (int)n : -EINVAL;
    const char *name = strncasecmp(text, "SIG", 3) ? text : text + 3;
    for (int sig = 1; sig < SIGRTMIN; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && !strcasecmp(abbrev, name))
            return sig;
    }
    return realtime_signal(name);
}
