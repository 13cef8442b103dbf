/* teemated's state: its enclaves, the leases on them, its connections. One
 * thread runs the whole daemon (server.c's event loop), so none of this is
 * locked; every request is handled to its end before the next. */
#ifndef TM_DAEMON_STATE_H
#define TM_DAEMON_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/client.h"
#include "daemon/listen.h"
#include "daemon/pool.h"
#include "daemon/protocol.h"
#include "enclave/enclave.h"
#include "enclave/image.h"
#include "tm_lease.h"

#define TM_DAEMON_MAX_CONNS 1024

struct tm_denclave;

/* epoll tags: the kind of fd in the top byte, the id of its owner below. */
enum tm_daemon_tag { TM_TAG_LISTEN = 1, TM_TAG_SIGNAL = 2, TM_TAG_CONN = 3, TM_TAG_LEASE = 4 };
#define TM_TAG(kind, id) (((uint64_t)(kind) << 56) | ((id) & ((1ULL << 56) - 1)))
#define TM_TAG_KIND(tag) ((enum tm_daemon_tag)((tag) >> 56))
#define TM_TAG_ID(tag) ((tag) & ((1ULL << 56) - 1))

/* TCSs and a slot held by one process (a pidfd tells when it is gone). */
struct tm_lease {
    struct tm_lease *next;
    uint64_t id;                 /* the attach id; never reused in a daemon's life */
    struct tm_denclave *enclave;
    pid_t pid;
    int pidfd;
    uint64_t conn_id;            /* the connection that made it (0: closed) */
    uint32_t slot;
    int32_t parent_slot;
    uint32_t limit_pages;        /* the slot's cap, as bound (0: none; else <= the slot's pages) */
    uint32_t nthreads;
    uint32_t tcs[TM_ATTACH_MAX_THREADS];
    bool bound[TM_ATTACH_MAX_THREADS];
    uint8_t token[TM_LEASE_TOKEN_SIZE];
};

struct tm_denclave {
    char name[TM_ENCLAVE_NAME_MAX + 1];
    char image_name[TM_PROTO_IMAGE_NAME_MAX];
    struct tm_image *image;
    struct tm_enclave *enclave;
    uint8_t mrenclave[32], mrsigner[32];
    struct tm_pool pool;
    struct tm_lease *leases;
    uint32_t nleases;
    bool removing;               /* rm --force: freed after the last lease */
    double create_ms;
};

struct tm_conn {
    struct tm_conn *next;
    uint64_t id;
    int fd;
    uid_t uid;
    pid_t pid;
};

struct tm_daemon {
    int epfd, sigfd;
    struct tm_daemon_listener listener;
    struct tm_denclave *enclaves[TM_PROTO_MAX_ENCLAVES];
    uint32_t nenclaves;
    struct tm_conn *conns;
    uint32_t nconns;
    uint64_t next_id;            /* connections and leases */
    uint64_t requests, bad_requests;
    bool stop;
    /* Aligned: handlers build reply structs in place. */
    uint8_t msg[TM_PROTO_MAX_MESSAGE + 1] __attribute__((aligned(16)));   /* the request */
    uint8_t payload[TM_PROTO_MAX_MESSAGE] __attribute__((aligned(16)));   /* its reply's payload */
    uint8_t out[TM_PROTO_MAX_MESSAGE] __attribute__((aligned(16)));       /* the reply */
};

/* What a handler hands back: status, message, payload, fds (borrowed). */
struct tm_daemon_answer {
    int status;
    tm_error err;                /* the message: why (status < 0) or a note */
    const void *payload;
    size_t payload_len;
    int fds[TM_BACKEND_MAX_FDS];
    int nfds;
};

/* ---- registry.c ---- */
struct tm_denclave *tm_registry_find(struct tm_daemon *d, const char *name);
struct tm_lease *tm_registry_lease(struct tm_daemon *d, uint64_t id);
int tm_registry_add(struct tm_daemon *d, struct tm_denclave *e, tm_error *err);
/* Destroy an enclave with no leases and take it out of the registry. */
void tm_registry_remove(struct tm_daemon *d, struct tm_denclave *e);
void tm_denclave_free(struct tm_denclave *e);
uint32_t tm_registry_leases(const struct tm_daemon *d);
uint64_t tm_registry_epc_pages(const struct tm_daemon *d);
void tm_registry_describe(const struct tm_denclave *e, struct tm_proto_enclave *out);
void tm_registry_inspect(const struct tm_denclave *e, struct tm_proto_inspect *out);

/* ---- lease.c ---- */
/* Bind a new lease's TCSs inside the enclave (NEW, or FORK under parent's
 * token, then JOIN for the others). On failure what was bound is undone. */
int tm_lease_bind(struct tm_denclave *e, struct tm_lease *l, const struct tm_lease *parent,
                  tm_error *err);
/* End a lease: (dead: make its TCSs enterable again) unbind each TCS, trim
 * and free the slot unless forked children still read it. With !dead a TCS
 * still in use fails the whole call with -EBUSY and the lease stays. */
int tm_lease_end(struct tm_denclave *e, struct tm_lease *l, bool dead, tm_error *err);
/* Whether the backend can share enclaves at all (else -ENOSYS). */
int tm_lease_supported(const struct tm_denclave *e, tm_error *err);

/* ---- handle_*.c: one request each; fill the answer. ---- */
void tm_handle_create(struct tm_daemon *d, const struct tm_request *req, const int *fds,
                      struct tm_daemon_answer *a);
void tm_handle_list(struct tm_daemon *d, struct tm_daemon_answer *a);
void tm_handle_inspect(struct tm_daemon *d, const struct tm_request *req, struct tm_daemon_answer *a);
void tm_handle_status(struct tm_daemon *d, struct tm_daemon_answer *a);
void tm_handle_remove(struct tm_daemon *d, const struct tm_request *req, struct tm_daemon_answer *a);
void tm_handle_attach(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                      struct tm_daemon_answer *a);
void tm_handle_detach(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                      struct tm_daemon_answer *a);
/* The process holding l is gone (or detached): end the lease, free it, and
 * the enclave too when it was being removed and this was its last. */
void tm_daemon_lease_gone(struct tm_daemon *d, struct tm_lease *l);

/* ---- log.c ---- */
void tm_daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
