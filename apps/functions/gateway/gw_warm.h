/* Warm containers (gw_warm.c) and the action protocol's client side over
 * their unix sockets (gw_warm_http.c). */
#ifndef GW_WARM_H
#define GW_WARM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gw.h"

struct gw_warm {
    struct gw_warm *next;
    char action[GW_ENTITY_NAME_MAX + 1];
    char version[32];              /* action.json's: an update makes the old ones unusable */
    char id[40];                   /* the container's */
    char sock[4400];
    pid_t helper, init;
    int logs;                      /* memfd: console.log of every run, appended */
    off_t log_off;                 /* what earlier runs wrote */
    uint64_t mem;                  /* the action's memory limit: what it counts in the budget */
    bool busy, stale;
    double idle_since;             /* tm_now_ms */
};

int gw_warm_start(struct gw *g, uint64_t budget, unsigned idle_ms, struct gw_warm_pool **out,
                  tm_error *err);
/* Every container removed (busy ones killed first; the workers must have
 * released theirs: gw_warm_kill_busy, gw_pool_stop, then this). */
void gw_warm_stop(struct gw_warm_pool *p);
void gw_warm_kill_busy(struct gw_warm_pool *p);
/* A free warm container of job's action (*cold false) or a new one that
 * answered /init (*cold true); waits while the budget is used by busy ones.
 * -EINVAL with *init_reply: the action's /init failed (OpenWhisk's answer). */
int gw_warm_acquire(struct gw_warm_pool *p, struct gw_job *job, struct gw_warm **out, bool *cold,
                    char **init_reply, tm_error *err);
/* Back to the pool (keep), or removed (a run that timed out or died). */
void gw_warm_release(struct gw_warm_pool *p, struct gw_warm *w, bool keep);
/* The action's containers removed (busy ones when their run ends). */
void gw_warm_drop(struct gw_warm_pool *p, const char *name);

/* The warm container's keeper (a helper process): creates it, reports
 * init's pid on out, waits for it, deletes it; never returns. */
void gw_warm_helper(struct gw *g, struct gw_warm *w, int out) __attribute__((noreturn));

/* A connected socket to path, or -1. */
int gw_warm_connect(const char *path);
/* POST body to path on the socket; *status and *reply (malloc'ed body).
 * -ETIMEDOUT past timeout_ms, -EPIPE when the server went away first. */
int gw_warm_post(const char *sock, const char *path, const char *body, unsigned timeout_ms,
                 unsigned *status, char **reply, tm_error *err);

#endif
