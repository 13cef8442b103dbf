/* teemated end to end (tests/unit/daemon_fixture.h runs it); worker
 * processes attach through lib/shared/attach.h. Shows: shared state and
 * private slots, leases and slots reclaimed from processes killed (inside an
 * ecall too), fork children, removal, limits, a restart, and a leak check
 * over 1000 attach/kill cycles. Plus the slot/TCS bookkeeping alone. */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include "backend/sim.h"
#include "daemon/pool.h"
#include "daemon_fixture.h"
#include "enclave/devkey.h"
#include "shared/attach.h"
#include "util/file.h"

static long discard(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd, (void)buf;
    return (long)len;
}

struct capture {
    char text[128];
    size_t len;
};

static long capture(void *ctx, int fd, const void *buf, size_t len)
{
    struct capture *c = ctx;
    (void)fd;
    size_t n = len < sizeof c->text - 1 - c->len ? len : sizeof c->text - 1 - c->len;
    memcpy(c->text + c->len, buf, n);
    c->len += n;
    c->text[c->len] = '\0';
    return (long)len;
}

/* ---- worker processes: attached containers driven over two pipes ---- */

enum { W_MAIN = 1, W_SET, W_GET, W_SHARED, W_UNMAPPED, W_SPIN, W_SHARED_ALLOC, W_EXIT };

struct wres {
    int64_t ret;
    uint64_t val;
    char text[160];
    uint32_t slot;
    int32_t parent_slot;
    uint64_t base, slot_offset, slot_size;
};

struct worker {
    pid_t pid;
    int cmd, res;
    struct wres hello;   /* the attach's outcome */
};

/* Is the page at addr unmapped or inaccessible in this process? */
static bool inaccessible(uint64_t addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    bool ok = true;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && addr >= lo && addr < hi)
            ok = perms[0] == '-' && perms[1] == '-' && perms[2] == '-';
    }
    if (f)
        fclose(f);
    return ok;
}

struct spin_watch {
    struct tm_attachment *a;
    int res;
};

/* Tell the parent once the spinning thread is inside the enclave (its TCS busy). */
static void *watch_busy(void *arg)
{
    struct spin_watch *w = arg;
    struct tm_sim_enclave *e = tm_sim_enclave_of(w->a->be);
    uint32_t *busy = &e->tcs_busy[w->a->tcs_offsets[0] / 4096];
    while (!__atomic_load_n(busy, __ATOMIC_ACQUIRE))
        sched_yield();
    struct wres r = { .ret = 1 };
    if (write(w->res, &r, sizeof r) != sizeof r)
        _exit(3);
    return NULL;
}

static int64_t worker_op(struct tm_attachment *a, int op, uint64_t arg, struct wres *r, int res_fd)
{
    tm_error err = { 0 };
    struct capture cap = { 0 };
    struct tm_ecall_call c = { .write = capture, .write_ctx = &cap, .out = &r->val,
                               .out_cap = sizeof r->val };
    static const char state_argv[] = "hello\0--state";
    static volatile uint64_t never;   /* spin's flag: never set */
    uint64_t flag = (uintptr_t)&never;
    int ret;
    switch (op) {
    case W_MAIN:
        c.ecall = TM_ECALL_MAIN, c.in = state_argv, c.in_len = sizeof state_argv;
        break;
    case W_SET:
        c.ecall = 16, c.in = &arg, c.in_len = sizeof arg;
        break;
    case W_GET:
        c.ecall = 17;
        break;
    case W_SHARED:
        c.ecall = 18;
        break;
    case W_UNMAPPED:
        return inaccessible(arg);
    case W_SHARED_ALLOC:   /* hello: tm_shared_malloc(arg), in the global heap */
        c.ecall = 20, c.in = &arg, c.in_len = sizeof arg;
        break;
    case W_SPIN: {
        /* A first spin that returns at once commits the slot's first pages
         * (its argument copy lives there); the second one then needs no
         * expand, and is killed only while it spins. */
        static volatile uint64_t set = 1;
        uint64_t set_flag = (uintptr_t)&set;
        struct tm_ecall_call first = { .ecall = 16, .in = &set_flag, .in_len = sizeof set_flag };
        if ((ret = tm_attach_ecall(a, 0, &first, &err)) < 0)
            return ret;
        static struct spin_watch w;
        pthread_t t;
        w = (struct spin_watch){ a, res_fd };
        pthread_create(&t, NULL, watch_busy, &w);
        c.ecall = 16, c.in = &flag, c.in_len = sizeof flag, c.out = NULL, c.out_cap = 0;
        break;
    }
    default:
        return -EINVAL;
    }
    ret = tm_attach_ecall(a, 0, &c, &err);
    snprintf(r->text, sizeof r->text, "%.150s", ret < 0 ? err.msg : cap.text);
    return ret < 0 ? ret : c.retval;
}

static void __attribute__((noreturn)) worker_main(const char *name, uint32_t threads, int cmd, int res)
{
    struct tm_attach_options o = { .socket_path = sock, .threads = threads, .no_autostart = true };
    struct tm_attachment *a = NULL;
    tm_error err = { 0 };
    struct wres r = { .parent_slot = -1 };
    r.ret = tm_attach(name, &o, &a, &err);
    snprintf(r.text, sizeof r.text, "%.150s", err.msg);
    if (a) {
        r.slot = a->slot, r.parent_slot = a->parent_slot, r.base = a->base;
        r.slot_offset = a->slot_offset, r.slot_size = a->slot_size;
    }
    if (write(res, &r, sizeof r) != sizeof r || r.ret < 0)
        _exit(1);
    struct { int op; uint64_t arg; } m;
    while (read(cmd, &m, sizeof m) == sizeof m && m.op != W_EXIT) {
        memset(&r, 0, sizeof r);
        r.ret = worker_op(a, m.op, m.arg, &r, res);
        if (write(res, &r, sizeof r) != sizeof r)
            _exit(2);
    }
    tm_detach(a);
    _exit(0);
}

static struct worker worker_start(const char *name, uint32_t threads)
{
    int c[2], r[2];
    struct worker w = { .pid = -1 };
    REQUIRE(pipe2(c, O_CLOEXEC) == 0 && pipe2(r, O_CLOEXEC) == 0);
    fflush(NULL);
    w.pid = fork();
    REQUIRE(w.pid >= 0);
    if (w.pid == 0) {
        close(c[1]);
        close(r[0]);
        worker_main(name, threads, c[0], r[1]);
    }
    close(c[0]);
    close(r[1]);
    w.cmd = c[1];
    w.res = r[0];
    if (read(w.res, &w.hello, sizeof w.hello) != sizeof w.hello)
        w.hello.ret = -EPIPE;
    return w;
}

static struct wres worker_do(struct worker *w, int op, uint64_t arg)
{
    struct { int op; uint64_t arg; } m = { op, arg };
    struct wres r = { .ret = -EPIPE };
    if (write(w->cmd, &m, sizeof m) != sizeof m || read(w->res, &r, sizeof r) != sizeof r)
        r.ret = -EPIPE;
    return r;
}

/* Exit normally (DETACH) and return its exit status. */
static int worker_stop(struct worker *w)
{
    struct { int op; uint64_t arg; } m = { W_EXIT, 0 };
    int status = -1;
    if (w->pid > 0) {
        if (write(w->cmd, &m, sizeof m) != sizeof m)
            kill(w->pid, SIGKILL);
        waitpid(w->pid, &status, 0);
    }
    close(w->cmd);
    close(w->res);
    w->pid = -1;
    return status;
}

static void worker_kill(struct worker *w)
{
    reap(&w->pid, SIGKILL);
    close(w->cmd);
    close(w->res);
}

/* ---- the bookkeeping alone ---- */

static void test_pool(void)
{
    struct tm_pool p;
    tm_error err = { 0 };
    uint32_t slot, tcs[4], child, grandchild;
    REQUIRE(tm_pool_init(&p, 3, 4, 0, &err) == 0);
    CHECK_EQ_INT(tm_pool_take(&p, 2, -1, &slot, tcs, &err), 0);
    CHECK_EQ_INT(slot, 0);
    CHECK_EQ_INT(tcs[0], 0);
    CHECK_EQ_INT(tcs[1], 1);
    CHECK_EQ_INT(tm_pool_take(&p, 3, -1, &child, tcs + 2, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "3 asked, 2 of 4 free");
    /* A fork child of slot 0, and its own child. */
    CHECK_EQ_INT(tm_pool_take(&p, 1, 0, &child, tcs + 2, &err), 0);
    CHECK_EQ_INT(child, 1);
    CHECK_EQ_INT(tm_pool_take(&p, 1, (int32_t)child, &grandchild, tcs + 3, &err), 0);
    CHECK_EQ_INT(tm_pool_take(&p, 0, -1, &slot, tcs, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "no free slot (3 of 3 in use)");
    CHECK_EQ_INT(tm_pool_take(&p, 1, 2, &slot, tcs, &err), -EBUSY);   /* no slot free anyway */
    /* The parent ends first: its slot waits for both descendants. */
    tm_pool_tcs_put(&p, 0);
    tm_pool_tcs_put(&p, 1);
    CHECK(!tm_pool_slot_release(&p, 0, 8192));
    CHECK_EQ_INT(p.slots[0].state, TM_SLOT_RELEASED);
    CHECK_EQ_INT(tm_pool_slots_in_use(&p), 3);
    CHECK_EQ_INT(tm_pool_tcs_in_use(&p), 2);
    /* The child ends: still read by the grandchild. */
    tm_pool_tcs_put(&p, 2);
    CHECK(!tm_pool_slot_release(&p, child, 4096));
    /* The grandchild ends: trimming it frees the child, then the parent. */
    tm_pool_tcs_put(&p, 3);
    CHECK(tm_pool_slot_release(&p, grandchild, 0));
    int32_t next = tm_pool_slot_trimmed(&p, grandchild);
    CHECK_EQ_INT(next, (int32_t)child);
    next = tm_pool_slot_trimmed(&p, (uint32_t)next);
    CHECK_EQ_INT(next, 0);
    CHECK_EQ_INT(p.slots[0].committed, 8192);
    CHECK_EQ_INT(tm_pool_slot_trimmed(&p, 0), -1);
    CHECK_EQ_INT(tm_pool_slots_in_use(&p), 0);
    CHECK_EQ_INT(tm_pool_tcs_in_use(&p), 0);
    /* A lost slot and TCS are never handed out again. */
    CHECK_EQ_INT(tm_pool_take(&p, 1, -1, &slot, tcs, &err), 0);
    tm_pool_tcs_quarantine(&p, tcs[0], "test");
    CHECK_EQ_INT(tm_pool_slot_quarantine(&p, slot, "test"), -1);
    CHECK_EQ_INT(tm_pool_take(&p, 4, -1, &slot, tcs, &err), -EBUSY);
    CHECK_EQ_INT(tm_pool_take(&p, 3, -1, &slot, tcs, &err), 0);
    CHECK(slot != 0 && tcs[0] != 0);
    /* A fork from a slot that is not leased. */
    CHECK_EQ_INT(tm_pool_take(&p, 0, 0, &child, tcs, &err), -ESRCH);
    tm_pool_free(&p);
}

/* TCSs made on demand: TCS 0 is the daemon's, made ones are leased first,
 * an unmade one only when no made one is free; a made one stays made. */
static void test_pool_made_tcs(void)
{
    struct tm_pool p;
    tm_error err = { 0 };
    uint32_t slot, tcs[4];
    CHECK_EQ_INT(tm_pool_init(&p, 4, 4, 4, &err), -EINVAL);   /* none built */
    REQUIRE(tm_pool_init(&p, 4, 5, 4, &err) == 0);   /* 1 built + 4 on demand */
    CHECK_EQ_INT(tm_pool_tcs_made(&p), 1);
    CHECK_EQ_INT(tm_pool_tcs_for_daemon(&p), 0);
    CHECK_EQ_INT(tm_pool_tcs_in_use(&p), 0);   /* the daemon's is not a lease's */
    CHECK_EQ_INT(tm_pool_take(&p, 1, -1, &slot, tcs, &err), 0);
    CHECK_EQ_INT(tcs[0], 1);   /* not the daemon's */
    CHECK(!p.made[1]);
    p.made[1] = true;   /* what tm_tcs_make does */
    CHECK_EQ_INT(tm_pool_take(&p, 5, -1, &slot, tcs + 1, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "5 asked, 3 of 5 free");
    tm_pool_tcs_put(&p, 1);
    CHECK_EQ_INT(tm_pool_slot_trimmed(&p, 0), -1);
    /* TCS 3 made out of order: the next lease takes the made ones first */
    p.made[3] = true;
    CHECK_EQ_INT(tm_pool_take(&p, 3, -1, &slot, tcs, &err), 0);
    CHECK_EQ_INT(tcs[0], 1);
    CHECK_EQ_INT(tcs[1], 3);
    CHECK_EQ_INT(tcs[2], 2);
    CHECK_EQ_INT(tm_pool_tcs_made(&p), 3);
    /* the daemon's TCS cannot be put or quarantined into the pool */
    tm_pool_tcs_put(&p, 0);
    CHECK_EQ_INT(p.tcs[0], TM_POOL_TCS_DAEMON);
    /* a quarantined TCS stays so when its lease gives it back */
    tm_pool_tcs_quarantine(&p, 2, "could not be made");
    tm_pool_tcs_put(&p, 2);
    CHECK_EQ_INT(p.tcs[2], TM_POOL_TCS_QUARANTINED);
    tm_pool_free(&p);
    /* nothing on demand: every TCS leasable, none the daemon's */
    REQUIRE(tm_pool_init(&p, 1, 2, 0, &err) == 0);
    CHECK_EQ_INT(tm_pool_tcs_made(&p), 2);
    CHECK_EQ_INT(tm_pool_take(&p, 2, -1, &slot, tcs, &err), 0);
    CHECK_EQ_INT(tm_pool_tcs_for_daemon(&p), -1);
    tm_pool_free(&p);
}

/* ---- the daemon ---- */

static void test_create_list_remove(void)
{
    daemon_up();
    int c = conn();
    REQUIRE(c >= 0);
    tm_error err = { 0 };
    CHECK_EQ_INT(create(c, "hello", "hello", &err), 0);
    CHECK_EQ_INT(create(c, "hello", "hello", &err), -EEXIST);
    CHECK_STR_CONTAINS(err.msg, "an enclave named 'hello' already exists");
    CHECK_EQ_INT(create(c, "spin", "tests/spin", &err), 0);
    struct tm_enclave_info *infos = NULL;
    size_t n = 0;
    CHECK_EQ_INT(tm_daemon_list(c, &infos, &n, &err), 0);
    CHECK_EQ_INT(n, 2);
    struct tm_enclave_info info;
    inspect(c, "hello", &info);
    CHECK(!strcmp(info.backend, "sim"));
    CHECK_EQ_INT(info.tcs_total, 4);
    CHECK_EQ_INT(info.slots_total, 8);
    CHECK_EQ_INT(info.tcs_leased, 0);
    CHECK(info.epc_total > 0 && info.epc_shared == info.epc_total);
    CHECK_EQ_INT(info.size, 64 << 20);
    CHECK_EQ_INT(tm_daemon_inspect(c, "nope", &info, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "no enclave named 'nope' (teemate enclave ls)");
    bool pending = true;
    CHECK_EQ_INT(tm_daemon_remove(c, "spin", false, &pending, &err), 0);
    CHECK(!pending);
    CHECK_EQ_INT(tm_daemon_remove(c, "spin", false, &pending, &err), -ENOENT);
    free(infos);
    CHECK_EQ_INT(tm_daemon_list(c, &infos, &n, &err), 0);
    CHECK_EQ_INT(n, 1);
    free(infos);
    /* A SIGSTRUCT for another image is refused by EINIT; nothing is added. */
    struct tm_image *spin = NULL;
    struct sgx_sigstruct ss;
    char key[4200], sig_path[256];
    REQUIRE(tm_image_load(image("tests/spin"), &spin, &err) == 0);
    REQUIRE(tm_devkey_sign(spin, &ss, key, sizeof key, &err) == 0);
    tm_image_free(spin);
    snprintf(sig_path, sizeof sig_path, "%s/spin.sig", dir);
    REQUIRE(tm_file_write(sig_path, &ss, sizeof ss, 0600, &err) == 0);
    int img = open(image("hello"), O_RDONLY), sig = open(sig_path, O_RDONLY);
    CHECK(tm_daemon_create(c, "bad", img, sig, "sim", "x", NULL, NULL, 0, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "MRENCLAVE");
    close(sig);
    /* The image itself is too large to be a SIGSTRUCT. */
    sig = open(image("tests/spin"), O_RDONLY);
    CHECK_EQ_INT(tm_daemon_create(c, "bad", img, sig, "sim", "x", NULL, NULL, 0, &err), -EFBIG);
    close(img);
    close(sig);
    CHECK_EQ_INT(tm_daemon_inspect(c, "bad", &info, &err), -ENOENT);
    close(c);
    CHECK(daemon_down());
}

static void test_attach_missing(void)
{
    daemon_up();
    struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
    struct tm_attachment *a = NULL;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_attach("x", &o, &a, &err), -ENOENT);
    CHECK(!strcmp(err.msg, "no enclave named 'x' (teemate enclave ls)"));
    CHECK(a == NULL);
    CHECK_EQ_INT(tm_attach("../x", &o, &a, &err), -EINVAL);
    CHECK(daemon_down());
    /* No daemon and no autostart. */
    CHECK_EQ_INT(tm_attach("x", &o, &a, &err), -ECONNREFUSED);
    CHECK_STR_CONTAINS(err.msg, "no teemated listens on");
}

/* Two containers at once: one enclave-global counter, a slot each; neither
 * maps the other's slot. */
/* hello with 1 TCS built and 4 made on demand, its 8 MiB heap all on
 * demand, as a file the daemon can be given. */
static const char *on_demand_image(void)
{
    static char path[256];
    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *im = NULL, *od = NULL;
    REQUIRE(tm_image_load(image("hello"), &im, &err) == 0);
    struct tm_layout_settings s = im->layout.settings;
    s.tcs_count = 5;
    s.tcs_on_demand = 4;
    s.heap_size = s.heap_on_demand = 8 << 20;
    REQUIRE(tm_image_with_settings(im, &s, &od, &err) == 0);
    snprintf(path, sizeof path, "%s/hello-on-demand.elf", dir);
    REQUIRE(tm_file_write(path, od->file, od->file_len, 0600, &err) == 0);
    return path;
}

static uint64_t thread_pages(const char *path)
{
    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *im = NULL;
    REQUIRE(tm_image_load(path, &im, &err) == 0);
    const struct tm_layout_settings *s = &im->layout.settings;
    return (s->stack_size >> 12) + 2 + (uint64_t)s->nssa * s->ssa_frame_pages;
}

/* Four attachments at once on an enclave with one TCS built: each of theirs
 * made once (ecalls and ocalls on it as on a built one), reused by the next
 * four, never made again; the EPC grows by their pages and the slots' pages
 * come back; the global heap grows past its (empty) built part, and a second
 * process allocates over pages the first accepted. */
static void test_tcs_made_on_demand(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    const char *path = on_demand_image();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(tm_daemon_create(c, "od", fd, -1, "sim", "hello-on-demand.elf", NULL, NULL, 0, &err) == 0);
    close(fd);
    struct tm_enclave_info info;
    inspect(c, "od", &info);
    CHECK_EQ_INT(info.tcs_total, 5);
    CHECK_EQ_INT(info.tcs_made, 1);
    uint64_t idle = info.epc_total, per_tcs = thread_pages(path);
    for (int round = 0; round < 2; round++) {
        struct worker w[4];
        for (int i = 0; i < 4; i++) {
            w[i] = worker_start("od", 1);
            CHECK_EQ_INT(w[i].hello.ret, 0);
        }
        inspect(c, "od", &info);
        CHECK_EQ_INT(info.tcs_made, 5);
        CHECK_EQ_INT(info.tcs_leased, 4);
        struct worker fifth = worker_start("od", 1);
        CHECK_EQ_INT(fifth.hello.ret, -EBUSY);
        CHECK_STR_CONTAINS(fifth.hello.text, "not enough free TCSs: 1 asked, 0 of 5 free");
        worker_stop(&fifth);
        for (int i = 0; i < 4; i++) {
            struct wres r = worker_do(&w[i], W_MAIN, 0);   /* an ecall with ocalls */
            CHECK_EQ_INT(r.ret, 0);
            CHECK_STR_CONTAINS(r.text, "shared runs");
        }
        uint64_t before = info.epc_shared;
        if (round == 0) {
            /* four threads' pages, and the heap's first chunk (the lease table) */
            CHECK(before >= idle + 4 * per_tcs && before <= idle + 4 * per_tcs + 16);
            CHECK(worker_do(&w[0], W_SHARED_ALLOC, 3 << 20).val != 0);
            CHECK(worker_do(&w[1], W_SHARED_ALLOC, 3 << 20).val != 0);
            CHECK_EQ_INT(worker_do(&w[2], W_SHARED_ALLOC, 3 << 20).ret, -ENOMEM);   /* 8 MiB heap */
            inspect(c, "od", &info);
            CHECK(info.epc_shared + 16 >= before + (6 << 20) / 4096);   /* less the first chunk's room */
        }
        worker_kill(&w[3]);   /* a made TCS's lease reclaimed like a built one's */
        for (int i = 0; i < 3; i++)
            CHECK_EQ_INT(worker_stop(&w[i]), 0);
        inspect(c, "od", &info);
        CHECK_EQ_INT(info.tcs_leased, 0);
        CHECK_EQ_INT(info.tcs_made, 5);
        CHECK_EQ_INT(info.epc_total, info.epc_shared);   /* the slots' pages came back */
        if (round == 0)
            idle = info.epc_total;
        else
            CHECK_EQ_INT(info.epc_total, idle);   /* no TCS made twice, no heap page lost */
    }
    close(c);
    CHECK(daemon_down());
}

static void test_two_processes(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    struct worker a = worker_start("hello", 1), b = worker_start("hello", 1);
    REQUIRE(a.hello.ret == 0 && b.hello.ret == 0);
    CHECK(a.hello.slot != b.hello.slot);
    CHECK_EQ_INT(a.hello.base, b.hello.base);
    struct wres r = worker_do(&a, W_MAIN, 0);
    CHECK_EQ_INT(r.ret, 0);
    char want[96];
    snprintf(want, sizeof want, "shared runs 1, slot runs 1, slot %u\n", a.hello.slot);
    CHECK(!strcmp(r.text, want));
    worker_do(&a, W_MAIN, 0);
    r = worker_do(&b, W_MAIN, 0);
    snprintf(want, sizeof want, "shared runs 3, slot runs 1, slot %u\n", b.hello.slot);
    CHECK(!strcmp(r.text, want));
    CHECK_EQ_INT(worker_do(&a, W_SET, 111).ret, 0);
    CHECK_EQ_INT(worker_do(&b, W_SET, 222).ret, 0);
    CHECK_EQ_INT(worker_do(&a, W_GET, 0).val, 111);
    CHECK_EQ_INT(worker_do(&b, W_GET, 0).val, 222);
    CHECK_EQ_INT(worker_do(&a, W_SHARED, 0).val, 3);
    CHECK_EQ_INT(worker_do(&b, W_SHARED, 0).val, 3);
    /* Each maps its own slot only. */
    CHECK_EQ_INT(worker_do(&a, W_UNMAPPED, b.hello.base + b.hello.slot_offset).ret, 1);
    CHECK_EQ_INT(worker_do(&b, W_UNMAPPED, a.hello.base + a.hello.slot_offset).ret, 1);
    CHECK_EQ_INT(worker_do(&a, W_UNMAPPED, a.hello.base + a.hello.slot_offset).ret, 0);
    struct tm_enclave_info info;
    inspect(c, "hello", &info);
    CHECK_EQ_INT(info.nattached, 2);
    CHECK_EQ_INT(info.tcs_leased, 2);
    CHECK_EQ_INT(info.slots_in_use, 2);
    CHECK(info.attached[0].epc_pages > 0 && info.attached[1].epc_pages > 0);
    CHECK_EQ_INT(worker_stop(&a), 0);
    CHECK_EQ_INT(worker_stop(&b), 0);
    inspect(c, "hello", &info);
    CHECK_EQ_INT(info.nattached, 0);
    CHECK_EQ_INT(info.slots_in_use, 0);
    CHECK_EQ_INT(info.epc_total, info.epc_shared);
    close(c);
    CHECK(daemon_down());
}

static void test_limits(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "spin", "tests/spin", &err) == 0);   /* 4 TCSs, 2 slots */
    struct raw_lease l1, l2, l3;
    CHECK_EQ_INT(raw_attach(c, "spin", 4, &l1, &err), 0);
    CHECK_EQ_INT(raw_attach(c, "spin", 1, &l2, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "enclave 'spin': not enough free TCSs: 1 asked, 0 of 4 free");
    CHECK_EQ_INT(raw_attach(c, "spin", 5, &l2, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "has 4 TCSs");
    CHECK_EQ_INT(raw_detach(c, &l1, &err), 0);
    CHECK_EQ_INT(raw_attach(c, "spin", 1, &l1, &err), 0);
    CHECK_EQ_INT(raw_attach(c, "spin", 1, &l2, &err), 0);
    CHECK_EQ_INT(raw_attach(c, "spin", 1, &l3, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "enclave 'spin': no free slot (2 of 2 in use)");
    struct tm_enclave_info info;
    inspect(c, "spin", &info);
    CHECK_EQ_INT(info.tcs_leased, 2);
    CHECK_EQ_INT(info.slots_in_use, 2);
    /* DETACH only from the connection that attached, with the right token. */
    int other = conn();
    CHECK_EQ_INT(raw_detach(other, &l1, &err), -ENOENT);
    struct raw_lease forged = l1;
    forged.token[0] ^= 1;
    CHECK_EQ_INT(raw_detach(c, &forged, &err), -ENOENT);
    CHECK_EQ_INT(raw_detach(c, &l1, &err), 0);
    CHECK_EQ_INT(raw_detach(c, &l1, &err), -ENOENT);
    /* Closing the connection ends nothing: the process is alive. */
    close(c);
    inspect(other, "spin", &info);
    CHECK_EQ_INT(info.nattached, 1);
    close(other);
    CHECK(daemon_down());
}

static void test_remove_in_use(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    struct worker w = worker_start("hello", 1);
    REQUIRE(w.hello.ret == 0);
    bool pending = false;
    CHECK_EQ_INT(tm_daemon_remove(c, "hello", false, &pending, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "in use by 1 process");
    CHECK_EQ_INT(tm_daemon_remove(c, "hello", true, &pending, &err), 0);
    CHECK(pending);
    struct tm_enclave_info info;
    inspect(c, "hello", &info);
    CHECK(info.removing);
    struct raw_lease l;
    CHECK_EQ_INT(raw_attach(c, "hello", 1, &l, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "is being removed");
    CHECK_EQ_INT(worker_do(&w, W_MAIN, 0).ret, 0);   /* still runs */
    CHECK_EQ_INT(worker_stop(&w), 0);
    CHECK_EQ_INT(tm_daemon_inspect(c, "hello", &info, &err), -ENOENT);
    CHECK_EQ_INT(status(c).enclaves, 0);
    close(c);
    CHECK(daemon_down());
}

/* SIGKILL while a thread is inside the enclave (spin's ecall 16 never
 * returns): the TCS, the slot and the EPC pages come back, and the TCS runs
 * the next container's ecalls. */
static void test_kill_inside_ecall(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "spin", "tests/spin", &err) == 0);
    struct tm_enclave_info before, during, after;
    inspect(c, "spin", &before);
    struct worker w = worker_start("spin", 4);
    REQUIRE(w.hello.ret == 0);
    struct { int op; uint64_t arg; } m = { W_SPIN, 0 };
    struct wres r = { 0 };
    REQUIRE(write(w.cmd, &m, sizeof m) == sizeof m);
    REQUIRE(read(w.res, &r, sizeof r) == sizeof r && r.ret == 1);   /* inside */
    inspect(c, "spin", &during);
    CHECK_EQ_INT(during.tcs_leased, 4);
    CHECK(during.epc_total > before.epc_total);   /* its slot has pages (expand) */
    worker_kill(&w);
    inspect(c, "spin", &after);
    CHECK_EQ_INT(after.nattached, 0);
    CHECK_EQ_INT(after.tcs_leased, 0);
    CHECK_EQ_INT(after.slots_in_use, 0);
    CHECK_EQ_INT(after.epc_total, before.epc_total);
    /* The same TCSs and slot serve the next container. */
    struct worker next = worker_start("spin", 4);
    CHECK_EQ_INT(next.hello.ret, 0);
    CHECK_EQ_INT(next.hello.slot, w.hello.slot);
    CHECK_EQ_INT(worker_stop(&next), 0);
    CHECK_EQ_INT(status(c).leases, 0);
    close(c);
    CHECK(daemon_down());
}

/* Killed in an ocall (the enclave's write waits on the host): the ecall is
 * abandoned mid-way; the lease still comes back. */
static int ocall_report_fd = -1;

/* The enclave's write ocall: pass the bytes on, then wait to be killed. */
static long write_then_wait(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd;
    if (write(ocall_report_fd, buf, len) < 0)
        _exit(4);
    for (;;)
        pause();
}

static const char seal_enclave[] = "seal";   /* the enclave of the sealing test */

static void test_kill_in_ocall(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    struct tm_enclave_info before, after;
    inspect(c, "hello", &before);
    int p[2];
    REQUIRE(pipe(p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
        struct tm_attachment *a;
        if (tm_attach("hello", &o, &a, &err) < 0)
            _exit(1);
        static const char argv[] = "hello\0x";
        struct tm_ecall_call call = { .ecall = TM_ECALL_MAIN, .in = argv, .in_len = sizeof argv,
                                      .write = write_then_wait };
        ocall_report_fd = p[1];
        tm_attach_ecall(a, 0, &call, &err);
        _exit(2);   /* not reached: killed while its output is in the pipe */
    }
    close(p[1]);
    char line[64];
    ssize_t n = read(p[0], line, sizeof line - 1);
    CHECK(n > 0);
    reap(&pid, SIGKILL);
    close(p[0]);
    inspect(c, "hello", &after);
    CHECK_EQ_INT(after.nattached, 0);
    CHECK_EQ_INT(after.tcs_leased, 0);
    CHECK_EQ_INT(after.epc_total, before.epc_total);
    close(c);
    CHECK(daemon_down());
}

/* Sealing in attached processes: the sim derives its CPU keys at the first
 * EGETKEY of a process (inside the ENCLU handler), not at attach. A secret
 * sealed by one attached process is unsealed by another. */
static int64_t seal_ecall_attached(uint32_t ecall, const void *in, size_t in_len, uint8_t *out,
                                   size_t *out_len)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
        struct tm_attachment *a;
        tm_error err = { 0 };
        uint8_t buf[512];
        struct tm_ecall_call call = { .ecall = ecall, .in = in, .in_len = in_len, .out = buf,
                                      .out_cap = sizeof buf };
        int64_t r = tm_attach(seal_enclave, &o, &a, &err) < 0 || tm_attach_ecall(a, 0, &call, &err) < 0
                        ? INT64_MIN
                        : call.retval;
        uint64_t len = call.out_len;
        if (write(p[1], &r, sizeof r) != sizeof r || write(p[1], &len, sizeof len) != sizeof len ||
            write(p[1], buf, len) != (ssize_t)len)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    int64_t r = INT64_MIN;
    uint64_t len = 0;
    if (read(p[0], &r, sizeof r) != sizeof r || read(p[0], &len, sizeof len) != sizeof len ||
        len > *out_len || read(p[0], out, len) != (ssize_t)len)
        r = INT64_MIN;
    *out_len = len;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return r;
}

static void test_seal_in_attached_processes(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, seal_enclave, "tests/seal", &err) == 0);
    static const char secret[] = "sealed by one attached process";
    uint8_t in[2 + sizeof secret] = { 1, 0 };   /* MRENCLAVE policy */
    memcpy(in + 2, secret, sizeof secret);
    uint8_t blob[512], plain[512];
    size_t blob_len = sizeof blob, plain_len = sizeof plain;
    CHECK_EQ_INT(seal_ecall_attached(16, in, sizeof in, blob, &blob_len), 0);
    CHECK(blob_len > sizeof secret);
    CHECK_EQ_INT(seal_ecall_attached(17, blob, blob_len, plain, &plain_len), 0);
    CHECK(plain_len == sizeof secret && !memcmp(plain, secret, sizeof secret));
    close(c);
    CHECK(daemon_down());
}

/* A forked child: its own slot, the parent's slot read-only, the fork hook
 * run; the parent's slot lives until both are gone. */
static void test_fork(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    struct tm_enclave_info before;
    inspect(c, "hello", &before);
    struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
    struct tm_attachment *parent = NULL, *child = NULL;
    REQUIRE(tm_attach("hello", &o, &parent, &err) == 0);
    uint64_t v = 42, got = 0;
    struct tm_ecall_call set = { .ecall = 16, .in = &v, .in_len = sizeof v };
    REQUIRE(tm_attach_ecall(parent, 0, &set, &err) == 0);
    int p[2], go[2];   /* child -> parent, parent -> child */
    REQUIRE(pipe(p) == 0 && pipe(go) == 0);
    pid_t pid = tm_attach_fork(parent, &child, &err);
    if (pid == 0) {
        /* The child: the hook copied the parent's value; its own is separate. */
        struct { int64_t ret; uint64_t got; int32_t parent_slot; uint32_t slot; int ro; } rep = { 0 };
        rep.ret = -1;
        if (child) {
            struct tm_ecall_call get = { .ecall = 17, .out = &rep.got, .out_cap = 8 };
            rep.ret = tm_attach_ecall(child, 0, &get, &err);
            uint64_t mine = 7;
            struct tm_ecall_call set7 = { .ecall = 16, .in = &mine, .in_len = 8 };
            if (rep.ret == 0)
                rep.ret = tm_attach_ecall(child, 0, &set7, &err);
            rep.parent_slot = child->parent_slot;
            rep.slot = child->slot;
            rep.ro = 1;
            for (size_t i = 0; i < child->nviews; i++)
                if (child->views[i].offset == child->regions.slots_offset +
                                                 (uint64_t)child->parent_slot * child->slot_size)
                    rep.ro = child->views[i].prot == PROT_READ ? 2 : 3;
        } else {
            fprintf(stderr, "  fork child: %s\n", err.msg);
        }
        if (write(p[1], &rep, sizeof rep) != sizeof rep)
            _exit(1);
        char g;
        if (read(go[0], &g, 1) != 1)   /* held until the parent detached */
            _exit(1);
        tm_detach(child);
        tm_detach(parent);   /* emptied by the fork: only frees */
        _exit(0);
    }
    REQUIRE(pid > 0);
    struct { int64_t ret; uint64_t got; int32_t parent_slot; uint32_t slot; int ro; } rep;
    if (read(p[0], &rep, sizeof rep) != sizeof rep) {
        int st = 0;
        waitpid(pid, &st, 0);
        fprintf(stderr, "  the fork child died before reporting (status 0x%x)\n", st);
        tm_detach(parent);
        REQUIRE(0);
    }
    CHECK_EQ_INT(rep.ret, 0);
    CHECK_EQ_INT(rep.got, 42);
    CHECK_EQ_INT(rep.parent_slot, (int32_t)parent->slot);
    CHECK(rep.slot != parent->slot);
    CHECK_EQ_INT(rep.ro, 2);   /* the parent's slot is a read-only view */
    struct tm_ecall_call get = { .ecall = 17, .out = &got, .out_cap = 8 };
    CHECK_EQ_INT(tm_attach_ecall(parent, 0, &get, &err), 0);
    CHECK_EQ_INT(got, 42);   /* the child's 7 went to its own slot */
    struct tm_enclave_info info;
    inspect(c, "hello", &info);
    CHECK_EQ_INT(info.nattached, 2);
    bool child_seen = false;
    for (uint32_t i = 0; i < info.nattached; i++)
        child_seen |= info.attached[i].pid == pid && info.attached[i].parent_slot == (int32_t)parent->slot;
    CHECK(child_seen);
    /* The parent goes first: its slot stays for the child. */
    tm_detach(parent);
    inspect(c, "hello", &info);
    CHECK_EQ_INT(info.nattached, 1);
    CHECK_EQ_INT(info.slots_in_use, 2);
    CHECK_EQ_INT(info.tcs_leased, 1);
    REQUIRE(write(go[1], "g", 1) == 1);
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    inspect(c, "hello", &info);
    CHECK_EQ_INT(info.slots_in_use, 0);
    CHECK_EQ_INT(info.epc_total, before.epc_total);
    close(p[0]);
    close(p[1]);
    close(go[0]);
    close(go[1]);
    close(c);
    CHECK(daemon_down());
}

/* The daemon dies with a process attached: the new one starts empty on the
 * same socket; the process runs on the memory it holds until it exits. */
static void test_daemon_restart(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    close(c);
    struct worker w = worker_start("hello", 1);
    REQUIRE(w.hello.ret == 0);
    reap(&daemon_pid, SIGKILL);
    daemon_up();
    c = conn();
    REQUIRE(c >= 0);
    struct tm_enclave_info *infos = NULL;
    size_t n = 9;
    CHECK_EQ_INT(tm_daemon_list(c, &infos, &n, &err), 0);
    CHECK_EQ_INT(n, 0);
    free(infos);
    struct wres r = worker_do(&w, W_MAIN, 0);
    CHECK_EQ_INT(r.ret, 0);
    CHECK_STR_CONTAINS(r.text, "shared runs 1, slot runs 1");
    CHECK_EQ_INT(worker_stop(&w), 0);   /* its DETACH finds nobody: fine */
    CHECK_EQ_INT(status(c).leases, 0);
    close(c);
    CHECK(daemon_down());
}

/* 1000 containers attach, run, and are SIGKILLed: the daemon's fds, leases
 * and EPC pages end where they started. */
static void test_leak_attach_kill(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    struct tm_daemon_status start = status(c);
    int cycles = getenv("TM_LEAK_CYCLES") ? atoi(getenv("TM_LEAK_CYCLES")) : 1000;
    int failures = 0;
    for (int i = 0; i < cycles; i++) {
        int p[2];
        REQUIRE(pipe2(p, O_CLOEXEC) == 0);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
            struct tm_attachment *a;
            static const char argv[] = "hello\0leak";
            struct tm_ecall_call call = { .ecall = TM_ECALL_MAIN, .in = argv, .in_len = sizeof argv,
                                          .write = discard };
            char ok = tm_attach("hello", &o, &a, &err) == 0 && tm_attach_ecall(a, 0, &call, &err) == 0;
            if (write(p[1], &ok, 1) != 1)
                _exit(1);
            pause();
            _exit(0);
        }
        close(p[1]);
        char ok = 0;
        if (read(p[0], &ok, 1) != 1 || !ok)
            failures++;
        close(p[0]);
        reap(&pid, SIGKILL);
    }
    CHECK_EQ_INT(failures, 0);
    struct tm_daemon_status end = status(c);
    CHECK_EQ_INT(end.leases, start.leases);
    CHECK_EQ_INT(end.open_fds, start.open_fds);
    CHECK_EQ_INT(end.epc_pages, start.epc_pages);
    CHECK_EQ_INT(end.bad_requests, 0);
    struct tm_enclave_info info;
    inspect(c, "hello", &info);
    CHECK_EQ_INT(info.tcs_leased, 0);
    CHECK_EQ_INT(info.slots_in_use, 0);
    close(c);
    CHECK(daemon_down());
}

/* A slot that cannot be given back whole is quarantined: inspect counts it
 * in use and says why, and the next attach gets another slot. (The test
 * leaves a trimmed page the enclave never accepted in its slot, past what
 * the enclave trims: a state only a misbehaving host makes.) */
static void test_quarantine(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
    struct tm_attachment *a = NULL;
    REQUIRE(tm_attach("hello", &o, &a, &err) == 0);
    CHECK_EQ_INT(a->slot, 0);
    struct tm_sim_enclave *se = tm_sim_enclave_of(a->be);
    uint64_t last = a->slot_offset + a->slot_size - 4096;
    const struct tm_sim_epcm stale = { .valid = 1, .type = SGX_PT_TRIM, .modified = 1 };
    __atomic_store(&se->epcm[last / 4096], &stale, __ATOMIC_RELEASE);
    tm_detach(a);

    struct tm_enclave_info info;
    inspect(c, "hello", &info);
    CHECK_EQ_INT(info.slots_in_use, 1);
    CHECK_EQ_INT(info.slots_quarantined, 1);
    CHECK_EQ_INT(info.tcs_leased, 0);
    REQUIRE(info.nquarantined == 1);
    CHECK(!info.quarantined[0].tcs && info.quarantined[0].index == 0);
    CHECK_STR_CONTAINS(info.quarantined[0].why, "trimming slot 0");
    CHECK_STR_CONTAINS(info.quarantined[0].why, "was trimmed but the enclave has not EACCEPTed");
    REQUIRE(tm_attach("hello", &o, &a, &err) == 0);
    CHECK_EQ_INT(a->slot, 1);                               /* never slot 0 again */
    tm_detach(a);
    close(c);
    CHECK(daemon_down());
}

int main(void)
{
    fixture_init("daemon");
    RUN(test_pool);
    RUN(test_pool_made_tcs);
    if (!fixture_images()) {
        printf("skip - test_daemon: the example images are not built (%s)\n", image("hello"));
        return 0;
    }
    RUN(test_create_list_remove);
    fixture_between();
    RUN(test_attach_missing);
    fixture_between();
    RUN(test_two_processes);
    RUN(test_tcs_made_on_demand);
    fixture_between();
    RUN(test_limits);
    fixture_between();
    RUN(test_remove_in_use);
    fixture_between();
    RUN(test_kill_inside_ecall);
    fixture_between();
    RUN(test_kill_in_ocall);
    fixture_between();
    RUN(test_seal_in_attached_processes);
    RUN(test_fork);
    fixture_between();
    RUN(test_daemon_restart);
    fixture_between();
    RUN(test_leak_attach_kill);
    fixture_between();
    RUN(test_quarantine);
    fixture_finish();
    TEST_EXIT();
}
