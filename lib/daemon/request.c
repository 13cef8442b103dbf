#include "daemon/request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The daemon hung up: say why when it left a notice (full, idle, another
 * user), else say that it closed, never a bare "Broken pipe". */
static int closed_by_daemon(int conn, enum tm_proto_type type, struct tm_daemon_reply *r,
                            tm_error *err)
{
    bool truncated;
    ssize_t got = tm_wire_recv(conn, r->buf, sizeof r->buf, r->fds, &r->nfds, &truncated, true);
    struct tm_proto_reply_head head;
    const void *payload;
    size_t len;
    int ret = got > 0 && !truncated
                  ? tm_proto_parse_reply(r->buf, (size_t)got, type, &head, &payload, &len, err)
                  : 0;
    tm_daemon_reply_free(r);
    if (ret < 0 && ret != -EPROTO)
        return ret;   /* its notice, as it gave it */
    return tm_error_set(err, ECONNRESET, "teemated closed the connection without answering the "
                        "%s request (it may have stopped; its log says why)",
                        tm_proto_type_name(type));
}

int tm_daemon_request(int conn, enum tm_proto_type type, const void *payload, size_t len,
                      const int *fds, int nfds, struct tm_daemon_reply **reply, tm_error *err)
{
    *reply = NULL;
    struct tm_daemon_reply *r = malloc(sizeof *r);
    if (!r)
        return tm_error_set(err, ENOMEM, "out of memory");
    r->nfds = 0;
    r->note[0] = '\0';
    size_t n = tm_proto_encode_request(type, payload, len, r->buf, sizeof r->buf);
    int ret = n ? tm_wire_send(conn, r->buf, n, fds, nfds, false) : -EMSGSIZE;
    if (ret == -EPIPE || ret == -ECONNRESET)
        return closed_by_daemon(conn, type, r, err);
    if (ret < 0) {
        free(r);
        return tm_error_set(err, -ret, "cannot send the %s request to teemated: %s",
                            tm_proto_type_name(type), strerror(-ret));
    }
    bool truncated;
    ssize_t got = tm_wire_recv(conn, r->buf, sizeof r->buf, r->fds, &r->nfds, &truncated, false);
    if (got == 0 || got == -ECONNRESET)
        return closed_by_daemon(conn, type, r, err);
    if (got < 0) {
        tm_daemon_reply_free(r);
        return tm_error_set(err, (int)-got, "no reply from teemated to %s: %s",
                            tm_proto_type_name(type), strerror((int)-got));
    }
    bool fds_expected = type == TM_REQ_ATTACH || type == TM_REQ_FORK;
    if (truncated || (size_t)got > TM_PROTO_MAX_MESSAGE || (r->nfds && !fds_expected)) {
        tm_daemon_reply_free(r);
        return tm_error_set(err, EPROTO, "teemated's reply to %s was truncated or "
                            "carried unexpected files",
                            tm_proto_type_name(type));
    }
    struct tm_proto_reply_head head;
    ret = tm_proto_parse_reply(r->buf, (size_t)got, type, &head, &r->payload, &r->payload_len, err);
    if (ret < 0) {
        tm_daemon_reply_free(r);
        return ret;
    }
    memcpy(r->note, head.message, sizeof r->note);
    *reply = r;
    return 0;
}

void tm_daemon_reply_free(struct tm_daemon_reply *r)
{
    if (!r)
        return;
    tm_wire_close_fds(r->fds, r->nfds);
    free(r);
}

void tm_daemon_reply_freep(struct tm_daemon_reply **r)
{
    tm_daemon_reply_free(*r);
}
