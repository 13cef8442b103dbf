/* tm_container_options.init_main: a function of the caller runs as the
 * container's process, where init would exec: PID 1 of its own pid
 * namespace, in its cgroup, after credentials (no CAP_SYS_ADMIN,
 * no_new_privs), with the caller's context; its return is the exit code;
 * process.args are never looked up. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "container/container.h"
#include "container/spec_run.h"
#include "harness.h"

struct seen {
    int magic;
    pid_t pid;
    int attached;
    int mount_errno;
    int no_new_privs;
    char hostname[64];
    char cgroup[256];
};

struct ctx {
    int magic;
    int fd;
};

/* The pids cgroup line of /proc/self/cgroup ("N:pids:/teemate/ID"). */
static void pids_cgroup(char *buf, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[512];
    buf[0] = '\0';
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, ":pids:"))
            snprintf(buf, len, "%s", strchr(strchr(line, ':') + 1, ':') + 1);
    if (f)
        fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static int report(void *arg, struct tm_attachment *a)
{
    struct ctx *c = arg;
    struct seen s = { .magic = c->magic, .pid = getpid(), .attached = a != NULL };
    s.mount_errno = mount("none", "/tmp", "tmpfs", 0, NULL) < 0 ? errno : 0;
    s.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    gethostname(s.hostname, sizeof s.hostname - 1);
    pids_cgroup(s.cgroup, sizeof s.cgroup);
    return write(c->fd, &s, sizeof s) == sizeof s ? 7 : 1;
}

static void test_init_main_runs_as_the_container_process(void)
{
    if (geteuid() != 0)
        SKIP("needs root (namespaces, cgroups)");
    char root[] = "/tmp/tm-initmain-XXXXXX";
    REQUIRE(mkdtemp(root));
    char id[64];
    snprintf(id, sizeof id, "initmain-%d", (int)getpid());
    char *args[] = { "/nonexistent/never-executed" };
    struct tm_run_options ro = { .args = args, .nargs = 1, .memory_max = -1, .pids_max = 16,
                                 .hostname = "initmain" };
    struct tm_container_spec spec = { 0 };
    tm_error err = { 0 };
    REQUIRE(tm_spec_for_run(&ro, &spec, &err) == 0);
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    struct ctx c = { .magic = 0x5eed, .fd = p[1] };
    struct tm_container_options o = { .id = id, .state_root = root, .die_with_runtime = true,
                                      .init_main = report, .init_ctx = &c };
    pid_t pid;
    int ret = tm_container_create(&spec, &o, &pid, NULL, &err);
    tm_spec_free(&spec);
    close(p[1]);
    if (ret < 0) {
        fprintf(stderr, "  create: %s\n", err.msg);
        close(p[0]);
        rmdir(root);
        REQUIRE(ret == 0);
    }
    struct seen s = { 0 };
    ssize_t n = read(p[0], &s, sizeof s);
    close(p[0]);
    CHECK_EQ_INT(tm_container_wait(pid), 7);
    CHECK_EQ_INT(n, sizeof s);
    CHECK_EQ_INT(s.magic, 0x5eed);
    CHECK_EQ_INT(s.pid, 1);
    CHECK_EQ_INT(s.attached, 0);
    CHECK_EQ_INT(s.mount_errno, EPERM);
    CHECK_EQ_INT(s.no_new_privs, 1);
    CHECK(!strcmp(s.hostname, "initmain"));
    /* its own cgroup namespace: its cgroup is the root of its view */
    CHECK(!strcmp(s.cgroup, "/"));
    CHECK_EQ_INT(tm_container_delete(root, id, true, &err), 0);
    struct tm_container_state st;
    CHECK(tm_state_load(root, id, &st, &err) < 0);
    char v1[PATH_MAX], v2[PATH_MAX];
    snprintf(v1, sizeof v1, "/sys/fs/cgroup/pids/teemate/%s", id);
    snprintf(v2, sizeof v2, "/sys/fs/cgroup/teemate/%s", id);
    CHECK(access(v1, F_OK) < 0 && access(v2, F_OK) < 0);
    rmdir(root);
}

int main(void)
{
    RUN(test_init_main_runs_as_the_container_process);
    TEST_EXIT();
}
