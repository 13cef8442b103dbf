/* Control groups, both versions. Each controller lives where this host
 * mounts it: on the cgroup v2 hierarchy when that hierarchy has it in
 * cgroup.controllers, else on its cgroup v1 hierarchy. A host may be pure v2
 * (/sys/fs/cgroup is cgroup2), hybrid (v1 controllers plus
 * /sys/fs/cgroup/unified) or pure v1; the mount table (/proc/self/mountinfo)
 * says which. As runc, a container's cgroup is the same relative path made in
 * every mounted hierarchy (every v1 one, named ones like name=systemd
 * included, and v2), so that limits, device rules and freezing work in each. */
#ifndef TM_CONTAINER_CGROUP_H
#define TM_CONTAINER_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

#define TM_CGROUP_MAX_HIERARCHIES 16

/* One device cgroup rule (linux.resources.devices[]). */
struct tm_cgroup_device_rule {
    char type;                 /* 'a' (all), 'c' or 'b' */
    int64_t major, minor;      /* -1: any */
    unsigned access;           /* TM_CGROUP_DEV_* bits */
    bool allow;
};

enum { TM_CGROUP_DEV_MKNOD = 1, TM_CGROUP_DEV_READ = 2, TM_CGROUP_DEV_WRITE = 4 };

/* A block device and a number: a weight (weight_device, with its leaf
 * weight, 0 unset) or a rate (the throttle lists). */
struct tm_cgroup_blkio_device {
    int64_t major, minor;
    uint64_t value;
    uint16_t leaf_weight;
};

enum { TM_BLKIO_READ_BPS, TM_BLKIO_WRITE_BPS, TM_BLKIO_READ_IOPS, TM_BLKIO_WRITE_IOPS, TM_BLKIO_NTHROTTLE };

struct tm_cgroup_hugepage {
    char page_size[16];        /* "2MB", as the hugetlb files name it */
    uint64_t limit;            /* bytes */
};

struct tm_cgroup_ifprio {
    char name[32];
    uint32_t priority;
};

struct tm_cgroup_unified {
    char *key, *value;         /* v2 file name and what to write */
};

/* Limits; a negative (or zero where noted) value means "not set". The
 * arrays are owned (tm_cgroup_limits_free). */
struct tm_cgroup_limits {
    int64_t memory_max;        /* bytes */
    int64_t memory_swap;       /* bytes of memory+swap (OCI); -1 none; v1 memsw / v2 swap.max = swap-max */
    int64_t pids_max;
    int64_t cpu_quota;         /* microseconds per period */
    uint64_t cpu_period;       /* microseconds; 0: 100000 */
    uint64_t cpu_shares;       /* v1 shares (v2: converted to weight); 0: not set */
    int64_t memory_reservation;    /* bytes: v1 soft_limit_in_bytes, v2 memory.low */
    int64_t memory_swappiness;     /* 0..100 (v1 only) */
    bool oom_kill_disable;         /* v1 memory.oom_control */
    int64_t cpu_rt_runtime;        /* microseconds (v1 cpu.rt_runtime_us) */
    uint64_t cpu_rt_period;        /* microseconds; 0: not set */
    char cpuset_cpus[256], cpuset_mems[256];   /* "": not set */
    uint16_t blkio_weight, blkio_leaf_weight;  /* 0: not set */
    struct tm_cgroup_blkio_device *blkio_weight_device;
    size_t nblkio_weight_device;
    struct tm_cgroup_blkio_device *blkio_throttle[TM_BLKIO_NTHROTTLE];
    size_t nblkio_throttle[TM_BLKIO_NTHROTTLE];
    struct tm_cgroup_hugepage *hugepages;
    size_t nhugepages;
    int64_t net_classid;           /* v1 net_cls.classid */
    struct tm_cgroup_ifprio *net_prios;
    size_t nnet_prios;
    struct tm_cgroup_unified *unified;
    size_t nunified;
    /* The spec's device rules; every container also gets deny-all first and
     * runc's default devices after (tm_cgroup_device_rules). */
    struct tm_cgroup_device_rule *devices;
    size_t ndevices;
};

#define TM_CGROUP_LIMITS_NONE                                                                   \
    ((struct tm_cgroup_limits){ .memory_max = -1, .memory_swap = -1, .pids_max = -1, .cpu_quota = -1, \
                                .memory_reservation = -1, .memory_swappiness = -1,             \
                                .cpu_rt_runtime = -1, .net_classid = -1 })

/* Free the arrays (and set them empty). */
void tm_cgroup_limits_free(struct tm_cgroup_limits *l);

/* One mounted hierarchy. */
struct tm_cgroup_hierarchy {
    char mount[256];           /* where it is mounted, e.g. /sys/fs/cgroup/memory */
    char name[64];             /* v1: "cpu,cpuacct", "name=systemd" as /proc/PID/cgroup names it; v2: "" */
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
    TM_CGROUP_CPUSET = 1u << 4,
    TM_CGROUP_BLKIO = 1u << 5,     /* v2: io */
    TM_CGROUP_HUGETLB = 1u << 6,
    TM_CGROUP_DEVICES = 1u << 7,   /* v1 only; v2 uses a BPF program */
    TM_CGROUP_FREEZER = 1u << 8,
    TM_CGROUP_NET_CLS = 1u << 9,
    TM_CGROUP_NET_PRIO = 1u << 10,
    TM_CGROUP_PERF_EVENT = 1u << 11,
    TM_CGROUP_RDMA = 1u << 12,
    TM_CGROUP_MISC = 1u << 13,
};

/* The controller's name on v1 ("blkio") and v2 ("io"; NULL if v2 lacks it). */
const char *tm_cgroup_controller_name(unsigned bit, bool v2);

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

/* Make path (absolute, like "/teemate/ID"; '..' refused) in every mounted
 * hierarchy (a v1 cpuset gets its parent's cpus and mems first), write the
 * limits (each to the hierarchy that has its controller) and the device
 * rules (v1 devices files, else a BPF program on the v2 directory). A limit
 * whose controller is nowhere on this host is -ENOTSUP naming it. If a
 * directory exists already it is reused only when empty of processes.
 * host NULL: probe this host. */
int tm_cgroup_create(const struct tm_cgroup_host *host, const char *path,
                     const struct tm_cgroup_limits *limits, struct tm_cgroup **out, tm_error *err);

/* The existing cgroup at path (for delete, kill, stats from another CLI call). */
int tm_cgroup_open(const struct tm_cgroup_host *host, const char *path, struct tm_cgroup **out,
                   tm_error *err);

/* A change of a running container's limits (`teemate update`, runc's
 * semantics): 0 (or "") leaves a limit as it is; -1 lifts memory, swap,
 * reservation, pids and cpu quota ("max"). */
struct tm_cgroup_update {
    int64_t memory, memory_swap, memory_reservation;   /* bytes; swap is memory+swap, as OCI */
    int64_t pids;
    int64_t cpu_quota;                                 /* microseconds per period */
    uint64_t cpu_period, cpu_shares;
    char cpuset_cpus[256], cpuset_mems[256];
    uint16_t blkio_weight;
};

/* Write u's limits into cg (each to the hierarchy that has its controller).
 * A limit whose controller or file this host lacks is -ENOTSUP naming it;
 * out-of-range values -EINVAL before anything is written. (cgroup_update.c) */
int tm_cgroup_update(struct tm_cgroup *cg, const struct tm_cgroup_update *u, tm_error *err);

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

/* (cgroup_oom.c) OOM kills as they happen: poll fd for reading, then
 * tm_cgroup_oom_read. v2: inotify on memory.events and cgroup.events; v1: an
 * eventfd on memory.oom_control. -ENOTSUP without a memory controller. */
struct tm_cgroup_oom_watch {
    int fd;
    bool v2;
    int wd_memory, wd_cgroup;  /* v2 watches */
    uint64_t kills;            /* v2: memory.events oom_kill seen so far */
    char dir[512];             /* the memory controller's directory */
};
int tm_cgroup_oom_watch(struct tm_cgroup *cg, struct tm_cgroup_oom_watch *w, tm_error *err);
/* *ooms: new OOM kills (v1: notifications) since the last read; *gone: the
 * cgroup was removed (v1, v2) or has emptied (v2: runc stops there too). */
int tm_cgroup_oom_read(struct tm_cgroup_oom_watch *w, uint64_t *ooms, bool *gone, tm_error *err);
void tm_cgroup_oom_unwatch(struct tm_cgroup_oom_watch *w);

/* Pids in the cgroup (its cgroup.procs in the first hierarchy); *n entries
 * malloc'd into *pids. */
int tm_cgroup_pids(struct tm_cgroup *cg, pid_t **pids, size_t *n, tm_error *err);

/* Send sig to every process in it. Returns how many were signalled. */
int tm_cgroup_signal(struct tm_cgroup *cg, int sig, tm_error *err);

/* (cgroup_freeze.c) Freeze (pause) or thaw (resume) every process in it
 * and wait, up to 5 s, until the kernel says it is done: the v1 freezer
 * hierarchy when mounted, else v2's cgroup.freeze. -ENOTSUP when the host
 * has neither; a freeze that times out is undone and is -ETIMEDOUT. */
int tm_cgroup_freeze(struct tm_cgroup *cg, bool freeze, tm_error *err);
/* Whether it is frozen now (v1 FROZEN, v2 "frozen 1"; a v1 FREEZING is not). */
int tm_cgroup_frozen(struct tm_cgroup *cg, bool *frozen, tm_error *err);

/* SIGKILL what is left (a frozen cgroup is thawed after), wait (bounded: up to 5 s, polling cgroup.procs) for
 * it to empty, and rmdir it in every hierarchy. -EBUSY if it will not empty. */
int tm_cgroup_destroy(struct tm_cgroup *cg, tm_error *err);

/* The rules a container gets, as runc gives them: deny all, the spec's
 * rules in order, then runc's defaults (mknod of any char or block device;
 * null, zero, full, random, urandom, tty, ptmx and /dev/pts/N). Malloc'd. */
int tm_cgroup_device_rules(const struct tm_cgroup_limits *l, struct tm_cgroup_device_rule **out,
                           size_t *n, tm_error *err);

/* A rule as the v1 devices files take it: "c 1:3 rwm", "a *:* rwm". */
void tm_cgroup_device_rule_format(const struct tm_cgroup_device_rule *r, char *buf, size_t len);

/* Load a BPF_PROG_TYPE_CGROUP_DEVICE program that allows what rules allow
 * (default deny, the last matching rule decides) and attach it to the v2
 * cgroup directory dirfd. */
int tm_cgroup_bpf_devices_attach(int dirfd, const struct tm_cgroup_device_rule *rules, size_t n,
                                 tm_error *err);

/* This process's cgroup in hierarchy h, from proc_cgroup (NULL:
 * /proc/self/cgroup), like "/teemate/ID". */
int tm_cgroup_self_path(const struct tm_cgroup_hierarchy *h, const char *proc_cgroup, char *buf,
                        size_t len, tm_error *err);

/* "/sys/fs/cgroup/memory/teemate/ID" for hierarchy i (i < tm_cgroup_count). */
size_t tm_cgroup_count(const struct tm_cgroup *cg);
const char *tm_cgroup_dir(const struct tm_cgroup *cg, size_t i);

void tm_cgroup_free(struct tm_cgroup *cg);
void tm_cgroup_freep(struct tm_cgroup **cg);
#define _cleanup_cgroup_ __attribute__((cleanup(tm_cgroup_freep)))

#endif
