/* teemated against hostile and foreign clients, and the life of its socket:
 * malformed and truncated requests, files where none belong, clients that
 * never read, other users, stale and live sockets, autostart. */
#include <errno.h>
#include <poll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon_fixture.h"

/* ---- hostile clients ---- */

static int raw_socket(void)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", sock);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send bytes (with fds) and return the reply's status, or 1 when the daemon
 * closed the connection instead. */
static int send_raw(int fd, const void *msg, size_t len, const int *fds, int nfds, char *why)
{
    union {
        struct cmsghdr a;
        char b[CMSG_SPACE(sizeof(int) * 16)];
    } ctl;
    struct iovec iov = { (void *)msg, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    }
    if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
        return 1;
    static uint8_t r[TM_PROTO_MAX_MESSAGE];
    ssize_t n = recv(fd, r, sizeof r, 0);
    if (n < (ssize_t)(sizeof(struct tm_proto_header) + sizeof(struct tm_proto_reply_head)))
        return 1;
    struct tm_proto_reply_head h;
    memcpy(&h, r + sizeof(struct tm_proto_header), sizeof h);
    if (why)
        snprintf(why, 256, "%s", h.message);
    return h.status;
}

static void test_hostile_requests(void)
{
    daemon_up();
    int c = conn();
    tm_error err = { 0 };
    REQUIRE(create(c, "hello", "hello", &err) == 0);
    struct tm_daemon_status base = status(c);
    int fd = raw_socket();
    REQUIRE(fd >= 0);
    char why[256];
    static uint8_t msg[TM_PROTO_MAX_MESSAGE + 4096];
    int bad = 0;

    CHECK_EQ_INT(send_raw(fd, "abc", 3, NULL, 0, why), -EPROTO);
    bad++;
    CHECK_STR_CONTAINS(why, "truncated message");
    struct tm_proto_header h = { TM_PROTO_MAGIC ^ 1, TM_PROTO_VERSION, TM_REQ_LIST, 16, 0 };
    CHECK_EQ_INT(send_raw(fd, &h, sizeof h, NULL, 0, why), -EPROTO);
    bad++;
    CHECK_STR_CONTAINS(why, "magic");
    h = (struct tm_proto_header){ TM_PROTO_MAGIC, TM_PROTO_VERSION, 99, 16, 0 };
    CHECK_EQ_INT(send_raw(fd, &h, sizeof h, NULL, 0, why), -EPROTO);
    bad++;
    h = (struct tm_proto_header){ TM_PROTO_MAGIC, TM_PROTO_VERSION, TM_REQ_ATTACH, 4000, 0 };
    CHECK_EQ_INT(send_raw(fd, &h, sizeof h, NULL, 0, why), -EPROTO);
    bad++;
    /* Too long for any request. */
    memset(msg, 0, sizeof msg);
    h = (struct tm_proto_header){ TM_PROTO_MAGIC, TM_PROTO_VERSION, TM_REQ_LIST, sizeof msg, 0 };
    memcpy(msg, &h, sizeof h);
    CHECK_EQ_INT(send_raw(fd, msg, sizeof msg, NULL, 0, why), -EPROTO);
    bad++;
    CHECK_STR_CONTAINS(why, "too long");
    /* Files where none belong, and too many of them: all closed by the daemon. */
    int files[12];
    for (int i = 0; i < 12; i++)
        files[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    h = (struct tm_proto_header){ TM_PROTO_MAGIC, TM_PROTO_VERSION, TM_REQ_LIST, 16, 0 };
    CHECK_EQ_INT(send_raw(fd, &h, sizeof h, files, 1, why), -EPROTO);
    bad++;
    CHECK_EQ_INT(send_raw(fd, &h, sizeof h, files, 12, why), -EPROTO);
    bad++;
    /* CREATE with a pipe, a device and garbage as the image. */
    struct tm_proto_create cr = { .name = "evil", .backend = "sim" };
    size_t n = tm_proto_encode_request(TM_REQ_CREATE, &cr, sizeof cr, msg, sizeof msg);
    int pp[2];
    REQUIRE(pipe(pp) == 0);
    CHECK_EQ_INT(send_raw(fd, msg, n, &pp[0], 1, why), -EINVAL);
    CHECK_STR_CONTAINS(why, "not a regular file");
    CHECK_EQ_INT(send_raw(fd, msg, n, files, 1, why), -EINVAL);
    char junk_path[256];
    snprintf(junk_path, sizeof junk_path, "%s/junk.elf", dir);
    int junk = open(junk_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(junk >= 0 && write(junk, "\177ELFjunkjunkjunk", 16) == 16);
    CHECK(send_raw(fd, msg, n, &junk, 1, why) < 0);
    /* A valid image with a garbage SIGSTRUCT. */
    cr.flags = TM_CREATE_HAS_SIG;
    n = tm_proto_encode_request(TM_REQ_CREATE, &cr, sizeof cr, msg, sizeof msg);
    int pair[2] = { open(image("hello"), O_RDONLY), junk };
    CHECK(send_raw(fd, msg, n, pair, 2, why) < 0);
    close(pair[0]);
    close(junk);
    close(pp[0]);
    close(pp[1]);
    for (int i = 0; i < 12; i++)
        close(files[i]);
    /* Random messages with a valid header. */
    uint32_t seed = 12345;
    for (int i = 0; i < 300; i++) {
        /* Odd lengths: never the size of a valid request, all of which are even. */
        size_t len = 17 + 2 * ((seed = seed * 1103515245 + 12345) % 200);
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)((seed = seed * 1103515245 + 12345) >> 16);
        h = (struct tm_proto_header){ TM_PROTO_MAGIC, TM_PROTO_VERSION,
                                      (uint16_t)(1 + i % TM_REQ_LAST), (uint32_t)len, 0 };
        memcpy(msg, &h, sizeof h);
        int ret = send_raw(fd, msg, len, NULL, 0, NULL);
        CHECK(ret < 0);
        bad++;
    }
    /* An empty message: an error reply, counted, like any truncated one. */
    CHECK_EQ_INT(send_raw(fd, msg, 0, NULL, 0, why), -EPROTO);
    bad++;
    CHECK_STR_CONTAINS(why, "truncated message: 0 bytes");
    h = (struct tm_proto_header){ TM_PROTO_MAGIC, TM_PROTO_VERSION, TM_REQ_LIST, 16, 0 };
    CHECK_EQ_INT(send_raw(fd, &h, sizeof h, NULL, 0, NULL), 0);   /* and the connection still serves */
    close(fd);
    struct tm_daemon_status st = status(c);
    CHECK_EQ_INT(st.bad_requests, base.bad_requests + (uint64_t)bad);
    CHECK_EQ_INT(st.enclaves, 1);
    CHECK_EQ_INT(st.open_fds, base.open_fds);   /* every file it was sent is closed */

    /* A client that sends and never reads is dropped; the others are served. */
    fd = raw_socket();
    h = (struct tm_proto_header){ TM_PROTO_MAGIC, TM_PROTO_VERSION, TM_REQ_STATUS, 16, 0 };
    int sent = 0;
    while (sent < 100000 && send(fd, &h, sizeof h, MSG_NOSIGNAL) == sizeof h)
        sent++;
    CHECK(sent < 100000);
    close(fd);
    st = status(c);
    CHECK_EQ_INT(st.open_fds, base.open_fds);
    CHECK_EQ_INT(st.bad_requests, base.bad_requests + (uint64_t)bad);
    close(c);
    CHECK(daemon_down());
}

/* Another user's process is refused (needs root to be that other user). */
static void test_other_user_refused(void)
{
    if (geteuid() != 0)
        SKIP("needs root to connect as another user");
    daemon_up();
    /* Let the other user reach the socket at all: the daemon must still refuse. */
    char run[256];
    snprintf(run, sizeof run, "%s/run", dir);
    REQUIRE(chmod(dir, 0711) == 0 && chmod(run, 0711) == 0 && chmod(sock, 0666) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(3);
        tm_error err = { 0 };
        int c = tm_daemon_connect(sock, false, NULL, &err);
        struct tm_daemon_status st;
        if (c < 0)
            _exit(4);
        int ret = tm_daemon_status(c, &st, &err);
        /* told why, not a bare "Broken pipe" */
        _exit(ret == -EACCES && strstr(err.msg, "serves that user and root only") ? 0 : 5);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    chmod(dir, 0700);
    chmod(run, 0700);
    CHECK(daemon_down());
}

/* ---- socket life ---- */

static void test_socket_rules(void)
{
    /* A stale socket (its daemon died) is replaced. */
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", sock);
    char run[256];
    snprintf(run, sizeof run, "%s/run", dir);
    mkdir(run, 0700);
    unlink(sock);
    REQUIRE(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(fd);
    daemon_up();
    struct stat st;
    REQUIRE(stat(sock, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    /* A second daemon on a live socket refuses, naming the first. */
    char report[256];
    pid_t second = daemon_spawn_at(sock, report, sizeof report);
    int status;
    waitpid(second, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHECK(report[0] == 'A');
    char want[64];
    snprintf(want, sizeof want, "(pid %d)", daemon_pid);
    CHECK_STR_CONTAINS(report, "already runs on");
    CHECK_STR_CONTAINS(report, want);
    int c = conn();
    CHECK(c >= 0);
    close(c);
    CHECK(daemon_down());
    CHECK(access(sock, F_OK) < 0);   /* removed at exit */
    /* Not a socket at the path; a directory others can write. */
    close(open(sock, O_WRONLY | O_CREAT, 0600));
    second = daemon_spawn_at(sock, report, sizeof report);
    waitpid(second, NULL, 0);
    CHECK_STR_CONTAINS(report, "is not a socket");
    unlink(sock);
    char open_dir[256], open_sock[300];
    snprintf(open_dir, sizeof open_dir, "%s/open", dir);
    mkdir(open_dir, 0777);
    chmod(open_dir, 0777);
    snprintf(open_sock, sizeof open_sock, "%s/sock", open_dir);
    second = daemon_spawn_at(open_sock, report, sizeof report);
    waitpid(second, NULL, 0);
    CHECK_STR_CONTAINS(report, "can be written by others");
}

/* tm_daemon_connect starts the daemon when none runs (the CLI binary), and
 * two clients starting it at once get one daemon. */
static void test_autostart(void)
{
    char exe[512];
    const char *t = getenv("TEEMATE");
    snprintf(exe, sizeof exe, "%s/teemate", getenv("BUILD") ? getenv("BUILD") : "build-san");
    if (t && *t)
        snprintf(exe, sizeof exe, "%s", t);
    if (access(exe, X_OK) < 0)
        SKIP("the teemate CLI is not built");
    setenv("TEEMATE_EXE", exe, 1);
    pid_t kids[2];
    int p[2];
    REQUIRE(pipe(p) == 0);
    fflush(NULL);
    for (int i = 0; i < 2; i++) {
        if ((kids[i] = fork()) == 0) {
            tm_error err = { 0 };
            bool started = false;
            int c = tm_daemon_connect(sock, true, &started, &err);
            struct tm_daemon_status st = { 0 };
            if (c < 0 || tm_daemon_status(c, &st, &err) < 0)
                fprintf(stderr, "  autostart: %s\n", err.msg);
            int32_t pid = st.pid;
            if (write(p[1], &pid, sizeof pid) != sizeof pid)
                _exit(1);
            _exit(0);
        }
    }
    int32_t pids[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) {
        CHECK(read(p[0], &pids[i], sizeof pids[i]) == sizeof pids[i]);
        waitpid(kids[i], NULL, 0);
    }
    close(p[0]);
    close(p[1]);
    CHECK(pids[0] > 0);
    CHECK_EQ_INT(pids[0], pids[1]);
    char log[256];
    snprintf(log, sizeof log, "%s/teemated.log", dir);
    CHECK(access(log, F_OK) == 0);
    /* Stop it and wait for it to be gone (it is not our child). */
    int pidfd = pids[0] > 0 ? pidfd_open(pids[0], 0) : -1;
    if (pidfd >= 0) {
        kill(pids[0], SIGTERM);
        struct pollfd pf = { .fd = pidfd, .events = POLLIN };
        CHECK(poll(&pf, 1, 10000) == 1);
        close(pidfd);
    }
    unsetenv("TEEMATE_EXE");
}

int main(void)
{
    fixture_init("daemon-socket");
    if (!fixture_images()) {
        printf("skip - test_daemon_socket: the example images are not built (%s)\n", image("hello"));
        return 0;
    }
    RUN(test_hostile_requests);
    fixture_between();
    RUN(test_other_user_refused);
    fixture_between();
    RUN(test_socket_rules);
    fixture_between();
    RUN(test_autostart);
    fixture_finish();
    TEST_EXIT();
}
