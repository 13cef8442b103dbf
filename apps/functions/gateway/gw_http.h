/* The HTTP side of the gateway (gw_http.c): one request, its reply. */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <microhttpd.h>

#include "gw.h"

struct gw_req {
    struct gw *g;
    struct MHD_Connection *conn;
    char *body;
    size_t len, cap;
    bool too_big;
    struct gw_job *job;          /* a blocking invoke (the request owns it once done) */
    bool result_only;
};

/* Reply with body (stolen; NULL: empty), status, and the activation id
 * header when id is set. */
enum MHD_Result gw_reply(struct gw_req *rq, unsigned status, json_t *body, const char *id);
/* OpenWhisk's error body {"error": msg, "code": transaction id}. */
enum MHD_Result gw_reply_error(struct gw_req *rq, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define GW_NOT_FOUND "The requested resource does not exist."
/* A blocking invoke: gw_wait_begin before the job is submitted
 * (gw_wait_cancel if that fails); gw_wait_reply answers once the worker is
 * done (the activation), or past the wait (202 with the id, the job left to
 * its worker), or suspends the connection until one of the two resumes it. */
void gw_wait_begin(struct gw_req *rq, struct gw_job *job);
void gw_wait_cancel(struct gw_req *rq);
enum MHD_Result gw_wait_reply(struct gw_req *rq);
/* The connection ended (the client went away, or the reply was sent): a
 * job its worker still runs is left to the worker, a done one freed. */
void gw_wait_end(struct gw_req *rq);
const char *gw_query(struct gw_req *rq, const char *key);
/* The body as JSON (an empty body: an empty object); NULL after a 400 reply was queued. */
json_t *gw_body_json(struct gw_req *rq, enum MHD_Result *res);
/* A boolean query parameter (gw_flag_parse); false after a 400 reply was queued. */
bool gw_query_flag(struct gw_req *rq, const char *name, bool dflt, bool *out, enum MHD_Result *res);
/* list limit/skip by OpenWhisk's rules; false after a 400 reply was queued. */
bool gw_list_range(struct gw_req *rq, const char *collection, size_t *limit, size_t *skip,
                   enum MHD_Result *res);

/* Routes (gw_actions.c, gw_activations.c): name is the entity (NULL: the
 * collection), sub the part after it (activations: result, logs). */
enum MHD_Result gw_route_actions(struct gw_req *rq, const char *method, const char *name);
enum MHD_Result gw_route_activations(struct gw_req *rq, const char *method, const char *id,
                                     const char *sub);

#endif
