/* teemate gateway: OpenWhisk's REST API (actions, activations, basic auth)
 * over libmicrohttpd. One namespace per gateway; an action is a function
 * record (fn_record) named gw-<hash of its name>, the OpenWhisk fields kept
 * beside it in action.json. Invocations run on a bounded pool of worker
 * threads, in warm containers (gw_warm.c) kept per action, or (annotation
 * teemate-reuse false, --no-reuse) each in a new one by fn_invoke. */
#ifndef GW_H
#define GW_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "fn_record.h"
#include "util/error.h"

#define GW_NAMESPACE "guest"
#define GW_KEY_MAX 160
#define GW_ACTIVATIONS_MAX 10000
#define GW_BODY_MAX_DEFAULT (48U << 20)   /* the Node proxy's body limit */
#define GW_ENTITY_NAME_MAX 256            /* OpenWhisk's EntityName */

struct gw_pool;
struct gw_store;
struct gw_job;
struct gw_warm_pool;

/* What the CLI lends the gateway (teemate mode needs teemated and the
 * functions image; those helpers live in cli/cmd_fn.c). */
struct gw_hooks {
    int (*enclave_build)(const struct fn_record *rec, const void *wire, size_t len, void **sealed,
                         size_t *sealed_len, tm_error *err);
    int (*enclave_restore)(const struct fn_record *rec, tm_error *err);
    bool (*enclave_gone)(const struct fn_record *rec);
    int (*enclave_remove)(const struct fn_record *rec, tm_error *err);
};

struct gw_config {
    const char *listen;          /* host:port */
    const char *state_dir;       /* <dir>/gateway holds everything */
    const char *image;           /* fn.elf (strawman modes) */
    const char *oci_root;        /* containers' state root */
    const char *daemon_socket;   /* teemated (NULL: the default) */
    unsigned workers;            /* invocations at once */
    unsigned queue_max;          /* waiting invocations, beyond: 429 */
    size_t body_max;             /* request body limit, beyond: 413 */
    unsigned blocking_wait_ms;   /* a blocking invoke waits this long, then 202 (OpenWhisk: 60 s) */
    uint64_t memory_budget;      /* warm containers' memory limits, summed, at most this */
    unsigned idle_ms;            /* a warm container idle this long is removed */
    bool no_reuse;               /* every invocation cold (fn_invoke) */
    struct gw_hooks hooks;
};

struct gw {
    struct gw_config cfg;
    char dir[4096];              /* <state dir>/gateway */
    char key[GW_KEY_MAX];        /* uuid:secret */
    char store_dir[4200];        /* the functions' object store */
    pthread_mutex_t actions_lock;/* create/update/delete against each other */
    struct gw_store *store;
    struct gw_pool *pool;
    struct gw_warm_pool *warm;
    struct MHD_Daemon *mhd;
    /* Blocking invokes waiting (gw_wait.c): their state, and a thread that
     * answers 202 for those past blocking_wait_ms. */
    pthread_mutex_t wait_lock;
    pthread_cond_t wait_cond;
    struct gw_job *waiting;
    pthread_t waiter;
    bool waiter_started, waiter_stop;
};

/* Auth (gw_auth.c): the key at <dir>/auth.key, made (0600) at first start. */
int gw_key_load_or_create(const char *dir, char *key, size_t len, tm_error *err);
/* Whether an Authorization header carries the key (basic auth, constant time). */
bool gw_auth_check(const char *key, const char *header);

/* A random id of n lowercase hex digits (activation ids: 32). */
void gw_random_hex(char *buf, size_t n);
double gw_now_epoch_ms(void);

/* Actions (gw_actions.c). */
int gw_entity_name_check(const char *name);
/* The action's fn_record name: gw-<32 hex of SHA-256(name)>. */
void gw_action_record_name(const char *name, char buf[FN_NAME_MAX + 1]);
/* action.json of the action (new reference), or NULL when there is none. */
json_t *gw_action_load(const struct gw *g, const char *name);

/* The activation store (gw_store.c): newest last in memory, each one a
 * JSON file in <dir>/activations, the oldest dropped past max. */
int gw_store_open(const char *dir, size_t max, struct gw_store **out, tm_error *err);
void gw_store_close(struct gw_store *s);
int gw_store_put(struct gw_store *s, json_t *activation);   /* takes a reference */
json_t *gw_store_get(struct gw_store *s, const char *id);  /* new reference or NULL */
/* Newest first, skip then at most limit; name filters by action name (NULL: all). */
json_t *gw_store_list(struct gw_store *s, const char *name, size_t skip, size_t limit);

/* The worker pool (gw_pool.c). A job: one invocation of an action. */
struct gw_job {
    char activation_id[33];
    char name[GW_ENTITY_NAME_MAX + 1];
    json_t *action;              /* action.json */
    char *params;                /* the merged params (JSON) */
    double queued_at;            /* epoch ms */
    bool blocking;
    /* Done: the activation (its reference), then notify (blocking jobs). */
    json_t *activation;
    void (*notify)(struct gw_job *job);
    void *notify_ctx;
    struct gw_job *next;
    /* A blocking invoke's wait (under gw.wait_lock). */
    int wait_state;
    bool suspended;
    struct MHD_Connection *conn;
    double wait_deadline;        /* epoch ms */
    struct gw_job *wait_next;
};
int gw_pool_start(struct gw *g, unsigned workers, unsigned queue_max, struct gw_pool **out,
                  tm_error *err);
/* -EAGAIN: the queue is full (*in_flight says how many were there). */
int gw_pool_submit(struct gw_pool *p, struct gw_job *job, unsigned *in_flight);
/* Waits for the running jobs, fails the queued ones (their notify runs). */
void gw_pool_stop(struct gw_pool *p);
void gw_job_free(struct gw_job *job);
/* The activation record of an invocation (gw_invoke.c): a run in a warm
 * container (gw_warm.c), or, not reused, fn_invoke in a forked helper
 * (fn_invoke is one invocation per process). */
json_t *gw_invoke(struct gw *g, struct gw_job *job);
/* SIGTERM to every running helper (each ends its container and reports). */
void gw_invoke_cancel_all(void);
/* A record of an activation that failed in the platform (whisk internal error). */
json_t *gw_activation_failed(struct gw *g, struct gw_job *job, const char *msg);

/* Blocking waits (gw_wait.c). */
int gw_wait_start(struct gw *g, tm_error *err);
void gw_wait_stop(struct gw *g);

/* Helper processes (gw_spawn.c): `teemate gateway --helper KIND ...`
 * started with posix_spawn (the gateway is multi-threaded: no fork), with
 * in_fd as stdin, report_fd as fd 3, extra_fd as fd 4 (-1: /dev/null). */
int gw_spawn_helper(const struct gw *g, const char *kind, const char *const *args, int in_fd,
                    int report_fd, int extra_fd, pid_t *pid, tm_error *err);
/* The helper's side (argv from KIND on); base: the CLI's hooks. */
int gw_helper_main(const struct gw_config *base, int argc, char **argv);
/* The cold helper (gw_invoke.c): runs job, reports on out; never returns. */
void gw_cold_helper(struct gw *g, struct gw_job *job, int out) __attribute__((noreturn));

/* Server (gw_http.c). */
/* g->dir, g->store_dir and the actions' record root, from cfg.state_dir. */
void gw_dirs_init(struct gw *g);
int gw_start(const struct gw_config *cfg, struct gw **out, tm_error *err);
void gw_stop(struct gw *g);
unsigned gw_port(const struct gw *g);   /* the bound port (--listen ...:0) */

#endif
