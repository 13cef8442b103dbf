/* The parsing of what a request brings that is the gateway's own (entity
 * names, the /api/v1/namespaces/... path, query flags and ranges, an
 * action's PUT body): pure functions, no I/O, no clock, no state, so that
 * fuzz/fuzz_gateway.c can drive them with anything. Their refusals carry
 * OpenWhisk's texts (the HTTP side only picks the status). */
#ifndef GW_PARSE_H
#define GW_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "fn_record.h"

#define GW_NAMESPACE "guest"              /* the gateway's one namespace */
#define GW_ENTITY_NAME_MAX 256            /* OpenWhisk's EntityName */
#define GW_MSG_ILLEGAL_NAME "The name of the entity contains illegal characters."

/* OpenWhisk's EntityName: 0, -EINVAL (a character or its place), -ENAMETOOLONG. */
int gw_entity_name_check(const char *name);

/* /api/v1/namespaces/{ns}/{collection}[/{entity}[/{sub}]]: path (a copy of
 * the URL) is cut in place. 0, or -ENOENT: no such route (404). entity and
 * sub are NULL when absent (an empty entity counts as absent). */
struct gw_path {
    const char *ns, *collection, *entity, *sub;
};
int gw_path_split(char *path, struct gw_path *out);

/* A boolean query parameter (blocking, result, overwrite, code): absent
 * gives dflt; "true" or "false"; else -EINVAL with OpenWhisk's 400 text
 * (akka-http's malformed query parameter) in msg. */
int gw_flag_parse(const char *name, const char *value, bool dflt, bool *out, char *msg, size_t len);

/* Whether a Content-Type header names JSON (application/json, any case,
 * parameters such as charset allowed); NULL is not. */
bool gw_content_type_json(const char *value);

/* %XX decoding of the URL and its query values in place (libmicrohttpd's
 * unescape callback): the new length. %00 stays as it is: the parts are C
 * strings, and a decoded NUL would cut a name short ("a%00b" would be "a");
 * kept, its '%' makes the name illegal and the number not a number. */
size_t gw_unescape(char *s);

/* List limit and skip by OpenWhisk's rules (limit 0..200, 0 = 200, default
 * 30; skip >= 0): 0, or -EINVAL with the 400 text in msg. */
int gw_range_parse(const char *limit, const char *skip, const char *collection, size_t *l,
                   size_t *s, char *msg, size_t len);

/* The action entity of a PUT body over the old one (NULL: a new action):
 * exec (nodejs:* only, plain code, main "main"), limits (timeout
 * 100..300000 ms, memory 128..512 MB), parameters and annotations
 * ([{key, value}]), the teemate-mode annotation (*mode), the next version.
 * A new action.json (now: its "updated"), or NULL with the 400 text in msg. */
json_t *gw_action_parse(const char *name, json_t *body, json_t *old, double now, enum fn_mode *mode,
                        char *msg, size_t len);

#endif
