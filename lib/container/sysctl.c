/* linux.sysctl: only the sysctls that live in a namespace the container has
 * of its own may be set, as runc's validator allows them (IPC: kernel.msg*,
 * kernel.sem, kernel.shm*, fs.mqueue.*; network: net.* unless the network
 * namespace is the host's; UTS: kernel.domainname). Anything else would
 * change the host (vm.swappiness, kernel.core_pattern) and is refused before
 * the container is made. */
#include "container/init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

static bool in_ipc_namespace(const char *key)
{
    static const char *ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                 "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                 "kernel.shm_rmid_forced" };
    for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
        if (!strcmp(key, ipc[i]))
            return true;
    return !strncmp(key, "fs.mqueue.", 10);
}

/* Dot-separated names of [A-Za-z0-9_-] (and '@' '+' ',' of interface names):
 * no '/', no empty component, so no "..", no escape from /proc/sys. */
static bool valid_name(const char *key)
{
    if (!*key || *key == '.')
        return false;
    for (const char *p = key; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  strchr("_-@+,.", *p);
        if (!ok || (*p == '.' && (p[1] == '.' || p[1] == '\0')))
            return false;
    }
    return true;
}

/* runc's isHostNetNS: "host" means this process's network namespace. */
static int is_host_netns(const char *path, bool *host, tm_error *err)
{
    struct stat self, other;
    if (stat("/proc/self/ns/net", &self) < 0 || stat(path, &other) < 0)
        return tm_error_sys(err, "invalid netns path %s", path);
    *host = self.st_dev == other.st_dev && self.st_ino == other.st_ino;
    return 0;
}

int tm_sysctl_check(const struct tm_container_spec *spec, tm_error *err)
{
    const struct tm_ns_spec *net = &spec->namespaces[TM_NS_NET];
    for (size_t i = 0; i < spec->nsysctls; i++) {
        const char *key = spec->sysctls[i].key;
        if (!valid_name(key))
            return tm_error_set(err, EINVAL, "sysctl \"%.200s\" is not a valid sysctl name (dot-separated, no '/', no empty part)", key);
        if (in_ipc_namespace(key)) {
            if (!spec->namespaces[TM_NS_IPC].enabled)
                return tm_error_set(err, EPERM, "sysctl \"%s\" is not allowed in the hosts ipc namespace", key);
            continue;
        }
        if (!strncmp(key, "net.", 4)) {
            bool host = !net->enabled;
            int ret = net->enabled && net->path ? is_host_netns(net->path, &host, err) : 0;
            if (ret < 0)
                return ret;
            if (host)
                return tm_error_set(err, EPERM, "sysctl \"%s\" not allowed in host network namespace", key);
            continue;
        }
        if (spec->namespaces[TM_NS_UTS].enabled) {
            if (!strcmp(key, "kernel.domainname"))
                continue;
            if (!strcmp(key, "kernel.hostname"))
                return tm_error_set(err, EPERM, "sysctl \"%s\" is not allowed as it conflicts with the OCI \"hostname\" field", key);
        }
        return tm_error_set(err, EPERM, "sysctl \"%s\" is not in a separate kernel namespace", key);
    }
    return 0;
}

int tm_sysctl_write(const struct tm_container_spec *spec, tm_error *err)
{
    if (!spec->nsysctls)
        return 0;
    _cleanup_close_ int root = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return tm_error_sys(err, "cannot open /proc/sys");
    for (size_t i = 0; i < spec->nsysctls; i++) {
        char rel[PATH_MAX];
        const char *key = spec->sysctls[i].key, *v = spec->sysctls[i].value;
        size_t n = 0;
        for (; key[n] && n + 1 < sizeof(rel); n++)
            rel[n] = key[n] == '.' ? '/' : key[n];
        rel[n] = '\0';
        /* Checked names cannot climb out; beneath /proc/sys all the same. */
        struct open_how how = { .flags = O_WRONLY | O_CLOEXEC,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
        if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v))
            return tm_error_sys(err, "cannot set sysctl %s = %s", key, v);
    }
    return 0;
}
