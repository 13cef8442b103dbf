/* fn_invoke: each invocation in a container of its own. The instance runs
 * as the container's init (tm_container_options.init_main): natively, in a
 * fresh enclave built there (strawman), or attached to fn-NAME (teemate: init
 * attaches before its mounts, as any container of a shared enclave). It
 * sends its result and figures back over a pipe; a container that dies first
 * (killed, OOM) sends nothing, and the invoker says so. */
#include "fn_invoke.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/cgroup.h"
#include "container/spec_run.h"
#include "shared/attach.h"
#include "util/cleanup.h"
#include "util/clock.h"

/* init -> invoker: this, then json_len bytes of result. */
struct fn_report {
    int32_t status;             /* 0: a result follows; -errno: msg says why there is none */
    uint8_t ok;
    double main_at;             /* init_main's start (CLOCK_MONOTONIC is the machine's) */
    char msg[1024];
    struct fn_invoke_stats stats;
    uint64_t json_len;
};

struct fn_instance_ctx {
    const struct fn_invoke_request *req;
    const void *wire;           /* native, strawman: the scripts to compile */
    size_t wire_len;
    int out_fd;
};

ssize_t fn_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Ctrl-C or a kill of the invoker while it waits for the result goes to
 * the instance (as `teemate run` passes it on), which ends, so the
 * container is still deleted. 0 outside an invocation, and in init. */
static volatile pid_t fn_invoke_init_pid;
static volatile sig_atomic_t fn_invoke_pending;   /* came during the creation */
static const int fn_invoke_passed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void fn_invoke_pass_signal(int sig)
{
    if (fn_invoke_init_pid > 0)
        kill(fn_invoke_init_pid, sig);
    else
        fn_invoke_pending = sig;
}

/* Handlers on (old filled) or back (old restored). */
static void fn_invoke_signals(bool on, struct sigaction old[4])
{
    struct sigaction sa = { .sa_handler = fn_invoke_pass_signal };   /* no SA_RESTART: reads see EINTR */
    for (size_t i = 0; i < 4; i++)
        sigaction(fn_invoke_passed[i], on ? &sa : &old[i], on ? &old[i] : NULL);
}

/* The heap, code load and run phases from the instance's own figures: the
 * runtime times heap create + bytecode load (create_ns, load_ns of it) in
 * the first run call, which took call_ms in all. */
static void fn_phases(const struct fn_stats *fs, double call_ms, struct fn_invoke_stats *s)
{
    s->heap_ms = (double)(fs->create_ns - fs->load_ns) / 1e6;
    s->code_load_ms += (double)fs->load_ns / 1e6;
    s->run_ms = call_ms - (double)fs->create_ns / 1e6;
}

static int fn_instance_native(const struct fn_instance_ctx *c, const struct fn_run_request *rr,
                              struct fn_result *res, struct fn_invoke_stats *s, tm_error *err)
{
    const struct fn_invoke_request *q = c->req;
    double t0 = tm_now_ms();
    fn_native_init(q->services);
    int r = fn_native_load(c->wire, c->wire_len, NULL, err);
    double t1 = tm_now_ms();
    if (r == 0)
        r = fn_native_run(rr, q->params, res, err);
    struct fn_stats fs;
    fn_native_stats(&fs);
    s->code_load_ms = t1 - t0;
    fn_phases(&fs, tm_now_ms() - t1, s);
    return r;
}

static int fn_instance_strawman(const struct fn_instance_ctx *c, const struct fn_run_request *rr,
                                struct fn_result *res, struct fn_invoke_stats *s, tm_error *err)
{
    const struct fn_invoke_request *q = c->req;
    struct fn_strawman_stats *st = &s->strawman;
    bool edmm = q->rec->mode == FN_MODE_STRAWMAN_EDMM;
    int r = (edmm ? fn_strawman_edmm_invoke : fn_strawman_invoke)(q->image, q->rec->memory,
                                                                  q->services, c->wire, c->wire_len,
                                                                  rr, q->params, res, st, err);
    s->enclave_build_ms = st->create_ms + st->add_ms + st->init_ms;
    s->code_load_ms = st->load_ms + st->code_ms;
    s->heap_ms = st->heap_ms - st->code_ms;
    s->run_ms = st->run_ms;
    s->epc_pages = st->epc_pages;   /* SGX1: all added before EINIT; EDMM: + the heap's expand */
    s->expand_ms = st->expand_ms;
    s->expand_pages = st->expand_pages;
    return r;
}

/* What this instance holds of the enclave: its slot's pages and its
 * threads' (TCS, SSA, stack, thread data), not the image or global heap. */
static uint64_t fn_attachment_epc_pages(const struct tm_attachment *a)
{
    const struct tm_enclave_regions *g = &a->regions;
    if (!a->ops->epc_pages_in)
        return 0;
    uint64_t n = a->ops->epc_pages_in(a->be, a->slot_offset, a->slot_size);
    uint64_t slots_end = g->slots_offset + (uint64_t)g->slot_count * g->slot_size;
    for (size_t i = 0; i < a->nviews; i++) {
        const struct tm_attach_view *v = &a->views[i];
        bool image = v->offset < g->image_size;
        bool heap = v->offset >= g->heap_offset && v->offset < g->heap_offset + g->heap_size;
        bool slot = v->offset >= g->slots_offset && v->offset < slots_end;
        if (!image && !heap && !slot)
            n += a->ops->epc_pages_in(a->be, v->offset, v->len);
    }
    return n;
}

static int fn_instance_teemate(const struct fn_instance_ctx *c, struct tm_attachment *a,
                               const struct fn_run_request *rr, struct fn_result *res,
                               struct fn_invoke_stats *s, tm_error *err)
{
    const struct fn_invoke_request *q = c->req;
    if (!a)
        return tm_error_set(err, EINVAL, "the container is not attached to fn-%s", q->rec->name);
    /* A new process's first entry (the sim's handlers, signal stack and
     * syscall dispatch): timed apart, between alias and heap. */
    int r = tm_attach_first_entry(a, err);
    double t1 = tm_now_ms();
    if (r == 0)
        r = fn_enclave_run(a, q->services, rr, q->params, res, err);
    double call_ms = tm_now_ms() - t1;
    struct fn_stats fs = { 0 };
    if (r == 0 && (r = fn_enclave_stats(a, &fs, err)) < 0)
        fn_result_free(res);
    s->alias = a->stats;
    s->alias_ms = a->stats.connect_ms + a->stats.request_ms + a->stats.map_ms;
    fn_phases(&fs, call_ms, s);
    struct tm_expand_stats x = { 0 };
    if (a->ops->expand_stats)
        a->ops->expand_stats(a->be, &x);
    s->expand_ms = x.ms;
    s->expand_pages = x.pages;
    s->epc_pages = fn_attachment_epc_pages(a);
    return r;
}

/* The container's process (init_main): one instance, one run, the report. */
static int fn_instance_main(void *ctx, struct tm_attachment *a)
{
    const struct fn_instance_ctx *c = ctx;
    const struct fn_record *rec = c->req->rec;
    struct fn_run_request rr = { .timeout_ms = rec->timeout_ms, .memory_limit = rec->memory };
    struct fn_report rep = { .main_at = tm_now_ms() };
    struct fn_result res = { 0 };
    tm_error err = { 0 };
    int r = rec->mode == FN_MODE_NATIVE     ? fn_instance_native(c, &rr, &res, &rep.stats, &err)
            : rec->mode == FN_MODE_STRAWMAN || rec->mode == FN_MODE_STRAWMAN_EDMM
                ? fn_instance_strawman(c, &rr, &res, &rep.stats, &err)
                                            : fn_instance_teemate(c, a, &rr, &res, &rep.stats, &err);
    rep.status = r;
    if (r < 0)
        snprintf(rep.msg, sizeof rep.msg, "%s", err.msg);
    else {
        rep.ok = res.ok;
        rep.json_len = res.len;
    }
    int w = tm_write_full(c->out_fd, &rep, sizeof rep);
    if (w == 0 && r == 0)
        w = tm_write_full(c->out_fd, res.json, res.len);
    fn_result_free(&res);
    return r < 0 || w < 0 ? 1 : 0;
}

/* The stored scripts as FN_ECALL_LOAD's input (native and strawman). */
static int fn_invoke_wire(const struct fn_record *rec, void **wire, size_t *len, tm_error *err)
{
    char dir[4200], paths[FN_MAX_SCRIPTS][4400];
    char *argv[FN_MAX_SCRIPTS];
    int r = fn_record_dir(rec->name, false, dir, sizeof dir, err);
    if (r < 0)
        return r;
    for (uint32_t i = 0; i < rec->nscripts; i++) {
        fn_record_script_path(dir, rec, i, paths[i], sizeof paths[i]);
        argv[i] = paths[i];
    }
    return fn_sources_read(argv, rec->nscripts, wire, len, err);
}

/* The quick-form spec of `teemate run`: host root with its own /proc, the
 * host's network (HTTP GET to 127.0.0.1), the limits; fn-NAME in teemate mode. */
int fn_invoke_spec(const struct fn_record *rec, struct tm_container_spec *spec, tm_error *err)
{
    char enclave[64];
    fn_enclave_name(rec->name, enclave);
    char *args[] = { "fn", (char *)rec->name, (char *)fn_mode_name(rec->mode) };
    struct tm_run_options o = {
        .args = args, .nargs = 3, .host_network = true,
        .memory_max = (int64_t)(rec->memory + FN_CONTAINER_OVERHEAD), .pids_max = FN_CONTAINER_PIDS,
        .enclave = rec->mode == FN_MODE_TEEMATE ? enclave : NULL,
    };
    return tm_spec_for_run(&o, spec, err);
}

/* The container's end without a report: how it died, for stderr. */
static void fn_invoke_died(int code, const struct tm_cgroup_stats *cs, uint64_t limit, char *buf,
                           size_t len)
{
    if (cs->memory_oom_kills)
        snprintf(buf, len, "the instance's container was killed by its cgroup's OOM killer "
                 "(memory limit %llu MiB)", (unsigned long long)(limit >> 20));
    else if (code > 128)
        snprintf(buf, len, "the instance's container was killed by signal %d (%s)", code - 128,
                 strsignal(code - 128));
    else
        snprintf(buf, len, "the instance's container exited with code %d without a result", code);
}

/* The watchdog outside the instance: the runtime enforces the time limit
 * inside, but a runtime that hangs (or a stopped container) must not hang
 * the invoker. Past the limit plus room for the container and a strawman's
 * build, the container is killed. */
#define FN_WATCHDOG_MS_PER_MIB 2   /* a strawman commits its memory limit first */

static uint64_t fn_invoke_watchdog_ms(const struct fn_record *rec)
{
    return rec->timeout_ms + FN_WATCHDOG_GRACE_MS + (rec->memory >> 20) * FN_WATCHDOG_MS_PER_MIB;
}

/* Wait until fd is readable (the report, or EOF when init dies) or the
 * deadline (tm_now_ms) passes: false then. */
static bool fn_invoke_wait(int fd, double deadline)
{
    for (;;) {
        double left = deadline - tm_now_ms();
        if (left <= 0)
            return false;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left + 1);
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return true;   /* let the read say what is wrong */
    }
}

/* Read the report; *got false when the container died before sending it. */
static int fn_invoke_collect(int fd, struct fn_report *rep, struct fn_invocation *inv, bool *got,
                             tm_error *err)
{
    *got = fn_read_full(fd, rep, sizeof *rep) == (ssize_t)sizeof *rep;
    if (!*got || rep->status < 0)
        return 0;
    if (rep->json_len > FN_MAX_RESULT)
        return tm_error_set(err, EPROTO, "the instance sent a result of %llu bytes",
                            (unsigned long long)rep->json_len);
    char *json = malloc(rep->json_len + 1);
    if (!json)
        return tm_error_set(err, ENOMEM, "out of memory");
    if (fn_read_full(fd, json, rep->json_len) != (ssize_t)rep->json_len) {
        free(json);
        *got = false;   /* died while sending */
        return 0;
    }
    json[rep->json_len] = '\0';
    inv->result = (struct fn_result){ .ok = rep->ok, .json = json, .len = rep->json_len };
    inv->stats = rep->stats;
    return 0;
}

int fn_invoke(const struct fn_invoke_request *req, struct fn_invocation *inv, tm_error *err)
{
    memset(inv, 0, sizeof *inv);
    double t0 = tm_now_ms();
    struct fn_instance_ctx c = { .req = req, .out_fd = -1 };
    _cleanup_free_ void *wire = NULL;
    int r = 0;
    if (req->rec->mode != FN_MODE_TEEMATE && (r = fn_invoke_wire(req->rec, &wire, &c.wire_len, err)) < 0)
        return r;
    c.wire = wire;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    _cleanup_close_ int in = p[0];
    c.out_fd = p[1];
    struct tm_container_spec spec = { 0 };
    if ((r = fn_invoke_spec(req->rec, &spec, err)) < 0) {
        close(p[1]);
        return r;
    }
    struct tm_container_options o = {
        .id = req->id, .state_root = req->state_root, .daemon_socket = req->daemon_socket,
        .die_with_runtime = true, .init_main = fn_instance_main, .init_ctx = &c,
    };
    pid_t pid;
    struct tm_container_timing ct;
    struct sigaction old[4];
    fn_invoke_signals(true, old);
    double t_create = tm_now_ms();
    r = tm_container_create(&spec, &o, &pid, &ct, err);
    tm_spec_free(&spec);
    close(p[1]);
    if (r < 0) {
        fn_invoke_pending = 0;
        fn_invoke_signals(false, old);
        return tm_error_prefix(err, "cannot make the instance's container%s",
                               geteuid() ? " (containers need root)" : "");
    }
    fn_invoke_init_pid = pid;
    if (fn_invoke_pending)
        kill(pid, fn_invoke_pending);
    struct fn_report rep;
    bool got, overdue = !fn_invoke_wait(in, t0 + (double)fn_invoke_watchdog_ms(req->rec));
    if (overdue)
        kill(pid, SIGKILL);
    r = fn_invoke_collect(in, &rep, inv, &got, err);
    double total = tm_now_ms() - t0;
    int code = tm_container_wait(pid);
    fn_invoke_init_pid = 0;
    fn_invoke_pending = 0;
    fn_invoke_signals(false, old);
    struct tm_cgroup_stats cs = { 0 };
    tm_error ignored = { 0 };
    tm_container_stats(req->state_root, req->id, &cs, &ignored);
    tm_error derr = { 0 };
    int d = tm_container_delete(req->state_root, req->id, true, &derr);
    if (r == 0 && got && rep.status < 0)
        r = tm_error_set(err, -rep.status, "%s", rep.msg);
    if (r == 0 && d < 0) {
        *err = derr;
        r = tm_error_prefix(err, "cannot delete the instance's container");
    }
    if (r < 0) {
        fn_result_free(&inv->result);
        return r;
    }
    struct fn_invoke_stats *s = &inv->stats;
    s->container = ct;
    s->memory_peak_bytes = cs.memory_peak;
    /* Until the instance starts in init (the runtime saves the state after
     * init's READY while the instance already runs). The attach is init's,
     * inside setup: not the container's. The strawman's signing (a platform
     * ships the SIGSTRUCT) and its destroy (after the result) are not the
     * cold start's. */
    s->container_ms = (got ? rep.main_at - t_create : ct.total_ms) - s->alias_ms;
    s->total_ms = total - s->strawman.sign_ms - s->strawman.destroy_ms;
    if (!got) {
        char timeout_json[160];
        if (overdue) {
            snprintf(inv->died, sizeof inv->died, "the instance did not answer within %llu ms "
                     "(its time limit and %llu ms for its start): its container was killed",
                     (unsigned long long)fn_invoke_watchdog_ms(req->rec),
                     (unsigned long long)(fn_invoke_watchdog_ms(req->rec) - req->rec->timeout_ms));
            snprintf(timeout_json, sizeof timeout_json,
                     "{\"error\":\"" FN_MSG_TIMEOUT " of %llu milliseconds.\"}",
                     (unsigned long long)req->rec->timeout_ms);
        } else {
            fn_invoke_died(code, &cs, req->rec->memory + FN_CONTAINER_OVERHEAD, inv->died,
                           sizeof inv->died);
        }
        const char *json = overdue ? timeout_json : FN_RESULT_DIED;
        inv->result = (struct fn_result){ .ok = false, .json = strdup(json), .len = strlen(json) };
        if (!inv->result.json)
            return tm_error_set(err, ENOMEM, "out of memory");
    }
    return 0;
}
