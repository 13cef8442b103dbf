/* Blocking invokes. The request's connection is suspended while the
 * worker runs the action; the worker's notify resumes it with the
 * activation. OpenWhisk answers a blocking invoke that takes longer than
 * 60 s with 202 and the activation id (the run goes on): a waiter thread
 * resumes those connections at their deadline, and the job then belongs to
 * its worker alone. One lock (gw.wait_lock) orders the three sides. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "gw_http.h"

enum { GW_WAITING = 1, GW_DONE, GW_TIMED_OUT, GW_ABANDONED };

static void gw_wait_unlink(struct gw *g, struct gw_job *job)
{
    for (struct gw_job **p = &g->waiting; *p; p = &(*p)->wait_next)
        if (*p == job) {
            *p = job->wait_next;
            return;
        }
}

/* The worker's notify. */
static void gw_wait_done(struct gw_job *job)
{
    struct gw *g = job->notify_ctx;
    pthread_mutex_lock(&g->wait_lock);
    bool abandoned = job->wait_state == GW_ABANDONED;
    if (!abandoned) {
        job->wait_state = GW_DONE;
        if (job->suspended) {
            job->suspended = false;
            MHD_resume_connection(job->conn);
        }
        gw_wait_unlink(g, job);
    }
    pthread_mutex_unlock(&g->wait_lock);
    if (abandoned)   /* answered 202 already: nobody else holds it */
        gw_job_free(job);
}

void gw_wait_begin(struct gw_req *rq, struct gw_job *job)
{
    struct gw *g = rq->g;
    job->notify = gw_wait_done;
    job->notify_ctx = g;
    job->conn = rq->conn;
    job->wait_deadline = job->queued_at + g->cfg.blocking_wait_ms;
    rq->job = job;
    pthread_mutex_lock(&g->wait_lock);
    job->wait_state = GW_WAITING;
    job->wait_next = g->waiting;
    g->waiting = job;
    pthread_cond_signal(&g->wait_cond);
    pthread_mutex_unlock(&g->wait_lock);
}

void gw_wait_cancel(struct gw_req *rq)
{
    pthread_mutex_lock(&rq->g->wait_lock);
    gw_wait_unlink(rq->g, rq->job);
    pthread_mutex_unlock(&rq->g->wait_lock);
    rq->job = NULL;
}

enum MHD_Result gw_wait_reply(struct gw_req *rq)
{
    struct gw *g = rq->g;
    struct gw_job *job = rq->job;
    char id[33];
    memcpy(id, job->activation_id, sizeof id);
    pthread_mutex_lock(&g->wait_lock);
    int state = job->wait_state;
    if (state == GW_TIMED_OUT) {
        job->wait_state = GW_ABANDONED;   /* its worker frees it */
        gw_wait_unlink(g, job);
        rq->job = NULL;
    } else if (state == GW_WAITING && !job->suspended) {
        MHD_suspend_connection(rq->conn);
        job->suspended = true;
    }
    pthread_mutex_unlock(&g->wait_lock);
    if (state == GW_TIMED_OUT)
        return gw_reply(rq, MHD_HTTP_ACCEPTED, json_pack("{s:s}", "activationId", id), id);
    if (state != GW_DONE)
        return MHD_YES;
    json_t *act = job->activation, *resp = json_object_get(act, "response");
    unsigned status = json_is_true(json_object_get(resp, "success")) ? MHD_HTTP_OK : MHD_HTTP_BAD_GATEWAY;
    json_t *body = json_incref(rq->result_only ? json_object_get(resp, "result") : act);
    return gw_reply(rq, status, body, id);
}

void gw_wait_end(struct gw_req *rq)
{
    struct gw *g = rq->g;
    struct gw_job *job = rq->job;
    rq->job = NULL;
    pthread_mutex_lock(&g->wait_lock);
    /* waiting, or past the wait with no 202 sent: its worker still runs it */
    bool running = job->wait_state == GW_WAITING || job->wait_state == GW_TIMED_OUT;
    if (running) {
        job->wait_state = GW_ABANDONED;   /* gw_wait_done frees it */
        job->suspended = false;
        gw_wait_unlink(g, job);
    }
    pthread_mutex_unlock(&g->wait_lock);
    if (!running)
        gw_job_free(job);
}

static void *gw_waiter(void *arg)
{
    struct gw *g = arg;
    pthread_mutex_lock(&g->wait_lock);
    while (!g->waiter_stop) {
        double now = gw_now_epoch_ms(), next = now + 1000;
        for (struct gw_job *j = g->waiting; j; j = j->wait_next) {
            if (j->wait_state != GW_WAITING)
                continue;
            if (j->suspended && j->wait_deadline <= now) {
                j->wait_state = GW_TIMED_OUT;
                j->suspended = false;
                MHD_resume_connection(j->conn);
            } else if (j->wait_deadline < next) {
                next = j->wait_deadline > now ? j->wait_deadline : now + 10;
            }
        }
        struct timespec ts = { .tv_sec = (time_t)(next / 1000),
                               .tv_nsec = (long)((long long)next % 1000) * 1000000 };
        pthread_cond_timedwait(&g->wait_cond, &g->wait_lock, &ts);
    }
    pthread_mutex_unlock(&g->wait_lock);
    return NULL;
}

int gw_wait_start(struct gw *g, tm_error *err)
{
    int r = pthread_create(&g->waiter, NULL, gw_waiter, g);
    if (r)
        return tm_error_set(err, r, "cannot start the waiter thread: %s", strerror(r));
    g->waiter_started = true;
    return 0;
}

void gw_wait_stop(struct gw *g)
{
    if (!g->waiter_started)
        return;
    pthread_mutex_lock(&g->wait_lock);
    g->waiter_stop = true;
    pthread_cond_signal(&g->wait_cond);
    pthread_mutex_unlock(&g->wait_lock);
    pthread_join(g->waiter, NULL);
    g->waiter_started = false;
}
