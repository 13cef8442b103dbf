/* Warm containers, as OpenWhisk's invoker keeps them: per action a pool of
 * containers, each serving the action protocol (fn serve's code as the
 * container's init) on a unix socket in <dir>/sock, one run at a time.
 * A free one is reused; none free: a new one while the memory budget
 * allows (each counts its action's memory limit), else a free one of
 * another action is evicted, else the worker waits. Idle ones go after
 * idle_ms; an update or delete of the action, a run that failed in the
 * platform (timeout, death) and the gateway's stop remove them.
 *
 * Each container is made by a helper process spawned for it (gw_spawn.c;
 * the container's init is a clone of its creator, which must be
 * single-threaded): it creates the container, says init's pid, waits for it
 * and deletes the container. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fn_invoke.h"
#include "fn_serve.h"
#include "gw.h"
#include "gw_warm.h"
#include "util/clock.h"

#define GW_WARM_START_MS 60000   /* container + attach + listen; a strawman builds at /init */

struct gw_warm_pool {
    struct gw *g;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct gw_warm *list;
    uint64_t used, budget;
    unsigned idle_ms;
    bool stopping;
    pthread_t reaper;
};

/* The container's init: fn serve on the socket until SIGTERM or SIGKILL. */
struct gw_warm_init {
    struct fn_record rec;
    struct fn_services services;
    const char *image, *daemon_socket, *sock;
};

static int gw_warm_main(void *ctx, struct tm_attachment *a)
{
    struct gw_warm_init *c = ctx;
    struct fn_serve s = {
        .o = { .mode = c->rec.mode, .memory = c->rec.memory, .timeout_ms = c->rec.timeout_ms,
               .instances = c->rec.instances, .image = c->image, .socket = c->daemon_socket,
               .services = &c->services, .attached = a },
    };
    tm_error err = { 0 };
    if (fn_serve_listen(&s, NULL, c->sock, &err) < 0) {
        fprintf(stderr, "teemate gateway: warm container: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* Writes init's pid (or -errno and a message). Its PDEATHSIG (SIGKILL)
 * and die_with_runtime take the container along if the gateway dies. */
void gw_warm_helper(struct gw *g, struct gw_warm *w, int out)
{
    tm_error err = { 0 };
    struct gw_warm_init c = { .services = { .store_dir = g->store_dir, .log_fd = w->logs },
                              .image = g->cfg.image, .daemon_socket = g->cfg.daemon_socket,
                              .sock = w->sock };
    char recname[FN_NAME_MAX + 1];
    gw_action_record_name(w->action, recname);
    struct tm_container_spec spec = { 0 };
    int32_t pid = -1;
    int r = fn_record_load(recname, &c.rec, &err);
    if (r == 0)
        r = fn_invoke_spec(&c.rec, &spec, &err);
    struct tm_container_options o = {
        .id = w->id, .state_root = g->cfg.oci_root, .daemon_socket = g->cfg.daemon_socket,
        .die_with_runtime = true, .init_main = gw_warm_main, .init_ctx = &c,
    };
    pid_t ipid = -1;
    if (r == 0)
        r = tm_container_create(&spec, &o, &ipid, NULL, &err);
    tm_spec_free(&spec);
    pid = r < 0 ? r : ipid;
    char msg[sizeof err.msg] = "";
    snprintf(msg, sizeof msg, "%s", r < 0 ? err.msg : "");
    tm_write_full(out, &pid, sizeof pid);
    tm_write_full(out, msg, sizeof msg);
    close(out);
    if (r == 0) {
        tm_container_wait(ipid);
        tm_container_delete(g->cfg.oci_root, w->id, true, &err);
    }
    _exit(r < 0);
}

/* Connects to the container's socket until it answers, init dies or the
 * start's bound passes. */
static int gw_warm_wait_ready(struct gw_warm *w, tm_error *err)
{
    double until = tm_now_ms() + GW_WARM_START_MS;
    while (tm_now_ms() < until) {
        int fd = gw_warm_connect(w->sock);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        if (kill(w->init, 0) < 0)
            return tm_error_set(err, ECHILD, "the warm container's init ended before it listened");
        nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);   /* polls a socket path */
    }
    return tm_error_set(err, ETIMEDOUT, "the warm container did not listen within %d s",
                        GW_WARM_START_MS / 1000);
}

/* Init killed, the helper reaped, the container deleted: by the helper,
 * or here when the helper died first (its PDEATHSIG follows the thread
 * that spawned it: a worker, gone at the gateway's stop). */
static void gw_warm_destroy(struct gw *g, struct gw_warm *w)
{
    if (w->init > 0)
        kill(w->init, SIGKILL);
    if (w->helper > 0)
        while (waitpid(w->helper, NULL, 0) < 0 && errno == EINTR)
            ;
    tm_error ignored = { 0 };
    if (w->init > 0)
        tm_container_delete(g->cfg.oci_root, w->id, true, &ignored);
    if (w->logs >= 0)
        close(w->logs);
    unlink(w->sock);
    gw_journal_container(g, w->id, false);
    free(w);
}

/* A new container of job's action with its init answered /init: 0, or
 * -errno (err), or -EINVAL with *error_json (the code's init failed). */
static int gw_warm_create(struct gw *g, struct gw_job *job, uint64_t mem, struct gw_warm **out,
                          char **init_reply, tm_error *err)
{
    struct gw_warm *w = calloc(1, sizeof *w);
    if (!w)
        return tm_error_set(err, ENOMEM, "out of memory");
    w->mem = mem, w->logs = -1, w->busy = true;
    snprintf(w->action, sizeof w->action, "%s", job->name);
    snprintf(w->version, sizeof w->version, "%s",
             json_string_value(json_object_get(job->action, "version")) ?: "");
    char hex[17];
    gw_random_hex(hex, 16);
    snprintf(w->id, sizeof w->id, "gw-warm-%s", hex);
    snprintf(w->sock, sizeof w->sock, "%s/sock/%s.sock", g->dir, w->id);
    if ((w->logs = memfd_create("gw-warm-logs", MFD_CLOEXEC)) < 0) {
        free(w);
        return tm_error_sys(err, "memfd_create");
    }
    gw_journal_container(g, w->id, true);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        gw_warm_destroy(g, w);
        return tm_error_sys(err, "pipe");
    }
    pid_t pid = -1;
    const char *args[] = { w->action, w->id, w->sock, NULL };
    int32_t ipid = -1;
    char msg[sizeof err->msg] = "the container's helper died";
    if (gw_spawn_helper(g, "warm", args, -1, p[1], w->logs, &pid, err) < 0)
        snprintf(msg, sizeof msg, "%s", err->msg);
    close(p[1]);
    if (pid > 0) {
        w->helper = pid;
        if (fn_read_full(p[0], &ipid, sizeof ipid) == sizeof ipid && ipid < 0)
            fn_read_full(p[0], msg, sizeof msg);
    }
    close(p[0]);
    int r;
    if (ipid <= 0) {
        r = tm_error_set(err, ipid < 0 ? -ipid : EIO, "cannot make the warm container: %s", msg);
        gw_warm_destroy(g, w);
        return r;
    }
    w->init = ipid;
    const char *code = json_string_value(json_object_get(json_object_get(job->action, "exec"), "code"));
    json_t *body = json_pack("{s:{s:s, s:s, s:s, s:b}}", "value", "name", job->name, "main", "main",
                             "code", code ?: "", "binary", 0);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    unsigned status = 0;
    if ((r = gw_warm_wait_ready(w, err)) == 0) {
        double t0 = tm_now_ms();
        r = gw_warm_post(w->sock, "/init", text ?: "{}", GW_WARM_START_MS, &status, init_reply, err);
        w->init_ms = tm_now_ms() - t0;
    }
    free(text);
    if (r == 0 && status != 200)
        r = -EINVAL;   /* the reply is OpenWhisk's init error */
    if (r < 0) {
        gw_warm_destroy(g, w);
        return r;
    }
    free(*init_reply);   /* {"OK":true} */
    *init_reply = NULL;
    *out = w;
    return 0;
}

/* The least recently used free container (NULL: none); under the lock. */
static struct gw_warm **gw_warm_lru(struct gw_warm_pool *p)
{
    struct gw_warm **best = NULL;
    for (struct gw_warm **it = &p->list; *it; it = &(*it)->next)
        if (!(*it)->busy && (!best || (*it)->idle_since < (*best)->idle_since))
            best = it;
    return best;
}

static struct gw_warm *gw_warm_unlink(struct gw_warm_pool *p, struct gw_warm **at)
{
    struct gw_warm *w = *at;
    *at = w->next;
    p->used -= w->mem;
    pthread_cond_broadcast(&p->changed);
    return w;
}

int gw_warm_acquire(struct gw_warm_pool *p, struct gw_job *job, struct gw_warm **out, bool *cold,
                    char **init_reply, tm_error *err)
{
    const char *version = json_string_value(json_object_get(job->action, "version")) ?: "";
    uint64_t mem = (uint64_t)json_integer_value(json_object_get(json_object_get(job->action, "limits"),
                                                                "memory")) << 20;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (p->stopping) {
            pthread_mutex_unlock(&p->lock);
            return tm_error_set(err, ECANCELED, "The gateway stopped before the action ran.");
        }
        struct gw_warm *found = NULL;
        for (struct gw_warm *w = p->list; w && !found; w = w->next)
            if (!w->busy && !w->stale && !strcmp(w->action, job->name) && !strcmp(w->version, version))
                found = w;
        if (found) {
            found->busy = true;
            pthread_mutex_unlock(&p->lock);
            if (gw_warm_usable(p->g, job->action, found)) {
                *out = found, *cold = false;
                return 0;
            }
            gw_warm_release(p, found, false);   /* its enclave is gone: removed */
            pthread_mutex_lock(&p->lock);
            continue;
        }
        if (p->used == 0 || p->used + mem <= p->budget)
            break;
        struct gw_warm **lru = gw_warm_lru(p);
        if (lru) {   /* OpenWhisk evicts a free container to make room */
            struct gw_warm *w = gw_warm_unlink(p, lru);
            pthread_mutex_unlock(&p->lock);
            gw_warm_destroy(p->g, w);
            pthread_mutex_lock(&p->lock);
            continue;
        }
        pthread_cond_wait(&p->changed, &p->lock);
    }
    p->used += mem;   /* reserved while it is made */
    pthread_mutex_unlock(&p->lock);
    struct gw_warm *w = NULL;
    int r = gw_enclave_ensure(p->g, job->action, job->name, err);
    if (r == 0)
        r = gw_warm_create(p->g, job, mem, &w, init_reply, err);
    pthread_mutex_lock(&p->lock);
    if (r < 0) {
        p->used -= mem;
        pthread_cond_broadcast(&p->changed);
    } else {
        w->next = p->list;
        p->list = w;
    }
    pthread_mutex_unlock(&p->lock);
    *out = w, *cold = true;
    return r;
}

void gw_warm_release(struct gw_warm_pool *p, struct gw_warm *w, bool keep)
{
    pthread_mutex_lock(&p->lock);
    if (keep && !w->stale && !p->stopping) {
        w->busy = false;
        w->idle_since = tm_now_ms();
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        return;
    }
    for (struct gw_warm **it = &p->list; *it; it = &(*it)->next)
        if (*it == w) {
            gw_warm_unlink(p, it);
            break;
        }
    pthread_mutex_unlock(&p->lock);
    gw_warm_destroy(p->g, w);
}

/* Free ones matching (name NULL: all; else the action's; idle: only those
 * idle past idle_ms) are removed, busy ones of name marked to go after. */
static void gw_warm_remove(struct gw_warm_pool *p, const char *name, bool idle)
{
    struct gw_warm *gone = NULL;
    double now = tm_now_ms();
    pthread_mutex_lock(&p->lock);
    for (struct gw_warm **it = &p->list; *it;) {
        struct gw_warm *w = *it;
        bool match = !name || !strcmp(w->action, name);
        if (match && !idle && w->busy)
            w->stale = true;
        if (match && !w->busy && (!idle || now - w->idle_since >= p->idle_ms)) {
            gw_warm_unlink(p, it);
            w->next = gone;
            gone = w;
        } else {
            it = &w->next;
        }
    }
    pthread_mutex_unlock(&p->lock);
    while (gone) {
        struct gw_warm *next = gone->next;
        gw_warm_destroy(p->g, gone);
        gone = next;
    }
}

void gw_warm_drop(struct gw_warm_pool *p, const char *name)
{
    if (p)
        gw_warm_remove(p, name, false);
}

static void *gw_warm_reaper(void *arg)
{
    struct gw_warm_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;   /* idle removal to the second, as OpenWhisk's */
        pthread_cond_timedwait(&p->changed, &p->lock, &ts);
        if (p->stopping)
            break;
        pthread_mutex_unlock(&p->lock);
        gw_warm_remove(p, NULL, true);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int gw_warm_start(struct gw *g, uint64_t budget, unsigned idle_ms, struct gw_warm_pool **out,
                  tm_error *err)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/sock", g->dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return tm_error_sys(err, "%s", dir);
    struct gw_warm_pool *p = calloc(1, sizeof *p);
    if (!p)
        return tm_error_set(err, ENOMEM, "out of memory");
    p->g = g, p->budget = budget, p->idle_ms = idle_ms;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    int r = pthread_create(&p->reaper, NULL, gw_warm_reaper, p);
    if (r) {
        pthread_cond_destroy(&p->changed);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return tm_error_set(err, r, "cannot start the idle reaper: %s", strerror(r));
    }
    *out = p;
    return 0;
}

/* The running ones first: their runs end (killed), then the workers
 * release them (gw_pool_stop joins the workers before this). */
void gw_warm_kill_busy(struct gw_warm_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    for (struct gw_warm *w = p->list; w; w = w->next)
        if (w->busy && w->init > 0)
            kill(w->init, SIGKILL);
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

void gw_warm_stop(struct gw_warm_pool *p)
{
    if (!p)
        return;
    gw_warm_kill_busy(p);
    pthread_join(p->reaper, NULL);
    gw_warm_remove(p, NULL, false);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
