/* Start-up and memory of attached instances against fresh enclaves.
 *
 *   attach [--image PATH] [--data-image PATH] [--runs R] [--max-mib N]
 *          [--instances-mib N] [--heap-kib K] [--instance-kib K] [--out DIR]
 *
 * Part 1, start latency, for enclave sizes 64 MiB .. --max-mib (default 1024):
 * a new process that runs the image's main (default build/examples/hello.elf),
 * started four ways, each timed from fork(2) to main's return in the child:
 *   fresh SGX1  build a new enclave whose heap fills ELRANGE (SGX1 commits its
 *               whole heap before EINIT): create + add/measure + init + run;
 *   fresh EDMM  build a new enclave with the shared enclave's own layout
 *               (small heap, slots added on demand): the same, smaller;
 *   attach      attach to the warm shared enclave of that size through
 *               teemated (alias: connect, lease, map) + expand + run;
 *   plain       no enclave: the same formatting and write natively.
 * Beside it, alias as a new process sees it: a fresh exec of `teemate attach
 * NAME --stats` (its connect, lease, map and first entry), once per run.
 * Part 2, EPC pages for N = 1, 8, 32 instances (data image, default
 * build/examples/slotdata.elf, each instance filling --instance-kib of its
 * slot): N processes attached to one enclave (counted by the daemon while all
 * are attached) against N separate enclaves built from the same code with one
 * thread and one slot each (SGX1: heap committed; EDMM: same heap as shared).
 *
 * The bench starts its own teemated (temporary state dir and socket) and
 * writes DIR/attach.json, DIR/attach.md and DIR/attach.svg (default DIR:
 * bench/results). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bench_image.h"
#include "bench_svg.h"
#include "daemon/client.h"
#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "enclave/image.h"
#include "shared/attach.h"
#include "slotdata/slotdata.h"
#include "util/cleanup.h"

#define DEFAULT_IMAGE "build/examples/hello.elf"
#define DEFAULT_DATA_IMAGE "build/examples/slotdata.elf"
#define MAX_SIZES 16

enum { START_FRESH_SGX1, START_FRESH_EDMM, START_ATTACH, START_PLAIN, STARTS };
static const char *const start_names[STARTS] = { "fresh SGX1", "fresh EDMM", "attach", "plain" };
static const char *const start_keys[STARTS] = { "fresh_sgx1_ms", "fresh_edmm_ms", "attach_ms", "plain_ms" };

struct start_row {
    unsigned size_mib;
    double ms[STARTS];                 /* medians */
    double alias_ms, expand_ms, run_ms; /* attach's parts, medians */
    uint64_t expand_pages;
    /* `teemate attach --stats` exec'd afresh: its alias and parts, medians */
    double exec_alias_ms, exec_connect_ms, exec_lease_ms, exec_map_ms, exec_entry_ms;
};

static const unsigned instance_counts[] = { 1, 8, 32 };
#define NCOUNTS (sizeof(instance_counts) / sizeof(instance_counts[0]))

struct epc_row {
    unsigned n;
    uint64_t attached_pages;           /* the whole shared enclave with n attached */
    uint64_t separate_sgx1_pages;      /* n separate enclaves, heap committed */
    uint64_t separate_edmm_pages;      /* n separate enclaves, same heap as shared */
};

struct bench {
    const char *socket;
    const char *tmpdir;
    unsigned runs;
    char argv_packed[32];
    size_t argv_len;
};

/* What a child reports through its pipe when its main has returned. */
struct child_report {
    int32_t status;                    /* 0 or -errno */
    double alias_ms, expand_ms, run_ms;
    uint64_t expand_pages;
    char msg[sizeof(((tm_error *)0)->msg)];
};

static long discard_output(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd, (void)buf;
    return (long)len;
}

/* ---- part 1: start latency ---- */

struct start_ctx {
    struct bench *b;
    const struct tm_image *image;      /* fresh starts */
    const struct sgx_sigstruct *ss;
    const struct tm_backend_ops *ops;
    const char *name;                  /* attach start */
};

typedef int (*start_fn)(struct start_ctx *c, struct child_report *r, tm_error *err);

/* What a started child still holds when it reports: given back after the
 * report, so that tearing down is not counted as starting. */
static struct tm_enclave *child_enclave;
static struct tm_attachment *child_attachment;

static int start_fresh(struct start_ctx *c, struct child_report *r, tm_error *err)
{
    int ret = tm_enclave_build(c->image, c->ss, c->ops, &child_enclave, err);
    if (ret < 0)
        return ret;
    struct tm_enclave *e = child_enclave;
    struct tm_ecall_call run = { .ecall = TM_ECALL_MAIN, .in = c->b->argv_packed,
                                 .in_len = c->b->argv_len, .write = discard_output };
    double t0 = tm_bench_now_s();
    ret = tm_ecall(c->ops, e->be, e->base, e->size, tm_enclave_tcs_offset(e, 0), &run, err);
    r->run_ms = (tm_bench_now_s() - t0) * 1e3;
    return ret;
}

static int start_attach(struct start_ctx *c, struct child_report *r, tm_error *err)
{
    struct tm_attach_options o = { .socket_path = c->b->socket, .threads = 1, .no_autostart = true };
    int ret = tm_attach(c->name, &o, &child_attachment, err);
    if (ret < 0)
        return ret;
    struct tm_attachment *a = child_attachment;
    struct tm_ecall_call run = { .ecall = TM_ECALL_MAIN, .in = c->b->argv_packed,
                                 .in_len = c->b->argv_len, .write = discard_output };
    double t0 = tm_bench_now_s();
    ret = tm_attach_ecall(a, 0, &run, err);
    r->run_ms = (tm_bench_now_s() - t0) * 1e3;
    struct tm_expand_stats st = { 0 };
    a->ops->expand_stats(a->be, &st);
    r->alias_ms = a->stats.connect_ms + a->stats.request_ms + a->stats.map_ms;
    r->expand_ms = st.ms;
    r->expand_pages = st.pages;
    r->run_ms -= st.ms;   /* expand happens inside main's first allocations */
    return ret;
}

/* hello's main natively: format the greeting, write it. */
static int start_plain(struct start_ctx *c, struct child_report *r, tm_error *err)
{
    (void)c, (void)r;
    char line[256];
    int n = snprintf(line, sizeof line, "hello, %s\n", "bench");
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, line, (size_t)n) != n)
        return tm_error_sys(err, "plain start: cannot write to /dev/null");
    close(fd);
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A pipe (close-on-exec), then fork: the pid, 0 in the child, or -errno. */
static pid_t fork_with_pipe(int p[2], tm_error *err)
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        int ret = tm_error_sys(err, "fork");
        close(p[0]);
        close(p[1]);
        return ret;
    }
    return pid;
}

/* Time one start in a new process: fork, the child runs fn and reports. */
static int time_start(start_fn fn, struct start_ctx *c, double *ms, struct child_report *r, tm_error *err)
{
    int p[2];
    double t0 = tm_bench_now_s();
    pid_t pid = fork_with_pipe(p, err);
    if (pid < 0)
        return pid;
    if (pid == 0) {
        close(p[0]);
        struct child_report rep = { 0 };
        tm_error cerr = { 0 };
        rep.status = fn(c, &rep, &cerr);
        snprintf(rep.msg, sizeof rep.msg, "%s", cerr.msg);
        int wrote = write(p[1], &rep, sizeof rep) == (ssize_t)sizeof rep;
        tm_detach(child_attachment);
        tm_enclave_destroy(child_enclave);
        _exit(wrote ? 0 : 1);
    }
    close(p[1]);
    int got = read_full(p[0], r, sizeof *r);
    *ms = (tm_bench_now_s() - t0) * 1e3;
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    if (got < 0)
        return tm_error_set(err, EPROTO, "the child died before reporting (status 0x%x)", status);
    if (r->status < 0)
        return tm_error_set(err, -r->status, "%s", r->msg);
    return 0;
}

/* ---- alias as a new process sees it: a fresh exec of `teemate attach --stats` ---- */

struct exec_alias {
    double alias, connect, lease, map, entry;
};

/* Run TEEMATE_EXE attach NAME --stats and read its alias and first entry lines. */
static int exec_attach(struct bench *b, const char *name, struct exec_alias *x, tm_error *err)
{
    int p[2];
    pid_t pid = fork_with_pipe(p, err);
    if (pid < 0)
        return pid;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 1) < 0 || dup2(p[1], 2) < 0)
            _exit(127);
        execl(getenv("TEEMATE_EXE"), "teemate", "attach", name, "--socket", b->socket, "--stats", "--",
              "bench", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char out[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof out - 1 && ((n = read(p[0], out + len, sizeof out - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    out[len] = '\0';
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    const char *al = strstr(out, "alias"), *fe = strstr(out, "first entry");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !al || !fe ||
        sscanf(al, "alias %lf ms (connect %lf, lease %lf, map %lf)", &x->alias, &x->connect, &x->lease,
               &x->map) != 4 ||
        sscanf(fe, "first entry %lf", &x->entry) != 1)
        return tm_error_set(err, EPROTO, "teemate attach --stats (status 0x%x) said: %s", status, out);
    return 0;
}

static int sign(const struct tm_image *image, struct sgx_sigstruct *ss, tm_error *err)
{
    char key_path[4200];
    return tm_devkey_sign(image, ss, key_path, sizeof key_path, err);
}

/* The shared enclave's layout for a size: a quarter heap, 8 slots over half. */
static int shared_image(const struct tm_image *image, uint64_t size, uint32_t tcs, uint32_t slots,
                        uint64_t heap, struct tm_image **out, tm_error *err)
{
    struct tm_layout_settings s = image->layout.settings;
    s.enclave_size = size;
    s.tcs_count = tcs;
    s.heap_size = heap;
    s.slot_count = slots;
    s.slot_size = (size / 2 / slots) & ~(TM_LAYOUT_SLOT_ALIGN - 1);
    return tm_image_with_settings(image, &s, out, err);
}

static int create_shared(struct bench *b, int conn, const struct tm_image *image, const char *name,
                         tm_error *err)
{
    char path[4200];
    int ret = tm_bench_image_write(image, b->tmpdir, name, path, sizeof path, err);
    if (ret < 0)
        return ret;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s", path);
    ret = tm_daemon_create(conn, name, fd, -1, "sim", name, NULL, NULL, 0, err);
    close(fd);
    return ret;
}

static int bench_start_size(struct bench *b, int conn, const struct tm_image *image,
                            const struct tm_backend_ops *ops, struct start_row *row, tm_error *err)
{
    uint64_t size = (uint64_t)row->size_mib << 20;
    _cleanup_image_ struct tm_image *sgx1 = NULL;
    _cleanup_image_ struct tm_image *edmm = NULL;
    struct sgx_sigstruct ss_sgx1, ss_edmm;
    char name[32];
    snprintf(name, sizeof name, "bench-attach-%u", row->size_mib);
    int ret = tm_bench_image_heap_fill(image, size, &sgx1, err);
    if (ret == 0)
        ret = shared_image(image, size, image->layout.settings.tcs_count, 8, size / 4, &edmm, err);
    if (ret == 0)
        ret = sign(sgx1, &ss_sgx1, err);
    if (ret == 0)
        ret = sign(edmm, &ss_edmm, err);
    if (ret == 0)
        ret = create_shared(b, conn, edmm, name, err);
    if (ret < 0)
        return ret;

    struct start_ctx ctx[STARTS] = {
        [START_FRESH_SGX1] = { .b = b, .image = sgx1, .ss = &ss_sgx1, .ops = ops },
        [START_FRESH_EDMM] = { .b = b, .image = edmm, .ss = &ss_edmm, .ops = ops },
        [START_ATTACH] = { .b = b, .name = name },
        [START_PLAIN] = { .b = b },
    };
    static const start_fn fns[STARTS] = { start_fresh, start_fresh, start_attach, start_plain };
    double samples[STARTS][b->runs], alias[b->runs], expand[b->runs], run[b->runs];
    double xalias[b->runs], xconnect[b->runs], xlease[b->runs], xmap[b->runs], xentry[b->runs];
    /* Interleaved, so that drift in the machine hits every column alike. */
    for (unsigned r = 0; r < b->runs && ret == 0; r++) {
        for (int s = 0; s < STARTS && ret == 0; s++) {
            struct child_report rep = { 0 };
            ret = time_start(fns[s], &ctx[s], &samples[s][r], &rep, err);
            if (s == START_ATTACH) {
                alias[r] = rep.alias_ms;
                expand[r] = rep.expand_ms;
                run[r] = rep.run_ms;
                row->expand_pages = rep.expand_pages;
            }
            if (ret < 0)
                tm_error_prefix(err, "%s start", start_names[s]);
        }
        struct exec_alias x;
        if (ret == 0 && (ret = exec_attach(b, name, &x, err)) == 0) {
            xalias[r] = x.alias;
            xconnect[r] = x.connect;
            xlease[r] = x.lease;
            xmap[r] = x.map;
            xentry[r] = x.entry;
        }
    }
    tm_error rm_err;
    tm_daemon_remove(conn, name, true, NULL, &rm_err);
    if (ret < 0)
        return ret;
    for (int s = 0; s < STARTS; s++)
        row->ms[s] = tm_bench_median(samples[s], b->runs);
    row->alias_ms = tm_bench_median(alias, b->runs);
    row->expand_ms = tm_bench_median(expand, b->runs);
    row->run_ms = tm_bench_median(run, b->runs);
    row->exec_alias_ms = tm_bench_median(xalias, b->runs);
    row->exec_connect_ms = tm_bench_median(xconnect, b->runs);
    row->exec_lease_ms = tm_bench_median(xlease, b->runs);
    row->exec_map_ms = tm_bench_median(xmap, b->runs);
    row->exec_entry_ms = tm_bench_median(xentry, b->runs);
    return 0;
}

/* ---- part 2: EPC for N instances ---- */

static void fill_call(struct tm_ecall_call *call, struct tm_slotdata_fill *in, uint64_t *sum)
{
    memset(call, 0, sizeof *call);
    call->ecall = TM_SLOTDATA_FILL;
    call->in = in;
    call->in_len = sizeof *in;
    call->out = sum;
    call->out_cap = sizeof *sum;
}

/* A child attached with its slot filled, until the parent closes `go`. */
static void attached_instance(struct bench *b, const char *name, uint64_t bytes, int ready, int go)
{
    struct tm_attach_options o = { .socket_path = b->socket, .threads = 1, .no_autostart = true };
    struct tm_attachment *a = NULL;
    tm_error err = { 0 };
    struct tm_slotdata_fill in = { .bytes = bytes, .seed = (uint64_t)getpid() };
    uint64_t sum;
    struct tm_ecall_call call;
    fill_call(&call, &in, &sum);
    int ret = tm_attach(name, &o, &a, &err);
    if (ret == 0)
        ret = tm_attach_ecall(a, 0, &call, &err);
    if (ret < 0)
        fprintf(stderr, "attach: instance %d: %s\n", (int)getpid(), err.msg);
    char c = ret == 0 ? 'y' : 'n';
    if (write(ready, &c, 1) != 1)
        _exit(1);
    while (read(go, &c, 1) < 0 && errno == EINTR)
        ;
    tm_detach(a);
    _exit(ret == 0 ? 0 : 1);
}

static int epc_attached(struct bench *b, int conn, const char *name, unsigned n, uint64_t bytes,
                        uint64_t *pages, tm_error *err)
{
    int ready[2], go[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return tm_error_sys(err, "pipe");
    if (pipe2(go, O_CLOEXEC) < 0) {
        close(ready[0]);
        close(ready[1]);
        return tm_error_sys(err, "pipe");
    }
    pid_t pids[64];
    unsigned started = 0, ok = 0;
    for (; started < n; started++) {
        pids[started] = fork();
        if (pids[started] < 0)
            break;
        if (pids[started] == 0) {
            close(ready[0]);
            close(go[1]);
            attached_instance(b, name, bytes, ready[1], go[0]);
        }
    }
    close(ready[1]);
    close(go[0]);
    for (unsigned i = 0; i < started; i++) {
        char c;
        if (read_full(ready[0], &c, 1) == 0 && c == 'y')
            ok++;
    }
    int ret = 0;
    struct tm_enclave_info info;
    if (ok != n)
        ret = tm_error_set(err, EIO, "only %u of %u instances attached and filled their slot", ok, n);
    else if ((ret = tm_daemon_inspect(conn, name, &info, err)) == 0)
        *pages = info.epc_total;
    close(go[1]);   /* every instance detaches and exits */
    close(ready[0]);
    for (unsigned i = 0; i < started; i++)
        waitpid(pids[i], NULL, 0);
    return ret;
}

/* n separate enclaves of image, each with its one thread bound to its one
 * slot and the slot filled: the EPC pages they hold together. */
static int epc_separate(const struct tm_image *image, const struct tm_backend_ops *ops, unsigned n,
                        uint64_t bytes, uint64_t *pages, tm_error *err)
{
    struct sgx_sigstruct ss;
    int ret = sign(image, &ss, err);
    struct tm_enclave *enclaves[64] = { 0 };
    *pages = 0;
    for (unsigned i = 0; i < n && ret == 0; i++) {
        ret = tm_enclave_build(image, &ss, ops, &enclaves[i], err);
        if (ret < 0)
            break;
        struct tm_enclave *e = enclaves[i];
        uint64_t tcs = tm_enclave_tcs_offset(e, 0);
        /* The creator's view does not expand: map the slot as its container would. */
        const struct tm_enclave_regions *rg = &e->layout->regions;
        ret = ops->map(e->be, rg->slots_offset, rg->slot_size, PROT_READ | PROT_WRITE, err);
        if (ret < 0)
            break;
        struct tm_lease_bind_in bin = { .slot = 0, .mode = TM_LEASE_NEW };
        struct tm_lease_bind_out bout;
        struct tm_ecall_call bind = { .ecall = TM_ECALL_LEASE_BIND, .in = &bin, .in_len = sizeof bin,
                                      .out = &bout, .out_cap = sizeof bout };
        ret = tm_ecall(ops, e->be, e->base, e->size, tcs, &bind, err);
        struct tm_slotdata_fill in = { .bytes = bytes, .seed = i };
        uint64_t sum;
        struct tm_ecall_call call;
        fill_call(&call, &in, &sum);
        memcpy(call.lease_token, bout.token, sizeof call.lease_token);
        if (ret == 0)
            ret = tm_ecall(ops, e->be, e->base, e->size, tcs, &call, err);
        *pages += ops->epc_pages(e->be);
    }
    for (unsigned i = 0; i < n; i++)
        tm_enclave_destroy(enclaves[i]);
    return ret;
}

static int bench_epc(struct bench *b, int conn, const struct tm_image *data_image,
                     const struct tm_backend_ops *ops, uint64_t size, uint64_t heap, uint64_t bytes,
                     struct epc_row *rows, tm_error *err)
{
    _cleanup_image_ struct tm_image *shared = NULL;
    _cleanup_image_ struct tm_image *one_edmm = NULL;
    _cleanup_image_ struct tm_image *one_sgx1 = NULL;
    int ret = shared_image(data_image, size, 32, 32, heap, &shared, err);
    if (ret == 0)
        ret = shared_image(data_image, size, 1, 1, heap, &one_edmm, err);
    if (ret == 0) {
        /* SGX1: the heap takes what the slot does not. */
        struct tm_layout_settings s = one_edmm->layout.settings;
        s.heap_size = size - one_edmm->layout.regions.heap_offset - s.slot_size - 4 * SGX_PAGE_SIZE;
        s.heap_size &= ~(uint64_t)(TM_LAYOUT_SLOT_ALIGN - 1);
        ret = tm_image_with_settings(data_image, &s, &one_sgx1, err);
    }
    if (ret == 0)
        ret = create_shared(b, conn, shared, "bench-epc", err);
    for (size_t i = 0; i < NCOUNTS && ret == 0; i++) {
        rows[i].n = instance_counts[i];
        fprintf(stderr, "attach: EPC with %u instances...\n", rows[i].n);
        ret = epc_attached(b, conn, "bench-epc", rows[i].n, bytes, &rows[i].attached_pages, err);
        if (ret == 0)
            ret = epc_separate(one_edmm, ops, rows[i].n, bytes, &rows[i].separate_edmm_pages, err);
        if (ret == 0)
            ret = epc_separate(one_sgx1, ops, rows[i].n, bytes, &rows[i].separate_sgx1_pages, err);
    }
    tm_error rm_err;
    tm_daemon_remove(conn, "bench-epc", true, NULL, &rm_err);
    return ret;
}

/* ---- output ---- */

static char *markdown(const struct start_row *sr, size_t ns, const struct epc_row *er,
                      const char *cpu, unsigned runs, uint64_t epc_size, uint64_t heap, uint64_t bytes)
{
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    if (!f)
        return NULL;
    fprintf(f, "# Attach vs fresh enclave\n\nBackend: sim; CPU: %s; median of %u runs, "
               "each start timed from fork(2) to main's return in the new process; ms.\n\n", cpu, runs);
    fprintf(f, "| enclave | fresh SGX1 | fresh EDMM | attach | plain | SGX1/attach | EDMM/attach | "
               "attach/plain | alias | expand (pages) | run |\n"
               "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < ns; i++) {
        const struct start_row *r = &sr[i];
        fprintf(f, "| %u MiB | %.2f | %.2f | %.3f | %.3f | %.0fx | %.1fx | %.1fx | %.3f | %.3f (%llu) | %.3f |\n",
                r->size_mib, r->ms[START_FRESH_SGX1], r->ms[START_FRESH_EDMM], r->ms[START_ATTACH],
                r->ms[START_PLAIN], r->ms[START_FRESH_SGX1] / r->ms[START_ATTACH],
                r->ms[START_FRESH_EDMM] / r->ms[START_ATTACH], r->ms[START_ATTACH] / r->ms[START_PLAIN],
                r->alias_ms, r->expand_ms, (unsigned long long)r->expand_pages, r->run_ms);
    }
    fprintf(f, "\n## Alias as a new process sees it\n\nA fresh exec of `teemate attach NAME --stats` "
               "(its own figures, median of %u); beside it the in-process alias above (a child forked "
               "from this bench, whose libraries are already warm). ms.\n\n"
               "| enclave | alias (new process) | connect | lease | map | first entry | alias (forked child) |\n"
               "|---:|---:|---:|---:|---:|---:|---:|\n", runs);
    for (size_t i = 0; i < ns; i++)
        fprintf(f, "| %u MiB | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", sr[i].size_mib, sr[i].exec_alias_ms,
                sr[i].exec_connect_ms, sr[i].exec_lease_ms, sr[i].exec_map_ms, sr[i].exec_entry_ms,
                sr[i].alias_ms);
    fprintf(f, "\n## EPC pages for N instances\n\nEnclave %llu MiB, global heap %llu KiB, each instance "
               "fills %llu KiB of its slot. Attached: one enclave, N processes (32 TCSs, 32 slots); "
               "separate: N enclaves of one thread and one slot each.\n\n"
               "| N | attached | separate EDMM | separate SGX1 | EDMM/attached | SGX1/attached |\n"
               "|---:|---:|---:|---:|---:|---:|\n",
            (unsigned long long)(epc_size >> 20), (unsigned long long)(heap >> 10),
            (unsigned long long)(bytes >> 10));
    for (size_t i = 0; i < NCOUNTS; i++)
        fprintf(f, "| %u | %llu | %llu | %llu | %.1fx | %.1fx |\n", er[i].n,
                (unsigned long long)er[i].attached_pages, (unsigned long long)er[i].separate_edmm_pages,
                (unsigned long long)er[i].separate_sgx1_pages,
                (double)er[i].separate_edmm_pages / (double)er[i].attached_pages,
                (double)er[i].separate_sgx1_pages / (double)er[i].attached_pages);
    fclose(f);
    return md;
}

static json_t *results_json(const struct start_row *sr, size_t ns, const struct epc_row *er,
                            const char *cpu, unsigned runs)
{
    json_t *starts = json_array(), *epc = json_array();
    for (size_t i = 0; i < ns; i++) {
        json_t *o = json_pack("{s:i, s:f, s:f, s:f, s:I}", "enclave_mib", (int)sr[i].size_mib,
                              "alias_ms", sr[i].alias_ms, "expand_ms", sr[i].expand_ms, "run_ms",
                              sr[i].run_ms, "expand_pages", (json_int_t)sr[i].expand_pages);
        for (int s = 0; s < STARTS; s++)
            json_object_set_new(o, start_keys[s], json_real(sr[i].ms[s]));
        json_object_set_new(o, "alias_new_process", json_pack("{s:f, s:f, s:f, s:f, s:f}", "alias_ms",
                                                              sr[i].exec_alias_ms, "connect_ms", sr[i].exec_connect_ms,
                                                              "lease_ms", sr[i].exec_lease_ms, "map_ms",
                                                              sr[i].exec_map_ms, "first_entry_ms", sr[i].exec_entry_ms));
        json_array_append_new(starts, o);
    }
    for (size_t i = 0; i < NCOUNTS; i++)
        json_array_append_new(epc, json_pack("{s:i, s:I, s:I, s:I}", "instances", (int)er[i].n,
                                             "attached_pages", (json_int_t)er[i].attached_pages,
                                             "separate_edmm_pages", (json_int_t)er[i].separate_edmm_pages,
                                             "separate_sgx1_pages", (json_int_t)er[i].separate_sgx1_pages));
    return json_pack("{s:s, s:s, s:i, s:o, s:o}", "backend", "sim", "cpu", cpu, "runs", (int)runs,
                     "start", starts, "epc", epc);
}

static char *svg(const struct start_row *sr, size_t ns)
{
    struct tm_svg_series series[STARTS];
    double x[MAX_SIZES], y[STARTS][MAX_SIZES];
    for (size_t i = 0; i < ns; i++) {
        x[i] = sr[i].size_mib;
        for (int s = 0; s < STARTS; s++)
            y[s][i] = sr[i].ms[s];
    }
    for (int s = 0; s < STARTS; s++)
        series[s] = (struct tm_svg_series){ .label = start_names[s], .x = x, .y = y[s], .n = ns };
    return tm_svg_loglog("New instance start: fresh enclave vs attach vs plain process",
                         "enclave size (MiB)", "start latency (ms)", series, STARTS);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: attach [--image PATH] [--data-image PATH] [--runs 1..100] [--max-mib 64..65536]\n"
               "              [--instances-mib 16..4096] [--heap-kib 64..] [--instance-kib 4..]\n"
               "              [--out DIR]\n");
}

/* A private daemon for the run: temp state dir, its own socket. */
static int start_daemon(struct bench *b, char *tmpdir, char *socket, size_t socket_len, int *conn,
                        tm_error *err)
{
    if (!mkdtemp(tmpdir))
        return tm_error_sys(err, "cannot create a temporary directory");
    /* The daemon is `teemate daemon`, next to this bench's directory. */
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
    char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
    if (!slash)
        return tm_error_sys(err, "cannot find this program's path");
    *slash = '\0';
    if (!getenv("TEEMATE_EXE"))
        setenv("TEEMATE_EXE", strcat(exe, "/../teemate"), 1);
    setenv("TEEMATE_STATE_DIR", tmpdir, 1);
    snprintf(socket, socket_len, "%s/teemated.sock", tmpdir);
    b->socket = socket;
    b->tmpdir = tmpdir;
    bool started;
    int fd = tm_daemon_connect(socket, true, &started, err);
    if (fd < 0)
        return fd;
    *conn = fd;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "image", required_argument, NULL, 'i' },       { "data-image", required_argument, NULL, 'd' },
        { "runs", required_argument, NULL, 'r' },        { "max-mib", required_argument, NULL, 'm' },
        { "instances-mib", required_argument, NULL, 'e' }, { "heap-kib", required_argument, NULL, 'H' },
        { "instance-kib", required_argument, NULL, 'k' }, { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },              { 0 },
    };
    const char *image_path = DEFAULT_IMAGE, *data_path = DEFAULT_DATA_IMAGE, *out_dir = "bench/results";
    unsigned runs = 5, max_mib = 1024, epc_mib = 64, heap_kib = 4096, instance_kib = 256;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'i': image_path = optarg; break;
        case 'd': data_path = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'r': bad = tm_bench_parse_uint(optarg, 1, 100, &runs); break;
        case 'm': bad = tm_bench_parse_uint(optarg, 64, 65536, &max_mib); break;
        case 'e': bad = tm_bench_parse_uint(optarg, 16, 4096, &epc_mib); break;
        case 'H': bad = tm_bench_parse_uint(optarg, 64, 1U << 22, &heap_kib); break;
        case 'k': bad = tm_bench_parse_uint(optarg, 4, 1U << 22, &instance_kib); break;
        case 'h': return usage(stdout), 0;
        default: return usage(stderr), 2;
        }
        if (bad)
            return usage(stderr), 2;
    }
    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL;
    _cleanup_image_ struct tm_image *data_image = NULL;
    const struct tm_backend_ops *ops;
    if (tm_image_load(image_path, &image, &err) < 0 || tm_image_load(data_path, &data_image, &err) < 0 ||
        tm_backend_select(TM_BACKEND_SIM, &ops, &err) < 0) {
        fprintf(stderr, "attach: %s\n", err.msg);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    struct bench b = { .runs = runs };
    static const char args[] = "hello.elf\0bench";
    memcpy(b.argv_packed, args, sizeof args);
    b.argv_len = sizeof args;

    char tmpdir[] = "/tmp/teemate-bench-attach.XXXXXX", socket[256];
    int conn = -1;
    if (start_daemon(&b, tmpdir, socket, sizeof socket, &conn, &err) < 0) {
        fprintf(stderr, "attach: cannot start teemated: %s\n", err.msg);
        return 1;
    }
    struct start_row srows[MAX_SIZES];
    size_t ns = 0;
    int ret = 0;
    for (unsigned mib = 64; mib <= max_mib && ns < MAX_SIZES && ret == 0; mib *= 2, ns++) {
        srows[ns].size_mib = mib;
        fprintf(stderr, "attach: %u MiB enclave, %u runs of each start...\n", mib, runs);
        ret = bench_start_size(&b, conn, image, ops, &srows[ns], &err);
    }
    struct epc_row erows[NCOUNTS];
    if (ret == 0)
        ret = bench_epc(&b, conn, data_image, ops, (uint64_t)epc_mib << 20, (uint64_t)heap_kib << 10,
                        (uint64_t)instance_kib << 10, erows, &err);
    struct tm_daemon_status st;
    tm_error stop_err;
    if (tm_daemon_status(conn, &st, &stop_err) == 0 && st.pid > 0)
        kill(st.pid, SIGTERM);
    close(conn);
    if (ret < 0) {
        fprintf(stderr, "attach: %s\n", err.msg);
        return 1;
    }
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof cpu);
    _cleanup_free_ char *md = markdown(srows, ns, erows, cpu, runs, (uint64_t)epc_mib << 20,
                                       (uint64_t)heap_kib << 10, (uint64_t)instance_kib << 10);
    _cleanup_free_ char *plot = svg(srows, ns);
    json_t *j = results_json(srows, ns, erows, cpu, runs);
    ret = md && j && plot ? tm_bench_write_results(out_dir, "attach", md, j, &err)
                          : tm_error_set(&err, ENOMEM, "out of memory");
    if (ret == 0)
        ret = tm_bench_write_file(out_dir, "attach.svg", plot, &err);
    json_decref(j);
    if (ret < 0) {
        fprintf(stderr, "attach: %s\n", err.msg);
        return 1;
    }
    fputs(md, stdout);
    fprintf(stdout, "\nwrote %s/attach.json, attach.md and attach.svg\n", out_dir);
    return 0;
}
