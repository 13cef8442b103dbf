/* The container's filesystem view: everything happens inside the new mount
 * namespace. Mount targets are resolved inside the root (openat2 with
 * RESOLVE_IN_ROOT) and mounted through /proc/self/fd, so a symlink in the
 * image can never send a mount outside the container's root. */
#include "container/init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/cleanup.h"

static int open_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    return (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
}

/* Make dest (mkdir -p; the last component a regular file when file) inside
 * the root and return an O_PATH fd on it. */
static int make_target(int rootfd, const char *dest, bool file, tm_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s", dest) >= (int)sizeof(path))
        return tm_error_set(err, ENAMETOOLONG, "mount destination %s is too long", dest);
    size_t len = strlen(path);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        int fd = open_in_root(rootfd, path, O_PATH);
        if (fd < 0 && errno == ENOENT) {
            char *slash = strrchr(path, '/');
            *slash = '\0';
            _cleanup_close_ int parent = open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
            *slash = '/';
            if (parent < 0)
                return tm_error_sys(err, "cannot open the parent of %s in the container", path);
            bool last = saved == '\0';
            int r = last && file ? openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644)
                                 : mkdirat(parent, slash + 1, 0755);
            if (r < 0 && errno != EEXIST)
                return tm_error_sys(err, "cannot create %s in the container", path);
            if (last && file && r >= 0)
                close(r);
            fd = open_in_root(rootfd, path, O_PATH);
        }
        if (fd < 0)
            return tm_error_sys(err, "cannot open %s in the container", path);
        path[i] = saved;
        if (saved == '\0')
            return fd;
        close(fd);
    }
    return open_in_root(rootfd, "/", O_PATH);
}

static void fd_path(char buf[32], int fd)
{
    snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* mount(2) on dest inside the root (reopened each time: after a mount the
 * old fd still names what lies beneath). */
static int mount_at(int rootfd, const char *dest, const char *src, const char *type, unsigned long flags,
                    const char *data, tm_error *err)
{
    _cleanup_close_ int fd = open_in_root(rootfd, dest, O_PATH);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s in the container", dest);
    char target[32];
    fd_path(target, fd);
    if (mount(src, target, type, flags, data) < 0)
        return tm_error_sys(err, "cannot mount %s on %s", src ? src : (type ? type : "(none)"), dest);
    return 0;
}

/* With its own cgroup namespace the container mounts each hierarchy fresh,
 * and the namespace shows only its own cgroup. Without one, as runc, each
 * place gets a bind mount of the container's own directory (this process
 * is in it already), so the container reads its own limits and sees no
 * other cgroup. */
static int mount_hierarchy(int rootfd, const struct tm_cgroup_hierarchy *h, const char *dest, bool own_ns,
                           unsigned long flags, tm_error *err)
{
    if (own_ns)
        return mount_at(rootfd, dest, "cgroup", h->v2 ? "cgroup2" : "cgroup", flags, h->v2 ? NULL : h->name, err);
    char path[PATH_MAX], src[PATH_MAX + 256];
    int ret = tm_cgroup_self_path(h, NULL, path, sizeof(path), err);
    if (ret < 0)
        return ret;
    snprintf(src, sizeof(src), "%s%s", h->mount, strcmp(path, "/") ? path : "");
    if ((ret = mount_at(rootfd, dest, src, NULL, MS_BIND, NULL, err)) < 0)
        return ret;
    return mount_at(rootfd, dest, NULL, NULL, MS_BIND | MS_REMOUNT | flags, NULL, err);
}

/* On a cgroup v1 host a cgroup mount is a tmpfs holding one mount per
 * hierarchy; on a pure v2 host it is the v2 hierarchy alone. */
static int mount_cgroupfs(int rootfd, const struct tm_container_spec *spec, const struct tm_mount_spec *m,
                          tm_error *err)
{
    struct tm_cgroup_host host;
    int ret = tm_cgroup_probe(NULL, &host, err);
    if (ret < 0)
        return ret;
    unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    bool own_ns = spec->namespaces[TM_NS_CGROUP].enabled;
    bool pure_v2 = host.n == 1 && host.h[0].v2;
    if (pure_v2 || (m->type && !strcmp(m->type, "cgroup2"))) {
        for (size_t i = 0; i < host.n; i++)
            if (host.h[i].v2)
                return mount_hierarchy(rootfd, &host.h[i], m->destination, own_ns, flags, err);
        return tm_error_set(err, ENOTSUP, "a cgroup2 mount was asked for, and this host has no cgroup v2");
    }
    if ((ret = mount_at(rootfd, m->destination, "tmpfs", "tmpfs", flags & ~MS_RDONLY, "mode=755", err)) < 0)
        return ret;
    for (size_t i = 0; i < host.n; i++) {
        const struct tm_cgroup_hierarchy *h = &host.h[i];
        char sub[PATH_MAX];
        const char *base = strrchr(h->mount, '/');
        snprintf(sub, sizeof(sub), "%s/%s", m->destination, base ? base + 1 : "unified");
        _cleanup_close_ int fd = make_target(rootfd, sub, false, err);
        if (fd < 0)
            return fd;
        if ((ret = mount_hierarchy(rootfd, h, sub, own_ns, flags, err)) < 0)
            return ret;
    }
    if (flags & MS_RDONLY)
        return mount_at(rootfd, m->destination, NULL, NULL, MS_REMOUNT | MS_RDONLY | flags, "mode=755", err);
    return 0;
}

static int mount_one(int rootfd, const struct tm_container_spec *spec, const struct tm_mount_spec *m,
                     tm_error *err)
{
    const char *type = m->type;
    bool bind = (m->flags & MS_BIND) || (type && !strcmp(type, "bind"));
    if (!bind && type && (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))) {
        _cleanup_close_ int fd = make_target(rootfd, m->destination, false, err);
        return fd < 0 ? fd : mount_cgroupfs(rootfd, spec, m, err);
    }
    /* A user namespace may mount sysfs only with a network namespace of its
     * own: without a new one, bind the host's /sys (podman writes that bind
     * itself for runc, which fails on the sysfs mount). */
    const struct tm_ns_spec *net = &spec->namespaces[TM_NS_NET];
    if (!bind && type && !strcmp(type, "sysfs") && spec->namespaces[TM_NS_USER].enabled &&
        (!net->enabled || net->path)) {
        struct tm_mount_spec sys = *m;
        sys.type = "bind";
        sys.source = "/sys";
        sys.flags = (m->flags | MS_BIND | MS_REC) & ~MS_REMOUNT;
        return mount_one(rootfd, spec, &sys, err);
    }
    struct stat st;
    bool file = false;
    if (bind) {
        if (!m->source || stat(m->source, &st) < 0)
            return tm_error_sys(err, "bind mount source %s", m->source ? m->source : "(none)");
        file = !S_ISDIR(st.st_mode);
    }
    _cleanup_close_ int fd = make_target(rootfd, m->destination, file, err);
    if (fd < 0)
        return fd;
    int ret;
    unsigned long rest = m->flags & ~(MS_BIND | MS_REC);
    if (bind) {
        ret = mount_at(rootfd, m->destination, m->source, NULL, MS_BIND | (m->flags & MS_REC), NULL, err);
        /* A bind mount takes its flags only on a remount. */
        if (ret == 0 && rest)
            ret = mount_at(rootfd, m->destination, NULL, NULL, MS_BIND | MS_REMOUNT | rest, NULL, err);
    } else {
        ret = mount_at(rootfd, m->destination, m->source ? m->source : type, type, m->flags, m->data, err);
    }
    if (ret == 0 && m->propagation)
        ret = mount_at(rootfd, m->destination, NULL, NULL, m->propagation, NULL, err);
    return ret;
}

static bool mounts_dev_tmpfs(const struct tm_container_spec *spec)
{
    for (size_t i = 0; i < spec->nmounts; i++)
        if (!strcmp(spec->mounts[i].destination, "/dev"))
            return !(spec->mounts[i].flags & MS_BIND);
    return false;
}

/* In a user namespace mknod is refused: as runc, the host's device is bound
 * onto an empty file at path (the same path on the host). */
static int bind_device(int rootfd, const char *path, tm_error *err)
{
    _cleanup_close_ int fd = make_target(rootfd, path, true, err);
    return fd < 0 ? fd : mount_at(rootfd, path, path, NULL, MS_BIND, NULL, err);
}

/* The devices every container has (runc's list), then the spec's own. */
static int make_devices(int rootfd, const struct tm_container_spec *spec, tm_error *err)
{
    static const struct { const char *name; unsigned major, minor; } std[] = {
        { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
    };
    static const char *const links[][2] = {
        { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
        { "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" }, { "/proc/kcore", "core" },
    };
    bool userns = spec->namespaces[TM_NS_USER].enabled;
    if (mounts_dev_tmpfs(spec)) {
        _cleanup_close_ int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
        if (dev < 0)
            return tm_error_sys(err, "cannot open /dev in the container");
        mode_t old = umask(0);
        for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
            char path[32];
            snprintf(path, sizeof(path), "/dev/%s", std[i].name);
            int ret = userns ? bind_device(rootfd, path, err) : 0;
            if (!userns && mknodat(dev, std[i].name, S_IFCHR | 0666, makedev(std[i].major, std[i].minor)) < 0 &&
                errno != EEXIST)
                ret = tm_error_sys(err, "cannot make %s", path);
            if (ret < 0) {
                umask(old);
                return ret;
            }
        }
        umask(old);
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
            if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
                return tm_error_sys(err, "cannot link /dev/%s", links[i][1]);
    }
    for (size_t i = 0; i < spec->ndevices; i++) {
        const struct tm_device_spec *d = &spec->devices[i];
        if (userns) {
            int ret = bind_device(rootfd, d->path, err);
            if (ret < 0)
                return ret;
            continue;
        }
        mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        mode_t mode = d->file_mode ? d->file_mode & 07777 : 0666;
        char parent[PATH_MAX];
        snprintf(parent, sizeof(parent), "%s", d->path);
        char *slash = strrchr(parent, '/');
        *slash = '\0';
        _cleanup_close_ int dir = make_target(rootfd, *parent ? parent : "/", false, err);
        if (dir < 0)
            return dir;
        if (mknodat(dir, slash + 1, type | mode, makedev(d->major, d->minor)) < 0 && errno != EEXIST)
            return tm_error_sys(err, "cannot make device %s", d->path);
        if (fchownat(dir, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(dir, slash + 1, mode, 0) < 0)
            return tm_error_sys(err, "cannot set the owner or mode of device %s", d->path);
    }
    return 0;
}

/* pivot_root(".", ".") and detach the old root beneath (as runc does: no
 * directory for the old root is needed inside the image). */
static int pivot(const char *rootfs, tm_error *err)
{
    _cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0 || newroot < 0)
        return tm_error_sys(err, "cannot open the old or the new root %s", rootfs);
    if (fchdir(newroot) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        return tm_error_sys(err, "pivot_root into %s", rootfs);
    if (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
        umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        return tm_error_sys(err, "cannot detach the old root");
    return 0;
}

int tm_rootfs_mask_paths(const struct tm_container_spec *spec, tm_error *err)
{
    for (size_t i = 0; i < spec->nmasked_paths; i++) {
        const char *p = spec->masked_paths[i];
        struct stat st;
        if (lstat(p, &st) < 0)
            continue;   /* nothing there to hide */
        int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL)
                                    : mount("/dev/null", p, NULL, MS_BIND, NULL);
        if (r < 0)
            return tm_error_sys(err, "cannot mask %s", p);
    }
    for (size_t i = 0; i < spec->nreadonly_paths; i++) {
        const char *p = spec->readonly_paths[i];
        if (access(p, F_OK) < 0)
            continue;
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 ||
            mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, NULL) < 0)
            return tm_error_sys(err, "cannot make %s read-only", p);
    }
    return 0;
}

int tm_rootfs_setup(const struct tm_container_spec *spec, const char *rootfs,
                    int (*before_pivot)(void *ctx, tm_error *err), void *ctx, tm_error *err)
{
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return tm_error_sys(err, "cannot make the mount namespace a slave of the host's");
    if (rootfs && mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return tm_error_sys(err, "cannot bind the root filesystem %s", rootfs);
    _cleanup_close_ int rootfd = open(rootfs ? rootfs : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return tm_error_sys(err, "cannot open the root filesystem %s", rootfs ? rootfs : "/");
    int ret = 0;
    for (size_t i = 0; i < spec->nmounts && ret == 0; i++)
        ret = mount_one(rootfd, spec, &spec->mounts[i], err);
    if (ret == 0)
        ret = make_devices(rootfd, spec, err);
    if (ret == 0 && before_pivot)
        ret = before_pivot(ctx, err);
    if (ret == 0 && rootfs)
        ret = pivot(rootfs, err);
    if (ret < 0)
        return ret;
    if (spec->rootfs_propagation && mount(NULL, "/", NULL, spec->rootfs_propagation, NULL) < 0)
        return tm_error_sys(err, "cannot set the root's propagation");
    if (rootfs && spec->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
        return tm_error_sys(err, "cannot make the root read-only");
    return 0;
}
