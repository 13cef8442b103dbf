/* Fork latency of a confidential container holding data in its enclave, for
 * data sets of 32 MiB..1 GiB, three ways side by side in one run:
 *
 *   teemate   tm_attach_fork: fork(2), the child attaches to the same shared
 *             enclave as a forked child (its own slot and lease, the parent's
 *             slot mapped read-only) and its first ecall (FORK_CHILD, the
 *             image's tm_on_fork) is done. Reading the parent's data is not
 *             part of it: one PARENT_CHECKSUM per size, timed and checked
 *             apart, shows the child can.
 *   strawman  tm_strawman_fork: fork(2), a brand-new enclave for the child
 *             (create, add + measure, init), an attested channel, and the
 *             parent's data streamed into it encrypted; until the child's
 *             enclave holds the data and has checked its checksum.
 *   plain     fork(2) of a process holding the same data in malloc'ed
 *             memory, until the child runs (it touches nothing).
 *
 *   fork [--image PATH] [--teemate PATH] [--backend sim|sgx|auto] [--runs R]
 *        [--max-mib N] [--out DIR] [--skip-teemate]
 *
 * Each kind of parent is a process of its own that holds only its data (fork
 * copies what the process maps, so one process holding all three would slow
 * every column down); this process drives them and keeps the times. The image
 * (default build/examples/slotdata.elf) keeps the data in its slot
 * (examples/slotdata/slotdata.h). Every enclave of the run lives on one
 * simulated machine in a temporary state directory, removed at the end.
 * TeeMate needs teemated: the bench starts its own there (the teemate program
 * given, default next to the image's build directory: build/teemate) and
 * stops it at the end. Runs are interleaved so that drift in the machine hits
 * every column alike; medians. Writes DIR/fork.json, fork.md and fork.svg
 * (default DIR: bench/results). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../examples/slotdata/slotdata.h"
#include "bench.h"
#include "bench_svg.h"
#include "daemon/client.h"
#include "enclave/devkey.h"
#include "shared/attach.h"
#include "shared/strawman.h"
#include "util/cleanup.h"
#include "util/clock.h"

#define DEFAULT_IMAGE "build/examples/slotdata.elf"
#define ENCLAVE_NAME "bench-fork"
#define MAX_SIZES 8
#define SLOT_SPARE (64ULL << 20)   /* what a slot needs beside the data (allocator, ecall copies) */
#define SEED 1

enum { COL_PLAIN, COL_TEEMATE, COL_STRAWMAN, COLS };
static const char *const col_names[COLS] = { "plain fork", "TeeMate fork", "strawman fork" };

struct row {
    unsigned mib;
    double ms[COLS];                                /* medians; 0: not measured */
    double fork_ms, build_ms, channel_ms, copy_ms;  /* strawman phases, medians */
    double parent_read_ms;                          /* TeeMate child: PARENT_CHECKSUM */
    bool parent_read_ok;
};

/* What every parent process shares. */
struct setup {
    const struct tm_image *image;
    struct sgx_sigstruct sigstruct;
    const struct tm_backend_ops *ops;
    char tmpdir[64], socket[128];
    int conn, daemon_pid;
};

/* ---- a parent process: holds one kind of data, forks on request ---- */

enum { OP_FILL = 1, OP_FORK = 2 };

struct command {
    uint32_t op;
    uint32_t read_parent;   /* OP_FORK, TeeMate: the child reads the parent's data once */
    uint64_t bytes;         /* OP_FILL */
};

struct reply {
    int32_t status;         /* 0 or -errno (msg says why) */
    uint32_t parent_ok;     /* TeeMate: the child read the parent's checksum */
    double ms;              /* the fork's latency */
    double fork_ms, build_ms, channel_ms, copy_ms;   /* strawman phases */
    double parent_read_ms;
    char msg[sizeof(((tm_error *)0)->msg)];
};

struct holder {
    int kind;               /* COL_* */
    const struct setup *s;
    uint8_t *plain;
    struct tm_strawman_enclave straw;
    struct tm_attachment *att;
    uint64_t sum, bytes;    /* what FILL left */
};

static void pattern(uint8_t *p, size_t len, uint64_t seed)
{
    for (size_t i = 0; i + 8 <= len; i += 8) {
        uint64_t w = tm_slotdata_word(seed, i / 8);
        memcpy(p + i, &w, 8);
    }
}

static int holder_start(struct holder *h, tm_error *err)
{
    if (h->kind == COL_STRAWMAN)
        return tm_strawman_start(h->s->image, &h->s->sigstruct, h->s->ops, &h->straw, err);
    if (h->kind == COL_TEEMATE) {
        struct tm_attach_options o = { .socket_path = h->s->socket, .threads = 1,
                                       .no_autostart = true };
        return tm_attach(ENCLAVE_NAME, &o, &h->att, err);
    }
    return 0;
}

static void holder_stop(struct holder *h)
{
    free(h->plain);
    tm_strawman_stop(&h->straw);
    tm_detach(h->att);
}

static int holder_fill(struct holder *h, uint64_t bytes, tm_error *err)
{
    h->bytes = bytes;
    if (h->kind == COL_PLAIN) {
        uint8_t *p = realloc(h->plain, bytes);
        if (!p)
            return tm_error_set(err, ENOMEM, "out of memory for %llu bytes",
                                (unsigned long long)bytes);
        h->plain = p;
        pattern(p, bytes, SEED);   /* every page touched: the data is really there */
        return 0;
    }
    struct tm_slotdata_fill f = { .bytes = bytes, .seed = SEED };
    struct tm_ecall_call c = { .ecall = TM_SLOTDATA_FILL, .in = &f, .in_len = sizeof f,
                               .out = &h->sum, .out_cap = sizeof h->sum };
    int ret = h->kind == COL_STRAWMAN ? tm_strawman_ecall(&h->straw, &c, err)
                                      : tm_attach_ecall(h->att, 0, &c, err);
    if (ret == 0 && c.retval != 0)
        ret = tm_error_set(err, (int)-c.retval, "FILL: %s", strerror((int)-c.retval));
    return ret;
}

static int plain_fork(double *ms, tm_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    double t0 = tm_now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        double t = tm_now_ms();
        _exit(write(p[1], &t, sizeof t) == sizeof t ? 0 : 1);
    }
    close(p[1]);
    double t = 0;
    ssize_t n = pid > 0 ? read(p[0], &t, sizeof t) : -1;
    close(p[0]);
    if (pid < 0)
        return tm_error_sys(err, "fork");
    waitpid(pid, NULL, 0);
    if (n != sizeof t)
        return tm_error_set(err, EPROTO, "plain fork: the child did not report");
    *ms = t - t0;
    return 0;
}

/* What a TeeMate-forked child tells its parent. */
struct teemate_child_report {
    double attached_ms;     /* tm_attach_fork returned in the child: attached, FORK_CHILD done */
    int32_t status;
    uint32_t reserved;
    double read_ms;         /* PARENT_CHECKSUM, when asked */
    struct tm_slotdata_sum parent;
    char msg[sizeof(((tm_error *)0)->msg)];
};

__attribute__((noreturn)) static void teemate_child(struct tm_attachment *child, int ret,
                                                    tm_error *err, bool read_parent, int fd)
{
    struct teemate_child_report rep = { .attached_ms = tm_now_ms(), .status = ret };
    if (ret == 0 && read_parent) {
        struct tm_ecall_call c = { .ecall = TM_SLOTDATA_PARENT_CHECKSUM, .out = &rep.parent,
                                   .out_cap = sizeof rep.parent };
        double t0 = tm_now_ms();
        ret = tm_attach_ecall(child, 0, &c, err);
        rep.read_ms = tm_now_ms() - t0;
        if (ret == 0 && c.retval != 0)
            ret = tm_error_set(err, (int)-c.retval, "PARENT_CHECKSUM: %s", strerror((int)-c.retval));
        rep.status = ret;
    }
    if (rep.status < 0)
        snprintf(rep.msg, sizeof rep.msg, "%s", err->msg);
    ssize_t n = write(fd, &rep, sizeof rep);
    tm_detach(child);
    _exit(n == sizeof rep && rep.status == 0 ? 0 : 1);
}

static int teemate_fork(struct holder *h, bool read_parent, struct reply *r, tm_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    pid_t self = getpid();
    struct tm_attachment *child = NULL;
    double t0 = tm_now_ms();
    pid_t pid = tm_attach_fork(h->att, &child, err);
    if (pid == 0 || (pid < 0 && getpid() != self)) {   /* the child, attached or not */
        close(p[0]);
        teemate_child(child, pid < 0 ? pid : 0, err, read_parent, p[1]);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return pid;
    }
    struct teemate_child_report rep;
    ssize_t n = read(p[0], &rep, sizeof rep);
    close(p[0]);
    waitpid(pid, NULL, 0);
    if (n != sizeof rep)
        return tm_error_set(err, EPROTO, "TeeMate fork: the child did not report");
    if (rep.status < 0)
        return tm_error_set(err, -rep.status, "TeeMate fork child: %s", rep.msg);
    r->ms = rep.attached_ms - t0;
    r->parent_read_ms = rep.read_ms;
    r->parent_ok = rep.parent.checksum == h->sum && rep.parent.bytes == h->bytes;
    return 0;
}

static int strawman_fork(struct holder *h, struct reply *r, tm_error *err)
{
    struct tm_strawman_options o = {
        .ecalls = { .self_target = TM_SLOTDATA_SELF_TARGET, .offer = TM_SLOTDATA_CHANNEL_OFFER,
                    .accept = TM_SLOTDATA_CHANNEL_ACCEPT, .export_record = TM_SLOTDATA_EXPORT,
                    .import_record = TM_SLOTDATA_IMPORT },
        .record_max = TM_SLOTDATA_RECORD_MAX,
    };
    struct tm_strawman_stats st;
    int ret = tm_strawman_fork(&h->straw, &o, &st, err);
    r->ms = st.total_ms;
    r->fork_ms = st.fork_ms;
    r->build_ms = st.build_ms;
    r->channel_ms = st.channel_ms;
    r->copy_ms = st.copy_ms;
    return ret;
}

static int holder_do(struct holder *h, const struct command *c, struct reply *r, tm_error *err)
{
    if (c->op == OP_FILL)
        return holder_fill(h, c->bytes, err);
    if (c->op != OP_FORK)
        return tm_error_set(err, EINVAL, "unknown command %u", c->op);
    if (h->kind == COL_PLAIN)
        return plain_fork(&r->ms, err);
    if (h->kind == COL_STRAWMAN)
        return strawman_fork(h, r, err);
    return teemate_fork(h, c->read_parent, r, err);
}

static int send_reply(int sock, struct reply *r, int status, const tm_error *err)
{
    r->status = status;
    if (status < 0)
        snprintf(r->msg, sizeof r->msg, "%s", err->msg);
    return write(sock, r, sizeof *r) == sizeof *r ? 0 : -1;
}

/* The parent process's life: start, then one reply per command until EOF. */
__attribute__((noreturn)) static void holder_main(struct holder *h, int sock)
{
    tm_error err = { 0 };
    struct reply r = { 0 };
    int ret = holder_start(h, &err);
    if (send_reply(sock, &r, ret, &err) == 0 && ret == 0) {
        struct command c;
        while (read(sock, &c, sizeof c) == sizeof c) {
            memset(&r, 0, sizeof r);
            if (send_reply(sock, &r, holder_do(h, &c, &r, &err), &err) < 0)
                break;
        }
    }
    holder_stop(h);
    _exit(0);
}

/* ---- driving them ---- */

struct parent {
    pid_t pid;
    int sock;
};

static int parent_call(struct parent *p, const struct command *c, struct reply *r, tm_error *err)
{
    if (c && write(p->sock, c, sizeof *c) != sizeof *c)
        return tm_error_sys(err, "cannot send a command to a parent process");
    ssize_t n;
    while ((n = read(p->sock, r, sizeof *r)) < 0 && errno == EINTR)
        ;
    if (n != sizeof *r)
        return tm_error_set(err, EPROTO, "a parent process ended without replying");
    if (r->status < 0) {
        r->msg[sizeof r->msg - 1] = '\0';
        return tm_error_set(err, -r->status, "%s", r->msg);
    }
    return 0;
}

static int parent_spawn(int kind, const struct setup *s, struct parent parents[COLS],
                        tm_error *err)
{
    struct parent *p = &parents[kind];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return tm_error_sys(err, "socketpair");
    p->pid = fork();
    if (p->pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return tm_error_sys(err, "fork");
    }
    if (p->pid == 0) {
        close(sv[0]);
        if (s->conn >= 0)
            close(s->conn);   /* the daemon connection is the driver's */
        for (int k = 0; k < COLS; k++)
            if (k != kind && parents[k].pid > 0)
                close(parents[k].sock);   /* else that parent never sees its EOF */
        struct holder h = { .kind = kind, .s = s };
        holder_main(&h, sv[1]);
    }
    close(sv[1]);
    p->sock = sv[0];
    struct reply r;
    int ret = parent_call(p, NULL, &r, err);
    return ret < 0 ? tm_error_prefix(err, "%s parent", col_names[kind]) : 0;
}

static void parent_stop(struct parent *p)
{
    if (p->pid <= 0)
        return;
    close(p->sock);   /* EOF: it stops and exits */
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
}

/* ---- the machine and the daemon ---- */

/* One simulated machine for the whole run, and nothing left behind: a
 * temporary state directory (sim root key, development key, the daemon's
 * socket and log) for every enclave here, strawman and shared alike. */
static int state_setup(struct setup *s, tm_error *err)
{
    snprintf(s->tmpdir, sizeof s->tmpdir, "/tmp/teemate-bench-fork.XXXXXX");
    if (!mkdtemp(s->tmpdir)) {
        s->tmpdir[0] = '\0';
        return tm_error_sys(err, "cannot create a temporary directory");
    }
    setenv("TEEMATE_STATE_DIR", s->tmpdir, 1);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void state_teardown(struct setup *s)
{
    if (s->tmpdir[0] && nftw(s->tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) < 0)
        fprintf(stderr, "fork: could not remove %s\n", s->tmpdir);
}

/* A private teemated in the run's state directory, with the shared enclave
 * made from the image. */
static int daemon_setup(struct setup *s, const char *image_path, const char *teemate, tm_error *err)
{
    char exe[PATH_MAX];
    if (!realpath(teemate, exe))
        return tm_error_sys(err, "the teemate program %s", teemate);
    setenv("TEEMATE_EXE", exe, 1);
    snprintf(s->socket, sizeof s->socket, "%s/teemated.sock", s->tmpdir);
    int ret = tm_daemon_spawn(s->socket, &s->daemon_pid, err);
    if (ret < 0)
        return ret;
    bool started;
    if ((s->conn = tm_daemon_connect(s->socket, false, &started, err)) < 0)
        return s->conn;
    _cleanup_close_ int fd = open(image_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s", image_path);
    return tm_daemon_create(s->conn, ENCLAVE_NAME, fd, -1, s->ops->name, "slotdata.elf", NULL,
                            NULL, 0, err);
}

static void daemon_teardown(struct setup *s)
{
    if (s->conn >= 0) {
        tm_error ignored;
        tm_daemon_remove(s->conn, ENCLAVE_NAME, true, NULL, &ignored);
        close(s->conn);
    }
    if (s->daemon_pid > 0) {
        /* The daemon this run started, by its pid; not our child (it runs in
         * its own session), so its exit is awaited through a pidfd. */
        int pidfd = (int)syscall(SYS_pidfd_open, s->daemon_pid, 0);
        kill(s->daemon_pid, SIGTERM);
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        if (pidfd >= 0 && poll(&p, 1, 10000) == 0)
            fprintf(stderr, "fork: teemated (pid %d) did not stop\n", s->daemon_pid);
        if (pidfd >= 0)
            close(pidfd);
    }
}

/* ---- one size ---- */

static int bench_size(struct parent parents[COLS], unsigned runs, struct row *row, tm_error *err)
{
    struct command fill = { .op = OP_FILL, .bytes = (uint64_t)row->mib << 20 };
    struct reply r;
    for (int c = 0; c < COLS; c++) {
        if (parents[c].pid > 0 && parent_call(&parents[c], &fill, &r, err) < 0)
            return tm_error_prefix(err, "%s parent", col_names[c]);
    }
    double s[COLS][runs], forkp[runs], build[runs], channel[runs], copy[runs];
    /* Interleaved, one fork at a time. */
    for (unsigned i = 0; i < runs; i++) {
        for (int c = 0; c < COLS; c++) {
            s[c][i] = 0;
            if (parents[c].pid <= 0)
                continue;
            struct command fork_cmd = { .op = OP_FORK, .read_parent = i == 0 };
            if (parent_call(&parents[c], &fork_cmd, &r, err) < 0)
                return tm_error_prefix(err, "%s", col_names[c]);
            s[c][i] = r.ms;
            if (c == COL_STRAWMAN) {
                forkp[i] = r.fork_ms;
                build[i] = r.build_ms;
                channel[i] = r.channel_ms;
                copy[i] = r.copy_ms;
            }
            if (c == COL_TEEMATE && i == 0) {
                row->parent_read_ms = r.parent_read_ms;
                row->parent_read_ok = r.parent_ok;
            }
        }
    }
    for (int c = 0; c < COLS; c++)
        row->ms[c] = tm_bench_median(s[c], runs);
    row->fork_ms = tm_bench_median(forkp, runs);
    row->build_ms = tm_bench_median(build, runs);
    row->channel_ms = tm_bench_median(channel, runs);
    row->copy_ms = tm_bench_median(copy, runs);
    return 0;
}

/* ---- results ---- */

static void ratio(FILE *f, double a, double b)
{
    if (a > 0 && b > 0)
        fprintf(f, " %.1f |", a / b);
    else
        fprintf(f, " pending |");
}

static char *markdown(const char *backend, const char *cpu, unsigned runs, const struct row *rows,
                      size_t n, const char *pending)
{
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    if (!f)
        return NULL;
    fprintf(f, "# Fork latency with data in the enclave\n\nBackend: %s; CPU: %s; median of %u "
               "runs, interleaved; times in ms; each parent is a process holding only its own "
               "data. TeeMate fork: until the child is attached and its first ecall (FORK_CHILD) "
               "is done. Strawman fork: until the child's new enclave holds the data (checksum "
               "checked inside). Plain fork: until the child runs.\n\n",
            backend, cpu, runs);
    fprintf(f, "| data | plain fork | TeeMate fork | strawman fork | strawman: fork(2) | build "
               "| channel | copy | strawman / TeeMate | TeeMate / plain |\n"
               "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        fprintf(f, "| %u MiB | %.3f |", r->mib, r->ms[COL_PLAIN]);
        if (r->ms[COL_TEEMATE] > 0)
            fprintf(f, " %.3f |", r->ms[COL_TEEMATE]);
        else
            fprintf(f, " pending |");
        fprintf(f, " %.3f | %.3f | %.3f | %.3f | %.3f |", r->ms[COL_STRAWMAN], r->fork_ms,
                r->build_ms, r->channel_ms, r->copy_ms);
        ratio(f, r->ms[COL_STRAWMAN], r->ms[COL_TEEMATE]);
        ratio(f, r->ms[COL_TEEMATE], r->ms[COL_PLAIN]);
        fprintf(f, "\n");
    }
    if (pending) {
        fprintf(f, "\nTeeMate fork: pending (%s).\n", pending);
    } else {
        fprintf(f, "\nThe TeeMate child reads the parent's data in place (PARENT_CHECKSUM over the "
                   "parent's slot, mapped read-only; once per size, not part of the fork):\n\n"
                   "| data | read ms | MiB/s | checksum |\n|---:|---:|---:|---|\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "| %u MiB | %.3f | %.0f | %s |\n", rows[i].mib, rows[i].parent_read_ms,
                    rows[i].mib / (rows[i].parent_read_ms / 1e3),
                    rows[i].parent_read_ok ? "matches the parent's" : "MISMATCH");
    }
    fclose(f);
    return md;
}

static json_t *results_json(const char *backend, const char *cpu, unsigned runs,
                            const struct row *rows, size_t n, const char *pending)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        json_t *o = json_pack("{s:i, s:f, s:f, s:f, s:f, s:f, s:f}", "data_mib", (int)r->mib,
                              "plain_ms", r->ms[COL_PLAIN], "strawman_ms", r->ms[COL_STRAWMAN],
                              "strawman_fork_ms", r->fork_ms, "strawman_build_ms", r->build_ms,
                              "strawman_channel_ms", r->channel_ms, "strawman_copy_ms", r->copy_ms);
        if (r->ms[COL_TEEMATE] > 0) {
            json_object_set_new(o, "teemate_ms", json_real(r->ms[COL_TEEMATE]));
            json_object_set_new(o, "strawman_over_teemate",
                                json_real(r->ms[COL_STRAWMAN] / r->ms[COL_TEEMATE]));
            json_object_set_new(o, "teemate_over_plain",
                                json_real(r->ms[COL_TEEMATE] / r->ms[COL_PLAIN]));
            json_object_set_new(o, "parent_read_ms", json_real(r->parent_read_ms));
            json_object_set_new(o, "parent_read_ok", json_boolean(r->parent_read_ok));
        } else {
            json_object_set_new(o, "teemate_ms", json_null());
        }
        json_array_append_new(arr, o);
    }
    json_t *j = json_pack("{s:s, s:s, s:i, s:o}", "backend", backend, "cpu", cpu, "runs",
                          (int)runs, "sizes", arr);
    if (pending)
        json_object_set_new(j, "teemate_pending", json_string(pending));
    return j;
}

static char *plot(const struct row *rows, size_t n)
{
    double x[MAX_SIZES], y[COLS][MAX_SIZES];
    for (size_t i = 0; i < n; i++) {
        x[i] = rows[i].mib;
        for (int c = 0; c < COLS; c++)
            y[c][i] = rows[i].ms[c];
    }
    struct tm_svg_series series[COLS];
    for (int c = 0; c < COLS; c++)
        series[c] = (struct tm_svg_series){ .label = col_names[c], .x = x, .y = y[c], .n = n };
    return tm_svg_loglog("Fork latency vs data in the enclave", "data (MiB)", "latency (ms)",
                         series, COLS);
}

static int write_results(const char *out_dir, const struct setup *s, unsigned runs,
                         const struct row *rows, size_t n, const char *pending, tm_error *err)
{
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof cpu);
    _cleanup_free_ char *md = markdown(s->ops->name, cpu, runs, rows, n, pending);
    _cleanup_free_ char *svg = plot(rows, n);
    json_t *j = results_json(s->ops->name, cpu, runs, rows, n, pending);
    int ret = md && svg && j ? tm_bench_write_results(out_dir, "fork", md, j, err)
                             : tm_error_set(err, ENOMEM, "out of memory");
    if (ret == 0)
        ret = tm_bench_write_file(out_dir, "fork.svg", svg, err);
    json_decref(j);
    if (ret == 0) {
        fputs(md, stdout);
        fprintf(stdout, "\nwrote %s/fork.json, fork.md and fork.svg\n", out_dir);
    }
    return ret;
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: fork [--image PATH] [--teemate PATH] [--backend sim|sgx|auto] [--runs 1..100] "
               "[--max-mib 32..1024] [--out DIR] [--skip-teemate]\n");
}

/* The teemate program beside the image's build directory (BUILD/examples/x.elf -> BUILD/teemate). */
static void default_teemate(const char *image_path, char *out, size_t len)
{
    snprintf(out, len, "%s", image_path);
    char *ex = strstr(out, "/examples/");
    if (ex)
        snprintf(ex, len - (size_t)(ex - out), "/teemate");
    else
        snprintf(out, len, "build/teemate");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "image", required_argument, NULL, 'i' }, { "teemate", required_argument, NULL, 't' },
        { "backend", required_argument, NULL, 'b' }, { "runs", required_argument, NULL, 'r' },
        { "max-mib", required_argument, NULL, 'm' }, { "out", required_argument, NULL, 'o' },
        { "skip-teemate", no_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *image_path = DEFAULT_IMAGE, *out_dir = "bench/results", *teemate = NULL;
    enum tm_backend_kind kind = TM_BACKEND_AUTO;
    unsigned runs = 3, max_mib = 1024;
    bool skip_teemate = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'i': image_path = optarg; break;
        case 't': teemate = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'b': bad = tm_backend_parse(optarg, &kind); break;
        case 'r': bad = tm_bench_parse_uint(optarg, 1, 100, &runs); break;
        case 'm': bad = tm_bench_parse_uint(optarg, 32, 1024, &max_mib); break;
        case 's': skip_teemate = true; break;
        case 'h': return usage(stdout), 0;
        default: return usage(stderr), 2;
        }
        if (bad)
            return usage(stderr), 2;
    }
    char teemate_buf[PATH_MAX];
    if (!teemate) {
        default_teemate(image_path, teemate_buf, sizeof teemate_buf);
        teemate = teemate_buf;
    }
    signal(SIGPIPE, SIG_IGN);

    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL;
    struct setup s = { .conn = -1 };
    char key_path[4200];
    int ret = tm_image_load(image_path, &image, &err);
    if (ret == 0)
        ret = tm_backend_select(kind, &s.ops, &err);
    if (ret == 0 && image->layout.regions.slot_size < ((uint64_t)max_mib << 20) + SLOT_SPARE)
        ret = tm_error_set(&err, EINVAL, "%s: its slots (%llu MiB) cannot hold %u MiB of data",
                           image_path, (unsigned long long)(image->layout.regions.slot_size >> 20),
                           max_mib);
    s.image = image;
    if (ret == 0)
        ret = state_setup(&s, &err);
    if (ret == 0)
        ret = tm_devkey_sign(image, &s.sigstruct, key_path, sizeof key_path, &err);

    /* TeeMate first: a column that cannot run is pending, the others go on. */
    struct parent parents[COLS] = { 0 };
    char pending[1024] = "";
    if (ret == 0 && skip_teemate)
        snprintf(pending, sizeof pending, "--skip-teemate");
    else if (ret == 0 && (daemon_setup(&s, image_path, teemate, &err) < 0 ||
                          parent_spawn(COL_TEEMATE, &s, parents, &err) < 0)) {
        snprintf(pending, sizeof pending, "%s", err.msg);
        fprintf(stderr, "fork: TeeMate fork cannot run: %s\n", err.msg);
        parent_stop(&parents[COL_TEEMATE]);
    }
    if (ret == 0)
        ret = parent_spawn(COL_PLAIN, &s, parents, &err);
    if (ret == 0)
        ret = parent_spawn(COL_STRAWMAN, &s, parents, &err);

    struct row rows[MAX_SIZES] = { 0 };
    size_t n = 0;
    for (unsigned mib = 32; ret == 0 && mib <= max_mib && n < MAX_SIZES; mib *= 2, n++) {
        rows[n].mib = mib;
        fprintf(stderr, "fork: %u MiB of data, %u runs of each fork...\n", mib, runs);
        if ((ret = bench_size(parents, runs, &rows[n], &err)) < 0)
            tm_error_prefix(&err, "%u MiB", mib);
    }
    for (int k = 0; k < COLS; k++)
        parent_stop(&parents[k]);
    daemon_teardown(&s);
    state_teardown(&s);
    if (ret == 0)
        ret = write_results(out_dir, &s, runs, rows, n, pending[0] ? pending : NULL, &err);
    if (ret < 0) {
        fprintf(stderr, "fork: %s\n", err.msg);
        return 1;
    }
    /* A column that could not run is a failure unless it was skipped on purpose. */
    return pending[0] && !skip_teemate ? 1 : 0;
}
