/* teemate fn COMMAND: JavaScript functions (apps/functions), and what the
 * subcommands share: the enclave image, the host services. */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_fn.h"
#include "daemon/client.h"
#include "shared/attach.h"
#include "util/cleanup.h"
#include "util/clock.h"

int tm_cli_fn_image(char *buf, size_t len, tm_error *err)
{
    const char *env = getenv("TEEMATE_FN_IMAGE");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        return tm_error_sys(err, "cannot find the teemate binary");
    exe[n] = '\0';
    snprintf(buf, len, "%s/apps/functions/fn.elf", dirname(exe));
    if (access(buf, R_OK) != 0)
        return tm_error_sys(err, "the functions enclave image %s (set TEEMATE_FN_IMAGE)", buf);
    return 0;
}

int tm_cli_fn_services(struct fn_services *s, char *store, size_t len, tm_error *err)
{
    char state[4096];
    int r = tm_state_dir(state, sizeof state, err);
    if (r < 0)
        return r;
    snprintf(store, len, "%s/objects", state);
    s->store_dir = store;
    s->log_fd = 2;   /* console.log to stderr: stdout carries the result */
    return 0;
}

/* Another invoke is building enclave: wait (bounded) until the daemon has it
 * ready, since the daemon refuses an attach until then and tells only the
 * builder when it is done. */
static int fn_wait_built(int conn, const char *enclave, tm_error *err)
{
    struct tm_enclave_info info;
    double until = tm_now_ms() + 60000;
    for (;;) {
        int r = tm_daemon_inspect(conn, enclave, &info, err);
        if (r < 0 || !info.building)
            return r;
        if (tm_now_ms() > until)
            return tm_error_set(err, ETIMEDOUT, "enclave '%s' is still being built after 60 s", enclave);
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    }
}

int tm_cli_fn_enclave_build(const struct fn_record *rec, const char *socket, const void *in, size_t len,
                            void **sealed, size_t *sealed_len, struct tm_cli_fn_build_stats *st,
                            tm_error *err)
{
    char image[4096], enclave[64];
    int r = tm_cli_fn_image(image, sizeof image, err);
    if (r < 0)
        return r;
    fn_enclave_name(rec->name, enclave);
    _cleanup_image_ struct tm_image *base = NULL, *sized = NULL;
    if ((r = tm_image_load(image, &base, err)) < 0 ||
        (r = fn_shared_image(base, rec->instances, rec->memory, &sized, err)) < 0)
        return r;
    _cleanup_close_ int fd = tm_image_memfd(sized, "fn.elf", err);
    if (fd < 0)
        return fd;
    _cleanup_close_ int conn = tm_cli_daemon_connect(socket, err);
    if (conn < 0)
        return conn;
    double t0 = tm_now_ms();
    r = tm_daemon_create(conn, enclave, fd, -1, "auto", "fn.elf", NULL, NULL, 0, err);
    bool ours = r == 0;
    if (r == -EEXIST && !sealed)   /* another invoke rebuilds it: load as well (one load wins) */
        r = fn_wait_built(conn, enclave, err);
    if (r < 0)
        return r;
    double t1 = tm_now_ms();
    struct tm_attach_options o = { .socket_path = socket, .threads = 1 };
    struct tm_attachment *a = NULL;
    struct fn_services services = { .log_fd = 2 };
    r = tm_attach(enclave, &o, &a, err);
    const struct fn_target t = { .attachment = a };
    if (r == 0)
        r = sealed ? fn_target_load_seal(&t, &services, in, len, sealed, sealed_len, NULL, err)
                   : fn_target_load_sealed(&t, &services, in, len, NULL, err);
    tm_detach(a);
    if (r == -EEXIST && !sealed)
        r = 0;   /* a concurrent rebuild's load came first: the same sealed code */
    if (r < 0 && ours) {
        tm_error ignore = { 0 };
        tm_daemon_remove(conn, enclave, true, NULL, &ignore);
    } else if (r == 0 && st) {
        st->built = ours;
        st->build_ms = t1 - t0;
        st->load_ms = tm_now_ms() - t1;
    }
    return r;
}

int tm_cli_fn_serve_build(const struct fn_record *rec, const char *socket, const void *wire,
                          size_t len, bool *built, tm_error *err)
{
    _cleanup_free_ void *sealed = NULL;
    size_t sealed_len = 0;
    struct tm_cli_fn_build_stats st = { 0 };
    *built = false;
    int r = tm_cli_fn_enclave_build(rec, socket, wire, len, &sealed, &sealed_len, &st, err);
    if (r == 0) {
        *built = true;
        return 0;
    }
    if (r != -EEXIST)
        return r;
    char enclave[64];   /* another container with this code built it: wait until it is ready */
    fn_enclave_name(rec->name, enclave);
    _cleanup_close_ int conn = tm_cli_daemon_connect(socket, err);
    return conn < 0 ? conn : fn_wait_built(conn, enclave, err);
}

int tm_cli_fn_restore(const struct fn_record *rec, const char *socket,
                      struct tm_cli_fn_build_stats *st, tm_error *err)
{
    _cleanup_free_ void *blob = NULL;
    size_t len;
    int r = fn_record_sealed_read(rec->name, &blob, &len, err);
    if (r == 0)
        r = tm_cli_fn_enclave_build(rec, socket, blob, len, NULL, NULL, st, err);
    if (r < 0)
        return tm_error_prefix(err, "function '%s': its enclave is gone and could not be rebuilt "
                               "from its sealed code", rec->name);
    return r;
}

bool tm_cli_fn_enclave_gone(const struct fn_record *rec, const char *socket)
{
    char enclave[64];
    fn_enclave_name(rec->name, enclave);
    tm_error err = { 0 };
    struct tm_enclave_info info;
    _cleanup_close_ int conn = tm_cli_daemon_connect(socket, &err);
    if (conn < 0)
        return false;
    int r = tm_daemon_inspect(conn, enclave, &info, &err);
    return r == -ENOENT || (r == 0 && info.building);
}

static int tm_cmd_fn_ls(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
        return fputs("Usage: teemate fn ls\n\nList the functions: name, mode, memory, timeout, scripts.\n", stdout), 0;
    if (argc > 1)
        return tm_cli_usage("fn ls", "takes no arguments");
    tm_error err = { 0 };
    char **names;
    size_t n;
    if (fn_record_list(&names, &n, &err) < 0)
        return tm_cli_fail(&err);
    printf("%-24s %-13s %-10s %-8s %s\n", "NAME", "MODE", "MEMORY", "TIMEOUT", "SCRIPTS");
    for (size_t i = 0; i < n; i++) {
        struct fn_record rec;
        char mem[32];
        if (fn_record_load(names[i], &rec, &err) == 0) {
            printf("%-24s %-13s %-10s %-8.3g", rec.name, fn_mode_name(rec.mode),
                   tm_cli_size(rec.memory, mem), (double)rec.timeout_ms / 1000);
            for (uint32_t k = 0; k < rec.nscripts; k++)
                printf("%s%s", k ? "," : " ", rec.scripts[k]);
            printf("\n");
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

static int tm_cmd_fn_rm(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, { 0 },
    };
    const char *socket = NULL;
    int c;
    while ((c = tm_cli_getopt("fn rm", argc, argv, "h", opts)) != -1) {
        switch (c) {
        case 's': socket = optarg; break;
        case 'h': return fputs("Usage: teemate fn rm NAME [--socket PATH]\n\nRemove the function "
                               "(and its shared enclave, once no instance uses it).\n", stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc)
        return tm_cli_usage("fn rm", "expects one NAME");
    const char *name = argv[optind];
    tm_error err = { 0 };
    struct fn_record rec;
    if (fn_record_load(name, &rec, &err) < 0)
        return tm_cli_fail(&err);
    if (rec.mode == FN_MODE_TEEMATE) {
        char enclave[64];
        fn_enclave_name(name, enclave);
        _cleanup_close_ int conn = tm_cli_daemon_connect(socket, &err);
        if (conn < 0)
            return tm_cli_fail(&err);
        if (tm_daemon_remove(conn, enclave, true, NULL, &err) < 0 && err.code != ENOENT)
            return tm_cli_fail(&err);
    }
    if (fn_record_remove(name, &err) < 0)
        return tm_cli_fail(&err);
    return 0;
}

static const struct tm_command subcommands[] = {
    { "create", "compile a JavaScript function (once) for a mode", tm_cmd_fn_create },
    { "invoke", "run the function in a new instance, print its result", tm_cmd_fn_invoke },
    { "ls",     "list the functions",                             tm_cmd_fn_ls },
    { "serve",  "serve OpenWhisk's action protocol (/init, /run)", tm_cmd_fn_serve },
    { "rm",     "remove a function",                              tm_cmd_fn_rm },
};

int tm_cmd_fn(int argc, char **argv)
{
    if (argc < 2)
        return tm_cli_usage("fn", "expects a COMMAND (create, invoke, ls, rm, serve)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("Usage: teemate fn COMMAND [OPTIONS]\n\nJavaScript functions (OpenWhisk's contract: "
               "main(params) returns an object).\n\nCommands:\n");
        for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
            printf("  %-8s  %s\n", subcommands[i].name, subcommands[i].summary);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (!strcmp(argv[1], subcommands[i].name))
            return subcommands[i].run(argc - 1, argv + 1);
    return tm_cli_usage("fn", "unknown command '%s' (create, invoke, ls, rm, serve)", argv[1]);
}
