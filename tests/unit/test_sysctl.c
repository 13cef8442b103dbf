/* linux.sysctl: runc's rules (which namespace each sysctl lives in) and its
 * exact messages, names that could climb out of /proc/sys, and the write
 * itself in a private IPC namespace (root only). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/init.h"
#include "harness.h"

/* Check one sysctl against a spec whose namespaces are private as given. */
static int check(const char *key, bool ipc, bool net, const char *net_path, bool uts, tm_error *err)
{
    struct tm_key_value kv = { (char *)key, "1" };
    struct tm_container_spec spec = { .sysctls = &kv, .nsysctls = 1 };
    spec.namespaces[TM_NS_IPC].enabled = ipc;
    spec.namespaces[TM_NS_NET].enabled = net;
    spec.namespaces[TM_NS_NET].path = (char *)net_path;
    spec.namespaces[TM_NS_UTS].enabled = uts;
    memset(err, 0, sizeof(*err));
    return tm_sysctl_check(&spec, err);
}

static void test_namespaced_allowed(void)
{
    tm_error err;
    static const char *ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                 "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                 "kernel.shm_rmid_forced", "fs.mqueue.msg_max" };
    for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
        CHECK_EQ_INT(check(ipc[i], true, false, NULL, false, &err), 0);
    CHECK_EQ_INT(check("net.ipv4.ip_forward", false, true, NULL, false, &err), 0);
    CHECK_EQ_INT(check("net.ipv4.conf.all.rp_filter", false, true, NULL, false, &err), 0);
    CHECK_EQ_INT(check("kernel.domainname", false, false, NULL, true, &err), 0);
}

static void test_host_refused(void)
{
    tm_error err;
    /* Everything private, yet these are the host's own. */
    static const char *host[] = { "vm.swappiness", "vm.drop_caches", "kernel.core_pattern",
                                  "kernel.msgmax_not", "fs.file-max", "kernel.domainname" };
    for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
        bool uts = strcmp(host[i], "kernel.domainname") != 0;
        CHECK_EQ_INT(check(host[i], true, true, NULL, uts, &err), -EPERM);
        char want[128];
        snprintf(want, sizeof(want), "sysctl \"%s\" is not in a separate kernel namespace", host[i]);
        CHECK(!strcmp(err.msg, want));
    }
    CHECK_EQ_INT(check("kernel.shmmax", false, true, NULL, true, &err), -EPERM);
    CHECK(!strcmp(err.msg, "sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace"));
    CHECK_EQ_INT(check("fs.mqueue.queues_max", false, true, NULL, true, &err), -EPERM);
    CHECK_EQ_INT(check("net.ipv4.ip_forward", true, false, NULL, true, &err), -EPERM);
    CHECK(!strcmp(err.msg, "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"));
    /* Joining a network namespace that is in fact ours (the host's) is the host's. */
    CHECK_EQ_INT(check("net.ipv4.ip_forward", true, true, "/proc/self/ns/net", true, &err), -EPERM);
    CHECK(!strcmp(err.msg, "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"));
    CHECK_EQ_INT(check("net.ipv4.ip_forward", true, true, "/nonexistent/net", true, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "invalid netns path /nonexistent/net");
    CHECK_EQ_INT(check("kernel.hostname", true, true, NULL, true, &err), -EPERM);
    CHECK(!strcmp(err.msg, "sysctl \"kernel.hostname\" is not allowed as it conflicts with the OCI \"hostname\" field"));
}

static void test_names_refused(void)
{
    tm_error err;
    static const char *bad[] = { "", ".", "net.", ".net.ipv4.ip_forward", "net..ipv4", "net/ipv4/ip_forward",
                                 "net.ipv4.conf.all/../../../vm/swappiness", "net.ipv4 .x", "net.ipv4.\n",
                                 "net.*" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(check(bad[i], true, true, NULL, true, &err), -EINVAL);
        CHECK_STR_CONTAINS(err.msg, "is not a valid sysctl name");
    }
}

/* In a private IPC namespace (as init writes it): the value lands there and
 * the host's stays. */
static void test_write(void)
{
    if (geteuid() != 0)
        SKIP("needs root (a private IPC namespace)");
    FILE *f = fopen("/proc/sys/kernel/shmmni", "r");
    long host = -1;
    REQUIRE(f && fscanf(f, "%ld", &host) == 1);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        char value[32];
        snprintf(value, sizeof(value), "%ld", host - 1);
        struct tm_key_value kv = { "kernel.shmmni", value };
        struct tm_container_spec spec = { .sysctls = &kv, .nsysctls = 1 };
        tm_error err;
        if (unshare(CLONE_NEWIPC) < 0 || tm_sysctl_write(&spec, &err) < 0)
            _exit(2);
        FILE *g = fopen("/proc/sys/kernel/shmmni", "r");
        long inside = -1;
        _exit(g && fscanf(g, "%ld", &inside) == 1 && inside == host - 1 ? 0 : 3);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    f = fopen("/proc/sys/kernel/shmmni", "r");
    long after = -1;
    REQUIRE(f && fscanf(f, "%ld", &after) == 1);
    fclose(f);
    CHECK_EQ_INT(after, host);
}

int main(void)
{
    RUN(test_namespaced_allowed);
    RUN(test_host_refused);
    RUN(test_names_refused);
    RUN(test_write);
    TEST_EXIT();
}
