/* The container spec layer: runc's default document round-trips, a config
 * such as podman writes parses to what it says, every kind of bad input is
 * refused with its JSON path and leaves nothing behind, and a seccomp
 * profile loaded in a child does what it says. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/container.h"
#include "container/spec.h"
#include "harness.h"
#include "util/cleanup.h"

/* The JSON in this file is written with ' for " to stay readable. */
static char *dequote(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; p && *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

/* Parse text (quotes as above) from a buffer of exactly its length, with no
 * NUL after it (ASan sees any read past the end). */
static int parse(const char *text, struct tm_container_spec *spec, tm_error *err)
{
    _cleanup_free_ char *json = dequote(text);
    size_t len = strlen(json);
    _cleanup_free_ char *exact = malloc(len ? len : 1);
    memcpy(exact, json, len);
    memset(err, 0, sizeof *err);
    return tm_spec_parse(exact, len, spec, err);
}

static bool spec_is_zero(const struct tm_container_spec *spec)
{
    static const struct tm_container_spec zero;
    return !memcmp(spec, &zero, sizeof zero);
}

#define CAP(n) (UINT64_C(1) << (n))

static void test_default_document(void)
{
    _cleanup_free_ char *text = tm_spec_default_json();
    REQUIRE(text);
    CHECK_STR_CONTAINS(text, "\n    \"ociVersion\": \"1.0.2-dev\"");   /* JSON_INDENT(4) */
    CHECK(!strstr(text, "annotations"));
    CHECK(!strstr(text, "ambient"));

    struct tm_container_spec s;
    tm_error err = { 0 };
    REQUIRE(tm_spec_default(&s, &err) == 0);
    CHECK(!strcmp(s.oci_version, "1.0.2-dev"));
    CHECK(s.terminal);
    CHECK_EQ_INT(s.uid, 0);
    CHECK_EQ_INT(s.gid, 0);
    CHECK(!s.has_umask);
    REQUIRE(s.nargs == 1);
    CHECK(!strcmp(s.args[0], "sh") && s.args[1] == NULL);
    REQUIRE(s.nenv == 2);
    CHECK(!strcmp(s.env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    CHECK(!strcmp(s.env[1], "TERM=xterm") && s.env[2] == NULL);
    CHECK(!strcmp(s.cwd, "/"));
    uint64_t caps = CAP(CAP_AUDIT_WRITE) | CAP(CAP_KILL) | CAP(CAP_NET_BIND_SERVICE);
    CHECK(s.cap_bounding == caps && s.cap_effective == caps && s.cap_permitted == caps);
    CHECK(s.cap_inheritable == 0 && s.cap_ambient == 0);
    REQUIRE(s.nrlimits == 1);
    CHECK(s.rlimits[0].resource == RLIMIT_NOFILE && s.rlimits[0].soft == 1024 &&
          s.rlimits[0].hard == 1024);
    CHECK(s.no_new_privileges);
    CHECK(!s.has_oom_score_adj);
    CHECK(!strcmp(s.root_path, "rootfs") && s.root_readonly);
    CHECK(!strcmp(s.hostname, "teemate"));
    CHECK(!s.domainname);

    REQUIRE(s.nmounts == 7);
    static const char *const dest[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                        "/sys", "/sys/fs/cgroup" };
    for (size_t i = 0; i < 7; i++)
        CHECK(!strcmp(s.mounts[i].destination, dest[i]));
    CHECK(!strcmp(s.mounts[0].type, "proc") && s.mounts[0].flags == 0 && !s.mounts[0].data);
    CHECK_EQ_INT(s.mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
    CHECK(!strcmp(s.mounts[1].data, "mode=755,size=65536k"));
    CHECK_EQ_INT(s.mounts[2].flags, MS_NOSUID | MS_NOEXEC);
    CHECK(!strcmp(s.mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5"));
    CHECK(!strcmp(s.mounts[3].source, "shm"));
    CHECK_EQ_INT(s.mounts[3].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
    CHECK(!strcmp(s.mounts[3].data, "mode=1777,size=65536k"));
    CHECK_EQ_INT(s.mounts[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
    CHECK(!s.mounts[5].data && s.mounts[5].propagation == 0);
    CHECK_EQ_INT(s.mounts[6].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);

    for (int ns = 0; ns < TM_NS_COUNT; ns++) {
        CHECK_EQ_INT(s.namespaces[ns].enabled, ns != TM_NS_USER);
        CHECK(!s.namespaces[ns].path);
    }
    CHECK_EQ_INT(s.nmasked_paths, 10);
    CHECK(!strcmp(s.masked_paths[0], "/proc/acpi") && !strcmp(s.masked_paths[9], "/proc/scsi"));
    CHECK_EQ_INT(s.nreadonly_paths, 5);
    CHECK(!strcmp(s.readonly_paths[4], "/proc/sysrq-trigger"));
    /* runc spec's one rule, deny all; otherwise no limit */
    REQUIRE(s.resources.ndevices == 1);
    const struct tm_cgroup_device_rule *d = &s.resources.devices[0];
    CHECK(!d->allow && d->type == 'a' && d->major == -1 && d->minor == -1 &&
          d->access == (TM_CGROUP_DEV_READ | TM_CGROUP_DEV_WRITE | TM_CGROUP_DEV_MKNOD));
    struct tm_cgroup_limits none = TM_CGROUP_LIMITS_NONE, got = s.resources;
    got.devices = NULL, got.ndevices = 0;
    CHECK(!memcmp(&got, &none, sizeof none));
    CHECK(!s.has_seccomp && s.rootfs_propagation == 0 && !s.cgroups_path);
    CHECK(s.nannotations == 0 && !s.enclave && s.enclave_memory == 0);
    tm_spec_free(&s);
    CHECK(spec_is_zero(&s));
    tm_spec_free(&s);   /* twice: nothing */
}

/* What podman 4 writes, cut down, with our annotations and fields we ignore. */
static const char podman_config[] =
    "{'ociVersion': '1.0.2-dev',"
    " 'process': {'terminal': false, 'consoleSize': {'height': 0, 'width': 0},"
    "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [10, 4294967295]},"
    "  'args': ['/bin/sh', '-c', 'echo hi'],"
    "  'env': ['PATH=/usr/bin:/bin', 'container=podman', 'EMPTY='],"
    "  'cwd': '/work',"
    "  'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_SYS_ADMIN'], 'effective': ['CAP_CHOWN'],"
    "   'inheritable': [], 'permitted': ['CAP_CHOWN', 'CAP_SYS_ADMIN'], 'ambient': null},"
    "  'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1048576, 'soft': 1048576},"
    "              {'type': 'RLIMIT_NPROC', 'hard': 4194304, 'soft': 4096}],"
    "  'noNewPrivileges': false, 'oomScoreAdj': -500,"
    "  'apparmorProfile': 'containers-default-0.50.0', 'selinuxLabel': 'system_u:system_r:container_t:s0'},"
    " 'root': {'path': '/var/lib/containers/storage/overlay/abc/merged'},"
    " 'hostname': 'abc123', 'domainname': 'example.org',"
    " 'mounts': ["
    "  {'destination': '/proc', 'type': 'proc', 'source': 'proc', 'options': ['nosuid', 'noexec', 'nodev']},"
    "  {'destination': '/etc/hosts', 'type': 'bind', 'source': '/run/abc/hosts',"
    "   'options': ['rbind', 'rprivate', 'ro']},"
    "  {'destination': '/tmp', 'type': 'tmpfs', 'source': 'tmpfs',"
    "   'options': ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup', 'size=64m', 'mode=1777']},"
    "  {'destination': '/data', 'source': '/srv/data', 'options': ['bind', 'ro', 'rw', 'slave', 'copy-symlink']}],"
    " 'hooks': {'prestart': [], 'poststop': null},"
    " 'annotations': {'io.container.manager': 'libpod', 'org.teemate.enclave': 'kv-store_1.0',"
    "  'org.teemate.enclave.memory': '64m'},"
    " 'linux': {"
    "  'uidMappings': [], 'maskedPaths': ['/proc/acpi', '/proc/kcore'], 'readonlyPaths': ['/proc/sys'],"
    "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/run/netns/netns-1234'},"
    "   {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': 'cgroup'}],"
    "  'cgroupsPath': 'machine.slice:libpod:abc',"
    "  'resources': {'devices': [{'allow': false, 'access': 'rwm'}],"
    "   'memory': {'limit': 536870912, 'swap': 1073741824, 'reservation': 0},"
    "   'pids': {'limit': 2048}, 'cpu': {'quota': 50000, 'period': 100000, 'shares': 512, 'cpus': '0-1'}},"
    "  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229, 'fileMode': 8630,"
    "   'uid': 0, 'gid': 0}, {'path': '/dev/myfifo', 'type': 'p'}],"
    "  'sysctl': {'net.ipv4.ping_group_range': '0 0'},"
    "  'rootfsPropagation': 'rslave',"
    "  'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
    "   'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
    "   'flags': ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],"
    "   'syscalls': [{'names': ['read', 'write', 'uname'], 'action': 'SCMP_ACT_ALLOW'},"
    "    {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
    "     'args': [{'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'}]},"
    "    {'names': ['clone'], 'action': 'SCMP_ACT_ALLOW',"
    "     'args': [{'index': 0, 'value': 2114060288, 'valueTwo': 0, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
    "    {'names': ['mount'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
    "    {'names': ['ptrace'], 'action': 'SCMP_ACT_ERRNO'}]}},"
    " 'windows': {'anything': 1}}";

static void test_podman_config(void)
{
    struct tm_container_spec s;
    tm_error err;
    int r = parse(podman_config, &s, &err);
    if (r < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(r == 0);
    CHECK(!s.terminal);
    CHECK(s.uid == 1000 && s.gid == 1001 && s.has_umask && s.umask == 022);
    REQUIRE(s.nadditional_gids == 2);
    CHECK(s.additional_gids[0] == 10 && s.additional_gids[1] == 4294967295u);
    CHECK(s.nargs == 3 && !strcmp(s.args[2], "echo hi") && !s.args[3]);
    CHECK(s.nenv == 3 && !strcmp(s.env[2], "EMPTY="));
    CHECK(!strcmp(s.cwd, "/work"));
    CHECK(s.cap_bounding == (CAP(CAP_CHOWN) | CAP(CAP_SYS_ADMIN)));
    CHECK(s.cap_effective == CAP(CAP_CHOWN) && s.cap_inheritable == 0 && s.cap_ambient == 0);
    CHECK(s.cap_permitted == s.cap_bounding);
    REQUIRE(s.nrlimits == 2);
    CHECK(s.rlimits[1].resource == RLIMIT_NPROC && s.rlimits[1].soft == 4096 &&
          s.rlimits[1].hard == 4194304);
    CHECK(!s.no_new_privileges && s.has_oom_score_adj && s.oom_score_adj == -500);
    CHECK(!strcmp(s.apparmor_profile, "containers-default-0.50.0"));
    CHECK(!strcmp(s.selinux_label, "system_u:system_r:container_t:s0"));
    CHECK(!strcmp(s.root_path, "/var/lib/containers/storage/overlay/abc/merged") &&
          !s.root_readonly);
    CHECK(!strcmp(s.hostname, "abc123") && !strcmp(s.domainname, "example.org"));

    REQUIRE(s.nmounts == 4);
    CHECK_EQ_INT(s.mounts[0].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV);
    CHECK(!strcmp(s.mounts[1].type, "bind") && !strcmp(s.mounts[1].source, "/run/abc/hosts"));
    CHECK_EQ_INT(s.mounts[1].flags, MS_BIND | MS_REC | MS_RDONLY);
    CHECK_EQ_INT(s.mounts[1].propagation, MS_PRIVATE | MS_REC);
    CHECK(!s.mounts[1].data);
    CHECK_EQ_INT(s.mounts[2].flags, MS_NOSUID | MS_NODEV);
    CHECK_EQ_INT(s.mounts[2].propagation, MS_PRIVATE | MS_REC);
    CHECK(!strcmp(s.mounts[2].data, "size=64m,mode=1777"));   /* tmpcopyup dropped */
    CHECK(!s.mounts[3].type);
    CHECK_EQ_INT(s.mounts[3].flags, MS_BIND);                 /* "rw" after "ro" clears it */
    CHECK_EQ_INT(s.mounts[3].propagation, MS_SLAVE);
    CHECK(!s.mounts[3].data);                                 /* copy-symlink dropped */

    CHECK(s.nannotations == 3 && !strcmp(tm_spec_annotation(&s, "io.container.manager"), "libpod"));
    CHECK(!tm_spec_annotation(&s, "absent"));
    CHECK(s.enclave && !strcmp(s.enclave, "kv-store_1.0"));
    CHECK_EQ_INT(s.enclave_memory, 64 << 20);

    for (int ns = 0; ns < TM_NS_COUNT; ns++)
        CHECK_EQ_INT(s.namespaces[ns].enabled, ns != TM_NS_USER);
    CHECK(s.namespaces[TM_NS_NET].path && !strcmp(s.namespaces[TM_NS_NET].path, "/run/netns/netns-1234"));
    CHECK(!s.namespaces[TM_NS_PID].path);
    CHECK(!strcmp(s.cgroups_path, "machine.slice:libpod:abc"));
    CHECK_EQ_INT(s.resources.memory_max, 536870912);
    CHECK_EQ_INT(s.resources.memory_swap, 1073741824);
    CHECK_EQ_INT(s.resources.pids_max, 2048);
    CHECK_EQ_INT(s.resources.cpu_quota, 50000);
    CHECK_EQ_INT(s.resources.cpu_period, 100000);
    CHECK_EQ_INT(s.resources.cpu_shares, 512);
    CHECK(!strcmp(s.resources.cpuset_cpus, "0-1") && !*s.resources.cpuset_mems);
    CHECK(s.resources.ndevices == 1 && !s.resources.devices[0].allow);
    CHECK_EQ_INT(s.resources.memory_reservation, -1);   /* 0: none */
    REQUIRE(s.ndevices == 2);
    CHECK(!strcmp(s.devices[0].path, "/dev/fuse") && s.devices[0].type == 'c');
    CHECK(s.devices[0].major == 10 && s.devices[0].minor == 229 && s.devices[0].file_mode == 0666);
    CHECK(s.devices[1].type == 'p' && s.devices[1].file_mode == 0);
    REQUIRE(s.nsysctls == 1);
    CHECK(!strcmp(s.sysctls[0].key, "net.ipv4.ping_group_range") && !strcmp(s.sysctls[0].value, "0 0"));
    CHECK(s.nmasked_paths == 2 && s.nreadonly_paths == 1);
    CHECK_EQ_INT(s.rootfs_propagation, MS_SLAVE | MS_REC);

    REQUIRE(s.has_seccomp);
    const struct tm_seccomp_spec *sc = &s.seccomp;
    CHECK_EQ_INT(sc->default_action, SCMP_ACT_ERRNO(38));
    CHECK(sc->narchitectures == 3 && !strcmp(sc->architectures[2], "SCMP_ARCH_X32"));
    CHECK_EQ_INT(sc->flags, 4);   /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
    REQUIRE(sc->nrules == 5);
    CHECK(sc->rules[0].nnames == 3 && !strcmp(sc->rules[0].names[2], "uname") && !sc->rules[0].names[3]);
    CHECK_EQ_INT(sc->rules[0].action, SCMP_ACT_ALLOW);
    CHECK(sc->rules[1].nargs == 1 && sc->rules[1].args[0].value == 4294967295u);
    CHECK(sc->rules[2].args[0].op == SCMP_CMP_MASKED_EQ && sc->rules[2].args[0].value == 2114060288);
    CHECK_EQ_INT(sc->rules[3].action, SCMP_ACT_ERRNO(1));
    CHECK_EQ_INT(sc->rules[4].action, SCMP_ACT_ERRNO(EPERM));   /* runc's default */
    tm_spec_free(&s);
    CHECK(spec_is_zero(&s));
}

/* Nulls read as absent (as Go's decoder does); limits of 0 or -1 mean none. */
static void test_nulls_and_no_limits(void)
{
    struct tm_container_spec s;
    tm_error err;
    REQUIRE(parse("{'process': {'args': ['sh'], 'cwd': null, 'user': null, 'env': null},"
                  " 'root': null, 'hostname': null, 'linux': {'resources': {"
                  "  'memory': {'limit': -1, 'swap': 0}, 'pids': {'limit': -5},"
                  "  'cpu': {'quota': -1}}, 'rootfsPropagation': ''}}", &s, &err) == 0);
    CHECK(!strcmp(s.cwd, "/") && !s.env && s.nenv == 0 && !s.root_path && !s.hostname);
    struct tm_cgroup_limits none = TM_CGROUP_LIMITS_NONE;
    CHECK(!memcmp(&s.resources, &none, sizeof none));
    CHECK(s.rootfs_propagation == 0 && !s.has_seccomp);
    tm_spec_free(&s);
}

/* A user namespace with its mappings, in order; who its root is on the host. */
static void test_user_namespace(void)
{
    struct tm_container_spec s;
    tm_error err;
    REQUIRE(parse("{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}],"
                  " 'uidMappings': [{'containerID': 1000, 'hostID': 5000, 'size': 10},"
                  "  {'containerID': 0, 'hostID': 100000, 'size': 1000}],"
                  " 'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 65536}]}}", &s, &err) == 0);
    CHECK(s.namespaces[TM_NS_USER].enabled && !s.namespaces[TM_NS_USER].path);
    REQUIRE(s.nuid_mappings == 2 && s.ngid_mappings == 1);
    CHECK(s.uid_mappings[0].container_id == 1000 && s.uid_mappings[0].host_id == 5000 && s.uid_mappings[0].size == 10);
    CHECK(s.gid_mappings[0].size == 65536);
    CHECK_EQ_INT(tm_spec_host_root_uid(&s), 100000);
    CHECK_EQ_INT(tm_spec_host_root_gid(&s), 200000);
    tm_spec_free(&s);
    /* A member left out is 0, as runc's Go decoder reads it. */
    REQUIRE(parse("{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user', 'path': '/proc/1/ns/user'}],"
                  " 'uidMappings': [{'hostID': 7, 'size': 1}], 'gidMappings': [{'hostID': 8, 'size': 1}]}}",
                  &s, &err) == 0);
    CHECK(!strcmp(s.namespaces[TM_NS_USER].path, "/proc/1/ns/user"));
    CHECK_EQ_INT(tm_spec_host_root_uid(&s), 7);
    CHECK_EQ_INT(tm_spec_host_root_gid(&s), 8);
    tm_spec_free(&s);
    /* Without one, the container's root is the host's; empty lists are none. */
    REQUIRE(parse("{'process': {'args': ['sh']}, 'linux': {'uidMappings': [], 'gidMappings': null}}", &s, &err) == 0);
    CHECK_EQ_INT(tm_spec_host_root_uid(&s), 0);
    CHECK_EQ_INT(tm_spec_host_root_gid(&s), 0);
    tm_spec_free(&s);
}

/* A pod's sandbox container (as containerd's and CRI-O's CRI mark it) stays
 * plain though the pod's enclave annotations reach it; the pod's containers
 * attach. */
static void test_pod_sandbox(void)
{
    struct tm_container_spec s;
    tm_error err;
    REQUIRE(parse("{'process': {'args': ['/pause']}, 'annotations': {'org.teemate.enclave': 'kv',"
                  " 'org.teemate.enclave.memory': '64m', 'io.kubernetes.cri.container-type': 'sandbox'}}",
                  &s, &err) == 0);
    CHECK(!s.enclave && s.enclave_memory == 0 && s.nannotations == 3);
    tm_spec_free(&s);
    REQUIRE(parse("{'process': {'args': ['/pause']}, 'annotations': {'org.teemate.enclave': 'kv',"
                  " 'io.kubernetes.cri-o.ContainerType': 'sandbox'}}", &s, &err) == 0);
    CHECK(!s.enclave);
    tm_spec_free(&s);
    REQUIRE(parse("{'process': {'args': ['main']}, 'annotations': {'org.teemate.enclave': 'kv',"
                  " 'io.kubernetes.cri.container-type': 'container'}}", &s, &err) == 0);
    CHECK(s.enclave && !strcmp(s.enclave, "kv"));
    tm_spec_free(&s);
}

/* Each hook kind into its own list, in order, with args, env and timeout. */
static void test_hooks(void)
{
    struct tm_container_spec s;
    tm_error err;
    REQUIRE(parse("{'process': {'args': ['sh']}, 'hooks': {"
                  " 'prestart': [{'path': '/p'}],"
                  " 'createRuntime': [{'path': '/cr1', 'args': ['cr', '-x'], 'env': ['A=1'], 'timeout': 5},"
                  "  {'path': '/cr2'}],"
                  " 'createContainer': null, 'startContainer': [],"
                  " 'poststart': [{'path': '/ps'}], 'poststop': [{'path': '/pst', 'timeout': 1}]}}", &s, &err) == 0);
    const struct tm_hooks *h = &s.hooks;
    CHECK(h->n[TM_HOOK_PRESTART] == 1 && !strcmp(h->list[TM_HOOK_PRESTART][0].path, "/p"));
    CHECK(!h->list[TM_HOOK_PRESTART][0].args && !h->list[TM_HOOK_PRESTART][0].env &&
          h->list[TM_HOOK_PRESTART][0].timeout == 0);
    REQUIRE(h->n[TM_HOOK_CREATE_RUNTIME] == 2);
    const struct tm_hook *cr = &h->list[TM_HOOK_CREATE_RUNTIME][0];
    CHECK(!strcmp(cr->path, "/cr1") && cr->nargs == 2 && !strcmp(cr->args[1], "-x") && !cr->args[2]);
    CHECK(cr->nenv == 1 && !strcmp(cr->env[0], "A=1") && cr->timeout == 5);
    CHECK(!strcmp(h->list[TM_HOOK_CREATE_RUNTIME][1].path, "/cr2"));
    CHECK(h->n[TM_HOOK_CREATE_CONTAINER] == 0 && h->n[TM_HOOK_START_CONTAINER] == 0);
    CHECK(h->n[TM_HOOK_POSTSTART] == 1 && h->n[TM_HOOK_POSTSTOP] == 1);
    CHECK(h->list[TM_HOOK_POSTSTOP][0].timeout == 1);
    tm_spec_free(&s);
}

/* `teemate update --resources`: runc's document, what it leaves out stays 0
 * (unchanged), -1 lifts; bad values name their path; and back to JSON. */
static void test_update_document(void)
{
    struct tm_cgroup_update u;
    tm_error err = { 0 };
    _cleanup_free_ char *doc = dequote(
        "{'memory': {'limit': 1048576, 'swap': -1, 'reservation': null}, 'pids': {'limit': 20},"
        " 'cpu': {'shares': 512, 'quota': 50000, 'period': 100000, 'cpus': '0-1', 'mems': '0',"
        "  'realtimeRuntime': 0}, 'blockIO': {'weight': 300}, 'hugepageLimits': []}");
    REQUIRE(tm_cgroup_update_parse(doc, strlen(doc), &u, &err) == 0);
    CHECK(u.memory == 1048576 && u.memory_swap == -1 && u.memory_reservation == 0 && u.pids == 20);
    CHECK(u.cpu_shares == 512 && u.cpu_quota == 50000 && u.cpu_period == 100000);
    CHECK(!strcmp(u.cpuset_cpus, "0-1") && !strcmp(u.cpuset_mems, "0") && u.blkio_weight == 300);
    _cleanup_free_ char *back = tm_cgroup_update_json(&u);
    struct tm_cgroup_update again;
    REQUIRE(back && tm_cgroup_update_parse(back, strlen(back), &again, &err) == 0);
    CHECK(!memcmp(&u, &again, sizeof u));
    REQUIRE(tm_cgroup_update_parse("{}", 2, &u, &err) == 0);
    static const struct tm_cgroup_update none;
    CHECK(!memcmp(&u, &none, sizeof u));

    static const struct { const char *json, *msg; } bad[] = {
        { "{'memory': {'limit': 'big'}}", "memory.limit: expected an integer" },
        { "{'memory': {'limit': -2}}", "memory.limit: -2 is out of range" },
        { "{'pids': {'limit': 1.5}}", "pids.limit: expected an integer" },
        { "{'cpu': {'period': -1}}", "cpu.period: -1 is out of range" },
        { "{'cpu': {'realtimePeriod': 1000}}", "cpu.realtimePeriod: realtime cpu limits are not supported" },
        { "{'blockIO': {'weight': 70000}}", "blockIO.weight: 70000 is out of range" },
        { "{'memory': 5}", "memory: expected an object" },
        { "[]", "expected a JSON object at the top level" },
        { "{'pids': {'limit': 1}, 'pids': {'limit': 2}}", "invalid JSON" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        _cleanup_free_ char *text = dequote(bad[i].json);
        memset(&u, 0xa5, sizeof u);
        int r = tm_cgroup_update_parse(text, strlen(text), &u, &err);
        if (r != -EINVAL || !strstr(err.msg, bad[i].msg) || memcmp(&u, &none, sizeof u)) {
            fprintf(stderr, "  bad update %zu: got %d \"%s\", wanted \"%s\"\n", i, r, err.msg, bad[i].msg);
            CHECK(0);
        }
    }
}

/* Every member of linux.resources that is applied, as parsed. */
static void test_resources(void)
{
    struct tm_container_spec s;
    tm_error err;
    int r = parse("{'process': {'args': ['sh']}, 'linux': {'resources': {"
                  " 'devices': [{'allow': true, 'type': 'c', 'major': 10, 'minor': 200, 'access': 'rw'},"
                  "  {'type': 'b', 'major': 8, 'access': 'm'}, {'allow': true, 'minor': null, 'access': 'mrw'}],"
                  " 'memory': {'reservation': 1048576, 'swappiness': 0, 'disableOOMKiller': true,"
                  "  'kernel': 0, 'useHierarchy': false, 'checkBeforeUpdate': true},"
                  " 'cpu': {'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '1,3-4', 'mems': '0',"
                  "  'idle': 0},"
                  " 'blockIO': {'weight': 300, 'leafWeight': 200,"
                  "  'weightDevice': [{'major': 8, 'minor': 0, 'weight': 500, 'leafWeight': 400}],"
                  "  'throttleReadBpsDevice': [{'major': 8, 'minor': 16, 'rate': 1048576}],"
                  "  'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 100}, {'major': 8, 'minor': 1, 'rate': 7}]},"
                  " 'hugepageLimits': [{'pageSize': '2MB', 'limit': 4194304}, {'pageSize': '1GB', 'limit': 0}],"
                  " 'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 5}]},"
                  " 'rdma': {}, 'unified': {'memory.high': '12345678'}}}}",
                  &s, &err);
    if (r)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(r == 0);
    const struct tm_cgroup_limits *l = &s.resources;
    REQUIRE(l->ndevices == 3);
    CHECK(l->devices[0].allow && l->devices[0].type == 'c' && l->devices[0].major == 10 &&
          l->devices[0].minor == 200 && l->devices[0].access == (TM_CGROUP_DEV_READ | TM_CGROUP_DEV_WRITE));
    CHECK(!l->devices[1].allow && l->devices[1].type == 'b' && l->devices[1].minor == -1 &&
          l->devices[1].access == TM_CGROUP_DEV_MKNOD);
    CHECK(l->devices[2].allow && l->devices[2].type == 'a' && l->devices[2].major == -1);
    CHECK(l->memory_reservation == 1048576 && l->memory_swappiness == 0 && l->oom_kill_disable);
    CHECK(l->cpu_rt_runtime == 950000 && l->cpu_rt_period == 1000000);
    CHECK(!strcmp(l->cpuset_cpus, "1,3-4") && !strcmp(l->cpuset_mems, "0"));
    CHECK(l->blkio_weight == 300 && l->blkio_leaf_weight == 200);
    REQUIRE(l->nblkio_weight_device == 1);
    CHECK(l->blkio_weight_device[0].major == 8 && l->blkio_weight_device[0].value == 500 &&
          l->blkio_weight_device[0].leaf_weight == 400);
    REQUIRE(l->nblkio_throttle[TM_BLKIO_READ_BPS] == 1 && l->nblkio_throttle[TM_BLKIO_WRITE_IOPS] == 2);
    CHECK(l->blkio_throttle[TM_BLKIO_READ_BPS][0].minor == 16 && l->blkio_throttle[TM_BLKIO_READ_BPS][0].value == 1048576);
    CHECK(l->blkio_throttle[TM_BLKIO_WRITE_IOPS][1].minor == 1 && l->blkio_throttle[TM_BLKIO_WRITE_IOPS][1].value == 7);
    CHECK(l->nblkio_throttle[TM_BLKIO_WRITE_BPS] == 0 && l->nblkio_throttle[TM_BLKIO_READ_IOPS] == 0);
    REQUIRE(l->nhugepages == 2);
    CHECK(!strcmp(l->hugepages[0].page_size, "2MB") && l->hugepages[0].limit == 4194304);
    CHECK(!strcmp(l->hugepages[1].page_size, "1GB") && l->hugepages[1].limit == 0);
    CHECK(l->net_classid == 1048577 && l->nnet_prios == 1 && !strcmp(l->net_prios[0].name, "eth0") &&
          l->net_prios[0].priority == 5);
    CHECK(l->nunified == 1 && !strcmp(l->unified[0].key, "memory.high") && !strcmp(l->unified[0].value, "12345678"));
    tm_spec_free(&s);
    CHECK(spec_is_zero(&s));
}

static void test_mount_options(void)
{
    struct tm_container_spec s;
    tm_error err;
    REQUIRE(parse("{'process': {'args': ['sh']}, 'mounts': ["
                  " {'destination': '/a', 'options': ['ro', 'nosuid', 'suid', 'noexec', 'exec', 'nodev', 'dev']},"
                  " {'destination': '/b', 'options': ['sync', 'dirsync', 'remount', 'mand', 'noatime',"
                  "   'nodiratime', 'strictatime', 'relatime']},"
                  " {'destination': '/c', 'options': ['sync', 'async', 'mand', 'nomand', 'noatime', 'atime',"
                  "   'nodiratime', 'diratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime']},"
                  " {'destination': '/d', 'options': ['shared', 'rshared', 'unbindable', 'x=1', 'defaults', '', 'y']},"
                  " {'destination': '/e', 'options': ['runbindable', 'private', 'rslave']},"
                  " {'destination': '/f', 'options': []}]}", &s, &err) == 0);
    REQUIRE(s.nmounts == 6);
    CHECK_EQ_INT(s.mounts[0].flags, MS_RDONLY);
    CHECK_EQ_INT(s.mounts[1].flags, MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK |
                                        MS_NOATIME | MS_NODIRATIME | MS_STRICTATIME | MS_RELATIME);
    CHECK_EQ_INT(s.mounts[2].flags, 0);
    CHECK_EQ_INT(s.mounts[3].propagation, MS_UNBINDABLE);   /* the last one wins */
    CHECK(!strcmp(s.mounts[3].data, "x=1,y"));
    CHECK_EQ_INT(s.mounts[4].propagation, MS_SLAVE | MS_REC);
    CHECK(!s.mounts[4].data && !s.mounts[5].data && s.mounts[5].flags == 0);
    tm_spec_free(&s);
}

/* Each bad input: refused with -code, its message, and the spec left zero. */
static const struct {
    const char *json;
    int code;
    const char *msg;
} bad_inputs[] = {
    { "[1]", EINVAL, "expected a JSON object at the top level" },
    { "{'process': {'args': ['sh']}", EINVAL, "invalid JSON at line 1" },
    { "{'process': {'args': ['sh'], 'args': ['ls']}}", EINVAL, "duplicate object key" },
    { "{}", EINVAL, "process: required" },
    { "{'process': []}", EINVAL, "process: expected an object" },
    { "{'process': {}}", EINVAL, "process.args: required" },
    { "{'process': {'args': []}}", EINVAL, "process.args: must not be empty" },
    { "{'process': {'args': 'sh'}}", EINVAL, "process.args: expected an array" },
    { "{'process': {'args': ['a', 'b', 3]}}", EINVAL, "process.args[2]: expected a string" },
    { "{'process': {'args': ['sh'], 'env': ['PATH']}}", EINVAL, "process.env[0]: expected NAME=VALUE" },
    { "{'process': {'args': ['sh'], 'env': ['=x']}}", EINVAL, "process.env[0]: expected NAME=VALUE" },
    { "{'process': {'args': ['sh'], 'cwd': 'work'}}", EINVAL, "process.cwd: must be an absolute path" },
    { "{'process': {'args': ['sh'], 'terminal': 'yes'}}", EINVAL, "process.terminal: expected a boolean" },
    { "{'process': {'args': ['sh'], 'user': {'uid': -1}}}", EINVAL,
      "process.user.uid: -1 is out of range (0 to 4294967295)" },
    { "{'process': {'args': ['sh'], 'user': {'gid': 1.5}}}", EINVAL, "process.user.gid: expected an integer" },
    { "{'process': {'args': ['sh'], 'user': {'additionalGids': [1, 'x']}}}", EINVAL,
      "process.user.additionalGids[1]: expected an integer" },
    { "{'process': {'args': ['sh'], 'oomScoreAdj': 1001}}", EINVAL, "process.oomScoreAdj: 1001 is out of range" },
    { "{'process': {'args': ['sh'], 'capabilities': {'bounding': ['CAP_KILL', 'CAP_NOPE']}}}", EINVAL,
      "process.capabilities.bounding[1]: unknown capability \"CAP_NOPE\"" },
    { "{'process': {'args': ['sh'], 'capabilities': {'ambient': ['CAP_CHOWN1']}}}", EINVAL,
      "process.capabilities.ambient[0]: unknown capability \"CAP_CHOWN1\"" },
    { "{'process': {'args': ['sh'], 'capabilities': {'effective': ['cap_chown']}}}", EINVAL,
      "unknown capability \"cap_chown\"" },
    { "{'process': {'args': ['sh'], 'capabilities': {'permitted': [7]}}}", EINVAL,
      "process.capabilities.permitted[0]: expected a string" },
    { "{'process': {'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_BOGUS', 'hard': 1, 'soft': 1}]}}", EINVAL,
      "process.rlimits[0].type: unknown rlimit type \"RLIMIT_BOGUS\"" },
    { "{'process': {'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_CORE', 'soft': 1}]}}", EINVAL,
      "process.rlimits[0].hard: required" },
    { "{'process': {'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_CORE', 'hard': 1, 'soft': 2}]}}", EINVAL,
      "process.rlimits[0]: soft limit 2 is above the hard limit 1" },
    { "{'process': {'args': ['sh'], 'rlimits': [{'type': 'RLIMIT_CORE', 'hard': 1, 'soft': 1},"
      " {'type': 'RLIMIT_CORE', 'hard': 1, 'soft': 1}]}}", EINVAL,
      "process.rlimits[1].type: RLIMIT_CORE is listed twice" },
    { "{'process': {'args': ['sh']}, 'root': {'readonly': true}}", EINVAL, "root.path: required" },
    { "{'process': {'args': ['sh']}, 'hostname': 5}", EINVAL, "hostname: expected a string" },
    { "{'process': {'args': ['sh']}, 'mounts': [{'type': 'tmpfs'}]}", EINVAL, "mounts[0].destination: required" },
    { "{'process': {'args': ['sh']}, 'mounts': [{'destination': '/a'}, {'destination': 'tmp'}]}", EINVAL,
      "mounts[1].destination: must be an absolute path" },
    { "{'process': {'args': ['sh']}, 'mounts': [{'destination': '/a', 'options': ['ro', null]}]}", EINVAL,
      "mounts[0].options[1]: expected a string" },
    { "{'process': {'args': ['sh']}, 'hooks': {'prestart': [{'path': 'bin/true'}]}}", EINVAL,
      "hooks.prestart[0].path: bin/true is not an absolute path" },
    { "{'process': {'args': ['sh']}, 'hooks': {'prestart': [], 'createRuntime': [{'args': ['x']}]}}", EINVAL,
      "hooks.createRuntime[0].path: required" },
    { "{'process': {'args': ['sh']}, 'hooks': {'poststart': [{'path': '/x', 'timeout': 0}]}}", EINVAL,
      "hooks.poststart[0].timeout: 0: must be a number of seconds greater than zero" },
    { "{'process': {'args': ['sh']}, 'hooks': {'poststart': [{'path': '/x', 'timeout': -3}]}}", EINVAL,
      "hooks.poststart[0].timeout: -3: must be a number of seconds greater than zero" },
    { "{'process': {'args': ['sh']}, 'hooks': {'createContainer': [{'path': '/x'}, {'path': '/y', 'timeout': 'soon'}]}}",
      EINVAL, "hooks.createContainer[1].timeout: expected an integer" },
    { "{'process': {'args': ['sh']}, 'hooks': {'startContainer': [{'path': '/x', 'args': [1]}]}}", EINVAL,
      "hooks.startContainer[0].args[0]: expected a string" },
    { "{'process': {'args': ['sh']}, 'hooks': {'poststop': ['/x']}}", EINVAL, "hooks.poststop[0]: expected an object" },
    { "{'process': {'args': ['sh']}, 'hooks': {'poststop': {}}}", EINVAL, "hooks.poststop: expected an array" },
    { "{'process': {'args': ['sh']}, 'annotations': {'a': 1}}", EINVAL, "annotations.a: expected a string" },
    { "{'process': {'args': ['sh']}, 'annotations': {'org.teemate.enclave': 'bad name'}}", EINVAL,
      "annotations.org.teemate.enclave: \"bad name\" is not an enclave name" },
    { "{'process': {'args': ['sh']}, 'annotations': {'org.teemate.enclave': ''}}", EINVAL,
      "annotations.org.teemate.enclave: \"\" is not an enclave name" },
    { "{'process': {'args': ['sh']}, 'annotations': {'org.teemate.enclave': 'kv',"
      " 'org.teemate.enclave.memory': '0'}}", EINVAL,
      "annotations.org.teemate.enclave.memory: \"0\" is not a size above 0" },
    { "{'process': {'args': ['sh']}, 'annotations': {'org.teemate.enclave': 'kv',"
      " 'org.teemate.enclave.memory': 'lots'}}", EINVAL, "\"lots\" is not a size above 0" },
    { "{'process': {'args': ['sh']}, 'annotations': {'org.teemate.enclave.memory': '64m'}}", EINVAL,
      "annotations.org.teemate.enclave.memory: given without org.teemate.enclave" },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'user'}]}}", EINVAL,
      "User namespaces enabled, but no uid mappings found." },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}], "
      "'uidMappings': [], 'gidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}]}}", EINVAL,
      "User namespaces enabled, but no uid mappings found." },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}], "
      "'uidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}]}}", EINVAL,
      "User namespaces enabled, but no gid mappings found." },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}], "
      "'uidMappings': [{'containerID': 1, 'hostID': 1, 'size': 9}], 'gidMappings': []}}", EINVAL,
      "User namespaces enabled, but no user mapping found." },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}], "
      "'uidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}], 'gidMappings': [{'containerID': 0, 'hostID': 1, 'size': 0}]}}",
      EINVAL, "User namespaces enabled, but no group mapping found." },
    { "{'process': {'args': ['sh']}, 'linux': {'gidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}]}}", EINVAL,
      "User namespace mappings specified, but USER namespace isn't enabled in the config" },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}], "
      "'uidMappings': [{'containerID': 0, 'hostID': 1}]}}", EINVAL,
      "User namespaces enabled, but no user mapping found." },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}], "
      "'uidMappings': [{'containerID': 0, 'hostID': 4294967296, 'size': 1}]}}", EINVAL,
      "linux.uidMappings[0].hostID: 4294967296 is out of range" },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'user'}], "
      "'uidMappings': [7]}}", EINVAL, "linux.uidMappings[0]: expected an object" },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'time'}]}}", EINVAL,
      "linux.namespaces[0].type: time namespaces are not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'pid'}]}}", EINVAL,
      "linux.namespaces[1].type: \"pid\" is listed twice" },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'network', 'path': 'netns'}]}}", EINVAL,
      "linux.namespaces[0].path: must be an absolute path" },
    { "{'process': {'args': ['sh']}, 'linux': {'namespaces': [{'type': 'bogus'}]}}", EINVAL,
      "linux.namespaces[0].type: unknown namespace type \"bogus\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'memory': {'kernel': 1048576}}}}", EINVAL,
      "linux.resources.memory.kernel: not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'memory': {'kernelTCP': 1048576}}}}", EINVAL,
      "linux.resources.memory.kernelTCP: not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'memory': {'useHierarchy': true}}}}", EINVAL,
      "linux.resources.memory.useHierarchy: not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'memory': {'swappiness': 101}}}}", EINVAL,
      "linux.resources.memory.swappiness: 101 is out of range" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'cpu': {'burst': 1000}}}}", EINVAL,
      "linux.resources.cpu.burst: not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'cpu': {'idle': 1}}}}", EINVAL,
      "linux.resources.cpu.idle: not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'cpu': {'cpus': '0-1\\n'}}}}", EINVAL,
      "linux.resources.cpu.cpus: \"0-1\n\" is not a list" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'rdma': {'mlx5_0': {'hcaHandles': 3}}}}}", EINVAL,
      "linux.resources.rdma: not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'devices': [{'allow': true}]}}}", EINVAL,
      "linux.resources.devices[0].access: required" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'devices': [{'allow': true, 'access': ''}]}}}", EINVAL,
      "linux.resources.devices[0].access: must not be empty" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'devices': [{'access': 'rwx'}]}}}", EINVAL,
      "linux.resources.devices[0].access: expected some of \"rwm\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'devices': [{'type': 'p', 'access': 'r'}]}}}", EINVAL,
      "linux.resources.devices[0].type: expected \"a\", \"b\" or \"c\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'devices': [{'major': -2, 'access': 'r'}]}}}", EINVAL,
      "linux.resources.devices[0].major: -2 is out of range" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'devices': {}}}}", EINVAL,
      "linux.resources.devices: expected an array" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'hugepageLimits': [{'pageSize': '../2MB', 'limit': 1}]}}}",
      EINVAL, "linux.resources.hugepageLimits[0].pageSize: \"../2MB\" is not a page size" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'hugepageLimits': [{'pageSize': '2MB'}]}}}", EINVAL,
      "linux.resources.hugepageLimits[0].limit: required" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'rate': 1}]}}}}",
      EINVAL, "linux.resources.blockIO.throttleReadBpsDevice[0].minor: required" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'blockIO': {'weight': 70000}}}}", EINVAL,
      "linux.resources.blockIO.weight: 70000 is out of range" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'network': {'priorities': [{'name': 'a/b', 'priority': 1}]}}}}",
      EINVAL, "linux.resources.network.priorities[0].name: \"a/b\" is not an interface name" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'unified': {'memory.high': 5}}}}", EINVAL,
      "linux.resources.unified.memory.high: expected a string" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'memory': {'limit': '1g'}}}}", EINVAL,
      "linux.resources.memory.limit: expected an integer" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'memory': {'limit': 100, 'swap': 50}}}}", EINVAL,
      "linux.resources.memory.swap: 50 is below memory.limit 100" },
    { "{'process': {'args': ['sh']}, 'linux': {'resources': {'cpu': {'shares': -2}}}}", EINVAL,
      "linux.resources.cpu.shares: -2 is out of range" },
    { "{'process': {'args': ['sh']}, 'linux': {'devices': [{'path': '/dev/x', 'type': 'x', 'major': 1, 'minor': 1}]}}",
      EINVAL, "linux.devices[0].type: expected \"c\", \"b\", \"u\" or \"p\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1}]}}",
      EINVAL, "linux.devices[0].minor: required" },
    { "{'process': {'args': ['sh']}, 'linux': {'sysctl': {'kernel.x': 1}}}", EINVAL,
      "linux.sysctl.kernel.x: expected a string" },
    { "{'process': {'args': ['sh']}, 'linux': {'maskedPaths': [1]}}", EINVAL, "linux.maskedPaths[0]: expected a string" },
    { "{'process': {'args': ['sh']}, 'linux': {'rootfsPropagation': 'sideways'}}", EINVAL,
      "linux.rootfsPropagation: unknown propagation \"sideways\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {}}}", EINVAL, "linux.seccomp.defaultAction: required" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_NOTIFY'}}}", EINVAL,
      "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',"
      " 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_NOTIFY'}]}}}", EINVAL,
      "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_MAYBE'}}}", EINVAL,
      "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_MAYBE\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO',"
      " 'defaultErrnoRet': 70000}}}", EINVAL, "linux.seccomp.defaultErrnoRet: 70000 is out of range" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',"
      " 'architectures': ['SCMP_ARCH_PDP11']}}}", EINVAL,
      "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_PDP11\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',"
      " 'flags': ['SECCOMP_FILTER_FLAG_NEW_LISTENER']}}}", EINVAL,
      "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',"
      " 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_KILL',"
      " 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}}}", EINVAL,
      "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0 to 5)" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',"
      " 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_KILL',"
      " 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_ABOUT'}]}]}}}", EINVAL,
      "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"" },
    { "{'process': {'args': ['sh']}, 'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',"
      " 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_KILL', 'args': [{'index': 0, 'op': 'SCMP_CMP_EQ'}]}]}}}",
      EINVAL, "linux.seccomp.syscalls[0].args[0].value: required" },
};

static void test_bad_inputs(void)
{
    for (size_t i = 0; i < sizeof bad_inputs / sizeof bad_inputs[0]; i++) {
        struct tm_container_spec s;
        memset(&s, 0xa5, sizeof s);   /* parse must not trust what was there */
        tm_error err;
        int r = parse(bad_inputs[i].json, &s, &err);
        if (r != -bad_inputs[i].code || !strstr(err.msg, bad_inputs[i].msg) || !spec_is_zero(&s)) {
            fprintf(stderr, "  bad input %zu: got %d \"%s\", wanted %d \"%s\"\n", i, r, err.msg,
                    -bad_inputs[i].code, bad_inputs[i].msg);
            CHECK(0);
        }
        tm_spec_free(&s);
    }
}

/* Every prefix of a real config is refused (or, the empty-suffix case, parses). */
static void test_truncated(void)
{
    _cleanup_free_ char *json = dequote(podman_config);
    size_t len = strlen(json);
    for (size_t n = 0; n < len; n++) {
        _cleanup_free_ char *exact = malloc(n ? n : 1);
        memcpy(exact, json, n);
        struct tm_container_spec s;
        tm_error err = { 0 };
        if (tm_spec_parse(exact, n, &s, &err) != -EINVAL || !spec_is_zero(&s)) {
            fprintf(stderr, "  prefix of %zu bytes not refused\n", n);
            CHECK(0);
            break;
        }
    }
}

static void test_limits(void)
{
    /* 4097 arguments: one too many. */
    json_t *args = json_array();
    for (int i = 0; i <= 4096; i++)
        json_array_append_new(args, json_string("x"));
    json_t *doc = json_pack("{s:{s:o}}", "process", "args", args);
    char *text = json_dumps(doc, 0);
    struct tm_container_spec s;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_spec_parse(text, strlen(text), &s, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "process.args: more than 4096 entries");
    free(text);
    json_array_remove(args, 0);
    text = json_dumps(doc, 0);
    CHECK_EQ_INT(tm_spec_parse(text, strlen(text), &s, &err), 0);
    CHECK_EQ_INT(s.nargs, 4096);
    tm_spec_free(&s);
    free(text);
    json_decref(doc);

    /* A string over 64 KiB, and a hostname the kernel would refuse. */
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = '\0';
    doc = json_pack("{s:{s:[s]}}", "process", "args", big);
    text = json_dumps(doc, 0);
    CHECK_EQ_INT(tm_spec_parse(text, strlen(text), &s, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "process.args[0]: longer than 65536 bytes");
    free(text);
    json_decref(doc);
    big[65] = '\0';
    doc = json_pack("{s:{s:[s]}, s:s}", "process", "args", "sh", "hostname", big);
    text = json_dumps(doc, 0);
    CHECK_EQ_INT(tm_spec_parse(text, strlen(text), &s, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "hostname: longer than 64 bytes");
    free(text);
    json_decref(doc);
    free(big);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

static void test_load_bundle(void)
{
    char dir[] = "/tmp/teemate-test-spec.XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/config.json", dir);
    struct tm_container_spec s;
    tm_error err = { 0 };

    CHECK_EQ_INT(tm_spec_load_bundle(dir, &s, &err), -ENOENT);
    char want[sizeof path + 64];
    snprintf(want, sizeof want, "cannot read %s: No such file or directory", path);
    CHECK_STR_CONTAINS(err.msg, want);

    _cleanup_free_ char *text = tm_spec_default_json();
    write_file(path, text);
    CHECK_EQ_INT(tm_spec_load_bundle(dir, &s, &err), 0);
    CHECK(s.nargs == 1 && !strcmp(s.root_path, "rootfs"));
    tm_spec_free(&s);

    write_file(path, "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"rel\"}}");
    CHECK_EQ_INT(tm_spec_load_bundle(dir, &s, &err), -EINVAL);
    snprintf(want, sizeof want, "%s: process.cwd: must be an absolute path", path);
    CHECK_STR_CONTAINS(err.msg, want);
    CHECK(spec_is_zero(&s));

    REQUIRE(truncate(path, (4 << 20) + 1) == 0);
    CHECK_EQ_INT(tm_spec_load_bundle(dir, &s, &err), -EFBIG);
    CHECK_STR_CONTAINS(err.msg, "config.json: larger than 4 MiB");
    unlink(path);
    rmdir(dir);
}

static void test_capability_names(void)
{
    CHECK_EQ_INT(tm_capability_from_name("CAP_CHOWN"), CAP_CHOWN);
    CHECK_EQ_INT(tm_capability_from_name("CAP_SYS_ADMIN"), 21);
    CHECK_EQ_INT(tm_capability_from_name("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
    static const char *const bad[] = { "cap_chown", "CAP_CHOWN1", "CAP_", "CAP", "21", "all",
                                       "CAP_FOO", " CAP_KILL", "CAP_KILL " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(tm_capability_from_name(bad[i]), -EINVAL);
    CHECK_EQ_INT(tm_capability_from_name(NULL), -EINVAL);
}

/* Errors tm_seccomp_apply finds before it loads anything (safe in this process). */
static void test_seccomp_refusals(void)
{
    char *arch[] = { "SCMP_ARCH_VAX", NULL };
    struct tm_seccomp_spec s = { .default_action = SCMP_ACT_ALLOW, .architectures = arch,
                                 .narchitectures = 1 };
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_seccomp_apply(&s, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "unknown architecture SCMP_ARCH_VAX");
    char *names[] = { "read", NULL };
    struct tm_seccomp_arg arg = { .index = 9, .op = SCMP_CMP_EQ };
    struct tm_seccomp_rule rule = { names, 1, SCMP_ACT_KILL, &arg, 1 };
    s = (struct tm_seccomp_spec){ .default_action = SCMP_ACT_ALLOW, .rules = &rule, .nrules = 1 };
    CHECK_EQ_INT(tm_seccomp_apply(&s, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "argument index 9");
}

static const char seccomp_profile[] =
    "{'process': {'args': ['sh']}, 'linux': {'seccomp': {"
    " 'defaultAction': 'SCMP_ACT_ALLOW',"
    " 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'],"
    " 'syscalls': ["
    "  {'names': ['uname'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
    "  {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO'},"
    "  {'names': ['dup'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 25, 'args': ["
    "   {'index': 0, 'value': 12345, 'op': 'SCMP_CMP_EQ'},"
    "   {'index': 0, 'value': 23456, 'op': 'SCMP_CMP_EQ'}]},"
    "  {'names': ['getpgid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 22, 'args': ["
    "   {'index': 0, 'value': 4096, 'valueTwo': 4096, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
    "  {'names': ['no_such_syscall_anywhere', 'socketcall'], 'action': 'SCMP_ACT_KILL'},"
    "  {'names': ['getpid'], 'action': 'SCMP_ACT_ALLOW'}]}}}";

/* In the child: what the filter must do; a bit per failure. */
static int seccomp_child_checks(void)
{
    int failures = 0;
    struct utsname u;
    if (!(uname(&u) < 0 && errno == EPERM))
        failures |= 1;
    if (!(syscall(SYS_getppid) < 0 && errno == EPERM))   /* no errnoRet: EPERM */
        failures |= 2;
    if (!(dup(12345) < 0 && errno == ENOTTY) || !(dup(23456) < 0 && errno == ENOTTY))
        failures |= 4;
    if (!(dup(34567) < 0 && errno == EBADF))             /* not matched: the kernel's answer */
        failures |= 8;
    int fd = dup(0);
    if (fd < 0)
        failures |= 16;
    if (!(getpgid(4096 | 7) < 0 && errno == EINVAL) || getpgid(0) < 0)
        failures |= 32;
    if (getpid() <= 0)
        failures |= 64;
    return failures;
}

static void test_seccomp_apply(void)
{
    struct tm_container_spec spec;
    tm_error err;
    REQUIRE(parse(seccomp_profile, &spec, &err) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* The container's init sets no_new_privs itself; unprivileged, the kernel wants it. */
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
            _exit(201);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(200);
        if (tm_seccomp_apply(&spec.seccomp, &err) < 0) {
            fprintf(stderr, "  %s\n", err.msg);
            _exit(202);
        }
        _exit(seccomp_child_checks());
    }
    tm_spec_free(&spec);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 201)
        SKIP("this kernel has no seccomp (prctl PR_GET_SECCOMP fails)");
    if (WEXITSTATUS(status) != 0)
        fprintf(stderr, "  child exited with %d\n", WEXITSTATUS(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}

int main(void)
{
    RUN(test_default_document);
    RUN(test_podman_config);
    RUN(test_nulls_and_no_limits);
    RUN(test_resources);
    RUN(test_hooks);
    RUN(test_user_namespace);
    RUN(test_pod_sandbox);
    RUN(test_update_document);
    RUN(test_mount_options);
    RUN(test_bad_inputs);
    RUN(test_truncated);
    RUN(test_limits);
    RUN(test_load_bundle);
    RUN(test_capability_names);
    RUN(test_seccomp_refusals);
    RUN(test_seccomp_apply);
    TEST_EXIT();
}
