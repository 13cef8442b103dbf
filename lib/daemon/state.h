/* teemated's state: its enclaves, the leases on them, its connections. One
 * thread runs the daemon (server.c's event loop) and owns all of this, so
 * none of it is locked; every request is handled to its end before the next.
 * The one exception is a CREATE's build thread (build.c), which works on its
 * own struct tm_build and shares only its atomics with the loop. */
#ifndef TM_DAEMON_STATE_H
#define TM_DAEMON_STATE_H

#include <pthread.h>
#include <stdatomic.h>
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
enum tm_daemon_tag {
    TM_TAG_LISTEN = 1, TM_TAG_SIGNAL = 2, TM_TAG_CONN = 3, TM_TAG_LEASE = 4, TM_TAG_BUILD = 5,
};
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
    uint64_t epc_commit;         /* pages reserved against --max-epc until it is freed: its
                                  * build and heap (budget.c) */
};

/* A rate limit for log lines: a burst, then per_sec lines a second
 * (0, 0: 10, then 1 a second). */
struct tm_log_bucket {
    double burst, per_sec;
    double tokens, last_ms;
    uint64_t dropped;            /* since the last line that got through */
};
/* What clients provoke, over all connections: a client that reconnects for
 * every bad request gets a fresh connection bucket, not more of the log. */
#define TM_LOG_CLIENTS_BURST 100
#define TM_LOG_CLIENTS_PER_SEC 10

struct tm_conn {
    struct tm_conn *next;
    uint64_t id;
    int fd;
    uid_t uid;
    pid_t pid;
    double last_ms;              /* accepted, or its last request answered */
    uint64_t building;           /* the id of its CREATE building now (0: none; not read meanwhile) */
    struct tm_log_bucket log;
};

/* What an operator may set (teemate daemon's options); defaults in server.c. */
struct tm_daemon_limits {
    uint32_t max_conns;          /* all connections */
    uint32_t conns_per_pid;      /* from one process */
    uint32_t conns_per_uid;      /* from one user: the rest is kept for root */
    uint32_t idle_ms;            /* a connection without a lease or a request for this long is closed */
    uint32_t max_builds;         /* CREATEs building at once */
    uint64_t max_enclave_size;   /* ELRANGE bytes of one enclave */
    uint64_t max_epc_pages;      /* pages all enclaves may commit (budget.c) */
};

/* A CREATE being built off the main loop (build.c). The thread owns
 * everything but the atomics until it signals efd; then the loop joins it. */
struct tm_build {
    struct tm_build *next;
    uint64_t id;
    uint64_t conn_id;            /* the creator, answered at the end (if still there) */
    struct tm_proto_create req;
    const struct tm_backend_ops *ops;
    int fds[TM_PROTO_MAX_FDS];   /* image (and SIGSTRUCT), owned */
    int efd;                     /* eventfd: the thread is done */
    pthread_t thread;
    bool started;
    struct tm_daemon_limits limits;
    _Atomic uint64_t *epc_committed;
    _Atomic uint64_t pages_done, pages_total, size;
    atomic_bool cancel;          /* rm, or the daemon stops */
    /* The thread's result, read after the join. */
    int status;
    tm_error err;
    tm_error note;
    struct tm_denclave *e;
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
    struct tm_daemon_limits limits;
    struct tm_build *builds;
    uint32_t nbuilds;
    _Atomic uint64_t epc_committed;   /* pages reserved by enclaves and builds */
    uint64_t conns_refused, log_dropped;
    struct tm_log_bucket refusal_log;   /* refused connections */
    struct tm_log_bucket client_log;    /* lines about requests, all connections together */
    int spare_fd;                /* given up to accept one more when out of fds */
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
    bool deferred;               /* answered later (a CREATE building) */
};

/* ---- registry.c ---- */
/* An enclave that is built (ATTACH and the others take only these). */
struct tm_denclave *tm_registry_find(struct tm_daemon *d, const char *name);
/* A CREATE still building under that name (not one being cancelled). */
struct tm_build *tm_registry_find_build(struct tm_daemon *d, const char *name);
void tm_registry_describe_build(const struct tm_build *b, struct tm_proto_enclave *out);
struct tm_lease *tm_registry_lease(struct tm_daemon *d, uint64_t id);
int tm_registry_add(struct tm_daemon *d, struct tm_denclave *e, tm_error *err);
/* Destroy an enclave with no leases and take it out of the registry. */
void tm_registry_remove(struct tm_daemon *d, struct tm_denclave *e);
void tm_denclave_free(struct tm_denclave *e);
uint32_t tm_registry_leases(const struct tm_daemon *d);
uint64_t tm_registry_epc_pages(const struct tm_daemon *d);
void tm_registry_describe(const struct tm_denclave *e, struct tm_proto_enclave *out);
void tm_registry_inspect(const struct tm_denclave *e, struct tm_proto_inspect *out);

/* ---- budget.c: --max-epc counts what is committed ---- */
/* Pages a CREATE reserves: those added before EINIT and the heap's on-demand
 * part (it grows for every process; nothing caps it per lease). */
uint64_t tm_budget_create_pages(const struct tm_layout *l);
/* Pages of --max-epc left now: the limit less the reservations and the pages
 * enclaves hold beyond them (slots and TCSs added as leases came). */
uint64_t tm_budget_left(const struct tm_daemon *d);

/* ---- tcs_make.c ---- */
/* Make TCS number t (one of the image's on-demand ones) on the daemon's TCS:
 * its pages EAUG'd as the enclave accepts them, the TCS and thread data
 * written inside, EMODT to PT_TCS, accepted inside. Marked made on success,
 * its pages taken from *epc_left; -ENOSPC (nothing done) past it. */
int tm_tcs_make(struct tm_denclave *e, uint32_t t, uint64_t *epc_left, tm_error *err);

/* ---- lease.c ---- */
/* Bind a new lease's TCSs inside the enclave (NEW, or FORK under parent's
 * token, then JOIN for the others), first making those not made yet within
 * epc_left pages of --max-epc. On failure what was bound is undone. */
int tm_lease_bind(struct tm_denclave *e, struct tm_lease *l, const struct tm_lease *parent,
                  uint64_t epc_left, tm_error *err);
/* End a lease: (dead: make its TCSs enterable again) unbind each TCS, trim
 * and free the slot unless forked children still read it. With !dead a TCS
 * still in use fails the whole call with -EBUSY and the lease stays. */
int tm_lease_end(struct tm_denclave *e, struct tm_lease *l, bool dead, tm_error *err);
/* One runtime ecall on TCS number tcs; out must come back whole. */
int tm_lease_ecall(struct tm_denclave *e, uint32_t tcs, uint32_t ecall, const void *in, size_t in_len,
                   void *out, size_t out_len, const uint8_t *token, tm_error *err);
/* Whether the backend can share enclaves at all (else -ENOSYS). */
int tm_lease_supported(const struct tm_denclave *e, tm_error *err);

/* ---- handle_*.c: one request each; fill the answer. ---- */
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

/* ---- handle_create.c ---- */
/* The build thread's work: fill b->e, or fail with b->err (nothing held). */
int tm_create_build(struct tm_build *b);

/* ---- server.c ---- */
/* Encode and send the answer to a request of type on c (closes c when it
 * cannot take it). */
void tm_daemon_reply(struct tm_daemon *d, struct tm_conn *c, enum tm_proto_type type,
                     const struct tm_daemon_answer *a);

/* ---- build.c ---- */
/* Start building a CREATE in a thread (the request's fds are dup'ed); its
 * reply goes out when the build ends (tm_build_finish). Refusals that need
 * no build are answered at once (a->status < 0). */
void tm_build_start(struct tm_daemon *d, struct tm_conn *c, const struct tm_request *req,
                    const int *fds, struct tm_daemon_answer *a);
/* The thread of b signalled its end: join it, register the enclave (or not)
 * and answer the creator. */
void tm_build_finish(struct tm_daemon *d, struct tm_build *b);
struct tm_build *tm_build_find(struct tm_daemon *d, uint64_t id);
/* Stop every build and wait for the threads (shutdown). */
void tm_build_cancel_all(struct tm_daemon *d);

/* ---- conn.c ---- */
void tm_conn_accept_all(struct tm_daemon *d);
void tm_conn_close(struct tm_daemon *d, struct tm_conn *c);
struct tm_conn *tm_conn_find(struct tm_daemon *d, uint64_t id);
/* Send a notice (why it is closed) and close c. */
void tm_conn_refuse(struct tm_daemon *d, struct tm_conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Close connections idle past the limit; returns ms until the next may be (-1: none). */
int tm_conn_expire_idle(struct tm_daemon *d);

/* ---- log.c ---- */
void tm_daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log through rate limits: b, and all too (may be NULL); a line goes out when
 * both have room. Dropped lines are counted in b and *dropped, and the next
 * line that gets through b says how many. */
void tm_daemon_log_limited(struct tm_log_bucket *b, struct tm_log_bucket *all, uint64_t *dropped,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
