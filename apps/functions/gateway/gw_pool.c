/* The worker pool: a fixed number of threads take invocations from a FIFO
 * bounded by queue_max (beyond it the HTTP side answers 429). Each worker
 * runs one invocation at a time (gw_invoke). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "gw_warm.h"

struct gw_pool {
    struct gw *g;
    pthread_mutex_t lock;
    pthread_cond_t more;
    struct gw_job *head, *tail;
    unsigned queued, running, queue_max, nthreads;
    bool stopping;
    pthread_t *threads;
};

void gw_job_free(struct gw_job *job)
{
    if (!job)
        return;
    json_decref(job->action);
    json_decref(job->activation);
    free(job->params);
    free(job);
}

/* The activation is stored, then the submitter told (a blocking request
 * resumes; a non-blocking job is freed here). */
static void gw_job_finish(struct gw *g, struct gw_job *job, json_t *activation)
{
    job->activation = activation;
    gw_store_put(g->store, json_incref(activation));
    gw_journal_inflight(g, job, false);
    if (job->notify)
        job->notify(job);
    else
        gw_job_free(job);
}

static void *gw_worker(void *arg)
{
    struct gw_pool *p = arg;
    /* Signals are the main thread's (sigwait); invocations fork from here. */
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->more, &p->lock);
        if (p->stopping) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        struct gw_job *job = p->head;
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        p->running++;
        pthread_mutex_unlock(&p->lock);
        json_t *act = gw_invoke(p->g, job);
        gw_job_finish(p->g, job, act);
        pthread_mutex_lock(&p->lock);
        p->running--;
        pthread_mutex_unlock(&p->lock);
    }
}

int gw_pool_start(struct gw *g, unsigned workers, unsigned queue_max, struct gw_pool **out,
                  tm_error *err)
{
    struct gw_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->threads = calloc(workers, sizeof *p->threads))) {
        free(p);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    p->g = g, p->queue_max = queue_max;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->more, NULL);
    for (; p->nthreads < workers; p->nthreads++) {
        int r = pthread_create(&p->threads[p->nthreads], NULL, gw_worker, p);
        if (r) {
            gw_pool_stop(p);
            return tm_error_set(err, r, "cannot start the worker threads: %s", strerror(r));
        }
    }
    *out = p;
    return 0;
}

int gw_pool_submit(struct gw_pool *p, struct gw_job *job, unsigned *in_flight)
{
    pthread_mutex_lock(&p->lock);
    *in_flight = p->queued + p->running;
    bool full = p->stopping || p->queued + p->running >= p->nthreads + p->queue_max;
    if (!full) {
        job->next = NULL;
        if (p->tail)
            p->tail->next = job;
        else
            p->head = job;
        p->tail = job;
        p->queued++;
        pthread_cond_signal(&p->more);
    }
    pthread_mutex_unlock(&p->lock);
    return full ? -EAGAIN : 0;
}

void gw_pool_stop(struct gw_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    struct gw_job *queued = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->more);
    pthread_mutex_unlock(&p->lock);
    gw_invoke_cancel_all();   /* running helpers end their containers and report */
    gw_warm_kill_busy(p->g->warm);   /* running warm ones die: their workers release them */
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    while (queued) {   /* never ran: reported failed, as OpenWhisk's lost activations */
        struct gw_job *next = queued->next;
        gw_job_finish(p->g, queued, gw_activation_failed(p->g, queued,
                                                         "The gateway stopped before the action ran."));
        queued = next;
    }
    pthread_cond_destroy(&p->more);
    pthread_mutex_destroy(&p->lock);
    free(p->threads);
    free(p);
}
