/* Actions: PUT (create, or update with overwrite=true), GET (one, list),
 * DELETE, POST (invoke). An action is a function record (fn_record) named
 * gw-<SHA-256 of its name>, so that any OpenWhisk name maps to a record
 * and an enclave name; OpenWhisk's view of it (exec, limits, parameters,
 * annotations, version) is action.json beside function.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "fn_host.h"
#include "gw_http.h"
#include "gw_warm.h"
#include "util/cleanup.h"
#include "util/file.h"

void gw_action_record_name(const char *name, char buf[FN_NAME_MAX + 1])
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)name, strlen(name), h);
    strcpy(buf, "gw-");
    for (int i = 0; i < 16; i++)
        sprintf(buf + 3 + 2 * i, "%02x", h[i]);
}

static void gw_action_path(const char *name, char *buf, size_t len)
{
    char rec[FN_NAME_MAX + 1], dir[4200];
    tm_error ignore;
    gw_action_record_name(name, rec);
    if (fn_record_dir(rec, false, dir, sizeof dir, &ignore) < 0)
        dir[0] = '\0';
    snprintf(buf, len, "%s/action.json", dir);
}

json_t *gw_action_load(const struct gw *g, const char *name)
{
    (void)g;
    char path[4400];
    gw_action_path(name, path, sizeof path);
    json_t *a = json_load_file(path, 0, NULL);
    if (a && !json_is_object(a))
        a = (json_decref(a), NULL);
    return a;
}

/* Compiled by Duktape in a forked child (the native runtime holds one
 * function per process): 0, or -EINVAL with Duktape's message in err. */
static int gw_compile_check(const void *wire, size_t len, tm_error *err)
{
    int p[2];
    if (pipe(p) < 0)
        return tm_error_sys(err, "pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        tm_error e = { 0 };
        struct fn_services sv = { .log_fd = -1 };
        fn_native_init(&sv);
        int r = fn_native_load(wire, len, NULL, &e);
        if (r < 0 && write(p[1], e.msg, strlen(e.msg)) < 0)
            _exit(2);
        _exit(r < 0);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return tm_error_sys(err, "fork");
    }
    char msg[sizeof err->msg] = "";
    ssize_t n = 0, k;
    while ((k = read(p[0], msg + n, sizeof msg - 1 - (size_t)n)) > 0)
        n += k;
    msg[n > 0 ? n : 0] = '\0';
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    return tm_error_set(err, EINVAL, "%s", *msg ? msg : "the code could not be compiled");
}

/* The OpenWhisk entity from a PUT body (gw_parse.c); NULL with a 400 queued. */
static json_t *gw_action_from_put(struct gw_req *rq, const char *name, json_t *body, json_t *old,
                                  enum fn_mode *mode, enum MHD_Result *res)
{
    char msg[512];
    json_t *action = gw_action_parse(name, body, old, gw_now_epoch_ms(), mode, msg, sizeof msg);
    if (!action)
        *res = gw_reply_error(rq, 400, "%s", msg);
    return action;
}

/* Remove an action's record (and its enclave). */
static int gw_action_remove(struct gw *g, const char *name, tm_error *err)
{
    char recname[FN_NAME_MAX + 1];
    gw_action_record_name(name, recname);
    gw_warm_drop(g->warm, name);   /* its warm containers go (attached to its enclave) */
    struct fn_record rec;
    int r = fn_record_load(recname, &rec, err);
    if (r == 0 && rec.mode == FN_MODE_TEEMATE && g->cfg.hooks.enclave_remove &&
        (r = g->cfg.hooks.enclave_remove(&rec, err)) < 0 && err->code != ENOENT)
        return r;
    return fn_record_remove(recname, err);
}

/* Compile, replace the old record (if any), build (teemate mode), save:
 * -EINVAL when the code does not compile (nothing changed). */
static int gw_action_store(struct gw *g, const char *name, json_t *action, enum fn_mode mode,
                           bool replace, tm_error *err)
{
    const char *code = json_string_value(json_object_get(json_object_get(action, "exec"), "code"));
    json_t *limits = json_object_get(action, "limits");
    struct fn_source src = { .name = "action.js", .text = code, .len = strlen(code) };
    _cleanup_free_ void *wire = NULL, *sealed = NULL;
    _cleanup_free_ char *text = json_dumps(action, JSON_COMPACT);
    size_t len, sealed_len = 0;
    int r;
    if (!text)
        return tm_error_set(err, ENOMEM, "out of memory");
    if ((r = fn_sources_pack(&src, 1, &wire, &len, err)) < 0 || (r = gw_compile_check(wire, len, err)) < 0)
        return r;
    struct fn_record rec = {
        .mode = mode, .nscripts = 1,
        .memory = (uint64_t)json_integer_value(json_object_get(limits, "memory")) << 20,
        .timeout_ms = (uint64_t)json_integer_value(json_object_get(limits, "timeout")),
    };
    gw_action_record_name(name, rec.name);
    strcpy(rec.scripts[0], "action.js");
    if (replace && (r = gw_action_remove(g, name, err)) < 0)
        return r == -EINVAL ? -EIO : r;
    if (mode == FN_MODE_TEEMATE) {
        rec.instances = FN_DEFAULT_INSTANCES;
        if (!g->cfg.hooks.enclave_build)
            return tm_error_set(err, ENOTSUP, "the teemate mode needs teemated");
        if ((r = g->cfg.hooks.enclave_build(&rec, wire, len, &sealed, &sealed_len, err)) < 0)
            return r == -EINVAL ? -EIO : r;
    }
    const char *texts[1] = { code };
    size_t lens[1] = { strlen(code) };
    char path[4400];
    if ((r = fn_record_save(&rec, texts, lens, sealed, sealed_len, err)) < 0)
        return r == -EINVAL ? -EIO : r;
    gw_action_path(name, path, sizeof path);
    if ((r = tm_file_write(path, text, strlen(text), 0600, err)) < 0) {
        gw_action_remove(g, name, &(tm_error){ 0 });
        return r == -EINVAL ? -EIO : r;
    }
    return 0;
}

static enum MHD_Result gw_action_put(struct gw_req *rq, const char *name)
{
    struct gw *g = rq->g;
    enum MHD_Result res = MHD_NO;
    json_t *body = gw_body_json(rq, &res);
    if (!body)
        return res;
    bool overwrite;
    if (!gw_query_flag(rq, "overwrite", false, &overwrite, &res)) {
        json_decref(body);
        return res;
    }
    pthread_mutex_lock(&g->actions_lock);
    json_t *old = gw_action_load(g, name), *action = NULL;
    enum fn_mode mode;
    tm_error err = { 0 };
    if (old && !overwrite) {
        res = gw_reply_error(rq, MHD_HTTP_CONFLICT, "resource already exists");
    } else if ((action = gw_action_from_put(rq, name, body, old, &mode, &res))) {
        int r = gw_action_store(g, name, action, mode, old != NULL, &err);
        res = r == -EINVAL ? gw_reply_error(rq, 400, "%s", err.msg)
              : r < 0      ? gw_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg)
                           : gw_reply(rq, MHD_HTTP_OK, json_incref(action), NULL);
    }
    pthread_mutex_unlock(&g->actions_lock);
    json_decref(old);
    json_decref(action);
    json_decref(body);
    return res;
}

static int gw_updated_cmp(const void *x, const void *y)
{
    double a = json_number_value(json_object_get(*(json_t *const *)x, "updated"));
    double b = json_number_value(json_object_get(*(json_t *const *)y, "updated"));
    return a < b ? 1 : a > b ? -1 : 0;
}

static enum MHD_Result gw_action_list(struct gw_req *rq)
{
    enum MHD_Result res;
    size_t limit, skip;
    if (!gw_list_range(rq, "actions", &limit, &skip, &res))
        return res;
    char **names;
    size_t n;
    tm_error err = { 0 };
    pthread_mutex_lock(&rq->g->actions_lock);
    int r = fn_record_list(&names, &n, &err);
    json_t **all = r == 0 ? calloc(n + 1, sizeof *all) : NULL;
    size_t k = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        char dir[4200], path[4400];
        if (all && fn_record_dir(names[i], false, dir, sizeof dir, &err) == 0) {
            snprintf(path, sizeof path, "%s/action.json", dir);
            json_t *a = json_load_file(path, 0, NULL);
            if (json_is_object(a)) {
                json_object_del(json_object_get(a, "exec"), "code");   /* a summary, as OpenWhisk lists */
                all[k++] = a;
            } else {
                json_decref(a);
            }
        }
        free(names[i]);
    }
    pthread_mutex_unlock(&rq->g->actions_lock);
    if (r == 0)
        free(names);
    if (r < 0 || !all)
        return free(all), gw_reply_error(rq, 500, "%s", r < 0 ? err.msg : "out of memory");
    qsort(all, k, sizeof *all, gw_updated_cmp);
    json_t *list = json_array();
    for (size_t i = 0; i < k; i++) {
        if (i >= skip && json_array_size(list) < limit)
            json_array_append(list, all[i]);
        json_decref(all[i]);
    }
    free(all);
    return gw_reply(rq, MHD_HTTP_OK, list, NULL);
}

/* The action's parameters, then the request's over them. */
static char *gw_params_merge(json_t *action, json_t *body)
{
    json_t *params = json_object(), *p;
    size_t i;
    json_array_foreach(json_object_get(action, "parameters"), i, p)
        json_object_set(params, json_string_value(json_object_get(p, "key")), json_object_get(p, "value"));
    json_object_update(params, body);
    char *text = json_dumps(params, JSON_COMPACT);
    json_decref(params);
    return text;
}

static enum MHD_Result gw_action_invoke(struct gw_req *rq, const char *name)
{
    struct gw *g = rq->g;
    enum MHD_Result res = MHD_NO;
    bool blocking, result_only;
    if (!gw_query_flag(rq, "blocking", false, &blocking, &res) ||
        !gw_query_flag(rq, "result", false, &result_only, &res))
        return res;
    json_t *action = gw_action_load(g, name);
    if (!action)
        return gw_reply_error(rq, MHD_HTTP_NOT_FOUND, GW_NOT_FOUND);
    json_t *body = gw_body_json(rq, &res);
    if (!body) {
        json_decref(action);
        return res;
    }
    if (!json_is_object(body)) {
        json_decref(action);
        json_decref(body);
        return gw_reply_error(rq, 400, "The request content was malformed:\nexpected an object");
    }
    struct gw_job *job = calloc(1, sizeof *job);
    if (!job || !(job->params = gw_params_merge(action, body))) {
        free(job);
        json_decref(action);
        json_decref(body);
        return MHD_NO;
    }
    json_decref(body);
    gw_random_hex(job->activation_id, 32);
    snprintf(job->name, sizeof job->name, "%s", name);
    job->action = action;
    job->queued_at = gw_now_epoch_ms();
    job->blocking = blocking;
    rq->result_only = result_only;
    if (job->blocking)
        gw_wait_begin(rq, job);
    unsigned in_flight;
    char id[33];
    memcpy(id, job->activation_id, sizeof id);
    gw_journal_inflight(g, job, true);
    if (gw_pool_submit(g->pool, job, &in_flight) < 0) {
        gw_journal_inflight(g, job, false);
        if (job->blocking)
            gw_wait_cancel(rq);
        gw_job_free(job);
        return gw_reply_error(rq, MHD_HTTP_TOO_MANY_REQUESTS,
                              "Too many concurrent requests in flight (count: %u, allowed: %u).",
                              in_flight, g->cfg.workers + g->cfg.queue_max);
    }
    if (!job->blocking)   /* the pool owns (and frees) it now */
        return gw_reply(rq, MHD_HTTP_ACCEPTED, json_pack("{s:s}", "activationId", id), id);
    return gw_wait_reply(rq);
}

enum MHD_Result gw_route_actions(struct gw_req *rq, const char *method, const char *name)
{
    if (!name)
        return !strcmp(method, "GET") ? gw_action_list(rq)
                                      : gw_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED,
                                                       "HTTP method not allowed, supported methods: GET");
    if (gw_entity_name_check(name) < 0)   /* the length is part of OpenWhisk's pattern */
        return gw_reply_error(rq, 400, GW_MSG_ILLEGAL_NAME);
    if (!strcmp(method, "PUT"))
        return gw_action_put(rq, name);
    if (!strcmp(method, "POST"))
        return gw_action_invoke(rq, name);
    json_t *action = NULL;
    if (!strcmp(method, "GET") || !strcmp(method, "DELETE")) {
        pthread_mutex_lock(&rq->g->actions_lock);
        action = gw_action_load(rq->g, name);
        tm_error err = { 0 };
        int r = action && !strcmp(method, "DELETE") ? gw_action_remove(rq->g, name, &err) : 0;
        pthread_mutex_unlock(&rq->g->actions_lock);
        if (!action)
            return gw_reply_error(rq, MHD_HTTP_NOT_FOUND, GW_NOT_FOUND);
        if (r < 0) {
            json_decref(action);
            return gw_reply_error(rq, 500, "%s", err.msg);
        }
        bool code;
        enum MHD_Result res;
        if (!gw_query_flag(rq, "code", true, &code, &res))
            return json_decref(action), res;
        if (!code)
            json_object_del(json_object_get(action, "exec"), "code");
        return gw_reply(rq, MHD_HTTP_OK, action, NULL);
    }
    return gw_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED,
                          "HTTP method not allowed, supported methods: GET, PUT, POST, DELETE");
}
