/* The warm path: an instance already running gets more requests. In a child
 * process (the native runtime holds one function per process): native loads
 * the scripts once and calls fn_native_run; teemate attaches once to the
 * function's shared enclave and calls fn_enclave_run (its slot keeps its JS
 * heap). The first request builds the instance and is not counted; each
 * later one is timed from params in to result out. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "fn_host.h"
#include "fn_record.h"
#include "fnbench.h"
#include "util/cleanup.h"

#define MUSTACHE "/usr/share/javascript/mustache/mustache.js"

static int fnb_warm_child(struct fnb_ctx *c, const struct fnb_function *f, enum fnb_mode m,
                          unsigned n, int fd)
{
    char name[96], store[400], js[4200];
    fnb_fn_name(f, m, name);
    snprintf(store, sizeof store, "%s/state/objects", c->tmp);
    struct fn_services services = { .store_dir = store, .log_fd = open("/dev/null", O_WRONLY) };
    tm_error err = { 0 };
    struct fn_record rec;
    _cleanup_free_ char *params = fnb_params(c, f, NULL);
    if (!params || fn_record_load(name, &rec, &err) < 0)
        return fprintf(stderr, "functions: warm %s: %s\n", name, err.msg), -1;
    struct fn_run_request req = { .timeout_ms = rec.timeout_ms, .memory_limit = rec.memory };
    struct tm_attachment *a = NULL;
    int r;
    if (m == FNB_NATIVE) {
        snprintf(js, sizeof js, "%s/%s.js", c->js_dir, f->name);
        char *paths[] = { MUSTACHE, js };
        bool lib = !strcmp(f->name, "dynamic-html");
        _cleanup_free_ void *wire = NULL;
        size_t len;
        fn_native_init(&services);
        r = fn_sources_read(lib ? paths : paths + 1, lib ? 2 : 1, &wire, &len, &err);
        if (r == 0)
            r = fn_native_load(wire, len, NULL, &err);
    } else {
        char enclave[64];
        fn_enclave_name(name, enclave);
        struct tm_attach_options o = { .socket_path = c->socket, .threads = 1 };
        r = tm_attach(enclave, &o, &a, &err);
    }
    for (unsigned i = 0; r == 0 && i <= n; i++) {
        struct fn_result res = { 0 };
        double t0 = tm_bench_now_s();
        r = m == FNB_NATIVE ? fn_native_run(&req, params, &res, &err)
                            : fn_enclave_run(a, &services, &req, params, &res, &err);
        double ms = (tm_bench_now_s() - t0) * 1e3;
        if (r == 0 && !res.ok)
            r = tm_error_set(&err, EPROTO, "error result %s", res.json);
        fn_result_free(&res);
        if (r == 0 && i > 0 && write(fd, &ms, sizeof ms) != sizeof ms)
            r = tm_error_sys(&err, "write");
    }
    if (a)
        tm_detach(a);
    if (r < 0)
        fprintf(stderr, "functions: warm %s: %s\n", name, err.msg);
    return r;
}

double fnb_warm(struct fnb_ctx *c, const struct fnb_function *f, enum fnb_mode m, unsigned n)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        _exit(fnb_warm_child(c, f, m, n, p[1]) == 0 ? 0 : 1);
    }
    close(p[1]);
    double ms[FNB_MAX_RUNS];
    unsigned got = 0;
    while (got < n && read(p[0], &ms[got], sizeof ms[0]) == sizeof ms[0])
        got++;
    close(p[0]);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) ||
        got != n)
        return -1;
    return tm_bench_median(ms, n);
}
