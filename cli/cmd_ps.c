/* teemate ps: the processes in a container's cgroup, as runc shows them:
 * --format json prints the array of pids; table runs ps (default -ef) and
 * keeps its header and the lines whose PID column is one of them. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/container.h"
#include "util/cleanup.h"

#define PS_OUTPUT_MAX (64u << 20)

extern char **environ;

static const char usage[] =
    "Usage: teemate ps [--format table|json] ID [PS OPTIONS]\n\n"
    "Show the processes in the container ID's cgroup. table (the default) runs\n"
    "ps with PS OPTIONS (default -ef; a '--' before them is dropped) and keeps\n"
    "its header and the container's lines; its output must have a PID column.\n"
    "json prints the pids as a JSON array (null when there are none) and, as\n"
    "runc, ignores PS OPTIONS.\n\n"
    "Options:\n"
    "  --format, -f FORMAT   table or json\n";

static void print_json(const pid_t *pids, size_t n)
{
    if (!n) {
        puts("null");   /* runc's encoding of no pids */
        return;
    }
    putchar('[');
    for (size_t i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", (int)pids[i]);
    puts("]");
}

/* Run ps with args; its stdout and stderr together in *out (malloc'd). */
static int run_ps(char **args, size_t nargs, char **out, tm_error *err)
{
    /* ps, the options (or -ef), NULL */
    _cleanup_free_ char **argv = calloc((nargs ? nargs : 1) + 2, sizeof *argv);
    if (!argv)
        return tm_error_set(err, ENOMEM, "out of memory");
    argv[0] = "ps";
    static char ef[] = "-ef";
    if (nargs)
        memcpy(argv + 1, args, nargs * sizeof *args);
    else
        argv[1] = ef;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, "ps", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    _cleanup_close_ int rd = fds[0];
    if (rc != 0)
        return tm_error_set(err, rc, "cannot run ps: %s", strerror(rc));
    size_t cap = 65536, len = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);
    for (ssize_t n = 1; buf && n > 0;) {
        if (len == cap && cap < PS_OUTPUT_MAX) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        n = len < cap ? read(rd, buf + len, cap - len) : 0;
        if (n < 0 && errno == EINTR)
            n = 1;
        else if (n > 0)
            len += (size_t)n;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!buf)
        return tm_error_set(err, ENOMEM, "ps: out of memory");
    buf[len] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        buf[strcspn(buf, "\n")] = '\0';   /* its first line: the reason */
        return tm_error_set(err, EIO, "ps: exit status %d: %s",
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), buf);
    }
    *out = TM_STEAL(buf);
    return 0;
}

/* The index of the "PID" word in ps's header, or -1. */
static int pid_column(const char *header)
{
    int col = 0;
    for (const char *c = header; *c;) {
        c += strspn(c, " \t");
        size_t len = strcspn(c, " \t");
        if (!len)
            break;
        if (len == 3 && !strncmp(c, "PID", 3))
            return col;
        col++;
        c += len;
    }
    return -1;
}

/* Field col of line as a pid; -1 if the line has no such number. */
static long field_pid(const char *line, int col)
{
    const char *c = line;
    for (int i = 0;; i++) {
        c += strspn(c, " \t");
        if (!*c)
            return -1;
        if (i == col) {
            char *end;
            long v = strtol(c, &end, 10);
            return end != c && (!*end || *end == ' ' || *end == '\t') ? v : -1;
        }
        c += strcspn(c, " \t");
    }
}

static int print_table(const pid_t *pids, size_t n, char **args, size_t nargs, tm_error *err)
{
    _cleanup_free_ char *text = NULL;
    int ret = run_ps(args, nargs, &text, err);
    if (ret < 0)
        return ret;
    char *save = NULL, *header = strtok_r(text, "\n", &save);
    int col = header ? pid_column(header) : -1;
    if (col < 0)
        return tm_error_set(err, EINVAL, "couldn't find PID field in ps output");
    puts(header);
    for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        long pid = field_pid(line, col);
        if (pid < 0)
            return tm_error_set(err, EINVAL, "unable to parse pid in ps output: %s", line);
        for (size_t i = 0; i < n; i++)
            if (pids[i] == pid) {
                puts(line);
                break;
            }
    }
    return 0;
}

int tm_cmd_ps(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    bool json = false;
    int c;
    /* '+': stop at the ID, what follows it is ps's */
    while ((c = tm_cli_getopt("ps", argc, argv, "+f:h", opts)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "table") && strcmp(optarg, "json"))
                return tm_cli_usage("ps", "--format takes table or json");
            json = !strcmp(optarg, "json");
            break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind >= argc)
        return tm_cli_usage("ps", "expects a container ID");
    const char *id = argv[optind];
    char **args = argv + optind + 1;
    size_t nargs = (size_t)(argc - optind - 1);
    if (nargs && !strcmp(args[0], "--"))
        args++, nargs--;
    tm_error err = { 0 };
    _cleanup_free_ pid_t *pids = NULL;
    size_t n;
    if (tm_container_pids(tm_cli_oci_root(), id, &pids, &n, &err) < 0)
        return tm_cli_fail(&err);
    if (json) {
        print_json(pids, n);
        return 0;
    }
    return print_table(pids, n, args, nargs, &err) < 0 ? tm_cli_fail(&err) : 0;
}
