/* A worker process for the functions tests: the JS runtime natively, or an
 * instance attached to a shared enclave (through the attach library), driven
 * line by line over pipes so that several instances can live at once:
 *   L PATH...            load the scripts  -> "ok" | "refused MESSAGE"
 *   R TIMEOUT_MS MEMORY PARAMS
 *                        main(PARAMS)      -> "1 JSON" (result) | "0 JSON" (error
 *                                             result) | "fail MESSAGE"
 *   S                    instance stats    -> "HEAP_BYTES RUNS"
 *   Q                    detach and exit */
#ifndef FN_TEST_WORKER_H
#define FN_TEST_WORKER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fn_host.h"

#define FN_WORKER_LINE (2U << 20)

struct fn_worker {
    pid_t pid;
    FILE *to, *from;
    bool enclave;
};

static void fn_worker_serve(bool enclave, const char *sock_path, const char *name,
                            const struct fn_services *services, FILE *in, FILE *out)
{
    struct tm_attachment *a = NULL;
    tm_error err = { 0 };
    if (enclave) {
        struct tm_attach_options o = { .socket_path = sock_path, .no_autostart = true, .threads = 1 };
        if (tm_attach(name, &o, &a, &err) < 0) {
            fprintf(out, "fail attach: %s\n", err.msg);
            fflush(out);
            return;
        }
    } else {
        fn_native_init(services);
    }
    fprintf(out, "ready %u\n", a ? a->slot : 0);
    fflush(out);
    char *line = malloc(FN_WORKER_LINE);
    while (line && fgets(line, FN_WORKER_LINE, in)) {
        line[strcspn(line, "\n")] = '\0';
        memset(&err, 0, sizeof err);
        if (line[0] == 'L') {
            char *paths[FN_MAX_SCRIPTS];
            size_t n = 0;
            for (char *t = strtok(line + 1, " "); t && n < FN_MAX_SCRIPTS; t = strtok(NULL, " "))
                paths[n++] = t;
            void *wire = NULL;
            size_t len;
            int r = fn_sources_read(paths, n, &wire, &len, &err);
            if (r == 0)
                r = enclave ? fn_enclave_load(a, services, wire, len, NULL, &err)
                            : fn_native_load(wire, len, NULL, &err);
            free(wire);
            if (r == 0)
                fprintf(out, "ok\n");
            else
                fprintf(out, "refused %s\n", err.msg);
        } else if (line[0] == 'R') {
            struct fn_run_request req = { 0 };
            unsigned long long t, m;
            int used = 0;
            sscanf(line + 1, " %llu %llu %n", &t, &m, &used);
            req.timeout_ms = t;
            req.memory_limit = m;
            struct fn_result res = { 0 };
            const char *params = line + 1 + used;
            int r = enclave ? fn_enclave_run(a, services, &req, params, &res, &err)
                            : fn_native_run(&req, params, &res, &err);
            if (r == 0)
                fprintf(out, "%d %s\n", res.ok, res.json);
            else
                fprintf(out, "fail %s\n", err.msg);
            fn_result_free(&res);
        } else if (line[0] == 'S') {
            struct fn_stats st = { 0 };
            if (enclave && fn_enclave_stats(a, &st, &err) < 0)
                fprintf(out, "fail %s\n", err.msg);
            else
                fprintf(out, "%llu %llu\n", (unsigned long long)st.heap_bytes,
                        (unsigned long long)st.runs);
        } else {
            break;
        }
        fflush(out);
    }
    free(line);
    tm_detach(a);
}

/* Start a worker; NULL reply means it did not come up. */
static bool fn_worker_start(struct fn_worker *w, bool enclave, const char *sock_path,
                            const char *name, const struct fn_services *services)
{
    int to[2], from[2];
    if (pipe(to) < 0 || pipe(from) < 0)
        return false;
    fflush(NULL);
    w->pid = fork();
    if (w->pid < 0)
        return false;
    if (w->pid == 0) {
        close(to[1]);
        close(from[0]);
        FILE *in = fdopen(to[0], "r"), *out = fdopen(from[1], "w");
        fn_worker_serve(enclave, sock_path, name, services, in, out);
        fclose(in);
        fclose(out);
        exit(0);   /* exit: LeakSanitizer checks the worker too */
    }
    close(to[0]);
    close(from[1]);
    w->to = fdopen(to[1], "w");
    w->from = fdopen(from[0], "r");
    w->enclave = enclave;
    char buf[1024];
    if (!fgets(buf, sizeof buf, w->from) || strncmp(buf, "ready", 5) != 0) {
        fprintf(stderr, "  worker: %s", buf);
        return false;
    }
    return true;
}

/* Send a command; the reply line (malloc'ed, no newline). */
__attribute__((format(printf, 2, 3)))
static char *fn_worker_cmd(struct fn_worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(w->to, fmt, ap);
    va_end(ap);
    fputc('\n', w->to);
    fflush(w->to);
    char *line = malloc(FN_WORKER_LINE);
    if (!line || !fgets(line, FN_WORKER_LINE, w->from)) {
        free(line);
        return strdup("fail worker gone");
    }
    line[strcspn(line, "\n")] = '\0';
    return line;
}

/* Quit and reap; true when the worker exited 0. */
static bool fn_worker_stop(struct fn_worker *w)
{
    if (w->pid <= 0)
        return true;
    fputs("Q\n", w->to);
    fclose(w->to);
    fclose(w->from);
    int st = 0;
    waitpid(w->pid, &st, 0);
    w->pid = -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
