/* The state store: ROOT/ID/{state.json,exec.fifo,lock}. Every verb that
 * changes a container holds a lock on ROOT/ID/lock while it does, so two CLI
 * processes never interleave on one container. The lock is a POSIX record
 * lock (fcntl), not flock: a flock belongs to the open file, which the
 * container's init (cloned, not yet exec'd) would inherit and hold on to
 * while parked, so `start` could never take it; a record lock belongs to
 * the process that took it, and a child never has it. */
#include "container/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/cgroup.h"
#include "util/cleanup.h"
#include "util/file.h"

#define STATE_FILE "state.json"
#define STATE_MAX (1u << 20)

const char *tm_state_root(const char *root)
{
    static char buf[PATH_MAX];
    if (root && *root)
        return root;
    if (geteuid() == 0)
        return TM_STATE_ROOT_DEFAULT;
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n = xdg && xdg[0] == '/' ? snprintf(buf, sizeof(buf), "%s/teemate", xdg)
                                 : snprintf(buf, sizeof(buf), "/tmp/teemate-%u", (unsigned)geteuid());
    return n > 0 && (size_t)n < sizeof(buf) ? buf : "/tmp/teemate";
}

int tm_state_id_check(const char *id, tm_error *err)
{
    size_t len = id ? strlen(id) : 0;
    if (len == 0 || len > TM_CONTAINER_ID_MAX)
        return tm_error_set(err, EINVAL, "invalid container id: must be 1 to %d characters",
                            TM_CONTAINER_ID_MAX);
    if (!strcmp(id, ".") || !strcmp(id, ".."))
        return tm_error_set(err, EINVAL, "invalid container id \"%s\"", id);
    for (const char *p = id; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '.' || c == '-';
        if (!ok)
            return tm_error_set(err, EINVAL,
                                "invalid container id \"%s\": only letters, digits and _+.- are allowed",
                                id);
    }
    return 0;
}

int tm_state_path(const char *root, const char *id, const char *name, char *buf, size_t len,
                  tm_error *err)
{
    root = tm_state_root(root);
    int n = name ? snprintf(buf, len, "%s/%s/%s", root, id, name) : snprintf(buf, len, "%s/%s", root, id);
    if (n < 0 || (size_t)n >= len)
        return tm_error_set(err, ENAMETOOLONG, "state path for container \"%s\" is too long", id);
    return 0;
}

static int not_found(const char *id, tm_error *err)
{
    return tm_error_set(err, ENOENT, "container \"%s\" does not exist", id);
}

/* mkdir -p; the directories made are 0711 (others may traverse, not list). */
static int make_root(const char *root, tm_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s", root) >= (int)sizeof(path))
        return tm_error_set(err, ENAMETOOLONG, "state root %s: path too long", root);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0711) < 0 && errno != EEXIST)
            return tm_error_sys(err, "cannot create state root %s", path);
        *p = c;
        if (!c)
            return 0;
    }
}

/* Open and lock ROOT/ID/lock. The lock file lives inside the container's
 * directory, so after waiting for it we check the file was not removed
 * meanwhile (a delete that held it): then the container is gone. */
static int lock_dir(const char *dir, const char *id, bool create, tm_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/lock", dir) >= (int)sizeof(path))
        return tm_error_set(err, ENAMETOOLONG, "%s/lock: path too long", dir);
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return not_found(id, err);
    if (fd < 0)
        return tm_error_sys(err, "cannot open %s", path);
    struct flock whole = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    while (fcntl(fd, F_SETLKW, &whole) < 0)
        if (errno != EINTR)
            return tm_error_sys(err, "cannot lock %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return tm_error_sys(err, "cannot stat %s", path);
    if (st.st_nlink == 0)
        return not_found(id, err);
    return TM_STEAL_FD(fd);
}

int tm_state_create(const char *root, const char *id, tm_error *err)
{
    int ret = tm_state_id_check(id, err);
    if (ret < 0)
        return ret;
    root = tm_state_root(root);
    if ((ret = make_root(root, err)) < 0)
        return ret;
    char dir[PATH_MAX];
    if ((ret = tm_state_path(root, id, NULL, dir, sizeof(dir), err)) < 0)
        return ret;
    if (mkdir(dir, 0711) < 0) {
        if (errno == EEXIST)
            return tm_error_set(err, EEXIST, "container \"%s\" already exists", id);
        return tm_error_sys(err, "cannot create %s", dir);
    }
    int fd = lock_dir(dir, id, true, err);
    if (fd < 0)
        rmdir(dir);
    return fd;
}

int tm_state_lock(const char *root, const char *id, tm_error *err)
{
    char dir[PATH_MAX];
    int ret = tm_state_id_check(id, err);
    if (ret < 0 || (ret = tm_state_path(root, id, NULL, dir, sizeof(dir), err)) < 0)
        return ret;
    /* No O_CREAT: a missing lock file means a delete got there first. */
    return lock_dir(dir, id, false, err);
}

int tm_state_open(const char *root, const char *id, struct tm_container_state *st, tm_error *err)
{
    _cleanup_close_ int lock = tm_state_lock(root, id, err);
    if (lock < 0)
        return lock;
    int ret = tm_state_load(root, id, st, err);
    return ret < 0 ? ret : TM_STEAL_FD(lock);
}

static json_t *annotations_json(const struct tm_container_state *st)
{
    json_t *a = json_object();
    for (size_t i = 0; a && i < st->nannotations; i++)
        json_object_set_new(a, st->annotations[i].key, json_string(st->annotations[i].value));
    return a;
}

int tm_state_save(const char *root, const struct tm_container_state *st, tm_error *err)
{
    char path[PATH_MAX];
    int ret = tm_state_path(root, st->id, STATE_FILE, path, sizeof(path), err);
    if (ret < 0)
        return ret;
    json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:o}",
                          "id", st->id, "pid", (json_int_t)st->pid,
                          "pid_start", (json_int_t)st->pid_start, "bundle", st->bundle,
                          "rootfs", st->rootfs, "cgroup_path", st->cgroup_path,
                          "created", st->created, "enclave", st->enclave,
                          "owner", (json_int_t)st->owner, "annotations", annotations_json(st));
    if (j && st->creating &&
        json_object_update_new(j, json_pack("{s:b, s:I, s:I}", "creating", 1, "creator", (json_int_t)st->creator,
                                            "creator_start", (json_int_t)st->creator_start)) < 0) {
        json_decref(j);
        j = NULL;
    }
    _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return tm_error_set(err, EINVAL, "container \"%s\": cannot encode its state", st->id);
    return tm_file_write(path, text, strlen(text), 0644, err);
}

static int malformed(const char *path, const char *what, tm_error *err)
{
    return tm_error_set(err, EINVAL, "%s: malformed container state (%s)", path, what);
}

/* Copy string member key of j into buf (len bytes, NUL included). */
static int get_string(json_t *j, const char *key, char *buf, size_t len, const char *path,
                      tm_error *err)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_string(v) || json_string_length(v) >= len || strlen(json_string_value(v)) != json_string_length(v))
        return malformed(path, key, err);
    memcpy(buf, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int get_int(json_t *j, const char *key, json_int_t min, json_int_t max, json_int_t *out,
                   const char *path, tm_error *err)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return malformed(path, key, err);
    *out = json_integer_value(v);
    return 0;
}

static int get_annotations(json_t *j, struct tm_container_state *st, const char *path, tm_error *err)
{
    json_t *a = json_object_get(j, "annotations");
    if (!a)
        return 0;
    if (!json_is_object(a))
        return malformed(path, "annotations", err);
    st->annotations = calloc(json_object_size(a) + 1, sizeof(*st->annotations));
    if (!st->annotations)
        return tm_error_set(err, ENOMEM, "%s: out of memory", path);
    const char *key;
    json_t *v;
    json_object_foreach(a, key, v) {
        if (!json_is_string(v))
            return malformed(path, "annotations", err);
        struct tm_key_value *an = &st->annotations[st->nannotations];
        an->key = strdup(key);
        an->value = strdup(json_string_value(v));
        st->nannotations++;
        if (!an->key || !an->value)
            return tm_error_set(err, ENOMEM, "%s: out of memory", path);
    }
    return 0;
}

static int parse_state(json_t *j, struct tm_container_state *st, const char *path, tm_error *err)
{
    json_int_t pid, start, owner;
    int ret;
    if (!json_is_object(j))
        return malformed(path, "not a JSON object", err);
    if ((ret = get_string(j, "id", st->id, sizeof(st->id), path, err)) < 0 ||
        (ret = get_int(j, "pid", 0, INT32_MAX, &pid, path, err)) < 0 ||
        (ret = get_int(j, "pid_start", 0, INT64_MAX, &start, path, err)) < 0 ||
        (ret = get_string(j, "bundle", st->bundle, sizeof(st->bundle), path, err)) < 0 ||
        (ret = get_string(j, "rootfs", st->rootfs, sizeof(st->rootfs), path, err)) < 0 ||
        (ret = get_string(j, "cgroup_path", st->cgroup_path, sizeof(st->cgroup_path), path, err)) < 0 ||
        (ret = get_string(j, "created", st->created, sizeof(st->created), path, err)) < 0 ||
        (ret = get_string(j, "enclave", st->enclave, sizeof(st->enclave), path, err)) < 0 ||
        (ret = get_int(j, "owner", 0, UINT32_MAX, &owner, path, err)) < 0 ||
        (ret = get_annotations(j, st, path, err)) < 0)
        return ret;
    json_int_t creator = 0, creator_start = 0;
    if ((st->creating = json_is_true(json_object_get(j, "creating"))) &&
        ((ret = get_int(j, "creator", 0, INT32_MAX, &creator, path, err)) < 0 ||
         (ret = get_int(j, "creator_start", 0, INT64_MAX, &creator_start, path, err)) < 0))
        return ret;
    st->creator = (pid_t)creator;
    st->creator_start = (uint64_t)creator_start;
    st->pid = (pid_t)pid;
    st->pid_start = (uint64_t)start;
    st->owner = (uid_t)owner;
    return 0;
}

int tm_state_load(const char *root, const char *id, struct tm_container_state *st, tm_error *err)
{
    char path[PATH_MAX];
    int ret;
    memset(st, 0, sizeof(*st));
    if ((ret = tm_state_id_check(id, err)) < 0 ||
        (ret = tm_state_path(root, id, STATE_FILE, path, sizeof(path), err)) < 0)
        return ret;
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    if ((ret = tm_file_read(path, STATE_MAX, &data, &len, err)) == -ENOENT) {
        /* A creation killed before its first save: the directory is all there is. */
        struct stat sb;
        char dir[PATH_MAX];
        if (tm_state_path(root, id, NULL, dir, sizeof(dir), err) < 0 || lstat(dir, &sb) < 0 ||
            !S_ISDIR(sb.st_mode))
            return not_found(id, err);
        snprintf(st->id, sizeof(st->id), "%s", id);
        st->creating = true;
        return 0;
    }
    if (ret < 0)
        return ret == -ENOTDIR ? not_found(id, err) : ret;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, len, 0, &jerr);
    if (!j)
        return tm_error_set(err, EINVAL, "%s: malformed container state (line %d: %s)", path,
                            jerr.line, jerr.text);
    ret = parse_state(j, st, path, err);
    json_decref(j);
    if (ret == 0 && strcmp(st->id, id))
        ret = malformed(path, "id does not match its directory", err);
    if (ret < 0)
        tm_state_clear(st);
    return ret;
}

int tm_state_remove(const char *root, const char *id, tm_error *err)
{
    char dir[PATH_MAX];
    int ret;
    if ((ret = tm_state_id_check(id, err)) < 0 ||
        (ret = tm_state_path(root, id, NULL, dir, sizeof(dir), err)) < 0)
        return ret;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? not_found(id, err) : tm_error_sys(err, "cannot open %s", dir);
    /* Only our own files live here (state.json, exec.fifo, lock, what the
     * creation left); nothing nests, so one level is all there is. */
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT) {
            ret = tm_error_sys(err, "cannot remove %s/%s", dir, e->d_name);
            closedir(d);
            return ret;
        }
    }
    closedir(d);
    if (rmdir(dir) < 0 && errno != ENOENT)
        return tm_error_sys(err, "cannot remove %s", dir);
    return 0;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tm_state_list(const char *root, char ***ids, size_t *n, tm_error *err)
{
    root = tm_state_root(root);
    *ids = NULL;
    *n = 0;
    DIR *d = opendir(root);
    if (!d)
        return errno == ENOENT ? 0 : tm_error_sys(err, "cannot open state root %s", root);
    char **list = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    tm_error ignored;
    while ((e = readdir(d))) {
        struct stat st;
        /* Every container directory, state.json or not (see tm_state_load). */
        if (tm_state_id_check(e->d_name, &ignored) < 0 ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            char **bigger = realloc(list, cap * sizeof(*list));
            if (!bigger)
                goto oom;
            list = bigger;
        }
        if (!(list[count] = strdup(e->d_name)))
            goto oom;
        count++;
    }
    closedir(d);
    if (count)
        qsort(list, count, sizeof(*list), compare_ids);
    *ids = list;
    *n = count;
    return 0;
oom:
    closedir(d);
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
    return tm_error_set(err, ENOMEM, "listing %s: out of memory", root);
}

/* Fields of /proc/PID/stat after "(comm)": comm may hold spaces and ')',
 * so the fields start after the LAST ')'. */
static bool proc_stat(pid_t pid, char *state, uint64_t *start)
{
    char path[64], buf[2048];
    if (pid <= 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return false;
    p += 2;
    *state = *p;
    /* p is field 3 (state); starttime is field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return false;
        p++;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
        return false;
    *start = v;
    return true;
}

uint64_t tm_proc_start_time(pid_t pid)
{
    char state;
    uint64_t start;
    return proc_stat(pid, &state, &start) ? start : 0;
}

/* As runc, paused is what the cgroup's freezer says, not a recorded state:
 * it stays true to a thaw made by hand. */
static bool frozen(const struct tm_container_state *st)
{
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    tm_error ignored;
    bool is = false;
    if (st->cgroup_path[0] && tm_cgroup_open(NULL, st->cgroup_path, &cg, &ignored) == 0)
        tm_cgroup_frozen(cg, &is, &ignored);
    return is;
}

enum tm_container_status tm_state_status(const char *root, const struct tm_container_state *st)
{
    char state, fifo[PATH_MAX];
    uint64_t start;
    tm_error ignored;
    struct stat sb;
    if (st->creating)
        return st->creator > 0 && proc_stat(st->creator, &state, &start) && start == st->creator_start &&
                       state != 'Z' && state != 'X'
                   ? TM_CONTAINER_CREATING
                   : TM_CONTAINER_STOPPED;
    if (st->pid == 0)
        return TM_CONTAINER_STOPPED;
    /* A zombie has exited: only its parent has not reaped it yet. */
    if (!proc_stat(st->pid, &state, &start) || start != st->pid_start || state == 'Z' || state == 'X')
        return TM_CONTAINER_STOPPED;
    if (frozen(st))
        return TM_CONTAINER_PAUSED;
    if (tm_state_path(root, st->id, "exec.fifo", fifo, sizeof(fifo), &ignored) == 0 &&
        lstat(fifo, &sb) == 0)
        return TM_CONTAINER_CREATED;
    return TM_CONTAINER_RUNNING;
}

bool tm_state_init_error(const char *root, const char *id, char *buf, size_t len)
{
    char path[PATH_MAX];
    tm_error ignored;
    if (!len || tm_state_path(root, id, "init.error", path, sizeof(path), &ignored) < 0)
        return false;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0;
}

void tm_state_clear(struct tm_container_state *st)
{
    for (size_t i = 0; i < st->nannotations; i++) {
        free(st->annotations[i].key);
        free(st->annotations[i].value);
    }
    free(st->annotations);
    memset(st, 0, sizeof(*st));
}
