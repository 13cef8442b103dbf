/* One configuration: N closed-loop clients, each a thread with its own
 * keep-alive connection, invoking the action blocking with result
 * (`?blocking=true&result=true`, params {}) back to back. Warm setting:
 * each client's first invocation (its container's cold start) is not
 * counted, nor the warm-up after all have had theirs. Requests started in
 * the measured window are counted, each to its end (a slow configuration
 * is not cut short; every client has at least one), and the rate is their
 * count over the time from the window's start to the last one's end. Anything but 200, a timeout or a broken connection is an
 * error, counted by kind. A sampler thread reads memory every 100 ms. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "pfb.h"

const char *const pfb_err_names[PFB_ERRS] = { "timeout", "connection", "202", "429", "502", "other" };

/* The clients' start: each says it is ready; the window is set, then all go. */
struct pfb_start {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned ready;
    bool go;
};

struct pfb_client {
    pthread_t thread;
    struct pfb_ctx *c;
    const struct pfb_load *l;
    char path[200];
    double *t_measure, *t_end;     /* set by pfb_load_run once every client is ready */
    struct pfb_start *start;
    bool first_untimed;
    double *lat;               /* ms of the ok requests measured */
    size_t nlat, cap;
    unsigned long ok, err[PFB_ERRS];
    double last_end;
    int fail;                  /* -ENOMEM */
};

static int pfb_err_kind(int r, int status)
{
    if (r == -ETIMEDOUT)
        return PFB_E_TIMEOUT;
    if (r < 0)
        return PFB_E_CONN;
    return status == 202 ? PFB_E_202 : status == 429 ? PFB_E_429 : status == 502 ? PFB_E_502 : PFB_E_OTHER;
}

static void *pfb_client_main(void *arg)
{
    struct pfb_client *k = arg;
    struct pfb_conn cn;
    pfb_conn_init(&cn, k->c->port);
    int status = 0;
    if (k->first_untimed)
        pfb_http(&cn, "POST", k->path, k->c->auth, "{}", 2, k->c->timeout_s, &status, NULL, NULL);
    pthread_mutex_lock(&k->start->mu);
    k->start->ready++;
    pthread_cond_broadcast(&k->start->cv);
    while (!k->start->go)
        pthread_cond_wait(&k->start->cv, &k->start->mu);
    pthread_mutex_unlock(&k->start->mu);
    while (!pfb_interrupted) {
        double t0 = tm_bench_now_s();
        if (t0 >= *k->t_end && k->last_end > 0)
            break;
        int r = pfb_http(&cn, "POST", k->path, k->c->auth, "{}", 2, k->c->timeout_s, &status, NULL, NULL);
        double t1 = tm_bench_now_s();
        if (t0 < *k->t_measure)
            continue;
        k->last_end = t1;
        if (r < 0 || status != 200) {
            k->err[pfb_err_kind(r, status)]++;
            continue;
        }
        if (k->nlat == k->cap) {
            size_t cap = k->cap ? 2 * k->cap : 1024;
            double *v = realloc(k->lat, cap * sizeof *v);
            if (!v) {
                k->fail = -ENOMEM;
                break;
            }
            k->lat = v, k->cap = cap;
        }
        k->lat[k->nlat++] = (t1 - t0) * 1e3;
        k->ok++;
    }
    pfb_conn_close(&cn);
    free(cn.buf);
    return NULL;
}

struct pfb_sampler {
    pthread_t thread;
    struct pfb_ctx *c;
    const struct pfb_load *l;
    volatile bool stop;
    struct pfb_result *out;
};

static void *pfb_sampler_main(void *arg)
{
    struct pfb_sampler *s = arg;
    while (!s->stop) {
        struct pfb_memory m;
        pfb_memory_sample(s->c, s->l->action, s->l->mode, s->l->strawman_epc, &m);
        if (m.have_epc) {
            s->out->have_epc = true;
            if (m.epc > s->out->epc_peak)
                s->out->epc_peak = m.epc;
        }
        if (m.daemon > s->out->daemon_peak)
            s->out->daemon_peak = m.daemon;
        if (m.host > s->out->host_peak)
            s->out->host_peak = m.host;
        if (m.containers > s->out->containers_peak)
            s->out->containers_peak = m.containers;
        nanosleep(&(struct timespec){ 0, 100000000 }, NULL);   /* the sampling period */
    }
    return NULL;
}

void pfb_load_run(struct pfb_ctx *c, const struct pfb_load *l, struct pfb_result *out)
{
    static struct pfb_client clients[PFB_MAX_CLIENTS];
    struct pfb_sampler s = { .c = c, .l = l, .out = out };
    memset(out, 0, sizeof *out);
    memset(clients, 0, sizeof clients);
    out->clients = l->clients;
    out->p50_ms = out->p99_ms = NAN;
    double t_measure = 0, t_end = 0;
    struct pfb_start start = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false };
    bool sampler = pthread_create(&s.thread, NULL, pfb_sampler_main, &s) == 0;
    unsigned started = 0;
    for (; started < l->clients; started++) {
        struct pfb_client *k = &clients[started];
        k->c = c, k->l = l, k->t_measure = &t_measure, k->t_end = &t_end, k->start = &start;
        k->first_untimed = l->first_untimed;
        snprintf(k->path, sizeof k->path, "/api/v1/namespaces/_/actions/%s?blocking=true&result=true",
                 l->action);
        if (pthread_create(&k->thread, NULL, pfb_client_main, k) != 0)
            break;
    }
    if (started < l->clients) {   /* nothing measured: the run ends */
        pfb_interrupted = 1;
        fprintf(stderr, "platform: only %u of %u client threads started\n", started, l->clients);
    }
    pthread_mutex_lock(&start.mu);
    while (start.ready < started)
        pthread_cond_wait(&start.cv, &start.mu);
    t_measure = tm_bench_now_s() + l->warmup_s, t_end = t_measure + l->duration_s;
    start.go = true;
    pthread_cond_broadcast(&start.cv);
    pthread_mutex_unlock(&start.mu);
    size_t n = 0;
    double last_end = t_measure;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(clients[i].thread, NULL);
        n += clients[i].nlat;
        last_end = clients[i].last_end > last_end ? clients[i].last_end : last_end;
    }
    s.stop = true;
    if (sampler)
        pthread_join(s.thread, NULL);
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t at = 0;
    bool all_ran = true;
    for (unsigned i = 0; i < started; i++) {
        struct pfb_client *k = &clients[i];
        if (all && k->nlat)
            memcpy(all + at, k->lat, k->nlat * sizeof *all);
        at += k->nlat;
        out->ok += k->ok;
        if (k->fail)
            all_ran = false;
        for (int e = 0; e < PFB_ERRS; e++)
            out->err[e] += k->err[e], out->errors += k->err[e];
        free(k->lat);
    }
    out->run = started == l->clients && all_ran && !pfb_interrupted && all;
    out->elapsed_s = last_end - t_measure;
    out->rps = out->elapsed_s > 0 ? (double)out->ok / out->elapsed_s : 0;
    if (all && n) {
        out->p99_ms = tm_bench_percentile(all, (unsigned)n, 99);
        out->p50_ms = tm_bench_percentile(all, (unsigned)n, 50);
    }
    free(all);
}
