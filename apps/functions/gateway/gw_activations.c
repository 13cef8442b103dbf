/* Activations: the list (newest first; limit, skip, name: whole records,
 * as OpenWhisk's docs=true), one record, /result (OpenWhisk projects the
 * response: status, statusCode, success, result) and /logs ({"logs": [...]}). */
#include <string.h>

#include "gw_http.h"

enum MHD_Result gw_route_activations(struct gw_req *rq, const char *method, const char *id,
                                     const char *sub)
{
    if (strcmp(method, "GET"))
        return gw_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED,
                              "HTTP method not allowed, supported methods: GET");
    if (!id) {
        enum MHD_Result res;
        size_t limit, skip;
        if (!gw_list_range(rq, "activations", &limit, &skip, &res))
            return res;
        return gw_reply(rq, MHD_HTTP_OK, gw_store_list(rq->g->store, gw_query(rq, "name"), skip, limit),
                        NULL);
    }
    if (strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
        return gw_reply_error(rq, MHD_HTTP_BAD_REQUEST, "The activation id is not valid.");
    json_t *a = gw_store_get(rq->g->store, id);
    if (!a)
        return gw_reply_error(rq, MHD_HTTP_NOT_FOUND, GW_NOT_FOUND);
    json_t *body;
    if (!sub)
        body = json_incref(a);
    else if (!strcmp(sub, "result"))
        body = json_incref(json_object_get(a, "response"));
    else if (!strcmp(sub, "logs"))
        body = json_pack("{s:O}", "logs", json_object_get(a, "logs"));
    else
        body = NULL;
    json_decref(a);
    if (!body)
        return gw_reply_error(rq, MHD_HTTP_NOT_FOUND, GW_NOT_FOUND);
    return gw_reply(rq, MHD_HTTP_OK, body, NULL);
}
