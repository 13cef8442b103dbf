/* The action protocol's logic: /init once, then /run, each answered as
 * OpenWhisk's Node proxy answers (REFERENCE.md), each closed by the
 * sentinel line on stdout and stderr (after the activation's log lines). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fn_serve.h"

static void fn_serve_sentinel(void)
{
    fflush(stdout);
    fputs(FN_SERVE_SENTINEL "\n", stdout);
    fflush(stdout);
    fputs(FN_SERVE_SENTINEL "\n", stderr);
    fflush(stderr);
}

static void fn_serve_error(unsigned code, const char *msg, unsigned *status, char **reply)
{
    *status = code;
    *reply = fn_action_error_json(msg);
}

/* "Initialization has failed due to: ..." with the runtime's message, as
 * the proxy answers a script that does not compile (the runtime's boot
 * already words a throwing top level so). */
static void fn_serve_init_failed(char *error_json, const tm_error *err, unsigned *status, char **reply)
{
    if (error_json && strstr(error_json, "Initialization has failed due to: ")) {
        *status = 502;
        *reply = error_json;
        return;
    }
    free(error_json);
    char msg[sizeof err->msg + 64];
    snprintf(msg, sizeof msg, "Initialization has failed due to: %s", err->msg);
    fn_serve_error(502, msg, status, reply);
}

void fn_serve_init_request(struct fn_serve *s, const char *body, size_t len, unsigned *status,
                           char **reply)
{
    struct fn_action_init init;
    const char *error = NULL;
    int code;
    if (s->initialized)
        fn_serve_error(403, FN_SERVE_INIT_TWICE, status, reply);
    else if ((code = fn_action_init_parse(body, len, &init, &error)) != 0)
        fn_serve_error((unsigned)code, error, status, reply);
    else {
        char *error_json = NULL;
        tm_error err = { 0 };
        int r = fn_serve_backend_init(&s->backend, &s->o, &init, &error_json, &err);
        if (r == 0) {
            s->initialized = true;
            if (s->o.mode == FN_MODE_TEEMATE)   /* what a platform (and the tests) may check */
                fprintf(stderr, "teemate fn serve: %s enclave %s%s\n",
                        s->backend.built ? "built" : "attached to", s->backend.enclave_name,
                        s->backend.built ? " and compiled the code in it"
                                         : " (its code compiled already)");
            *status = 200;
            *reply = strdup("{\"OK\":true}");
        } else if (r == -EINVAL)
            fn_serve_init_failed(error_json, &err, status, reply);
        else {
            free(error_json);
            fprintf(stderr, "teemate fn serve: /init: %s\n", err.msg);
            fn_serve_error(502, err.msg, status, reply);
        }
        fn_action_init_free(&init);
    }
    fn_serve_sentinel();
}

/* The run's limit: the server's, shortened by the request's deadline
 * (epoch ms); one already past leaves 1 ms, which the runtime reports as
 * exceeded. */
static uint64_t fn_serve_timeout(uint64_t limit, int64_t deadline_ms)
{
    if (!deadline_ms)
        return limit;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t left = deadline_ms - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    return left <= 0 ? 1 : (uint64_t)left < limit ? (uint64_t)left : limit;
}

void fn_serve_run_request(struct fn_serve *s, const char *body, size_t len, unsigned *status,
                          char **reply)
{
    struct fn_action_run run;
    const char *error = NULL;
    int code;
    if (!s->initialized)
        fn_serve_error(403, FN_SERVE_NOT_INIT, status, reply);
    else if ((code = fn_action_run_parse(body, len, &run, &error)) != 0)
        fn_serve_error((unsigned)code, error, status, reply);
    else {
        struct fn_result res = { 0 };
        tm_error err = { 0 };
        int r = fn_serve_backend_run(&s->backend, fn_serve_timeout(s->o.timeout_ms, run.deadline_ms),
                                     run.env, run.params, &res, &err);
        if (r == 0) {
            *status = res.ok ? 200 : 502;
            *reply = res.json;
        } else {
            fprintf(stderr, "teemate fn serve: /run: %s\n", err.msg);
            fn_serve_error(r == -E2BIG ? 413 : 502, err.msg, status, reply);
        }
        fn_action_run_free(&run);
    }
    fn_serve_sentinel();
}
