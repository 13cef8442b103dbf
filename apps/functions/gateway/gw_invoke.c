/* One activation: a /run in a warm container of the action (gw_warm.c),
 * or, for an action not reused, the action run by fn_invoke (a new container, cold) in a
 * helper process (gw_spawn.c), since fn_invoke is made for a process of its
 * own (it passes signals to its container's init, and the container's init
 * runs the instance in a clone of the caller). The helper sends back the
 * result, the cold-start figures and the console.log lines; the worker turns
 * them into OpenWhisk's activation record. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fn_invoke.h"
#include "gw.h"
#include "gw_warm.h"
#include "util/clock.h"
#include "util/cleanup.h"

#define GW_LOG_MAX (10U << 20)   /* OpenWhisk's default log limit, 10 MB */

struct gw_report {
    int32_t status;               /* 0: result follows; -errno: msg, no instance */
    uint8_t ok;
    char msg[1024];
    char died[256];
    struct fn_invoke_stats stats;
    uint64_t json_len, log_len;
};

/* Running helpers, for gw_invoke_cancel_all. */
static pthread_mutex_t gw_helpers_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t gw_helpers[256];

static void gw_helper_track(pid_t pid, bool on)
{
    pthread_mutex_lock(&gw_helpers_lock);
    for (size_t i = 0; i < sizeof gw_helpers / sizeof gw_helpers[0]; i++)
        if (gw_helpers[i] == (on ? 0 : pid)) {
            gw_helpers[i] = on ? pid : 0;
            break;
        }
    pthread_mutex_unlock(&gw_helpers_lock);
}

void gw_invoke_cancel_all(void)
{
    pthread_mutex_lock(&gw_helpers_lock);
    for (size_t i = 0; i < sizeof gw_helpers / sizeof gw_helpers[0]; i++)
        if (gw_helpers[i] > 0)
            kill(gw_helpers[i], SIGTERM);
    pthread_mutex_unlock(&gw_helpers_lock);
}

void gw_cold_helper(struct gw *g, struct gw_job *job, int out)
{
    struct gw_report rep = { 0 };
    struct fn_invocation inv = { 0 };
    tm_error err = { 0 };
    char recname[FN_NAME_MAX + 1], id[64];
    gw_action_record_name(job->name, recname);
    snprintf(id, sizeof id, "gw-%s", job->activation_id);
    int logs = memfd_create("gw-logs", 0);
    struct fn_services sv = { .store_dir = g->store_dir, .log_fd = logs >= 0 ? logs : 2 };
    struct fn_record rec;
    int r = fn_record_load(recname, &rec, &err);
    struct fn_invoke_request req = {
        .rec = &rec, .services = &sv, .params = job->params, .state_root = g->cfg.oci_root,
        .daemon_socket = g->cfg.daemon_socket, .image = g->cfg.image, .id = id,
    };
    if (!job->params)
        r = tm_error_set(&err, EIO, "the gateway's helper could not read the parameters");
    else if (r == 0)
        r = fn_invoke(&req, &inv, &err);
    const struct gw_hooks *h = &g->cfg.hooks;
    if (r < 0 && rec.mode == FN_MODE_TEEMATE && h->enclave_gone && h->enclave_gone(&rec)) {
        /* fn-NAME is gone (a daemon restart): rebuilt from the sealed code */
        if ((r = h->enclave_restore(&rec, &err)) == 0)
            r = fn_invoke(&req, &inv, &err);
    }
    rep.status = r;
    snprintf(rep.msg, sizeof rep.msg, "%s", r < 0 ? err.msg : "");
    _cleanup_free_ char *logtext = NULL;
    if (r == 0) {
        rep.ok = inv.result.ok;
        rep.json_len = inv.result.len;
        rep.stats = inv.stats;
        snprintf(rep.died, sizeof rep.died, "%s", inv.died);
    }
    off_t lsize = logs >= 0 ? lseek(logs, 0, SEEK_END) : 0;
    if (lsize > 0 && (logtext = malloc((size_t)lsize))) {
        rep.log_len = pread(logs, logtext, (size_t)lsize, 0) == lsize ? (uint64_t)lsize : 0;
    }
    int w = tm_write_full(out, &rep, sizeof rep);
    if (w == 0 && rep.json_len)
        w = tm_write_full(out, inv.result.json, rep.json_len);
    if (w == 0 && rep.log_len)
        tm_write_full(out, logtext, rep.log_len);
    _exit(0);
}

static const char *const gw_status_names[] = {
    "success", "application error", "action developer error", "whisk internal error",
};

static json_t *gw_annotation(const char *key, json_t *value)
{
    return json_pack("{s:s, s:o}", "key", key, "value", value);
}

/* OpenWhisk's times (ContainerProxy): initTime is the /init alone, the
 * record starts where /init started (duration = init + run), and waitTime
 * runs from the request to that start, so a container's making counts as
 * waiting. fn_invoke has no /init: its init is what came after the
 * container was made and before main ran (the enclave's build or attach,
 * the JS heap, the code's load). */
static double gw_cold_init_ms(const struct fn_invoke_stats *st)
{
    double ms = st->total_ms - st->run_ms - st->container_ms;
    return ms > 0 ? ms : 0;
}

/* The cold path's record start: init + run back from its end. */
static double gw_cold_start(double start, double end, const struct fn_invoke_stats *st)
{
    double s = end - gw_cold_init_ms(st) - st->run_ms;
    return s > start ? s : start;
}

/* OpenWhisk's record; result stolen; stats NULL when no instance ran. */
static json_t *gw_activation(struct gw_job *job, double start, double end, int code, json_t *result,
                             json_t *logs, const struct fn_invoke_stats *st, const char *died,
                             bool timeout)
{
    json_t *action = job->action, *anns = json_array();
    char path[GW_ENTITY_NAME_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", GW_NAMESPACE, job->name);
    json_t *exec = json_object_get(action, "exec");
    const char *mode = "teemate";
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(action, "annotations"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "key")) ?: "", "teemate-mode") &&
            json_is_string(json_object_get(a, "value")))
            mode = json_string_value(json_object_get(a, "value"));
    json_array_append_new(anns, gw_annotation("path", json_string(path)));
    json_array_append_new(anns, gw_annotation("waitTime", json_integer((json_int_t)(start - job->queued_at))));
    json_array_append_new(anns, gw_annotation("kind", json_incref(json_object_get(exec, "kind"))));
    json_array_append_new(anns, gw_annotation("timeout", json_boolean(timeout)));
    json_array_append_new(anns, gw_annotation("limits", json_incref(json_object_get(action, "limits"))));
    if (st)   /* fn_invoke's cold start */
        json_array_append_new(anns, gw_annotation("initTime", json_integer((json_int_t)gw_cold_init_ms(st))));
    if (st || died)   /* an instance ran (warm runs: died "", no figures) */
        json_array_append_new(anns, gw_annotation("teemate-mode", json_string(mode)));
    if (st) {
        json_t *cs = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I}",
                               "container_ms", st->container_ms, "enclave_build_ms", st->enclave_build_ms,
                               "alias_ms", st->alias_ms, "expand_ms", st->expand_ms, "heap_ms", st->heap_ms,
                               "code_load_ms", st->code_load_ms, "run_ms", st->run_ms, "total_ms",
                               st->total_ms, "epc_pages", (json_int_t)st->epc_pages, "expand_pages",
                               (json_int_t)st->expand_pages, "memory_peak_bytes",
                               (json_int_t)st->memory_peak_bytes);
        if (died && *died)
            json_object_set_new(cs, "died", json_string(died));
        json_array_append_new(anns, gw_annotation("teemate-coldStart", cs));
    }
    return json_pack("{s:s, s:s, s:s, s:O, s:b, s:s, s:I, s:I, s:I, s:{s:s, s:i, s:b, s:o}, s:o, s:o}",
                     "activationId", job->activation_id, "namespace", GW_NAMESPACE, "name", job->name,
                     "version", json_object_get(action, "version"), "publish", 0, "subject", GW_NAMESPACE,
                     "start", (json_int_t)start, "end", (json_int_t)end, "duration",
                     (json_int_t)end - (json_int_t)start, "response", "status", gw_status_names[code],
                     "statusCode", code, "success", code == 0, "result", result, "logs", logs,
                     "annotations", anns);
}

json_t *gw_activation_failed(struct gw *g, struct gw_job *job, const char *msg)
{
    (void)g;
    double now = gw_now_epoch_ms();
    return gw_activation(job, now, now, 3, json_pack("{s:s}", "error", msg), json_array(), NULL,
                         NULL, false);
}

/* console.log lines as OpenWhisk shows them: "<time> stdout: <line>". */
static json_t *gw_log_lines(const char *text, size_t len, double at)
{
    json_t *v = json_array();
    char stamp[40];
    time_t s = (time_t)(at / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03dZ", (int)((long long)at % 1000));
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) : len - i;
        json_array_append_new(v, json_sprintf("%s stdout: %.*s", stamp, (int)l, text + i));
        i += l + 1;
    }
    return v;
}

/* The error classes of fn_instance's error results: the code failed
 * (OpenWhisk: developer error, /run answered 502) or main returned an error. */
static int gw_error_code(const char *died, json_t *result)
{
    static const char *const developer[] = {
        "An error has occurred", "The action did not return a dictionary",
        FN_MSG_TIMEOUT, "The action did not produce a valid response",
    };
    if (died && *died)
        return 2;
    const char *e = json_string_value(json_object_get(result, "error"));
    for (size_t i = 0; e && i < sizeof developer / sizeof developer[0]; i++)
        if (!strncmp(e, developer[i], strlen(developer[i])))
            return 2;
    return 1;
}

/* A memfd holding text, at offset 0 (the cold helper's stdin). */
static int gw_memfd_with(const char *text)
{
    int fd = memfd_create("gw-params", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (tm_write_full(fd, text, strlen(text)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static json_t *gw_invoke_cold(struct gw *g, struct gw_job *job)
{
    double start = gw_now_epoch_ms();
    int p[2];
    pid_t pid = -1;
    tm_error err = { 0 };
    if (pipe2(p, O_CLOEXEC) < 0)
        return gw_activation_failed(g, job, "Failed to provision resources to run the action.");
    char cid[64];   /* the helper's container (fn_invoke's id) */
    snprintf(cid, sizeof cid, "gw-%s", job->activation_id);
    gw_journal_container(g, cid, true);
    _cleanup_close_ int params = gw_memfd_with(job->params);
    const char *args[] = { job->name, job->activation_id, NULL };
    int r = params < 0 ? tm_error_sys(&err, "memfd")
                       : gw_spawn_helper(g, "cold", args, params, p[1], -1, &pid, &err);
    close(p[1]);
    if (r < 0) {
        close(p[0]);
        fprintf(stderr, "teemate gateway: %s\n", err.msg);
        return gw_activation_failed(g, job, "Failed to provision resources to run the action.");
    }
    gw_helper_track(pid, true);
    struct gw_report rep;
    bool got = fn_read_full(p[0], &rep, sizeof rep) == (ssize_t)sizeof rep;
    char *json = NULL, *logs = NULL;
    if (got && rep.status == 0 && rep.json_len <= FN_MAX_RESULT && rep.log_len <= GW_LOG_MAX) {
        json = calloc(1, rep.json_len + 1);
        logs = malloc(rep.log_len + 1);
        got = json && logs && fn_read_full(p[0], json, rep.json_len) == (ssize_t)rep.json_len &&
              fn_read_full(p[0], logs, rep.log_len) == (ssize_t)rep.log_len;
    }
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    gw_helper_track(pid, false);
    if (!got)   /* the helper died before its report: its container may be left */
        tm_container_delete(g->cfg.oci_root, cid, true, &(tm_error){ 0 });
    gw_journal_container(g, cid, false);
    double end = gw_now_epoch_ms();
    json_t *act;
    if (!got) {
        act = gw_activation_failed(g, job, FN_MSG_DIED);
    } else if (rep.status < 0) {
        act = gw_activation_failed(g, job, rep.msg);
    } else {
        json_t *result = json_loads(json, 0, NULL);
        if (!json_is_object(result)) {
            json_decref(result);
            result = json_pack("{s:s}", "error", "The action did not produce a valid JSON response.");
            rep.ok = 0;
        }
        /* OpenWhisk: an object with "error" from a run that went well is an application error */
        int code = !rep.ok ? gw_error_code(rep.died, result) : json_object_get(result, "error") ? 1 : 0;
        bool timeout = !strncmp(json_string_value(json_object_get(result, "error")) ?: "",
                                FN_MSG_TIMEOUT, strlen(FN_MSG_TIMEOUT));
        act = gw_activation(job, gw_cold_start(start, end, &rep.stats), end, code, result,
                            gw_log_lines(logs, rep.log_len, end),
                            &rep.stats, rep.died, timeout);
    }
    free(json);
    free(logs);
    return act;
}

/* Whether the action's containers may be reused: annotation teemate-reuse
 * false (or --no-reuse) makes every invocation cold. */
static bool gw_reuse(const struct gw *g, json_t *action)
{
    json_t *a;
    size_t i;
    if (g->cfg.no_reuse || !g->warm)
        return false;
    json_array_foreach(json_object_get(action, "annotations"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "key")) ?: "", "teemate-reuse") &&
            json_is_false(json_object_get(a, "value")))
            return false;
    return true;
}

/* One run in a warm container; OpenWhisk's record of it. */
static json_t *gw_invoke_warm(struct gw *g, struct gw_job *job)
{
    double start = gw_now_epoch_ms();
    struct gw_warm *w = NULL;
    bool cold = false;
    char *reply = NULL;
    tm_error err = { 0 };
    int r = gw_warm_acquire(g->warm, job, &w, &cold, &reply, &err);
    if (r == -EINVAL) {   /* /init failed: developer error, as OpenWhisk's */
        json_t *result = json_loads(reply ?: "", 0, NULL);
        free(reply);
        if (!json_is_object(result)) {
            json_decref(result);
            result = json_pack("{s:s}", "error", "The action failed to initialize.");
        }
        double end = gw_now_epoch_ms();
        return gw_activation(job, start, end, 2, result, json_array(), NULL, "", false);
    }
    if (r < 0)
        return gw_activation_failed(g, job, err.msg);
    json_int_t timeout = json_integer_value(json_object_get(json_object_get(job->action, "limits"), "timeout"));
    char deadline[32], path[GW_ENTITY_NAME_MAX + 16];
    snprintf(deadline, sizeof deadline, "%lld", (long long)(gw_now_epoch_ms() + (double)timeout));
    snprintf(path, sizeof path, "/%s/%s", GW_NAMESPACE, job->name);
    json_t *value = json_loads(job->params, 0, NULL);
    json_t *body = json_pack("{s:o, s:s, s:s, s:s, s:s}", "value", value ?: json_object(), "namespace",
                             GW_NAMESPACE, "action_name", path, "activation_id", job->activation_id,
                             "deadline", deadline);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    double run_start = gw_now_epoch_ms();
    unsigned status = 0;
    reply = NULL;
    r = text ? gw_warm_post(w->sock, "/run", text, (unsigned)timeout + FN_WATCHDOG_GRACE_MS, &status,
                            &reply, &err)
             : -ENOMEM;
    free(text);
    double end = gw_now_epoch_ms();
    json_t *result = r == 0 ? json_loads(reply, 0, NULL) : NULL;
    free(reply);
    bool ok = r == 0 && status == 200, timeout_hit = r == -ETIMEDOUT;
    if (r == 0 && !json_is_object(result)) {
        json_decref(result);
        result = json_pack("{s:s}", "error", "The action did not produce a valid JSON response.");
        ok = false;
    } else if (r < 0 && !timeout_hit) {
        result = json_pack("{s:s}", "error", FN_MSG_DIED);
    }
    const char *e = json_string_value(json_object_get(result, "error")) ?: "";
    if (timeout_hit || !strncmp(e, FN_MSG_TIMEOUT, strlen(FN_MSG_TIMEOUT))) {
        /* worded with the action's limit (the runtime's was cut to the deadline) */
        json_decref(result);
        result = json_pack("{s:o}", "error", json_sprintf(FN_MSG_TIMEOUT " of %lld milliseconds.",
                                                          (long long)timeout));
        timeout_hit = true;
    }
    /* console.log lines of this run: what the memfd got since the last */
    off_t lend = lseek(w->logs, 0, SEEK_END);
    size_t llen = lend > w->log_off ? (size_t)(lend - w->log_off) : 0;
    char *ltext = llen ? malloc(llen) : NULL;
    if (ltext && pread(w->logs, ltext, llen, w->log_off) != (ssize_t)llen)
        llen = 0;
    w->log_off = lend > 0 ? lend : w->log_off;
    int code = ok ? (json_object_get(result, "error") ? 1 : 0) : r < 0 ? 2 : gw_error_code(NULL, result);
    /* a cold start's record starts at its /init (see gw_cold_init_ms) */
    json_t *act = gw_activation(job, run_start - (cold ? w->init_ms : 0), end, code, result,
                                gw_log_lines(ltext, ltext ? llen : 0, end),
                                NULL, "", timeout_hit);
    free(ltext);
    json_t *anns = json_object_get(act, "annotations");
    if (cold)   /* OpenWhisk: initTime only on a cold start, its /init */
        json_array_append_new(anns, gw_annotation("initTime", json_integer((json_int_t)w->init_ms)));
    json_array_append_new(anns, gw_annotation("teemate-warm", json_boolean(!cold)));
    json_array_append_new(anns, gw_annotation("teemate-container", json_string(w->id)));
    /* OpenWhisk removes a container whose run timed out or failed in it */
    gw_warm_release(g->warm, w, r == 0 && !timeout_hit);
    return act;
}

json_t *gw_invoke(struct gw *g, struct gw_job *job)
{
    return gw_reuse(g, job->action) ? gw_invoke_warm(g, job) : gw_invoke_cold(g, job);
}
