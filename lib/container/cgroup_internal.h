/* Private to lib/container/cgroup*.c: the cgroup object and the file helpers
 * both halves (setting up, reading stats) use. */
#ifndef TM_CONTAINER_CGROUP_INTERNAL_H
#define TM_CONTAINER_CGROUP_INTERNAL_H

#include "container/cgroup.h"

/* Longest container path ("/teemate/ID"); with a mount point (< 256) the
 * directory fits in place.dir. */
#define TM_CGROUP_PATH_MAX 255

/* The container's directory in one hierarchy. */
struct tm_cgroup_place {
    char dir[512];                 /* mount + path */
    size_t mount_len;              /* dir[0..mount_len) is the mount point */
    size_t created_from;           /* dir[0..created_from) is the topmost directory we made; 0: none */
    bool removed;                  /* rmdir'd by destroy */
    struct tm_cgroup_hierarchy h;
};

struct tm_cgroup {
    char path[TM_CGROUP_PATH_MAX + 1];
    size_t n;
    struct tm_cgroup_place p[TM_CGROUP_MAX_HIERARCHIES];
};

/* Every controller we know, in the kernel's order (/proc/cgroups). */
struct tm_cgroup_controller {
    const char *v1, *v2;           /* v2 NULL: none there */
    unsigned bit;
};
extern const struct tm_cgroup_controller tm_cgroup_controllers[];
extern const size_t tm_cgroup_ncontrollers;

#define TM_CGROUP_DIR_SIZE sizeof(((struct tm_cgroup_place *)0)->dir)

/* Write val to dir/name (never creating it: a missing file is a missing
 * controller). */
int tm_cgroup_write(const char *dir, const char *name, const char *val, tm_error *err);
int tm_cgroup_write_num(const char *dir, const char *name, int64_t v, tm_error *err);
bool tm_cgroup_has_file(const char *dir, const char *name);

/* The limits, each to its hierarchy (cgroup_limits.c); check first, before
 * anything is made. */
int tm_cgroup_check_limits(const struct tm_cgroup_host *host, const struct tm_cgroup_limits *l,
                           tm_error *err);
int tm_cgroup_write_limits(const struct tm_cgroup *cg, const struct tm_cgroup_limits *l,
                           tm_error *err);

/* The device rules: v1 devices files, else the BPF program on v2. */
int tm_cgroup_write_devices(const struct tm_cgroup *cg, const struct tm_cgroup_limits *l,
                            tm_error *err);

/* Where controller c (one TM_CGROUP_* bit) is: the v2 place when v2 has it,
 * else the v1 place carrying it; NULL if none. */
const struct tm_cgroup_place *tm_cgroup_place_for(const struct tm_cgroup *cg, unsigned c);

/* dir/name read whole (at most max bytes) and NUL-terminated. A missing file
 * is -ENOENT, with err filled like any other failure. */
int tm_cgroup_read(const char *dir, const char *name, size_t max, char **text, tm_error *err);

/* A one-number file; "max" and "-1" read as UINT64_MAX. */
int tm_cgroup_read_u64(const char *dir, const char *name, uint64_t *v, tm_error *err);

/* The value of "key N" in a flat-keyed file (memory.events, cpu.stat, ...);
 * -ENOENT if the file or the key is missing. */
int tm_cgroup_read_key(const char *dir, const char *name, const char *key, uint64_t *v,
                       tm_error *err);

/* The pids listed in dir/cgroup.procs (malloc'd, never NULL on success). */
int tm_cgroup_read_pids(const char *dir, pid_t **pids, size_t *n, tm_error *err);

#endif
