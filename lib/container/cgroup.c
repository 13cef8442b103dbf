/* Control groups: finding the hierarchies, making a container's cgroup in
 * each with its limits, moving processes in, and taking it down again. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/clock.h"

#define DESTROY_TIMEOUT_MS 5000.0
#define OURS (TM_CGROUP_MEMORY | TM_CGROUP_PIDS | TM_CGROUP_CPU | TM_CGROUP_CPUACCT)

static const struct {
    const char *name;
    unsigned bit;
} controllers[] = {
    { "memory", TM_CGROUP_MEMORY },
    { "pids", TM_CGROUP_PIDS },
    { "cpu", TM_CGROUP_CPU },
    { "cpuacct", TM_CGROUP_CPUACCT },
};
#define N_CONTROLLERS (sizeof controllers / sizeof controllers[0])
#define MOUNT_SIZE sizeof(((struct tm_cgroup_hierarchy *)0)->mount)
#define DIR_SIZE sizeof(((struct tm_cgroup_place *)0)->dir)

/* ---- the mount table ---- */

/* Our controllers among the words of list, separated by any of seps. */
static unsigned controllers_in(const char *list, const char *seps)
{
    unsigned bits = 0;
    for (list += strspn(list, seps); *list; list += strspn(list, seps)) {
        size_t len = strcspn(list, seps);
        for (size_t i = 0; i < N_CONTROLLERS; i++)
            if (strlen(controllers[i].name) == len && !memcmp(controllers[i].name, list, len))
                bits |= controllers[i].bit;
        list += len;
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
    return controllers_in(text, " \n") & ~TM_CGROUP_CPUACCT;
}

/* Keep the v2 hierarchy and the v1 ones carrying something we use (named
 * ones like name=systemd carry nothing); a second mount of the same
 * hierarchy is skipped. */
static void add_hierarchy(struct tm_cgroup_host *host, const struct mount_line *m)
{
    struct tm_cgroup_hierarchy h = { .v2 = !strcmp(m->fstype, "cgroup2") };
    if (!h.v2 && strcmp(m->fstype, "cgroup"))
        return;
    if (!h.v2 && !(h.controllers = controllers_in(m->super, ",")))
        return;
    for (size_t i = 0; i < host->n; i++)
        if (h.v2 ? host->h[i].v2 : (!host->h[i].v2 && (host->h[i].controllers & h.controllers)))
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

/* The v2 root's own list (hugetlb, io, ... too), on one line. */
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
    unsigned v1 = 0;
    for (size_t i = 0; i < host->n; i++)
        if (!host->h[i].v2)
            v1 |= host->h[i].controllers;
    char names[64] = "";
    for (size_t i = 0; i < N_CONTROLLERS; i++)
        if (v1 & controllers[i].bit)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     *names ? " " : "", controllers[i].name);
    char v2[MOUNT_SIZE + 200] = "no v2";
    if (v2_of(host))
        describe_v2(v2_of(host), v2, sizeof v2);
    if (v1)
        snprintf(buf, len, "%s on v1, %s", names, v2);
    else if (v2_of(host))
        snprintf(buf, len, "%s", v2);
    else
        snprintf(buf, len, "no cgroup hierarchies mounted");
}

/* ---- checking what was asked ---- */

/* "/a/b": absolute, no empty, "." or ".." components, no control characters. */
static int check_path(const char *path, tm_error *err)
{
    if (!path || path[0] != '/')
        return tm_error_set(err, EINVAL, "cgroup path \"%s\" is not absolute", path ? path : "");
    if (strlen(path) > TM_CGROUP_PATH_MAX)
        return tm_error_set(err, ENAMETOOLONG, "cgroup path is longer than %d characters",
                            TM_CGROUP_PATH_MAX);
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return tm_error_set(err, EINVAL, "cgroup path has a control character");
    for (const char *c = path + 1;; c++) {
        size_t len = strcspn(c, "/");
        if (len == 0)
            return tm_error_set(err, EINVAL, "cgroup path \"%s\" has an empty component", path);
        if (!strncmp(c, ".", len) || !strncmp(c, "..", len))
            return tm_error_set(err, EINVAL, "cgroup path \"%s\" has a \".\" or \"..\" component",
                                path);
        c += len;
        if (!*c)
            return 0;
    }
}

/* Ranges the kernel enforces, refused here with a message before anything
 * is made. */
static int check_limits(const struct tm_cgroup_limits *l, tm_error *err)
{
    if (l->memory_swap >= 0 && l->memory_max < 0)
        return tm_error_set(err, EINVAL, "a memory+swap limit needs a memory limit");
    if (l->memory_swap >= 0 && l->memory_swap < l->memory_max)
        return tm_error_set(err, EINVAL, "memory+swap limit %" PRId64 " is below memory limit %" PRId64,
                            l->memory_swap, l->memory_max);
    if (l->cpu_period && (l->cpu_period < 1000 || l->cpu_period > 1000000))
        return tm_error_set(err, EINVAL, "cpu period %" PRIu64 " us is outside 1000..1000000",
                            l->cpu_period);
    if (l->cpu_quota >= 0 && l->cpu_quota < 1000)
        return tm_error_set(err, EINVAL, "cpu quota %" PRId64 " us is below 1000", l->cpu_quota);
    if (l->cpu_shares && (l->cpu_shares < 2 || l->cpu_shares > 262144))
        return tm_error_set(err, EINVAL, "cpu shares %" PRIu64 " is outside 2..262144",
                            l->cpu_shares);
    return 0;
}

static unsigned host_controllers(const struct tm_cgroup_host *host)
{
    unsigned bits = 0;
    for (size_t i = 0; i < host->n; i++)
        bits |= host->h[i].controllers;
    return bits;
}

static int check_supported(const struct tm_cgroup_host *host, const struct tm_cgroup_limits *l,
                           tm_error *err)
{
    unsigned need = (l->memory_max >= 0 || l->memory_swap >= 0 ? TM_CGROUP_MEMORY : 0) |
                    (l->pids_max >= 0 ? TM_CGROUP_PIDS : 0) |
                    (l->cpu_quota >= 0 || l->cpu_period || l->cpu_shares ? TM_CGROUP_CPU : 0);
    unsigned missing = need & ~host_controllers(host);
    for (size_t i = 0; i < N_CONTROLLERS; i++) {
        if (!(missing & controllers[i].bit))
            continue;
        char desc[512];
        tm_cgroup_host_describe(host, desc, sizeof desc);
        return tm_error_set(err, ENOTSUP, "a %s limit needs the %s controller, which this host lacks (%s)",
                            controllers[i].name, controllers[i].name, desc);
    }
    return 0;
}

/* ---- writing files ---- */

static int write_file(const char *dir, const char *name, const char *val, tm_error *err)
{
    char path[DIR_SIZE + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* never O_CREAT: a missing file means a missing controller, not a new file */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot write %s to %s", val, path);
    size_t len = strlen(val);
    ssize_t n = write(fd, val, len);
    if (n < 0)
        return tm_error_sys(err, "cannot write %s to %s", val, path);
    if ((size_t)n != len)
        return tm_error_set(err, EIO, "cannot write %s to %s: short write", val, path);
    return 0;
}

static int write_num(const char *dir, const char *name, int64_t v, tm_error *err)
{
    char val[24];
    snprintf(val, sizeof val, "%" PRId64, v);
    return write_file(dir, name, val, err);
}

static bool has_file(const char *dir, const char *name)
{
    char path[DIR_SIZE + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* memsw must never drop below memory.limit_in_bytes, so the order depends
 * on the current limit (runc's rule); in a fresh cgroup memory goes first. */
static int memory_v1(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    if (l->memory_swap < 0 || !has_file(dir, "memory.memsw.limit_in_bytes"))
        return l->memory_max >= 0 ? write_num(dir, "memory.limit_in_bytes", l->memory_max, err) : 0;
    uint64_t cur;
    tm_error ignored;
    bool swap_first = tm_cgroup_read_u64(dir, "memory.limit_in_bytes", &cur, &ignored) == 0 &&
                      cur <= (uint64_t)l->memory_swap;
    int ret;
    if (swap_first && (ret = write_num(dir, "memory.memsw.limit_in_bytes", l->memory_swap, err)) < 0)
        return ret;
    if ((ret = write_num(dir, "memory.limit_in_bytes", l->memory_max, err)) < 0)
        return ret;
    return swap_first ? 0 : write_num(dir, "memory.memsw.limit_in_bytes", l->memory_swap, err);
}

/* OCI's memory_swap is memory+swap; v2's swap.max is the swap alone. */
static int memory_v2(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret;
    if (l->memory_max >= 0 && (ret = write_num(dir, "memory.max", l->memory_max, err)) < 0)
        return ret;
    if (l->memory_swap >= 0 && has_file(dir, "memory.swap.max"))
        return write_num(dir, "memory.swap.max", l->memory_swap - l->memory_max, err);
    return 0;
}

static uint64_t period_of(const struct tm_cgroup_limits *l)
{
    return l->cpu_period ? l->cpu_period : 100000;
}

static int cpu_v1(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret;
    if ((l->cpu_quota >= 0 || l->cpu_period) &&
        (ret = write_num(dir, "cpu.cfs_period_us", (int64_t)period_of(l), err)) < 0)
        return ret;
    if (l->cpu_quota >= 0 && (ret = write_num(dir, "cpu.cfs_quota_us", l->cpu_quota, err)) < 0)
        return ret;
    if (l->cpu_shares && (ret = write_num(dir, "cpu.shares", (int64_t)l->cpu_shares, err)) < 0)
        return ret;
    return 0;
}

static int cpu_v2(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret;
    if (l->cpu_quota >= 0 || l->cpu_period) {
        char val[48], quota[24] = "max";
        if (l->cpu_quota >= 0)
            snprintf(quota, sizeof quota, "%" PRId64, l->cpu_quota);
        snprintf(val, sizeof val, "%s %" PRIu64, quota, period_of(l));
        if ((ret = write_file(dir, "cpu.max", val, err)) < 0)
            return ret;
    }
    /* runc's mapping of shares 2..262144 onto weight 1..10000 */
    if (l->cpu_shares)
        return write_num(dir, "cpu.weight", (int64_t)(1 + ((l->cpu_shares - 2) * 9999) / 262142), err);
    return 0;
}

static int write_limits(const struct tm_cgroup *cg, const struct tm_cgroup_limits *l, tm_error *err)
{
    const struct tm_cgroup_place *p;
    int ret;
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_MEMORY)) &&
        (ret = (p->h.v2 ? memory_v2 : memory_v1)(p->dir, l, err)) < 0)
        return ret;
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_PIDS)) && l->pids_max >= 0 &&
        (ret = write_num(p->dir, "pids.max", l->pids_max, err)) < 0)
        return ret;
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_CPU)) &&
        (ret = (p->h.v2 ? cpu_v2 : cpu_v1)(p->dir, l, err)) < 0)
        return ret;
    return 0;
}

/* ---- making and finding directories ---- */

static struct tm_cgroup *cgroup_new(const char *path)
{
    struct tm_cgroup *cg = calloc(1, sizeof *cg);
    if (cg)
        strcpy(cg->path, path);
    return cg;
}

static void place_init(struct tm_cgroup_place *p, const struct tm_cgroup_hierarchy *h,
                       const char *path)
{
    *p = (struct tm_cgroup_place){ .h = *h, .mount_len = strlen(h->mount) };
    snprintf(p->dir, sizeof p->dir, "%s%s", h->mount, path);   /* fits: see TM_CGROUP_PATH_MAX */
}

/* A child can use only the controllers its parent enables; like runc, try
 * them together, then one by one, and let a limit write report what failed. */
static void enable_controllers(const char *dir, unsigned bits)
{
    char all[64] = "";
    tm_error ignored;
    bits &= TM_CGROUP_MEMORY | TM_CGROUP_PIDS | TM_CGROUP_CPU;
    for (size_t i = 0; i < N_CONTROLLERS; i++)
        if (bits & controllers[i].bit)
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s+%s", *all ? " " : "",
                     controllers[i].name);
    if (!*all || write_file(dir, "cgroup.subtree_control", all, &ignored) == 0)
        return;
    for (size_t i = 0; i < N_CONTROLLERS; i++) {
        char one[16];
        snprintf(one, sizeof one, "+%s", controllers[i].name);
        if (bits & controllers[i].bit)
            write_file(dir, "cgroup.subtree_control", one, &ignored);
    }
}

/* An existing leaf is reused only when it is a cgroup with no processes. */
static int check_reusable(const char *dir, tm_error *err)
{
    _cleanup_free_ pid_t *pids = NULL;
    size_t n;
    int ret = tm_cgroup_read_pids(dir, &pids, &n, err);
    if (ret < 0)
        return tm_error_prefix(err, "%s exists but is not a usable cgroup", dir);
    if (n)
        return tm_error_set(err, EBUSY, "cgroup %s exists and has %zu process%s in it", dir, n,
                            n == 1 ? "" : "es");
    return 0;
}

/* mkdir -p p->dir from the mount point down, remembering the topmost
 * directory made so that undo removes exactly what we made. */
static int make_dirs(struct tm_cgroup_place *p, tm_error *err)
{
    char sub[sizeof p->dir];
    size_t end = strlen(p->dir);
    for (size_t i = p->mount_len + 1; i <= end; i++) {
        if (p->dir[i] != '/' && p->dir[i] != '\0')
            continue;
        snprintf(sub, sizeof sub, "%.*s", (int)i, p->dir);
        if (p->h.v2) {
            char parent[sizeof p->dir];
            snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(sub, '/') - sub), sub);
            enable_controllers(parent, p->h.controllers);
        }
        if (mkdir(sub, 0755) == 0) {
            if (!p->created_from)
                p->created_from = i;
            continue;
        }
        if (errno != EEXIST)
            return tm_error_sys(err, "cannot create %s", sub);
        if (i == end)
            return check_reusable(sub, err);
    }
    return 0;
}

/* rmdir what make_dirs made, deepest first. */
static void undo_dirs(struct tm_cgroup_place *p)
{
    if (!p->created_from)
        return;
    char sub[sizeof p->dir];
    snprintf(sub, sizeof sub, "%s", p->dir);
    while (strlen(sub) >= p->created_from) {
        rmdir(sub);
        *strrchr(sub, '/') = '\0';
    }
    p->created_from = 0;
}

/* Scoped: a create that fails leaves nothing behind. */
static void undo_createp(struct tm_cgroup **cg)
{
    if (!*cg)
        return;
    for (size_t i = 0; i < (*cg)->n; i++)
        undo_dirs(&(*cg)->p[i]);
    free(*cg);
}

static int host_or_probe(const struct tm_cgroup_host **host, struct tm_cgroup_host *probed,
                         tm_error *err)
{
    if (*host)
        return 0;
    *host = probed;
    return tm_cgroup_probe(NULL, probed, err);
}

int tm_cgroup_create(const struct tm_cgroup_host *host, const char *path,
                     const struct tm_cgroup_limits *limits, struct tm_cgroup **out, tm_error *err)
{
    struct tm_cgroup_host probed;
    int ret;
    if ((ret = host_or_probe(&host, &probed, err)) < 0 || (ret = check_path(path, err)) < 0 ||
        (ret = check_limits(limits, err)) < 0 || (ret = check_supported(host, limits, err)) < 0)
        return ret;
    if (!host->n)
        return tm_error_set(err, ENOTSUP, "no cgroup hierarchies are mounted on this host");
    _cleanup_(undo_createp) struct tm_cgroup *cg = cgroup_new(path);
    if (!cg)
        return tm_error_set(err, ENOMEM, "cgroup %s: out of memory", path);
    for (size_t i = 0; i < host->n; i++) {
        struct tm_cgroup_place *p = &cg->p[cg->n++];
        place_init(p, &host->h[i], path);
        if ((ret = make_dirs(p, err)) < 0)
            return ret;
    }
    if ((ret = write_limits(cg, limits, err)) < 0)
        return ret;
    *out = TM_STEAL(cg);
    return 0;
}

int tm_cgroup_open(const struct tm_cgroup_host *host, const char *path, struct tm_cgroup **out,
                   tm_error *err)
{
    struct tm_cgroup_host probed;
    int ret;
    if ((ret = host_or_probe(&host, &probed, err)) < 0 || (ret = check_path(path, err)) < 0)
        return ret;
    _cleanup_cgroup_ struct tm_cgroup *cg = cgroup_new(path);
    if (!cg)
        return tm_error_set(err, ENOMEM, "cgroup %s: out of memory", path);
    for (size_t i = 0; i < host->n; i++) {
        struct tm_cgroup_place *p = &cg->p[cg->n];
        place_init(p, &host->h[i], path);
        struct stat st;
        if (stat(p->dir, &st) == 0 && S_ISDIR(st.st_mode))
            cg->n++;
    }
    if (!cg->n) {
        char desc[512];
        tm_cgroup_host_describe(host, desc, sizeof desc);
        return tm_error_set(err, ENOENT, "no cgroup %s on this host (%s)", path, desc);
    }
    *out = TM_STEAL(cg);
    return 0;
}

/* ---- processes ---- */

int tm_cgroup_add_pid(struct tm_cgroup *cg, pid_t pid, tm_error *err)
{
    char val[24];
    snprintf(val, sizeof val, "%d", (int)pid);
    for (size_t i = 0; i < cg->n; i++) {
        int ret;
        if (!cg->p[i].removed && (ret = write_file(cg->p[i].dir, "cgroup.procs", val, err)) < 0)
            return ret;
    }
    return 0;
}

static const struct tm_cgroup_place *first_place(const struct tm_cgroup *cg, tm_error *err)
{
    for (size_t i = 0; i < cg->n; i++)
        if (!cg->p[i].removed)
            return &cg->p[i];
    tm_error_set(err, ENOENT, "cgroup %s has been removed", cg->path);
    return NULL;
}

int tm_cgroup_pids(struct tm_cgroup *cg, pid_t **pids, size_t *n, tm_error *err)
{
    const struct tm_cgroup_place *p = first_place(cg, err);
    return p ? tm_cgroup_read_pids(p->dir, pids, n, err) : -err->code;
}

int tm_cgroup_signal(struct tm_cgroup *cg, int sig, tm_error *err)
{
    _cleanup_free_ pid_t *pids = NULL;
    size_t n;
    int ret = tm_cgroup_pids(cg, &pids, &n, err);
    if (ret < 0)
        return ret;
    int sent = 0;
    for (size_t i = 0; i < n; i++) {
        if (kill(pids[i], sig) == 0)
            sent++;
        else if (errno != ESRCH)   /* gone since the list was read: fine */
            return tm_error_sys(err, "cannot send signal %d to %d in cgroup %s", sig, (int)pids[i],
                                cg->path);
    }
    return sent;
}

/* ---- taking it down ---- */

/* Killing the caller's own cgroup would kill the caller. */
static int refuse_own(const struct tm_cgroup *cg, tm_error *err)
{
    for (size_t i = 0; i < cg->n; i++) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;
        tm_error ignored;   /* unreadable: sweep will say why */
        if (cg->p[i].removed || tm_cgroup_read_pids(cg->p[i].dir, &pids, &n, &ignored) < 0)
            continue;
        for (size_t j = 0; j < n; j++)
            if (pids[j] == getpid())
                return tm_error_set(err, EBUSY, "cgroup %s holds this process (%d)", cg->p[i].dir,
                                    (int)pids[j]);
    }
    return 0;
}

/* One pass: SIGKILL whatever each directory lists, rmdir those that list
 * nothing. 1 while something is left, 0 when all are gone. */
static int sweep(struct tm_cgroup *cg, tm_error *err)
{
    int left = 0;
    for (size_t i = 0; i < cg->n; i++) {
        struct tm_cgroup_place *p = &cg->p[i];
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        if (p->removed)
            continue;
        int ret = tm_cgroup_read_pids(p->dir, &pids, &n, err);
        if (ret < 0 && ret != -ENOENT)
            return ret;
        for (size_t j = 0; j < n; j++)
            kill(pids[j], SIGKILL);
        if (n == 0 && (rmdir(p->dir) == 0 || errno == ENOENT))
            p->removed = true;
        else if (n == 0 && errno != EBUSY)
            return tm_error_sys(err, "cannot remove %s", p->dir);
        else
            left = 1;   /* processes, or exiting ones the kernel still counts */
    }
    return left;
}

/* Parents such as /teemate go too when nothing else uses them. */
static void remove_parents(const struct tm_cgroup_place *p)
{
    char sub[sizeof p->dir];
    snprintf(sub, sizeof sub, "%s", p->dir);
    for (;;) {
        *strrchr(sub, '/') = '\0';
        if (strlen(sub) <= p->mount_len || rmdir(sub) < 0)
            return;
    }
}

int tm_cgroup_destroy(struct tm_cgroup *cg, tm_error *err)
{
    int ret = refuse_own(cg, err);
    if (ret < 0)
        return ret;
    tm_error ignored;
    for (size_t i = 0; i < cg->n; i++)   /* v2 kills all at once, forks included */
        if (cg->p[i].h.v2 && !cg->p[i].removed && has_file(cg->p[i].dir, "cgroup.kill"))
            write_file(cg->p[i].dir, "cgroup.kill", "1", &ignored);
    double deadline = tm_now_ms() + DESTROY_TIMEOUT_MS;
    while ((ret = sweep(cg, err)) > 0) {
        if (tm_now_ms() > deadline)
            return tm_error_set(err, EBUSY, "cgroup %s still has processes after %.0f s", cg->path,
                                DESTROY_TIMEOUT_MS / 1000);
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    }
    if (ret < 0)
        return ret;
    for (size_t i = 0; i < cg->n; i++)
        remove_parents(&cg->p[i]);
    return 0;
}

/* ---- the object ---- */

size_t tm_cgroup_count(const struct tm_cgroup *cg)
{
    return cg->n;
}

const char *tm_cgroup_dir(const struct tm_cgroup *cg, size_t i)
{
    return i < cg->n ? cg->p[i].dir : NULL;
}

void tm_cgroup_free(struct tm_cgroup *cg)
{
    free(cg);
}

void tm_cgroup_freep(struct tm_cgroup **cg)
{
    tm_cgroup_free(*cg);
}
