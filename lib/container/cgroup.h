/* Control groups, both versions. Each controller we use (memory, pids, cpu,
 * cpuacct) lives where this host mounts it: on the cgroup v2 hierarchy when
 * that hierarchy has it in cgroup.controllers, else on its cgroup v1
 * hierarchy. A host may be pure v2 (/sys/fs/cgroup is cgroup2), hybrid (v1
 * controllers plus /sys/fs/cgroup/unified) or pure v1; the mount table
 * (/proc/self/mountinfo) says which. A container's cgroup is the same
 * relative path made in every hierarchy it uses (v2 always when mounted, so
 * the process is placed there too). */
#ifndef TM_CONTAINER_CGROUP_H
#define TM_CONTAINER_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define TM_CGROUP_MAX_HIERARCHIES 16

/* Limits; a negative (or zero where noted) value means "not set". */
struct tm_cgroup_limits {
    int64_t memory_max;        /* bytes */
    int64_t memory_swap;       /* bytes of memory+swap (OCI); -1 none; v1 memsw / v2 swap.max = swap-max */
    int64_t pids_max;
    int64_t cpu_quota;         /* microseconds per period */
    uint64_t cpu_period;       /* microseconds; 0: 100000 */
    uint64_t cpu_shares;       /* v1 shares (v2: converted to weight); 0: not set */
};

#define TM_CGROUP_LIMITS_NONE \
    ((struct tm_cgroup_limits){ .memory_max = -1, .memory_swap = -1, .pids_max = -1, .cpu_quota = -1 })

/* One mounted hierarchy. */
struct tm_cgroup_hierarchy {
    char mount[256];           /* where it is mounted, e.g. /sys/fs/cgroup/memory */
    bool v2;
    /* v1: the controllers this hierarchy carries (bits below); v2: those
     * listed in its root cgroup.controllers */
    unsigned controllers;
};

enum {
    TM_CGROUP_MEMORY = 1u << 0,
    TM_CGROUP_PIDS = 1u << 1,
    TM_CGROUP_CPU = 1u << 2,
    TM_CGROUP_CPUACCT = 1u << 3,
};

/* The hierarchies of this host. */
struct tm_cgroup_host {
    size_t n;
    struct tm_cgroup_hierarchy h[TM_CGROUP_MAX_HIERARCHIES];
};

/* Read the host's hierarchies from a mountinfo file (NULL:
 * /proc/self/mountinfo). Tests point it at a fake tree. */
int tm_cgroup_probe(const char *mountinfo, struct tm_cgroup_host *host, tm_error *err);

/* "memory pids cpu cpuacct on v1, v2 at /sys/fs/cgroup/unified (hugetlb)" */
void tm_cgroup_host_describe(const struct tm_cgroup_host *host, char *buf, size_t len);

struct tm_cgroup;              /* one container's cgroup in every hierarchy used */

/* Make path (absolute, like "/teemate/ID"; '..' refused) in each hierarchy
 * that carries a controller we use, plus the v2 hierarchy if mounted, and
 * write the limits (each to the hierarchy that has its controller). A limit
 * whose controller is nowhere on this host is -ENOTSUP naming it. If a
 * directory exists already it is reused only when empty of processes.
 * host NULL: probe this host. */
int tm_cgroup_create(const struct tm_cgroup_host *host, const char *path,
                     const struct tm_cgroup_limits *limits, struct tm_cgroup **out, tm_error *err);

/* The existing cgroup at path (for delete, kill, stats from another CLI call). */
int tm_cgroup_open(const struct tm_cgroup_host *host, const char *path, struct tm_cgroup **out,
                   tm_error *err);

/* Move pid into it in every hierarchy. */
int tm_cgroup_add_pid(struct tm_cgroup *cg, pid_t pid, tm_error *err);

struct tm_cgroup_stats {
    uint64_t memory_current, memory_peak, memory_limit;  /* bytes; limit UINT64_MAX = none */
    uint64_t memory_oom_kills;                           /* OOM kills in this cgroup */
    uint64_t memory_failcnt;                             /* times the limit was hit (v1 failcnt / v2 events max) */
    uint64_t pids_current, pids_limit;                   /* limit UINT64_MAX = none */
    uint64_t pids_refused;                               /* forks refused (pids.events max) */
    uint64_t cpu_usage_ns;
    uint64_t cpu_quota_us, cpu_period_us;                /* quota UINT64_MAX = none */
    unsigned have;                                       /* TM_CGROUP_* of the fields filled */
};

int tm_cgroup_stats(struct tm_cgroup *cg, struct tm_cgroup_stats *st, tm_error *err);

/* Pids in the cgroup (its cgroup.procs in the first hierarchy); *n entries
 * malloc'd into *pids. */
int tm_cgroup_pids(struct tm_cgroup *cg, pid_t **pids, size_t *n, tm_error *err);

/* Send sig to every process in it. Returns how many were signalled. */
int tm_cgroup_signal(struct tm_cgroup *cg, int sig, tm_error *err);

/* SIGKILL what is left, wait (bounded: up to 5 s, polling cgroup.procs) for
 * it to empty, and rmdir it in every hierarchy. -EBUSY if it will not empty. */
int tm_cgroup_destroy(struct tm_cgroup *cg, tm_error *err);

/* "/sys/fs/cgroup/memory/teemate/ID" for hierarchy i (i < tm_cgroup_count). */
size_t tm_cgroup_count(const struct tm_cgroup *cg);
const char *tm_cgroup_dir(const struct tm_cgroup *cg, size_t i);

void tm_cgroup_free(struct tm_cgroup *cg);
void tm_cgroup_freep(struct tm_cgroup **cg);
#define _cleanup_cgroup_ __attribute__((cleanup(tm_cgroup_freep)))

#endif
