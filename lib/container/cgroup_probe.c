/* Finding the hierarchies: the mount table, and which cgroup a process is in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/cgroup_internal.h"
#include "util/cleanup.h"

const struct tm_cgroup_controller tm_cgroup_controllers[] = {
    { "cpuset", "cpuset", TM_CGROUP_CPUSET },
    { "cpu", "cpu", TM_CGROUP_CPU },
    { "cpuacct", NULL, TM_CGROUP_CPUACCT },
    { "blkio", "io", TM_CGROUP_BLKIO },
    { "memory", "memory", TM_CGROUP_MEMORY },
    { "devices", NULL, TM_CGROUP_DEVICES },
    { "freezer", NULL, TM_CGROUP_FREEZER },
    { "net_cls", NULL, TM_CGROUP_NET_CLS },
    { "perf_event", "perf_event", TM_CGROUP_PERF_EVENT },
    { "net_prio", NULL, TM_CGROUP_NET_PRIO },
    { "hugetlb", "hugetlb", TM_CGROUP_HUGETLB },
    { "pids", "pids", TM_CGROUP_PIDS },
    { "rdma", "rdma", TM_CGROUP_RDMA },
    { "misc", "misc", TM_CGROUP_MISC },
};
const size_t tm_cgroup_ncontrollers = sizeof tm_cgroup_controllers / sizeof tm_cgroup_controllers[0];

#define MOUNT_SIZE sizeof(((struct tm_cgroup_hierarchy *)0)->mount)
#define NAME_SIZE sizeof(((struct tm_cgroup_hierarchy *)0)->name)

const char *tm_cgroup_controller_name(unsigned bit, bool v2)
{
    for (size_t i = 0; i < tm_cgroup_ncontrollers; i++)
        if (tm_cgroup_controllers[i].bit == bit)
            return v2 ? tm_cgroup_controllers[i].v2 : tm_cgroup_controllers[i].v1;
    return NULL;
}

/* Known controllers among the words of list, separated by any of seps;
 * "name=X" words go to name (v1 super options), in order. */
static unsigned controllers_in(const char *list, const char *seps, bool v2, char *name, size_t len)
{
    unsigned bits = 0;
    if (name)
        *name = '\0';
    for (list += strspn(list, seps); *list; list += strspn(list, seps)) {
        size_t wlen = strcspn(list, seps);
        bool known = !strncmp(list, "name=", 5);
        for (size_t i = 0; i < tm_cgroup_ncontrollers; i++) {
            const char *c = v2 ? tm_cgroup_controllers[i].v2 : tm_cgroup_controllers[i].v1;
            if (c && strlen(c) == wlen && !memcmp(c, list, wlen)) {
                bits |= tm_cgroup_controllers[i].bit;
                known = true;
            }
        }
        if (name && known && strlen(name) + wlen + 2 <= len)
            snprintf(name + strlen(name), len - strlen(name), "%s%.*s", *name ? "," : "", (int)wlen, list);
        list += wlen;
    }
    return bits;
}

/* mountinfo writes space, tab, newline and backslash in paths as \ooo. */
static void unescape_octal(char *s)
{
    char *out = s;
    for (const char *in = s; *in;) {
        int c = in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
                        in[3] >= '0' && in[3] <= '7'
                    ? (in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0')
                    : 0;
        if (c) {   /* \000 would cut the path short: left as it is */
            *out++ = (char)c;
            in += 4;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
}

struct mount_line {
    char *mount, *fstype, *super;
};

/* ID PARENT MAJ:MIN ROOT MOUNT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
static bool parse_mount_line(char *line, struct mount_line *m)
{
    char *field[64], *save;
    size_t n = 0;
    for (char *t = strtok_r(line, " \n", &save); t && n < 64; t = strtok_r(NULL, " \n", &save))
        field[n++] = t;
    size_t sep = 6;
    while (sep < n && strcmp(field[sep], "-"))
        sep++;
    if (sep + 3 >= n)
        return false;
    *m = (struct mount_line){ field[4], field[sep + 1], field[sep + 3] };
    unescape_octal(m->mount);
    return m->mount[0] == '/' && m->mount[1] && strlen(m->mount) < MOUNT_SIZE;
}

/* A later mount on the same point hides the earlier one. */
static void forget_shadowed(struct tm_cgroup_host *host, const char *mount)
{
    for (size_t i = 0; i < host->n;) {
        if (!strcmp(host->h[i].mount, mount))
            memmove(&host->h[i], &host->h[i + 1], (--host->n - i) * sizeof host->h[0]);
        else
            i++;
    }
}

static unsigned v2_controllers(const char *mount)
{
    _cleanup_free_ char *text = NULL;
    tm_error ignored;
    if (tm_cgroup_read(mount, "cgroup.controllers", 4096, &text, &ignored) < 0)
        return 0;
    return controllers_in(text, " \n", true, NULL, 0);
}

/* Keep the v2 hierarchy and every v1 one with a controller or a name; a
 * second mount of the same hierarchy is skipped. */
static void add_hierarchy(struct tm_cgroup_host *host, const struct mount_line *m)
{
    struct tm_cgroup_hierarchy h = { .v2 = !strcmp(m->fstype, "cgroup2") };
    if (!h.v2 && strcmp(m->fstype, "cgroup"))
        return;
    if (!h.v2) {
        h.controllers = controllers_in(m->super, ",", false, h.name, NAME_SIZE);
        if (!*h.name)
            return;
    }
    for (size_t i = 0; i < host->n; i++)
        if (h.v2 ? host->h[i].v2 : (!host->h[i].v2 && !strcmp(host->h[i].name, h.name)))
            return;
    if (host->n == TM_CGROUP_MAX_HIERARCHIES)
        return;
    if (h.v2)
        h.controllers = v2_controllers(m->mount);
    strcpy(h.mount, m->mount);
    host->h[host->n++] = h;
}

int tm_cgroup_probe(const char *mountinfo, struct tm_cgroup_host *host, tm_error *err)
{
    if (!mountinfo)
        mountinfo = "/proc/self/mountinfo";
    _cleanup_fclose_ FILE *f = fopen(mountinfo, "re");
    if (!f)
        return tm_error_sys(err, "cannot open %s", mountinfo);
    memset(host, 0, sizeof *host);
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        struct mount_line m;
        if (!parse_mount_line(line, &m))
            continue;
        forget_shadowed(host, m.mount);
        add_hierarchy(host, &m);
    }
    if (ferror(f))
        return tm_error_set(err, EIO, "cannot read %s", mountinfo);
    return 0;
}

static const struct tm_cgroup_hierarchy *v2_of(const struct tm_cgroup_host *host)
{
    for (size_t i = 0; i < host->n; i++)
        if (host->h[i].v2)
            return &host->h[i];
    return NULL;
}

/* The v2 root's own list, on one line. */
static void describe_v2(const struct tm_cgroup_hierarchy *v2, char *buf, size_t len)
{
    _cleanup_free_ char *text = NULL;
    tm_error ignored;
    if (tm_cgroup_read(v2->mount, "cgroup.controllers", 4096, &text, &ignored) < 0) {
        snprintf(buf, len, "v2 at %s (controllers unknown)", v2->mount);
        return;
    }
    text[strcspn(text, "\n")] = '\0';
    snprintf(buf, len, "v2 at %s (%s)", v2->mount, *text ? text : "no controllers");
}

void tm_cgroup_host_describe(const struct tm_cgroup_host *host, char *buf, size_t len)
{
    if (!len)
        return;
    char names[512] = "";
    for (size_t i = 0; i < host->n; i++)
        if (!host->h[i].v2)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? " " : "",
                     host->h[i].name);
    char v2[MOUNT_SIZE + 200] = "no v2";
    if (v2_of(host))
        describe_v2(v2_of(host), v2, sizeof v2);
    if (*names)
        snprintf(buf, len, "%s on v1, %s", names, v2);
    else if (v2_of(host))
        snprintf(buf, len, "%s", v2);
    else
        snprintf(buf, len, "no cgroup hierarchies mounted");
}

/* Lines "ID:CONTROLLERS:PATH"; v2's is "0::PATH". */
int tm_cgroup_self_path(const struct tm_cgroup_hierarchy *h, const char *proc_cgroup, char *buf,
                        size_t len, tm_error *err)
{
    if (!proc_cgroup)
        proc_cgroup = "/proc/self/cgroup";
    _cleanup_fclose_ FILE *f = fopen(proc_cgroup, "re");
    if (!f)
        return tm_error_sys(err, "cannot open %s", proc_cgroup);
    _cleanup_free_ char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *names = strchr(line, ':'), *path = names ? strchr(names + 1, ':') : NULL;
        if (!path)
            continue;
        *path++ = '\0';
        *names++ = '\0';
        if (h->v2 ? strcmp(line, "0") || *names : strcmp(names, h->name))
            continue;
        if (strlen(path) >= len)
            return tm_error_set(err, ENAMETOOLONG, "cgroup path %s is too long", path);
        strcpy(buf, path);
        return 0;
    }
    return tm_error_set(err, ENOENT, "%s has no line for the %s hierarchy", proc_cgroup,
                        h->v2 ? "v2" : h->name);
}
