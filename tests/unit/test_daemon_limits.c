/* teemated's limits against a hostile client of the same user: crowds of
 * idle connections, a CREATE of gigabytes, enclaves past the operator's
 * limits, floods of bad requests, and files planted in the state directory.
 * No assertion depends on speed except the LIST latency bound, which is
 * generous (50 ms under ASan while the build takes seconds). */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon_fixture.h"
#include "enclave/devkey.h"
#include "enclave/enclave.h"
#include "enclave/image.h"
#include "shared/attach.h"
#include "util/clock.h"
#include "util/file.h"

/* A connection that sends nothing (-1 when connect failed). */
static int raw_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", sock);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* STATUS on fd as the client library does it: 0, or -errno with err. */
static int status_on(int fd, tm_error *err)
{
    struct tm_daemon_status st;
    return tm_daemon_status(fd, &st, err);
}

/* Wait (bounded) until the daemon closed fd. */
static bool closed_by_daemon(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLRDHUP };
    return poll(&p, 1, ms) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
}

/* ---- 2. connections ---- */

/* Another process connects and LISTs (and with enclave, creates it, attaches
 * and detaches): whether all of it worked. */
static bool newcomer_served(const char *enclave)
{
    fflush(NULL);
    pid_t kid = fork();
    if (kid == 0) {
        tm_error err = { 0 };
        int c = tm_daemon_connect(sock, false, NULL, &err);
        struct tm_enclave_info *infos = NULL;
        size_t n;
        struct raw_lease l;
        bool ok = c >= 0 && tm_daemon_list(c, &infos, &n, &err) == 0;
        if (ok && enclave)
            ok = create(c, enclave, "hello", &err) == 0 && raw_attach(c, enclave, 1, &l, &err) == 0 &&
                 raw_detach(c, &l, &err) == 0;
        if (!ok)
            fprintf(stderr, "  newcomer: %s\n", err.msg);
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(kid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void close_all(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* One process opens far more connections than it may and holds them: the
 * ones past its cap get a notice the client prints, and another process is
 * still served. */
static void test_idle_crowd(void)
{
    fixture_options = (struct tm_daemon_options){ .conns_per_pid = 16 };
    daemon_up();
    enum { CROWD = 1100 };
    static int fds[CROWD];
    int opened = 0;
    for (int i = 0; i < CROWD; i++)
        opened += (fds[i] = raw_connect()) >= 0;
    CHECK_EQ_INT(opened, CROWD);   /* the kernel's backlog takes them; the daemon sorts them out */
    /* The 17th is refused with a notice; the client library says so. */
    int refused = 0, served = 0;
    char why[1024] = "";
    for (int i = 0; i < CROWD; i++) {
        tm_error err = { 0 };
        if (fds[i] < 0)
            continue;
        if (status_on(fds[i], &err) == 0) {
            served++;
        } else {
            refused++;
            if (!why[0])
                snprintf(why, sizeof why, "%s", err.msg);
        }
    }
    CHECK_EQ_INT(served, 16);
    CHECK_EQ_INT(refused, CROWD - 16);
    char want[128];
    snprintf(want, sizeof want, "teemated is full: 16 connections from pid %d (limit 16 per process)",
             (int)getpid());
    CHECK_STR_CONTAINS(why, want);
    /* Another process, while the crowd still holds its connections. */
    CHECK(newcomer_served(NULL));
    close_all(fds, CROWD);
    fixture_options = (struct tm_daemon_options){ 0 };
    CHECK(daemon_down());
}

/* Processes one after the other, each within its cap, fill the daemon's
 * share for one user (7/8 of 24 = 21): a newcomer makes room by closing the
 * longest-idle connection of the process holding the most, as long as that
 * one holds more than the newcomer would; the closed ones are told why. */
static void test_full_daemon_makes_room(void)
{
    fixture_options = (struct tm_daemon_options){ .conns_per_pid = 8, .max_conns = 24 };
    daemon_up();
    int ready[2], go[2], told[2];
    REQUIRE(pipe(ready) == 0 && pipe(go) == 0 && pipe(told) == 0);
    pid_t kids[3];
    int served[3] = { 0 };
    for (int k = 0; k < 3; k++) {
        fflush(NULL);
        if ((kids[k] = fork()) == 0) {
            int fds[8], n = 0;
            bool ok[8];
            tm_error err = { 0 };
            for (int i = 0; i < 8; i++)   /* served once each, then idle */
                n += ok[i] = (fds[i] = raw_connect()) >= 0 && status_on(fds[i], &err) == 0;
            ssize_t w = write(ready[1], &n, sizeof n);
            char c;
            w += read(go[0], &c, 1);
            /* Which of them were closed to make room, and what they were told. */
            for (int i = 0; i < 8; i++) {
                tm_error e2 = { 0 };
                if (ok[i] && closed_by_daemon(fds[i], 0) && status_on(fds[i], &e2) < 0)
                    w += write(told[1], e2.msg, sizeof e2.msg);
            }
            (void)w;
            _exit(0);
        }
        CHECK(read(ready[0], &served[k], sizeof served[k]) == sizeof served[k]);
    }
    /* 8 + 8, then the third gets 5 free ones, and two more by closing one of
     * each of the others (8 > 5 + 1, 8 > 6 + 1); its 8th finds 7 = 7 + 0: full. */
    CHECK_EQ_INT(served[0], 8);
    CHECK_EQ_INT(served[1], 8);
    CHECK_EQ_INT(served[2], 7);
    tm_error err = { 0 };
    int c = conn();   /* a newcomer with none: room again, from the first (7, the longest idle) */
    CHECK(c >= 0 && status_on(c, &err) == 0);
    struct tm_daemon_status s = status(c);
    CHECK_EQ_INT(s.conns_refused, 4);
    CHECK_EQ_INT(s.conns, 21);
    CHECK(write(go[1], "xxx", 3) == 3);
    close(go[1]);
    close(told[1]);
    char msg[sizeof err.msg];
    int evicted = 0;
    while (read(told[0], msg, sizeof msg) == (ssize_t)sizeof msg) {
        evicted++;
        CHECK_STR_CONTAINS(msg, "teemated closed this idle connection to make room for pid");
    }
    CHECK_EQ_INT(evicted, 3);
    for (int k = 0; k < 3; k++)
        waitpid(kids[k], NULL, 0);
    close(c);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(told[0]);
    fixture_options = (struct tm_daemon_options){ 0 };
    CHECK(daemon_down());
}

/* With few fds, connections get half of them, and a newcomer is still
 * served: the daemon never runs out of fds for its leases and enclaves. */
static void test_fd_budget(void)
{
    fixture_nofile = 48;
    daemon_up();
    fixture_nofile = 0;
    enum { CROWD = 60 };
    int fds[CROWD], served = 0;
    char why[1024] = "";
    for (int i = 0; i < CROWD; i++) {
        tm_error err = { 0 };
        fds[i] = raw_connect();
        if (fds[i] >= 0 && status_on(fds[i], &err) == 0)
            served++;
        else if (!why[0])
            snprintf(why, sizeof why, "%s", err.msg);
    }
    CHECK_EQ_INT(served, 21);   /* 24 connections for 48 fds, 7/8 of them for one user */
    CHECK_STR_CONTAINS(why, "teemated is full: 21 connections from uid");
    /* The crowd's fds are all it holds: the daemon can still build and lease. */
    CHECK(newcomer_served("few"));
    close_all(fds, CROWD);
    CHECK(daemon_down());
}

/* A connection that sends nothing is closed after the idle limit, with a
 * notice; one whose process holds a lease through it is not. */
static void test_idle_timeout(void)
{
    fixture_options = (struct tm_daemon_options){ .idle_timeout_ms = 1000 };
    daemon_up();
    tm_error err = { 0 };
    int leased = conn();
    REQUIRE(create(leased, "idle", "hello", &err) == 0);
    struct raw_lease l = { 0 };
    REQUIRE(raw_attach(leased, "idle", 1, &l, &err) == 0);
    int idle = raw_connect();
    REQUIRE(idle >= 0);
    double t0 = tm_now_ms();
    CHECK(closed_by_daemon(idle, 20000));
    CHECK(tm_now_ms() - t0 >= 900);
    CHECK_EQ_INT(status_on(idle, &err), -ETIMEDOUT);
    CHECK_STR_CONTAINS(err.msg, "teemated closed this connection: no request for 1 s");
    /* The lease's connection was idle longer, and still serves. */
    CHECK(!closed_by_daemon(leased, 0));
    CHECK_EQ_INT(status_on(leased, &err), 0);
    CHECK_EQ_INT(raw_detach(leased, &l, &err), 0);
    close(idle);
    close(leased);
    fixture_options = (struct tm_daemon_options){ 0 };
    CHECK(daemon_down());
}

/* ---- 3. CREATE off the main loop, limits ---- */

/* hello's code in an enclave of size bytes whose heap fills it, written to dir. */
static void big_image(uint64_t size, char *path, size_t len)
{
    tm_error err = { 0 };
    struct tm_image *base = NULL, *big = NULL;
    REQUIRE(tm_image_load(image("hello"), &base, &err) == 0);
    struct tm_layout_settings s = base->layout.settings;
    s.enclave_size = size;
    s.heap_size = size / 2;
    int ret = tm_image_with_settings(base, &s, &big, &err);
    if (ret < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    snprintf(path, len, "%s/big-%llu.elf", dir, (unsigned long long)(size >> 20));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0 && write(fd, big->file, big->file_len) == (ssize_t)big->file_len);
    close(fd);
    tm_image_free(big);
    tm_image_free(base);
}

/* CREATE name from path in a child; its exit status 0 on success, 2 when
 * cancelled with the message, 1 otherwise. */
static pid_t create_in_child(const char *name, const char *path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        tm_error err = { 0 };
        int c = tm_daemon_connect(sock, false, NULL, &err);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        int ret = c < 0 || fd < 0 ? -1 : tm_daemon_create(c, name, fd, -1, "sim", "big", NULL, NULL, 0, &err);
        if (ret == -ECANCELED && strstr(err.msg, "was removed while it was being built"))
            _exit(2);
        if (ret < 0)
            fprintf(stderr, "  create %s: %s\n", name, err.msg);
        _exit(ret == 0 ? 0 : 1);
    }
    return pid;
}

static bool child_done(pid_t pid, int *status)
{
    return waitpid(pid, status, WNOHANG) == pid;
}

/* A 1 GiB enclave (512 MiB of heap added page by page) builds while LIST
 * keeps answering at once and shows the progress; ATTACH is told to wait. */
static void test_large_create_does_not_block(void)
{
    daemon_up();
    char path[256];
    big_image(1ULL << 30, path, sizeof path);
    int c = conn();
    REQUIRE(c >= 0);
    pid_t kid = create_in_child("big", path);
    double worst = 0, t_start = tm_now_ms();
    int lists = 0, mid = 0, st = -1;
    bool attach_refused = false;
    char attach_msg[1024] = "";
    while (!child_done(kid, &st) && tm_now_ms() - t_start < 120000) {
        struct tm_enclave_info *infos = NULL;
        size_t n = 0;
        tm_error err = { 0 };
        double t0 = tm_now_ms();
        int ret = tm_daemon_list(c, &infos, &n, &err);
        double dt = tm_now_ms() - t0;
        REQUIRE(ret == 0);
        worst = dt > worst ? dt : worst;
        lists++;
        if (n == 1 && infos[0].building && infos[0].build_pages_done > 0 &&
            infos[0].build_pages_done < infos[0].build_pages_total) {
            mid++;
            CHECK_EQ_INT(infos[0].size, 1ULL << 30);
            if (!attach_refused) {
                struct raw_lease l;
                attach_refused = raw_attach(c, "big", 1, &l, &err) == -EBUSY;
                snprintf(attach_msg, sizeof attach_msg, "%s", err.msg);
                struct tm_enclave_info info;
                inspect(c, "big", &info);
                CHECK(info.building);
            }
        }
        free(infos);
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    double build_ms = tm_now_ms() - t_start;
    printf("# 1 GiB CREATE: %.0f ms; %d LISTs meanwhile, %d showed it mid-build, slowest %.2f ms\n",
           build_ms, lists, mid, worst);
    CHECK(mid >= 1);
    CHECK(worst < 50);
    CHECK(attach_refused);
    CHECK_STR_CONTAINS(attach_msg, "enclave 'big' is still being built");
    struct tm_enclave_info info;
    inspect(c, "big", &info);
    CHECK(!info.building);
    CHECK(info.epc_total >= (512ULL << 20) / 4096);
    close(c);
    CHECK(daemon_down());
}

/* rm while it builds: the build stops, its creator is told, the EPC it had
 * reserved is free again. */
static void test_remove_cancels_build(void)
{
    daemon_up();
    char path[256];
    big_image(2ULL << 30, path, sizeof path);
    int c = conn();
    struct tm_daemon_status before = status(c);
    pid_t kid = create_in_child("doomed", path);
    tm_error err = { 0 };
    bool removed = false;
    int st = -1;
    for (double t0 = tm_now_ms(); !removed && tm_now_ms() - t0 < 60000;) {
        struct tm_enclave_info info;
        if (tm_daemon_inspect(c, "doomed", &info, &err) == 0 && info.build_pages_done > 0)
            removed = tm_daemon_remove(c, "doomed", false, NULL, &err) == 0;
        if (child_done(kid, &st))
            break;
    }
    CHECK(removed);
    if (st == -1)
        waitpid(kid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    struct tm_daemon_status after = status(c);
    CHECK_EQ_INT(after.enclaves, 0);
    CHECK_EQ_INT(after.builds, 0);
    CHECK_EQ_INT(after.epc_committed, before.epc_committed);
    CHECK_EQ_INT(after.epc_pages, 0);
    CHECK_EQ_INT(tm_daemon_inspect(c, "doomed", &(struct tm_enclave_info){ 0 }, &err), -ENOENT);
    close(c);
    CHECK(daemon_down());
}

/* Pages an enclave of this image reserves: what its build adds. */
static uint64_t commit_of(const char *img)
{
    tm_error err = { 0 };
    struct tm_image *im = NULL;
    REQUIRE(tm_image_load(image(img), &im, &err) == 0);
    uint64_t n = 0;
    for (size_t i = 0; i < im->layout.nranges; i++)   /* slots count as they are added */
        n += im->layout.ranges[i].on_demand ? 0 : im->layout.ranges[i].size / 4096;
    tm_image_free(im);
    return n;
}

static void test_operator_limits(void)
{
    /* hello's ELRANGE past the largest enclave allowed. */
    fixture_options = (struct tm_daemon_options){ .max_enclave_size = 1ULL << 20 };
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    CHECK_EQ_INT(create(c, "toobig", "hello", &err), -EFBIG);
    CHECK_STR_CONTAINS(err.msg, "more than teemated allows for one enclave (1 MiB)");
    CHECK_STR_CONTAINS(err.msg, "--max-enclave-size");
    close(c);
    CHECK(daemon_down());
    /* EPC for exactly one: the second is refused until the first is gone. */
    uint64_t one = commit_of("hello");
    fixture_options = (struct tm_daemon_options){ .max_epc = (one + one / 2) * 4096 };
    daemon_up();
    c = conn();
    CHECK_EQ_INT(create(c, "first", "hello", &err), 0);
    struct tm_daemon_status s = status(c);
    CHECK_EQ_INT(s.epc_committed, one);
    CHECK_EQ_INT(s.epc_limit, one + one / 2);
    CHECK_EQ_INT(create(c, "second", "hello", &err), -ENOSPC);
    CHECK_STR_CONTAINS(err.msg, "enclave 'second' may commit");
    CHECK_STR_CONTAINS(err.msg, "start teemated with a larger --max-epc");
    CHECK_EQ_INT(tm_daemon_remove(c, "first", false, NULL, &err), 0);
    CHECK_EQ_INT(status(c).epc_committed, 0);
    CHECK_EQ_INT(create(c, "second", "hello", &err), 0);
    close(c);
    fixture_options = (struct tm_daemon_options){ 0 };
    CHECK(daemon_down());
}

/* An attached child that allocates 16 KiB blocks in its slot (hello's
 * ecall 19: malloc) until malloc fails inside; writes how many it got, then
 * holds its lease until killed. */
static pid_t allocate_until_full(int out)
{
    fflush(NULL);
    pid_t kid = fork();
    if (kid == 0) {
        struct tm_attach_options o = { .socket_path = sock, .no_autostart = true };
        struct tm_attachment *a = NULL;
        tm_error err = { 0 };
        int64_t got = -1;
        if (tm_attach("h", &o, &a, &err) == 0) {
            uint64_t size = 16 << 10, p;
            for (got = 0; got < 100000; got++) {
                struct tm_ecall_call c = { .ecall = 19, .in = &size, .in_len = sizeof size, .out = &p,
                                           .out_cap = sizeof p };
                if (tm_attach_ecall(a, 0, &c, &err) < 0 || c.retval != 0)
                    break;
            }
        } else {
            fprintf(stderr, "  attach: %s\n", err.msg);
        }
        if (write(out, &got, sizeof got) != sizeof got)
            _exit(1);
        pause();
        _exit(0);
    }
    return kid;
}

/* --max-epc counts what is committed: a slot's pages as they come. A new
 * lease's slot is capped at what is left, so malloc fails inside at it (the
 * enclave goes on serving), and with nothing left an attach is refused. */
static void test_epc_budget_caps_slots(void)
{
    uint64_t one = commit_of("hello");
    fixture_options = (struct tm_daemon_options){ .max_epc = (one + 64) * 4096 };
    daemon_up();
    int c = conn(), p[2];
    tm_error err = { 0 };
    REQUIRE(create(c, "h", "hello", &err) == 0 && pipe2(p, O_CLOEXEC) == 0);
    pid_t kid = allocate_until_full(p[1]);
    int64_t got = -1;
    REQUIRE(read(p[0], &got, sizeof got) == sizeof got);
    CHECK(got >= 8 && got < 16);   /* 64 pages, less the ecalls' copies: well short of the 1 MiB slot */
    struct tm_enclave_info info;
    inspect(c, "h", &info);
    REQUIRE(info.nattached == 1);
    CHECK_EQ_INT(info.attached[0].epc_limit_pages, 64);
    CHECK_EQ_INT(info.attached[0].epc_pages, 64);
    struct raw_lease l = { 0 };
    CHECK_EQ_INT(raw_attach(c, "h", 1, &l, &err), -ENOSPC);
    CHECK_STR_CONTAINS(err.msg, "teemated's EPC limit");
    CHECK_STR_CONTAINS(err.msg, "--max-epc");
    reap(&kid, SIGKILL);
    CHECK_EQ_INT(status(c).leases, 0);   /* STATUS catches up with the death */
    CHECK_EQ_INT(raw_attach(c, "h", 1, &l, &err), 0);   /* its pages came back */
    inspect(c, "h", &info);
    CHECK_EQ_INT(info.attached[0].epc_limit_pages, 64);
    CHECK_EQ_INT(raw_detach(c, &l, &err), 0);
    close(p[0]);
    close(p[1]);
    close(c);
    CHECK(daemon_down());

    /* A TCS made on demand counts too: one past the budget is not made,
     * the attach is refused, and nothing is quarantined or kept. */
    char od[256];
    snprintf(od, sizeof od, "%s/hello-od.elf", dir);
    _cleanup_image_ struct tm_image *im = NULL, *variant = NULL;
    REQUIRE(tm_image_load(image("hello"), &im, &err) == 0);
    struct tm_layout_settings s = im->layout.settings;
    s.tcs_on_demand = s.tcs_count++;
    REQUIRE(tm_image_with_settings(im, &s, &variant, &err) == 0);
    REQUIRE(tm_file_write(od, variant->file, variant->file_len, 0600, &err) == 0);
    uint64_t built = tm_enclave_build_pages(&variant->layout);
    fixture_options = (struct tm_daemon_options){ .max_epc = (built + 8) * 4096 };
    daemon_up();
    c = conn();
    int fd = open(od, O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(tm_daemon_create(c, "h", fd, -1, "sim", "hello-od.elf", NULL, NULL, 0, &err) == 0);
    close(fd);
    CHECK_EQ_INT(raw_attach(c, "h", 1, &l, &err), -ENOSPC);
    CHECK_STR_CONTAINS(err.msg, "TCS 1 needs");
    inspect(c, "h", &info);
    CHECK_EQ_INT(info.tcs_made, 1);
    CHECK_EQ_INT(info.tcs_leased + info.slots_in_use + info.tcs_quarantined, 0);
    close(c);
    fixture_options = (struct tm_daemon_options){ 0 };
    CHECK(daemon_down());
}

/* ---- 4. the log and the files ---- */

static size_t count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    size_t n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* 20000 bad requests on one connection: each answered and counted, but the
 * log gets a burst and then a line a second, and says how many it dropped. */
static void test_log_rate_limit(void)
{
    daemon_up();
    char log[256];
    snprintf(log, sizeof log, "%s/daemon.log", dir);
    size_t before = count_lines(log, "bad request from pid");
    int c = conn();
    struct tm_daemon_status base = status(c);
    int fd = raw_connect();
    double t0 = tm_now_ms();
    int answered = 0;
    for (int i = 0; i < 20000; i++) {
        uint8_t reply[512];
        if (send(fd, "junk", 4, MSG_NOSIGNAL) == 4 && recv(fd, reply, sizeof reply, 0) > 0)
            answered++;
    }
    double secs = (tm_now_ms() - t0) / 1000;
    close(fd);
    struct tm_daemon_status s = status(c);   /* after the close: the drop count is logged */
    CHECK_EQ_INT(answered, 20000);
    CHECK_EQ_INT(s.bad_requests - base.bad_requests, 20000);
    size_t lines = count_lines(log, "bad request from pid") - before;
    printf("# 20000 bad requests in %.1f s: %zu log lines, %llu dropped\n", secs, lines,
           (unsigned long long)(s.log_dropped - base.log_dropped));
    CHECK(lines >= 10 && lines <= 10 + (size_t)secs + 2);
    CHECK_EQ_INT(lines + (s.log_dropped - base.log_dropped), 20000);
    CHECK(count_lines(log, "log lines about its connection were dropped (rate limit)") == 1);
    /* Reconnecting for every few bad requests buys no more of the log: all
     * connections together get a burst of 100, then 10 lines a second. */
    before = count_lines(log, "teemated[");
    t0 = tm_now_ms();
    for (int k = 0; k < 300; k++) {
        fd = raw_connect();
        for (int i = 0; i < 12; i++) {
            uint8_t reply[512];
            if (send(fd, "junk", 4, MSG_NOSIGNAL) != 4 || recv(fd, reply, sizeof reply, 0) <= 0)
                break;
        }
        close(fd);
    }
    secs = (tm_now_ms() - t0) / 1000;
    s = status(c);
    lines = count_lines(log, "teemated[") - before;
    printf("# 300 connections x 12 bad requests in %.1f s: %zu log lines\n", secs, lines);
    CHECK_EQ_INT(s.bad_requests - base.bad_requests, 20000 + 300 * 12);
    CHECK(lines <= 100 + 10 * (size_t)secs + 10);
    close(c);
    CHECK(daemon_down());
}

/* The background daemon's log is never opened through a planted symlink. */
static void test_log_symlink_refused(void)
{
    char target[256], link_path[256];
    snprintf(target, sizeof target, "%s/precious", dir);
    snprintf(link_path, sizeof link_path, "%s/teemated.log", dir);
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0 && write(fd, "keep\n", 5) == 5);
    close(fd);
    unlink(link_path);
    REQUIRE(symlink(target, link_path) == 0);
    tm_error err = { 0 };
    int pid = 0;
    setenv("TEEMATE_EXE", "/bin/false", 1);   /* never reached: the log is refused first */
    CHECK_EQ_INT(tm_daemon_spawn(sock, &pid, &err), -ELOOP);
    unsetenv("TEEMATE_EXE");
    CHECK_STR_CONTAINS(err.msg, "is a symbolic link");
    struct stat st;
    CHECK(stat(target, &st) == 0 && st.st_size == 5);
    unlink(link_path);
    unlink(target);
}

/* The development key must be this user's alone, as sim-root.key. */
static void test_devkey_ownership(void)
{
    char key[256], other[256], link_target[256];
    snprintf(key, sizeof key, "%s/dev-signing-key.pem", dir);
    snprintf(link_target, sizeof link_target, "%s/elsewhere.pem", dir);
    tm_error err = { 0 };
    struct tm_image *im = NULL;
    REQUIRE(tm_image_load(image("hello"), &im, &err) == 0);
    struct sgx_sigstruct ss;
    /* Made fresh, then used as it is. */
    unlink(key);
    CHECK_EQ_INT(tm_devkey_sign(im, &ss, other, sizeof other, &err), 0);
    CHECK_EQ_INT(tm_devkey_sign(im, &ss, other, sizeof other, &err), 0);
    /* Readable by others. */
    REQUIRE(chmod(key, 0644) == 0);
    CHECK_EQ_INT(tm_devkey_sign(im, &ss, other, sizeof other, &err), -EACCES);
    CHECK_STR_CONTAINS(err.msg, "accessible by group or others (mode 0644)");
    REQUIRE(chmod(key, 0600) == 0);
    /* Through a symlink. */
    REQUIRE(rename(key, link_target) == 0 && symlink(link_target, key) == 0);
    CHECK_EQ_INT(tm_devkey_sign(im, &ss, other, sizeof other, &err), -ELOOP);
    CHECK_STR_CONTAINS(err.msg, "is a symbolic link");
    REQUIRE(unlink(key) == 0 && rename(link_target, key) == 0);
    /* Another user's (as root: give it away). The daemon refuses to sign too. */
    if (geteuid() == 0) {
        REQUIRE(chown(key, 65534, 65534) == 0);
        CHECK_EQ_INT(tm_devkey_sign(im, &ss, other, sizeof other, &err), -EACCES);
        CHECK_STR_CONTAINS(err.msg, "belongs to uid 65534, not to this user");
        daemon_up();
        int c = conn();
        CHECK_EQ_INT(create(c, "unsigned", "hello", &err), -EACCES);
        CHECK_STR_CONTAINS(err.msg, "belongs to uid 65534");
        close(c);
        CHECK(daemon_down());
        REQUIRE(chown(key, 0, 0) == 0);
    }
    tm_image_free(im);
}

int main(void)
{
    fixture_init("daemon-limits");
    if (!fixture_images()) {
        printf("skip - test_daemon_limits: the example images are not built (%s)\n", image("hello"));
        return 0;
    }
    RUN(test_idle_crowd);
    fixture_between();
    RUN(test_full_daemon_makes_room);
    fixture_between();
    RUN(test_fd_budget);
    fixture_between();
    RUN(test_idle_timeout);
    fixture_between();
    RUN(test_large_create_does_not_block);
    fixture_between();
    RUN(test_remove_cancels_build);
    fixture_between();
    RUN(test_operator_limits);
    RUN(test_epc_budget_caps_slots);
    fixture_between();
    RUN(test_log_rate_limit);
    fixture_between();
    RUN(test_log_symlink_refused);
    RUN(test_devkey_ownership);
    fixture_finish();
    TEST_EXIT();
}
