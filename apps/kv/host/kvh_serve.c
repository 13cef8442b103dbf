/* teemate kv serve: the server's life. Listeners first (a bad bind fails
 * before anything is made), then either the store in this process
 * (--no-enclave) or: the database's shared enclave kv-NAME made by teemated
 * (reused when an identical one is there and free, rebuilt when it differs),
 * and a TeeMate container (its own pid, mount, UTS, IPC and cgroup
 * namespaces, the host's network) whose init attaches to it and runs the
 * loop, the store in its slot. SIGTERM/SIGINT reach the loop (in the
 * container: through init's signal thread, never a handler on the thread in
 * the enclave), which closes every client; init then detaches and exits 0,
 * and the container is deleted (the lease goes back), as Redis's shutdown. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "container/container.h"
#include "container/state.h"
#include "container/spec_run.h"
#include "daemon/client.h"
#include "enclave/measure.h"
#include "kvh_enclave.h"
#include "kvh_persist.h"
#include "kvh_serve.h"
#include "kvh_strawman.h"
#include "util/cleanup.h"

struct kvh_serve_ctx {
    const struct kvh_serve_options *o;
    struct kvh_strawman_image strawman;   /* --fork strawman: what its children build */
    int listeners[KVH_MAX_BINDS + 1];
    size_t nlisteners;
    uint32_t port;
};

/* For the signal handler (or init's signal thread): the loop to stop, and
 * the signal, which may come before the loop exists (then it stops at once). */
static struct kvh_loop *kvh_serve_loop;
static int kvh_serve_signal;

static void kvh_serve_on_signal(int sig)
{
    __atomic_store_n(&kvh_serve_signal, sig, __ATOMIC_SEQ_CST);
    struct kvh_loop *l = __atomic_load_n(&kvh_serve_loop, __ATOMIC_SEQ_CST);
    if (l)
        kvh_loop_stop(l);   /* an eventfd write: safe in a handler and from any thread */
}

/* init_on_signal: the container's init took the signal on its own thread,
 * which may run while the loop ends and is freed: the lock keeps it out. */
static pthread_mutex_t kvh_serve_loop_lock = PTHREAD_MUTEX_INITIALIZER;

static void kvh_serve_init_signal(void *ctx, int sig)
{
    (void)ctx;
    pthread_mutex_lock(&kvh_serve_loop_lock);
    kvh_serve_on_signal(sig);
    pthread_mutex_unlock(&kvh_serve_loop_lock);
}

static int kvh_serve_listen(struct kvh_serve_ctx *x, tm_error *err)
{
    const struct kvh_settings *s = &x->o->settings;
    for (uint32_t i = 0; s->port && i < s->nbind; i++) {
        int fd = kvh_listen_tcp(s->bind[i], s->port, err);
        if (fd < 0 && s->bind[i][0] == '-')
            continue;   /* Redis's optional address ("-::1") */
        if (fd < 0)
            return fd;
        x->listeners[x->nlisteners++] = fd;
    }
    if (s->unixsocket[0]) {
        int fd = kvh_listen_unix(s->unixsocket, err);
        if (fd < 0)
            return fd;
        x->listeners[x->nlisteners++] = fd;
    }
    if (!x->nlisteners)
        return tm_error_set(err, EINVAL, "nothing to listen on (port 0 and no unixsocket)");
    return 0;
}

static void kvh_serve_close_listeners(struct kvh_serve_ctx *x)
{
    for (size_t i = 0; i < x->nlisteners; i++)
        close(x->listeners[i]);
    x->nlisteners = 0;
}

/* SIGTERM/SIGINT: as Redis, SHUTDOWN's save (when save points are set),
 * run by the store itself: a batch from an internal client. Unlike Redis,
 * a failed save is logged and the server still exits. */
static void kvh_serve_shutdown_save(struct kvh_engine *e)
{
    static const char cmd[] = "SHUTDOWN\r\n";
    const uint64_t id = UINT64_MAX;   /* the loop's ids count up from 1 */
    char in[128], out[4096];
    size_t off = sizeof(struct kv_batch_in);
    struct kv_client_in recs[2] = { { id, KV_IN_NEW, 0 }, { id, KV_IN_DATA, sizeof cmd - 1 } };
    memcpy(in + off, &recs[0], sizeof recs[0]);
    off += KV_RECORD_SIZE(0);
    memcpy(in + off, &recs[1], sizeof recs[1]);
    memcpy(in + off + sizeof recs[1], cmd, sizeof cmd - 1);
    off += KV_RECORD_SIZE(sizeof cmd - 1);
    struct kv_batch_in head = { .now_us = 0, .count = 2 };
    struct timeval tv;
    gettimeofday(&tv, NULL);
    head.now_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
    memcpy(in, &head, sizeof head);
    size_t out_len = 0;
    int rc = 0;
    tm_error err = { 0 };
    if (e->call(e, KV_ECALL_BATCH, in, off, out, sizeof out, &out_len, &rc, &err) < 0 || rc < 0) {
        kvh_log(KVH_LOG_WARNING, "Error trying to save the DB: %s", rc < 0 ? strerror(-rc) : err.msg);
        return;
    }
    struct kv_batch_out bo;
    struct kv_client_out ro;
    if (out_len >= sizeof bo + sizeof ro) {
        memcpy(&bo, out, sizeof bo);
        memcpy(&ro, out + sizeof bo, sizeof ro);
        if (bo.count && ro.len && ro.len <= out_len - sizeof bo - sizeof ro)
            kvh_log(KVH_LOG_WARNING, "Error trying to save the DB: %.*s", (int)ro.len - 2,
                    out + sizeof bo + sizeof ro);
    }
}

/* The store started on engine e, the loop until stop or SHUTDOWN. */
static int kvh_serve_run(struct kvh_serve_ctx *x, struct kvh_engine *e, tm_error *err)
{
    const struct kvh_settings *s = &x->o->settings;
    struct kv_config c;
    kvh_settings_to_config(s, &c);
    c.pid = (uint64_t)x->o->pid;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    c.start_time_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
    int r = kvh_engine_start(e, &c, err);
    if (r < 0)
        return r;
    char dir[PATH_MAX];
    if (!realpath(s->dir, dir))
        return tm_error_sys(err, "can't chdir to '%s'", s->dir);
    kvh_persist_init(dir, s->dbfilename, x->o->fork_ahead);
    uint64_t keys = 0;
    if ((r = kvh_persist_load(e, &keys, err)) < 0)
        return tm_error_prefix(err, "Fatal error loading the DB, aborting");
    struct kvh_loop_options lo = {
        .engine = e, .listeners = x->listeners, .nlisteners = x->nlisteners, .hz = s->hz,
        .timeout = s->timeout, .maxclients = s->maxclients, .persist = true,
    };
    struct kvh_loop *l = NULL;
    if ((r = kvh_loop_new(&lo, &l, err)) < 0)
        return r;
    pthread_mutex_lock(&kvh_serve_loop_lock);
    __atomic_store_n(&kvh_serve_loop, l, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&kvh_serve_signal, __ATOMIC_SEQ_CST))
        kvh_loop_stop(l);
    pthread_mutex_unlock(&kvh_serve_loop_lock);
    struct sigaction sa = { .sa_handler = kvh_serve_on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    kvh_log(KVH_LOG_NOTICE, "Server initialized (the store: %s)", e->name);
    if (s->port)
        kvh_log(KVH_LOG_NOTICE, "Ready to accept connections tcp");
    if (s->unixsocket[0])
        kvh_log(KVH_LOG_NOTICE, "Ready to accept connections unix");
    r = kvh_loop_run(l, err);
    if (r == 0 && __atomic_load_n(&kvh_serve_signal, __ATOMIC_SEQ_CST))
        kvh_serve_shutdown_save(e);
    kvh_persist_stop();
    struct kvh_loop_stats st;
    kvh_loop_get_stats(l, &st);
    pthread_mutex_lock(&kvh_serve_loop_lock);
    __atomic_store_n(&kvh_serve_loop, NULL, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&kvh_serve_loop_lock);
    kvh_loop_free(l);
    if (r < 0)
        return r;
    int sig = __atomic_load_n(&kvh_serve_signal, __ATOMIC_SEQ_CST);
    if (sig)
        kvh_log(KVH_LOG_WARNING, "Received %s scheduling shutdown... every client closed.",
                sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : strsignal(sig));
    kvh_log(KVH_LOG_NOTICE, "%llu clients served, %llu batches. Bye bye...",
            (unsigned long long)st.accepted, (unsigned long long)st.batches);
    return 0;
}

/* The container's init: attached to kv-NAME already, serves in its slot. */
static int kvh_serve_init(void *ctx, struct tm_attachment *a)
{
    struct kvh_serve_ctx *x = ctx;
    tm_error err = { 0 };
    struct kvh_engine *e = NULL;
    int r;
    if (!a)
        r = tm_error_set(&err, EINVAL, "the container is not attached to the store's enclave");
    else if (x->o->fork_strawman)
        r = kvh_engine_strawman(a, &x->strawman, &e, &err);
    else
        r = kvh_engine_enclave(a, &e, &err);
    if (r == 0) {
        kvh_log(KVH_LOG_NOTICE, "Attached to %s: slot %u of %llu MiB", a->name, a->slot,
                (unsigned long long)(a->slot_size >> 20));
        r = kvh_serve_run(x, e, &err);
        e->close(e);
    }
    if (r < 0) {
        kvh_log(KVH_LOG_WARNING, "%s", err.msg);
        return 1;
    }
    return 0;
}

/* kv-NAME as this server wants it: made, or the one there reused when it is
 * the same image and layout and no server uses it; rebuilt when it differs. */
static int kvh_serve_enclave(const struct kvh_serve_options *o, const char *enclave, tm_error *err)
{
    _cleanup_image_ struct tm_image *base = NULL, *sized = NULL;
    uint64_t slot = kvh_slot_size(o->settings.maxmemory);
    uint8_t mr[32];
    int r = tm_image_load(o->image, &base, err);
    if (r < 0 || (r = kvh_shared_image(base, slot, &sized, err)) < 0 ||
        (r = tm_measure_layout(&sized->layout, NULL, NULL, mr, err)) < 0)
        return r;
    _cleanup_close_ int conn = tm_daemon_connect(o->socket, true, NULL, err);
    if (conn < 0)
        return conn;
    struct tm_enclave_info info;
    r = tm_daemon_inspect(conn, enclave, &info, err);
    if (r == 0 && !memcmp(info.mrenclave, mr, sizeof mr) && !info.removing) {
        if (info.slots_in_use >= info.slots_total)
            return tm_error_set(err, EBUSY, "enclave %s is in use (%u of %u slots): is another "
                                "server running with --name %s?", enclave, info.slots_in_use,
                                info.slots_total, o->name);
        kvh_log(KVH_LOG_NOTICE, "Reusing enclave %s (a new server starts from the dump, if "
                "any, not from the last one's memory)", enclave);
        return 0;
    }
    if (r == 0) {
        kvh_log(KVH_LOG_NOTICE, "Enclave %s differs (another image or maxmemory): rebuilding it", enclave);
        if ((r = tm_daemon_remove(conn, enclave, false, NULL, err)) < 0)
            return tm_error_prefix(err, "cannot replace enclave %s", enclave);
    } else if (r != -ENOENT) {
        return r;
    }
    _cleanup_close_ int fd = tm_image_memfd(sized, "kv.elf", err);
    if (fd < 0)
        return fd;
    memset(err, 0, sizeof *err);
    r = tm_daemon_create(conn, enclave, fd, -1, "auto", "kv.elf", NULL, NULL, 0, err);
    if (r < 0)
        return tm_error_prefix(err, "cannot make enclave %s", enclave);
    kvh_log(KVH_LOG_NOTICE, "Enclave %s made: %u slots of %llu MiB (maxmemory %llu MiB%s)", enclave,
            KVH_SLOTS, (unsigned long long)(slot >> 20),
            (unsigned long long)(o->settings.maxmemory >> 20),
            o->settings.maxmemory ? "" : ": none, the default slot");
    return 0;
}

/* A server killed outright (SIGKILL) leaves its container's record and
 * cgroup behind (its init died with it). The next server of the same
 * database removes those of its name, ENCLAVE-PID, that are stopped: a
 * running one belongs to a live server. */
static void kvh_serve_remove_dead(const char *root, const char *enclave)
{
    tm_error err = { 0 };
    char **ids;
    size_t n, len = strlen(enclave);
    if (tm_state_list(root, &ids, &n, &err) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *id = ids[i], *pid = id + len;
        bool ours = !strncmp(id, enclave, len) && pid[0] == '-' && pid[1] &&
                    strspn(pid + 1, "0123456789") == strlen(pid + 1);
        struct tm_container_state st = { 0 };
        if (ours && tm_state_load(root, id, &st, &err) == 0 &&
            tm_state_status(root, &st) == TM_CONTAINER_STOPPED) {
            if (tm_container_delete(root, id, true, &err) == 0)
                kvh_log(KVH_LOG_NOTICE, "Removed container %s of a server that was killed", id);
            else
                kvh_log(KVH_LOG_WARNING, "cannot remove container %s: %s", id, err.msg);
        }
        tm_state_clear(&st);
        free(ids[i]);
    }
    free(ids);
}

static int kvh_serve_container(struct kvh_serve_ctx *x, const char *enclave, tm_error *err)
{
    const struct kvh_serve_options *o = x->o;
    char id[96];
    snprintf(id, sizeof id, "%s-%d", enclave, (int)o->pid);
    kvh_serve_remove_dead(o->state_root, enclave);
    char *args[] = { "kv", "serve", (char *)o->name };
    struct tm_run_options ro = { .args = args, .nargs = 3, .host_network = true, .memory_max = -1,
                                 .pids_max = -1, .enclave = enclave };
    struct tm_container_spec spec = { 0 };
    int r = tm_spec_for_run(&ro, &spec, err);
    if (r < 0)
        return r;
    struct tm_container_options co = {
        .id = id, .state_root = o->state_root, .daemon_socket = o->socket, .die_with_runtime = true,
        .init_main = kvh_serve_init, .init_ctx = x, .init_on_signal = kvh_serve_init_signal,
    };
    pid_t pid;
    struct tm_container_timing ct;
    r = tm_container_create(&spec, &co, &pid, &ct, err);
    tm_spec_free(&spec);
    kvh_serve_close_listeners(x);   /* init has them */
    if (r < 0)
        return tm_error_prefix(err, "cannot make the server's container%s",
                               geteuid() ? " (containers need root; --no-enclave runs without)" : "");
    kvh_log(KVH_LOG_NOTICE, "Container %s made in %.1f ms", id, ct.total_ms);
    int code = tm_container_wait(pid);   /* passes SIGINT/SIGTERM on to init */
    tm_error derr = { 0 };
    if (tm_container_delete(o->state_root, id, true, &derr) < 0)
        kvh_log(KVH_LOG_WARNING, "cannot delete container %s: %s", id, derr.msg);
    /* A first SIGTERM/SIGINT stops the loop in init (init_on_signal): exit 0.
     * A second one while it stops ends init outright (lib/container's signal
     * thread); its sockets close with it and teemated takes the lease back. */
    if (code == 128 + SIGTERM || code == 128 + SIGINT) {
        kvh_log(KVH_LOG_WARNING, "Received %s again: the server's container was ended",
                code == 128 + SIGTERM ? "SIGTERM" : "SIGINT");
        return 0;
    }
    if (code != 0)
        return tm_error_set(err, ECHILD, "the server's container ended with %s %d",
                            code > 128 ? "signal" : "code", code > 128 ? code - 128 : code);
    return 0;
}

int kvh_serve(const struct kvh_serve_options *o, tm_error *err)
{
    struct kvh_serve_ctx x = { .o = o };
    const struct kvh_settings *s = &o->settings;
    kvh_log_open(s);
    kvh_log(KVH_LOG_NOTICE, "oO0OoO0OoO0Oo TeeMate kv is starting oO0OoO0OoO0Oo");
    kvh_log(KVH_LOG_NOTICE, "Configuration loaded%s%s", o->config ? " from " : "",
            o->config ? o->config : "");
    if (s->ignored[0])
        kvh_log(KVH_LOG_WARNING, "Accepted but not done: %s", s->ignored);
    char enclave[64];
    int r = o->no_enclave ? 0 : kvh_enclave_name(o->name, enclave, sizeof enclave, err);
    if (r == 0)
        r = kvh_serve_listen(&x, err);
    if (r < 0) {
        kvh_serve_close_listeners(&x);
        return r;
    }
    kvh_log(KVH_LOG_NOTICE, "Running mode=standalone, port=%u.", s->port);
    if (o->no_enclave) {
        struct kvh_engine *e = NULL;
        if ((r = kvh_engine_native(&e, err)) == 0) {
            kvh_log(KVH_LOG_WARNING, "--no-enclave: the store runs in this process, unprotected");
            r = kvh_serve_run(&x, e, err);
            e->close(e);
        }
        kvh_serve_close_listeners(&x);
        return r;
    }
    if ((r = kvh_serve_enclave(o, enclave, err)) < 0 ||
        (o->fork_strawman &&
         ((r = kvh_strawman_image_load(o->image, s->maxmemory, &x.strawman, err)) < 0 ||
          (r = kvh_strawman_check(&x.strawman, o->socket, enclave, err)) < 0))) {
        kvh_strawman_image_free(&x.strawman);
        kvh_serve_close_listeners(&x);
        return r;
    }
    r = kvh_serve_container(&x, enclave, err);
    kvh_strawman_image_free(&x.strawman);
    return r;
}
