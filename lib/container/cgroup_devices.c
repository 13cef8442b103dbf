/* The device cgroup: which device nodes a container's processes may open or
 * make, whatever nodes they can see. As runc: deny all, the spec's rules in
 * order, then the default devices; on v1 written to devices.deny and
 * devices.allow, on v2 compiled into a BPF program (cgroup_bpf_devices.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "container/cgroup_internal.h"
#include "util/cleanup.h"

#define RWM (TM_CGROUP_DEV_READ | TM_CGROUP_DEV_WRITE | TM_CGROUP_DEV_MKNOD)

/* runc's AllowedDevices (libcontainer/specconv), in its order. */
static const struct tm_cgroup_device_rule defaults[] = {
    { 'c', -1, -1, TM_CGROUP_DEV_MKNOD, true },
    { 'b', -1, -1, TM_CGROUP_DEV_MKNOD, true },
    { 'c', 1, 3, RWM, true },     /* null */
    { 'c', 1, 8, RWM, true },     /* random */
    { 'c', 1, 7, RWM, true },     /* full */
    { 'c', 5, 0, RWM, true },     /* tty */
    { 'c', 1, 5, RWM, true },     /* zero */
    { 'c', 1, 9, RWM, true },     /* urandom */
    { 'c', 136, -1, RWM, true },  /* /dev/pts/N */
    { 'c', 5, 2, RWM, true },     /* ptmx */
};
#define NDEFAULTS (sizeof defaults / sizeof defaults[0])

int tm_cgroup_device_rules(const struct tm_cgroup_limits *l, struct tm_cgroup_device_rule **out,
                           size_t *n, tm_error *err)
{
    *n = 1 + l->ndevices + NDEFAULTS;
    struct tm_cgroup_device_rule *r = calloc(*n, sizeof *r);
    if (!r)
        return tm_error_set(err, ENOMEM, "device rules: out of memory");
    r[0] = (struct tm_cgroup_device_rule){ 'a', -1, -1, RWM, false };
    if (l->ndevices)
        memcpy(r + 1, l->devices, l->ndevices * sizeof *r);
    memcpy(r + 1 + l->ndevices, defaults, sizeof defaults);
    *out = r;
    return 0;
}

static void number(char *buf, size_t len, int64_t v)
{
    if (v < 0)
        snprintf(buf, len, "*");
    else
        snprintf(buf, len, "%" PRId64, v);
}

void tm_cgroup_device_rule_format(const struct tm_cgroup_device_rule *r, char *buf, size_t len)
{
    char major[24], minor[24], access[4] = "";
    number(major, sizeof major, r->major);
    number(minor, sizeof minor, r->minor);
    size_t k = 0;
    if (r->access & TM_CGROUP_DEV_READ)
        access[k++] = 'r';
    if (r->access & TM_CGROUP_DEV_WRITE)
        access[k++] = 'w';
    if (r->access & TM_CGROUP_DEV_MKNOD)
        access[k++] = 'm';
    access[k] = '\0';
    snprintf(buf, len, "%c %s:%s %s", r->type, major, minor, access);
}

static int write_v1(const char *dir, const struct tm_cgroup_device_rule *r, size_t n, tm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char text[80];
        tm_cgroup_device_rule_format(&r[i], text, sizeof text);
        int ret = tm_cgroup_write(dir, r[i].allow ? "devices.allow" : "devices.deny", text, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* A real v2 hierarchy is always cgroup2; only test trees (plain
 * directories) are not, and have nothing to attach a program to. */
static int write_v2(const char *dir, const struct tm_cgroup_device_rule *r, size_t n, tm_error *err)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s", dir);
    struct statfs fs;
    if (fstatfs(fd, &fs) < 0)
        return tm_error_sys(err, "cannot statfs %s", dir);
    if (fs.f_type != CGROUP2_SUPER_MAGIC)
        return 0;
    int ret = tm_cgroup_bpf_devices_attach(fd, r, n, err);
    return ret < 0 ? tm_error_prefix(err, "device rules on %s", dir) : 0;
}

int tm_cgroup_write_devices(const struct tm_cgroup *cg, const struct tm_cgroup_limits *l, tm_error *err)
{
    const struct tm_cgroup_place *v1 = NULL, *v2 = NULL;
    for (size_t i = 0; i < cg->n; i++) {
        if (!cg->p[i].h.v2 && (cg->p[i].h.controllers & TM_CGROUP_DEVICES))
            v1 = &cg->p[i];
        if (cg->p[i].h.v2)
            v2 = &cg->p[i];
    }
    if (!v1 && !v2)
        return tm_error_set(err, ENOTSUP, "device rules need the devices controller (v1) or cgroup v2, "
                            "and this host has neither");
    _cleanup_free_ struct tm_cgroup_device_rule *r = NULL;
    size_t n;
    int ret = tm_cgroup_device_rules(l, &r, &n, err);
    if (ret < 0)
        return ret;
    return v1 ? write_v1(v1->dir, r, n, err) : write_v2(v2->dir, r, n, err);
}
