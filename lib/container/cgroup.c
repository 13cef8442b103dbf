/* Control groups: making a container's cgroup in every hierarchy, moving
 * processes in, and taking it down again. The mount table is read in
 * cgroup_probe.c, the limits written in cgroup_limits.c, the device rules
 * in cgroup_devices.c. */
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

/* ---- writing files ---- */

int tm_cgroup_write(const char *dir, const char *name, const char *val, tm_error *err)
{
    char path[TM_CGROUP_DIR_SIZE + 64];
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

int tm_cgroup_write_num(const char *dir, const char *name, int64_t v, tm_error *err)
{
    char val[24];
    snprintf(val, sizeof val, "%" PRId64, v);
    return tm_cgroup_write(dir, name, val, err);
}

bool tm_cgroup_has_file(const char *dir, const char *name)
{
    char path[TM_CGROUP_DIR_SIZE + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
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

/* A child can use only the controllers its parent enables; like runc,
 * enable every one the hierarchy has, together, else one by one, and let a
 * limit write report what failed. */
static void enable_controllers(const char *dir, unsigned bits)
{
    char all[160] = "";
    tm_error ignored;
    for (size_t i = 0; i < tm_cgroup_ncontrollers; i++)
        if ((bits & tm_cgroup_controllers[i].bit) && tm_cgroup_controllers[i].v2)
            snprintf(all + strlen(all), sizeof all - strlen(all), "%s+%s", *all ? " " : "",
                     tm_cgroup_controllers[i].v2);
    if (!*all || tm_cgroup_write(dir, "cgroup.subtree_control", all, &ignored) == 0)
        return;
    for (size_t i = 0; i < tm_cgroup_ncontrollers; i++) {
        char one[32];
        snprintf(one, sizeof one, "+%s", tm_cgroup_controllers[i].v2 ? tm_cgroup_controllers[i].v2 : "");
        if ((bits & tm_cgroup_controllers[i].bit) && tm_cgroup_controllers[i].v2)
            tm_cgroup_write(dir, "cgroup.subtree_control", one, &ignored);
    }
}

/* A new v1 cpuset has no cpus and no mems, and takes no process until it
 * has both: copy the parent's down, as runc does. */
static int cpuset_inherit(const char *dir, tm_error *err)
{
    char parent[TM_CGROUP_DIR_SIZE];
    snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(dir, '/') - dir), dir);
    static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *mine = NULL, *theirs = NULL;
        int ret = tm_cgroup_read(dir, files[i], 4096, &mine, err);
        if (ret < 0)
            return ret;
        if (mine[strspn(mine, " \n")])
            continue;
        if ((ret = tm_cgroup_read(parent, files[i], 4096, &theirs, err)) < 0)
            return ret;
        theirs[strcspn(theirs, "\n")] = '\0';
        if ((ret = tm_cgroup_write(dir, files[i], theirs, err)) < 0)
            return ret;
    }
    return 0;
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
        bool made = mkdir(sub, 0755) == 0;
        if (!made && errno != EEXIST)
            return tm_error_sys(err, "cannot create %s", sub);
        if (made && !p->created_from)
            p->created_from = i;
        int ret;
        if (!made && i == end && (ret = check_reusable(sub, err)) < 0)
            return ret;
        if (!p->h.v2 && (p->h.controllers & TM_CGROUP_CPUSET) && (ret = cpuset_inherit(sub, err)) < 0)
            return ret;
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
        (ret = tm_cgroup_check_limits(host, limits, err)) < 0)
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
    if ((ret = tm_cgroup_write_limits(cg, limits, err)) < 0 ||
        (ret = tm_cgroup_write_devices(cg, limits, err)) < 0)
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
        if (!cg->p[i].removed && (ret = tm_cgroup_write(cg->p[i].dir, "cgroup.procs", val, err)) < 0)
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
    /* A frozen (v1) process dies of SIGKILL only once thawed: kill, then
     * thaw, so nothing of it runs again. */
    bool frozen = false;
    if (tm_cgroup_frozen(cg, &frozen, &ignored) == 0 && frozen) {
        tm_cgroup_signal(cg, SIGKILL, &ignored);
        if ((ret = tm_cgroup_freeze(cg, false, err)) < 0)
            return ret;
    }
    for (size_t i = 0; i < cg->n; i++)   /* v2 kills all at once, forks included */
        if (cg->p[i].h.v2 && !cg->p[i].removed && tm_cgroup_has_file(cg->p[i].dir, "cgroup.kill"))
            tm_cgroup_write(cg->p[i].dir, "cgroup.kill", "1", &ignored);
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
