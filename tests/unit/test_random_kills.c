/* Shared enclaves under random SIGKILLs (issue 16, item 1). Processes attach
 * to one enclave, run, grow their slot, detach and attach again in a loop,
 * and are SIGKILLed at random instants (a random delay in microseconds
 * places each kill; it stands in for no cost): in the request, in the bind,
 * between bind and reply, while mapping, mid-ecall, mid-EACCEPT or mid-EAUG
 * of a growing slot, during detach. Four variants: one thread, two threads
 * growing one slot at once, a forked child (tm_attach_fork) reading its
 * parent's slot, and ecalls that take an exception (AEX, the image's handler,
 * ERESUME), so that kills land while an exception is pending (CSSA > 0). After each, the daemon must be back at its starting
 * values (leases, TCSs, slots, EPC pages, nothing quarantined) and as many
 * processes as the enclave has TCSs must attach at once, grow their slots
 * and run. Two more run the exceptions and forked-child ones on TCSs made at run time
 * (SGX2: one built, the rest made as leases came), which must behave as
 * built ones. TM_KILL_SECONDS sets each variant's time budget (default 15). */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#include "daemon_fixture.h"
#include "enclave/image.h"
#include "shared/attach.h"
#include "util/file.h"

#define VICTIMS 2                 /* processes alive at once: slots and TCSs change hands */
/* tests/exception's handler is one for the whole enclave: one victim at a time there. */
#define VICTIMS_NOW (current == EXCEPTIONS ? 1 : VICTIMS)
#define GROW_BYTES (256 * 1024)   /* each run grows its slot by this much: 4 chunks of EACCEPTs */

enum variant { ONE_THREAD, TWO_THREADS, FORKED_CHILD, EXCEPTIONS };

static enum variant current;
static bool made_tcs;   /* the enclave's TCSs (but the daemon's) made on demand */
/* The enclave and image of the variant. */
#define ENCLAVE (current == EXCEPTIONS ? "exc" : "hello")
#define IMAGE (current == EXCEPTIONS ? "tests/exception" : "hello")

/* What the victims report back (shared memory): finished cycles, and the
 * first failure that is not "busy" (all TCSs or slots taken at that moment). */
struct report {
    atomic_ulong cycles;
    atomic_ulong failures;
    char first[1200];
    atomic_flag first_taken;
};

static struct report *rep;

static long discard(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd, (void)buf;
    return (long)len;
}

static void fail(const char *what, const tm_error *err)
{
    atomic_fetch_add(&rep->failures, 1);
    if (!atomic_flag_test_and_set(&rep->first_taken))
        snprintf(rep->first, sizeof rep->first, "pid %d: %s: %s", (int)getpid(), what, err->msg);
}

/* tests/exception's ecall 16 (a UD2 its handler skips), a few times. */
static bool run_exceptions(struct tm_attachment *a, uint32_t t, tm_error *err)
{
    for (int i = 0; i < 8; i++) {
        struct tm_ecall_call e = { .ecall = 16, .write = discard };
        if (tm_attach_ecall(a, t, &e, err) < 0)
            return false;
        if (e.retval != 1)
            return tm_error_set(err, EIO, "the handler ran %lld times", (long long)e.retval), false;
    }
    return true;
}

/* main, then malloc of GROW_BYTES in the slot, on thread t. */
static bool run(struct tm_attachment *a, uint32_t t, tm_error *err)
{
    if (current == EXCEPTIONS)
        return run_exceptions(a, t, err);
    static const char argv[] = "hello\0--state";
    struct tm_ecall_call m = { .ecall = TM_ECALL_MAIN, .in = argv, .in_len = sizeof argv,
                               .write = discard };
    if (tm_attach_ecall(a, t, &m, err) < 0 || m.retval != 0)
        return m.retval ? (tm_error_set(err, EIO, "main returned %lld", (long long)m.retval), false)
                        : false;
    uint64_t size = GROW_BYTES, addr = 0;
    struct tm_ecall_call g = { .ecall = 19, .in = &size, .in_len = sizeof size, .out = &addr,
                               .out_cap = sizeof addr, .write = discard };
    if (tm_attach_ecall(a, t, &g, err) < 0)
        return false;
    if (g.retval != 0 || addr == 0)
        return tm_error_set(err, ENOMEM, "malloc(%d) in the slot: %lld", GROW_BYTES,
                            (long long)g.retval), false;
    return true;
}

static void *second_thread(void *arg)
{
    tm_error err = { 0 };
    if (!run(arg, 1, &err))
        fail("thread 2", &err);
    return NULL;
}

/* One attach-run-detach of the variant; a failure worth it is reported. */
static void cycle(enum variant v)
{
    tm_error err = { 0 };
    struct tm_attach_options o = { .socket_path = sock, .no_autostart = true,
                                   .threads = v == TWO_THREADS ? 2 : 1 };
    struct tm_attachment *a = NULL;
    if (tm_attach(ENCLAVE, &o, &a, &err) < 0) {
        if (err.code != EBUSY)   /* the other victim holds the TCSs it needs */
            fail("attach", &err);
        return;
    }
    pthread_t th;
    bool two = v == TWO_THREADS && pthread_create(&th, NULL, second_thread, a) == 0;
    if (!run(a, 0, &err))
        fail("run", &err);
    if (two)
        pthread_join(th, NULL);
    if (v == FORKED_CHILD) {
        struct tm_attachment *child = NULL;
        pid_t me = getpid();
        pid_t pid = tm_attach_fork(a, &child, &err);
        if (getpid() != me) {   /* the child, attached or not */
            if (pid == 0 && !run(child, 0, &err))
                fail("forked child", &err);
            else if (pid < 0 && err.code != EBUSY)
                fail("forked child's attach", &err);
            tm_detach(child);
            _exit(0);
        }
        if (pid < 0)
            fail("fork", &err);
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    tm_detach(a);
    atomic_fetch_add(&rep->cycles, 1);
}

/* A victim: cycles until killed (count < 0), else count cycles. */
static pid_t victim_start(enum variant v, int count)
{
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);   /* its forked children die with it */
        for (int i = 0; count < 0 || i < count; i++)
            cycle(v);
        _exit(0);
    }
    setpgid(pid, pid);
    return pid;
}

static uint64_t rand_below(uint64_t n)
{
    return ((uint64_t)random() << 31 ^ (uint64_t)random()) % n;
}

/* Kill a victim's process group and reap it all: once the victim is
 * reaped its forked children are ours (we are their subreaper). */
static void victim_kill(pid_t pid)
{
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (waitpid(-pid, NULL, 0) > 0 || errno == EINTR)
        ;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* As many processes as TCSs attach at once (as slots, if fewer); each runs
 * and grows its slot. */
static void all_tcs_at_once(uint32_t ntcs)
{
    pid_t pids[64];
    int p[2];
    REQUIRE(ntcs <= 64 && pipe2(p, O_CLOEXEC) == 0);
    for (uint32_t i = 0; i < ntcs; i++) {
        fflush(NULL);
        pids[i] = fork();
        REQUIRE(pids[i] >= 0);
        if (pids[i] == 0) {
            tm_error err = { 0 };
            struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
            struct tm_attachment *a = NULL;
            /* All hold their leases at once; they run one at a time
             * (tests/exception's handler is one for the whole enclave). */
            int lk = open(dir, O_RDONLY | O_CLOEXEC);
            char ok = tm_attach(ENCLAVE, &o, &a, &err) == 0 && lk >= 0 && flock(lk, LOCK_EX) == 0 &&
                      run(a, 0, &err);
            if (lk >= 0)
                close(lk);   /* the lock goes with it */
            if (!ok)
                fprintf(stderr, "  attach %u of %u: %s\n", i + 1, ntcs, err.msg);
            /* Hold the lease until every one has answered. */
            if (write(p[1], &ok, 1) != 1)
                _exit(1);
            pause();
            _exit(0);
        }
    }
    close(p[1]);
    uint32_t ok = 0;
    for (uint32_t i = 0; i < ntcs; i++) {
        char c = 0;
        if (read(p[0], &c, 1) == 1 && c)
            ok++;
    }
    close(p[0]);
    CHECK_EQ_INT(ok, ntcs);
    for (uint32_t i = 0; i < ntcs; i++)
        reap(&pids[i], SIGKILL);
}

/* IMAGE with one more TCS, all but the first made on demand, as a file. */
static int create_made_tcs(int c, tm_error *err)
{
    char path[256];
    _cleanup_image_ struct tm_image *im = NULL, *od = NULL;
    REQUIRE(tm_image_load(image(IMAGE), &im, err) == 0);
    struct tm_layout_settings s = im->layout.settings;
    s.tcs_on_demand = s.tcs_count++;
    REQUIRE(tm_image_with_settings(im, &s, &od, err) == 0);
    snprintf(path, sizeof path, "%s/made-tcs.elf", dir);
    REQUIRE(tm_file_write(path, od->file, od->file_len, 0600, err) == 0);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    int ret = tm_daemon_create(c, ENCLAVE, fd, -1, "sim", "made-tcs.elf", NULL, NULL, 0, err);
    close(fd);
    return ret;
}

static void random_kills(enum variant v, const char *name)
{
    current = v;
    daemon_up();
    int c = conn();
    REQUIRE(c >= 0);
    tm_error err = { 0 };
    if (made_tcs) {
        REQUIRE(create_made_tcs(c, &err) == 0);
        struct tm_enclave_info fresh;
        inspect(c, ENCLAVE, &fresh);
        CHECK_EQ_INT(fresh.tcs_made, 1);
        /* makes as many as can be leased at once: then the counts stay put */
        uint32_t most = fresh.tcs_total - 1 < fresh.slots_total ? fresh.tcs_total - 1 : fresh.slots_total;
        all_tcs_at_once(most);
        inspect(c, ENCLAVE, &fresh);
        CHECK_EQ_INT(fresh.tcs_made, 1 + most);
    } else {
        REQUIRE(create(c, ENCLAVE, IMAGE, &err) == 0);
    }
    struct tm_daemon_status start = status(c);
    struct tm_enclave_info before;
    inspect(c, ENCLAVE, &before);
    memset(rep, 0, sizeof *rep);

    /* Kills land anywhere in a cycle: delays up to a cycle, as long as one
     * takes here (the sanitizers slow it several times). */
    double t0 = now_s();
    pid_t calib = victim_start(v, 3);
    waitpid(calib, NULL, 0);
    uint64_t max_delay_us = (uint64_t)((now_s() - t0) / 3 * 1e6) + 100;
    REQUIRE(atomic_load(&rep->cycles) == 3 && atomic_load(&rep->failures) == 0);
    atomic_store(&rep->cycles, 0);

    double budget = getenv("TM_KILL_SECONDS") ? atof(getenv("TM_KILL_SECONDS")) : 15;
    double end = now_s() + budget;
    alarm((unsigned)budget + 120);   /* bounded even if something hangs */
    pid_t victims[VICTIMS] = { 0 };
    unsigned long kills = 0, cycles_seen = 0, kills_since_cycle = 0;
    while (now_s() < end) {
        /* The machine may slow down after calibrating (other load): when no
         * cycle has finished for a while, every kill lands early; widen. */
        unsigned long cycles_now = atomic_load(&rep->cycles);
        if (cycles_now != cycles_seen) {
            cycles_seen = cycles_now;
            kills_since_cycle = 0;
        } else if (++kills_since_cycle >= 64 && max_delay_us < 1000000) {
            max_delay_us *= 2;
            kills_since_cycle = 0;
        }
        for (int i = 0; i < VICTIMS_NOW; i++)
            if (victims[i] <= 0)
                victims[i] = victim_start(v, -1);
        int k = (int)rand_below(VICTIMS_NOW);
        usleep((useconds_t)rand_below(max_delay_us));
        victim_kill(victims[k]);
        victims[k] = 0;
        kills++;
    }
    for (int i = 0; i < VICTIMS; i++)
        if (victims[i] > 0)
            victim_kill(victims[i]);
    printf("# %s: %lu random kills (after 0-%llu us), %lu whole cycles in %.0f s\n", name, kills,
           (unsigned long long)max_delay_us, (unsigned long)atomic_load(&rep->cycles), budget);
    if (atomic_load(&rep->failures))
        fprintf(stderr, "  %lu failures; the first: %s\n", (unsigned long)atomic_load(&rep->failures),
                rep->first);
    CHECK_EQ_INT(atomic_load(&rep->failures), 0);
    CHECK(kills > 0 && atomic_load(&rep->cycles) > 0);

    /* STATUS first catches up with every death (the daemon's tidy). */
    struct tm_daemon_status after = status(c);
    CHECK_EQ_INT(after.leases, start.leases);
    CHECK_EQ_INT(after.epc_pages, start.epc_pages);
    CHECK_EQ_INT(after.open_fds, start.open_fds);
    struct tm_enclave_info info;
    inspect(c, ENCLAVE, &info);
    CHECK_EQ_INT(info.tcs_leased, 0);
    CHECK_EQ_INT(info.slots_in_use, 0);
    CHECK_EQ_INT(info.tcs_quarantined + info.slots_quarantined, 0);
    for (uint32_t i = 0; i < info.nquarantined; i++)
        fprintf(stderr, "  quarantined %s %u: %s\n", info.quarantined[i].tcs ? "TCS" : "slot",
                info.quarantined[i].index, info.quarantined[i].why);
    CHECK_EQ_INT(info.epc_total, before.epc_total);
    CHECK_EQ_INT(info.nattached, 0);

    uint32_t leasable = info.tcs_total - made_tcs;   /* the daemon keeps one */
    all_tcs_at_once(leasable < info.slots_total ? leasable : info.slots_total);
    CHECK_EQ_INT(status(c).leases, start.leases);
    CHECK_EQ_INT(status(c).epc_pages, start.epc_pages);
    close(c);
    CHECK(daemon_down());
    alarm(0);
}

static void test_random_kills_one_thread(void) { random_kills(ONE_THREAD, "one thread"); }
static void test_random_kills_two_threads(void) { random_kills(TWO_THREADS, "two threads"); }
static void test_random_kills_forked_child(void) { random_kills(FORKED_CHILD, "forked child"); }
static void test_random_kills_exceptions(void) { random_kills(EXCEPTIONS, "exceptions"); }
static void test_random_kills_made_tcs(void)
{
    made_tcs = true;
    random_kills(EXCEPTIONS, "exceptions on made TCSs");
    made_tcs = false;
}
static void test_random_kills_made_tcs_forked(void)
{
    made_tcs = true;
    random_kills(FORKED_CHILD, "forked child on made TCSs");
    made_tcs = false;
}

int main(void)
{
    fixture_init("kills");
    if (!fixture_images()) {
        printf("skip - test_random_kills: the example images are not built (%s)\n", image("hello"));
        return 0;
    }
    rep = mmap(NULL, sizeof *rep, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rep == MAP_FAILED || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        perror("test_random_kills");
        return 1;
    }
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    RUN(test_random_kills_one_thread);
    fixture_between();
    RUN(test_random_kills_two_threads);
    fixture_between();
    RUN(test_random_kills_forked_child);
    fixture_between();
    RUN(test_random_kills_exceptions);
    fixture_between();
    RUN(test_random_kills_made_tcs);
    fixture_between();
    RUN(test_random_kills_made_tcs_forked);
    fixture_finish();
    TEST_EXIT();
}
