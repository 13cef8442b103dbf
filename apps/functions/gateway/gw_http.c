/* libmicrohttpd plumbing: one internal polling thread reads requests, checks
 * the key, routes; a blocking invoke suspends its connection until a worker
 * has the activation (the HTTP thread never waits on a run; gw_wait.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gw_http.h"
#include "gw_warm.h"
#include "util/cleanup.h"

enum MHD_Result gw_reply(struct gw_req *rq, unsigned status, json_t *body, const char *id)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    size_t len = text ? strlen(text) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text ? text : (char *)"",
                                                             text ? MHD_RESPMEM_MUST_FREE
                                                                  : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    if (text)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (id)
        MHD_add_response_header(r, "x-openwhisk-activation-id", id);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"whisk rest service\"");
    enum MHD_Result res = MHD_queue_response(rq->conn, status, r);
    MHD_destroy_response(r);
    return res;
}

enum MHD_Result gw_reply_error(struct gw_req *rq, unsigned status, const char *fmt, ...)
{
    char msg[2048], code[33];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gw_random_hex(code, 32);
    return gw_reply(rq, status, json_pack("{s:s, s:s}", "error", msg, "code", code), NULL);
}

const char *gw_query(struct gw_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

json_t *gw_body_json(struct gw_req *rq, enum MHD_Result *res)
{
    if (rq->len == 0)
        return json_object();
    json_error_t je;
    json_t *j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        *res = gw_reply_error(rq, MHD_HTTP_BAD_REQUEST, "The request content was malformed:\n%s",
                              je.text);
    return j;
}

static bool gw_parse_count(const char *s, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *s && !*end && !errno;
}

bool gw_list_range(struct gw_req *rq, const char *collection, size_t *limit, size_t *skip,
                   enum MHD_Result *res)
{
    const char *l = gw_query(rq, "limit"), *s = gw_query(rq, "skip");
    long v;
    *limit = 30, *skip = 0;   /* OpenWhisk's defaults; limit at most 200 */
    if (l) {
        if (!gw_parse_count(l, &v))
            return *res = gw_reply_error(rq, 400, "The value '%s' is not an integer for %s.", l, collection), false;
        if (v < 0 || v > 200)
            return *res = gw_reply_error(rq, 400, "The value '%ld' is not in the range of 0 to 200 for %s.", v, collection), false;
        *limit = v ? (size_t)v : 200;
    }
    if (s) {
        if (!gw_parse_count(s, &v))
            return *res = gw_reply_error(rq, 400, "The value '%s' is not an integer for %s.", s, collection), false;
        if (v < 0)
            return *res = gw_reply_error(rq, 400, "The value '%ld' is not greater than or equal to 0 for %s.", v, collection), false;
        *skip = (size_t)v;
    }
    return true;
}

/* /api/v1/namespaces/{ns}/{collection}[/{entity}[/{sub}]] */
static enum MHD_Result gw_route(struct gw_req *rq, const char *url, const char *method)
{
    static const char prefix[] = "/api/v1/namespaces/";
    if (strncmp(url, prefix, sizeof prefix - 1))
        return gw_reply_error(rq, MHD_HTTP_NOT_FOUND, GW_NOT_FOUND);
    _cleanup_free_ char *path = strdup(url + sizeof prefix - 1);
    if (!path)
        return MHD_NO;
    char *parts[5] = { 0 };
    size_t n = 0;
    for (char *p = path, *slash; p && n < 5; p = slash) {
        slash = strchr(p, '/');
        if (slash)
            *slash++ = '\0';
        parts[n++] = p;
    }
    if (n < 2 || !*parts[0] || n == 5)
        return gw_reply_error(rq, MHD_HTTP_NOT_FOUND, GW_NOT_FOUND);
    if (strcmp(parts[0], "_") && strcmp(parts[0], GW_NAMESPACE))
        return gw_reply_error(rq, MHD_HTTP_FORBIDDEN,
                              "The supplied authentication is not authorized to access this resource.");
    const char *entity = n > 2 && *parts[2] ? parts[2] : NULL;
    if (!strcmp(parts[1], "actions") && n <= 3)
        return gw_route_actions(rq, method, entity);
    if (!strcmp(parts[1], "activations") && (n <= 3 || entity))
        return gw_route_activations(rq, method, entity, n > 3 ? parts[3] : NULL);
    return gw_reply_error(rq, MHD_HTTP_NOT_FOUND, GW_NOT_FOUND);
}

static enum MHD_Result gw_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *data,
                                 size_t *data_size, void **con_cls)
{
    (void)version;
    struct gw *g = cls;
    struct gw_req *rq = *con_cls;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        rq->g = g, rq->conn = conn;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*data_size) {   /* the body, bounded: past the limit only counted */
        size_t n = *data_size;
        *data_size = 0;
        if (rq->too_big || rq->len + n > g->cfg.body_max) {
            rq->too_big = true;
            rq->len += n;
            return MHD_YES;
        }
        if (rq->len + n > rq->cap) {
            size_t cap = (rq->len + n) * 2;
            char *b = realloc(rq->body, cap);
            if (!b)
                return MHD_NO;
            rq->body = b, rq->cap = cap;
        }
        memcpy(rq->body + rq->len, data, n);
        rq->len += n;
        return MHD_YES;
    }
    if (rq->job)
        return gw_wait_reply(rq);
    /* akka-http's default rejection texts, which OpenWhisk wraps in its error body */
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth)
        return gw_reply_error(rq, MHD_HTTP_UNAUTHORIZED,
                              "The resource requires authentication, which was not supplied with the request");
    if (!gw_auth_check(g->key, auth))
        return gw_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "The supplied authentication is invalid");
    if (rq->too_big)
        return gw_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "Request larger than allowed: %zu > %zu bytes.",
                              rq->len, g->cfg.body_max);
    return gw_route(rq, url, method);
}

static void gw_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct gw_req *rq = *con_cls;
    if (!rq)
        return;
    if (rq->job)
        gw_job_free(rq->job);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static int gw_parse_listen(const char *listen, struct sockaddr_in *sa, tm_error *err)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    char *end;
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return tm_error_set(err, EINVAL, "--listen '%s': expected HOST:PORT (127.0.0.1:3233)", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    unsigned long port = strtoul(colon + 1, &end, 10);
    *sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (!colon[1] || *end || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return tm_error_set(err, EINVAL, "--listen '%s': expected an IPv4 HOST:PORT (127.0.0.1:3233)", listen);
    return 0;
}

void gw_dirs_init(struct gw *g)
{
    char fns[4200];
    snprintf(g->dir, sizeof g->dir, "%s/gateway", g->cfg.state_dir);
    snprintf(g->store_dir, sizeof g->store_dir, "%s/objects", g->dir);
    snprintf(fns, sizeof fns, "%s/actions", g->dir);
    fn_record_set_root(fns);
}

int gw_start(const struct gw_config *cfg, struct gw **out, tm_error *err)
{
    struct sockaddr_in sa;
    int r = gw_parse_listen(cfg->listen, &sa, err);
    if (r < 0)
        return r;
    struct gw *g = calloc(1, sizeof *g);
    if (!g)
        return tm_error_set(err, ENOMEM, "out of memory");
    g->cfg = *cfg;
    pthread_mutex_init(&g->actions_lock, NULL);
    pthread_mutex_init(&g->wait_lock, NULL);
    pthread_cond_init(&g->wait_cond, NULL);
    char acts[4200];
    gw_dirs_init(g);
    snprintf(acts, sizeof acts, "%s/activations", g->dir);
    if (mkdir(g->dir, 0700) < 0 && errno != EEXIST) {
        r = tm_error_sys(err, "%s", g->dir);
        goto fail;
    }
    if (mkdir(g->store_dir, 0700) < 0 && errno != EEXIST) {
        r = tm_error_sys(err, "%s", g->store_dir);
        goto fail;
    }
    if ((r = gw_key_load_or_create(g->dir, g->key, sizeof g->key, err)) < 0 ||
        (r = gw_store_open(acts, GW_ACTIVATIONS_MAX, &g->store, err)) < 0 ||
        (r = gw_wait_start(g, err)) < 0 ||
        (r = gw_warm_start(g, cfg->memory_budget, cfg->idle_ms, &g->warm, err)) < 0 ||
        (r = gw_pool_start(g, cfg->workers, cfg->queue_max, &g->pool, err)) < 0)
        goto fail;
    g->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                                  MHD_USE_ERROR_LOG,
                              0, NULL, NULL, gw_access, g, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_NOTIFY_COMPLETED, gw_completed, g,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
    if (!g->mhd) {
        r = tm_error_set(err, EADDRINUSE, "cannot listen on %s (in use, or not an address of this machine)",
                         cfg->listen);
        goto fail;
    }
    *out = g;
    return 0;
fail:
    gw_stop(g);
    return r;
}

unsigned gw_port(const struct gw *g)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(g->mhd, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void gw_stop(struct gw *g)
{
    if (!g)
        return;
    if (g->pool)
        gw_pool_stop(g->pool);   /* resumes every suspended connection: MHD may stop */
    gw_warm_stop(g->warm);   /* every warm container removed */
    gw_wait_stop(g);
    if (g->mhd)
        MHD_stop_daemon(g->mhd);
    gw_store_close(g->store);
    pthread_mutex_destroy(&g->actions_lock);
    pthread_cond_destroy(&g->wait_cond);
    pthread_mutex_destroy(&g->wait_lock);
    free(g);
}
