/* `teemate fn serve`: one OpenWhisk action container's runtime. An HTTP
 * server (fn_serve_http.c) answers /init and /run (fn_serve_action.c) on an
 * instance in one of the modes (fn_serve_modes.c). */
#ifndef FN_SERVE_H
#define FN_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "fn_host.h"
#include "fn_record.h"
#include "fn_serve_proto.h"

/* The teemate mode's enclave: build rec's (fn-NAME) and load the scripts
 * into it; *built false when it existed (then wait until it is ready and
 * load nothing). The CLI's tm_cli_fn_enclave_build behind it. */
typedef int (*fn_serve_build_fn)(const struct fn_record *rec, const char *socket, const void *wire,
                                 size_t len, bool *built, tm_error *err);

struct fn_serve_options {
    enum fn_mode mode;
    uint64_t memory;          /* the instance's JS heap limit */
    uint64_t timeout_ms;      /* a run's limit; a request's deadline may shorten it */
    uint32_t instances;       /* teemate mode: the shared enclave's slots */
    const char *image;        /* fn.elf (strawman, teemate) */
    const char *socket;       /* teemated's (teemate) */
    const struct fn_services *services;
    fn_serve_build_fn build;
    /* teemate: an attachment made already (a gateway's warm container is
     * attached to its action's enclave by its init): used, not detached. */
    struct tm_attachment *attached;
};

/* An initialised instance in its mode. */
struct fn_serve_backend {
    const struct fn_serve_options *o;
    struct tm_image *image;             /* strawman: the enclave's (it borrows the layout) */
    struct tm_enclave *enclave;         /* strawman */
    struct tm_attachment *attachment;   /* teemate */
    char enclave_name[64];              /* teemate: fn-code-<16 hex> */
    bool built;                         /* teemate: this process built it and compiled the code */
};

/* "code-" and the first 16 hex digits of SHA-256(code, NUL, main). */
void fn_serve_code_name(const char *code, size_t len, const char *main, char buf[FN_NAME_MAX + 1]);

/* Compile (or, teemate, find compiled) and boot: 0, -EINVAL with *error_json
 * (the runtime's error JSON) when the code does not compile or its top level
 * throws, or -errno with err. */
int fn_serve_backend_init(struct fn_serve_backend *b, const struct fn_serve_options *o,
                          const struct fn_action_init *init, char **error_json, tm_error *err);
int fn_serve_backend_run(struct fn_serve_backend *b, uint64_t timeout_ms, const char *env,
                         const char *params, struct fn_result *result, tm_error *err);
void fn_serve_backend_close(struct fn_serve_backend *b);

/* The protocol's state: one init, then runs, one at a time. */
struct fn_serve {
    struct fn_serve_options o;
    struct fn_serve_backend backend;
    bool initialized;
};

/* One request's answer: status and a JSON body (malloc'ed). The sentinel
 * goes to stdout and stderr after each init and run. */
void fn_serve_init_request(struct fn_serve *s, const char *body, size_t len, unsigned *status,
                           char **reply);
void fn_serve_run_request(struct fn_serve *s, const char *body, size_t len, unsigned *status,
                          char **reply);

/* Listen on a TCP "HOST:PORT" or (unix_path set) a unix socket; serve until
 * SIGINT or SIGTERM (then the instance is closed). Once bound, stderr gets
 * "teemate fn serve: listening on ADDR (mode M)" with the port chosen for 0. */
int fn_serve_listen(struct fn_serve *s, const char *hostport, const char *unix_path, tm_error *err);

#endif
