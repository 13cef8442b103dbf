/* fn serve's HTTP/1.1 plumbing on libmicrohttpd: routes, the body limit,
 * the listener (TCP or a unix socket). One polling thread handles every
 * connection, so a second request waits until the run before it answers:
 * never two runs at once, as OpenWhisk's invoker expects of a container.
 * A client gone mid-request only ends its connection. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <microhttpd.h>

#include "fn_serve.h"
#include "util/cleanup.h"

struct fn_serve_body {
    char *buf;
    size_t len, cap;
    bool too_big;
};

static enum MHD_Result fn_serve_reply(struct MHD_Connection *c, unsigned status, char *json)
{
    if (!json)
        json = strdup("{\"error\":\"out of memory\"}");
    if (!json)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(json);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
    enum MHD_Result q = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return q;
}

static int fn_serve_append(struct fn_serve_body *b, const char *data, size_t n)
{
    if (b->too_big || n > FN_SERVE_BODY_MAX - b->len) {
        b->too_big = true;
        return 0;   /* read and dropped: the answer is 413 */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->buf, cap);
        if (!p)
            return -1;
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    return 0;
}

static enum MHD_Result fn_serve_handle(void *cls, struct MHD_Connection *c, const char *url,
                                       const char *method, const char *version,
                                       const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct fn_serve *s = cls;
    bool init = !strcmp(url, "/init"), run = !strcmp(url, "/run");
    struct fn_serve_body *b = *con_cls;
    if (!b) {   /* the headers: refuse what needs no body first */
        if (!init && !run)
            return fn_serve_reply(c, MHD_HTTP_NOT_FOUND, fn_action_error_json(FN_SERVE_BAD_REQUEST));
        if (strcmp(method, "POST"))
            return fn_serve_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                  fn_action_error_json(FN_SERVE_BAD_REQUEST));
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > FN_SERVE_BODY_MAX)
            return fn_serve_reply(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                  fn_action_error_json("The request content was malformed: the body is larger than 48 MiB."));
        if (!(b = calloc(1, sizeof *b)))
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size) {
        if (fn_serve_append(b, upload, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (b->too_big)
        return fn_serve_reply(c, MHD_HTTP_CONTENT_TOO_LARGE,
                              fn_action_error_json("The request content was malformed: the body is larger than 48 MiB."));
    unsigned status = 500;
    char *reply = NULL;
    (init ? fn_serve_init_request : fn_serve_run_request)(s, b->buf ? b->buf : "", b->len, &status,
                                                          &reply);
    return fn_serve_reply(c, status, reply);
}

static void fn_serve_done(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct fn_serve_body *b = *con_cls;
    if (b)
        free(b->buf);
    free(b);
    *con_cls = NULL;
}

/* A bound, listening socket for "HOST:PORT" (the port may be 0: any). */
static int fn_serve_tcp(const char *hostport, char *shown, size_t shown_len, tm_error *err)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host || !colon[1])
        return tm_error_set(err, EINVAL, "--listen takes HOST:PORT, not '%s'", hostport);
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, colon + 1, &hints, &ai);
    if (g)
        return tm_error_set(err, EINVAL, "--listen %s: %s", hostport, gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        int r = tm_error_sys(err, "cannot listen on %s", hostport);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return r;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    char port[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        getnameinfo((struct sockaddr *)&sa, sl, NULL, 0, port, sizeof port, NI_NUMERICSERV);
    snprintf(shown, shown_len, "%s:%s", host, port);
    return fd;
}

static int fn_serve_unix(const char *path, tm_error *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return tm_error_set(err, ENAMETOOLONG, "socket path %s is too long", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0) {
        int r = tm_error_sys(err, "cannot listen on %s", path);
        if (fd >= 0)
            close(fd);
        return r;
    }
    return fd;
}

int fn_serve_listen(struct fn_serve *s, const char *hostport, const char *unix_path, tm_error *err)
{
    char shown[300];
    int fd = unix_path ? fn_serve_unix(unix_path, err) : fn_serve_tcp(hostport, shown, sizeof shown, err);
    if (fd < 0)
        return fd;
    /* SIGINT/SIGTERM for sigwait here, not for MHD's thread (which inherits the mask) */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, fn_serve_handle, s,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, fn_serve_done, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 120U, MHD_OPTION_END);
    if (!d) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        close(fd);
        if (unix_path)
            unlink(unix_path);
        return tm_error_set(err, EIO, "libmicrohttpd could not start on %s",
                            unix_path ? unix_path : shown);
    }
    fprintf(stderr, "teemate fn serve: listening on %s (mode %s)\n", unix_path ? unix_path : shown,
            fn_mode_name(s->o.mode));
    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);   /* closes fd too */
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (unix_path)
        unlink(unix_path);
    fn_serve_backend_close(&s->backend);
    return 0;
}
