/* The limits: checked against the host before anything is made, then
 * written, each to the hierarchy that carries its controller, in runc's
 * files and formats. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/cgroup_internal.h"

void tm_cgroup_limits_free(struct tm_cgroup_limits *l)
{
    free(l->blkio_weight_device);
    for (int i = 0; i < TM_BLKIO_NTHROTTLE; i++) {
        free(l->blkio_throttle[i]);
        l->blkio_throttle[i] = NULL;
        l->nblkio_throttle[i] = 0;
    }
    free(l->hugepages);
    free(l->net_prios);
    for (size_t i = 0; i < l->nunified; i++) {
        free(l->unified[i].key);
        free(l->unified[i].value);
    }
    free(l->unified);
    free(l->devices);
    l->blkio_weight_device = NULL;
    l->hugepages = NULL;
    l->net_prios = NULL;
    l->unified = NULL;
    l->devices = NULL;
    l->nblkio_weight_device = l->nhugepages = l->nnet_prios = l->nunified = l->ndevices = 0;
}

/* ---- checking ---- */

/* Ranges the kernel enforces, refused here with a message. */
static int check_ranges(const struct tm_cgroup_limits *l, tm_error *err)
{
    if (l->memory_swap >= 0 && l->memory_max < 0)
        return tm_error_set(err, EINVAL, "a memory+swap limit needs a memory limit");
    if (l->memory_swap >= 0 && l->memory_swap < l->memory_max)
        return tm_error_set(err, EINVAL, "memory+swap limit %" PRId64 " is below memory limit %" PRId64,
                            l->memory_swap, l->memory_max);
    if (l->memory_swappiness > 100)
        return tm_error_set(err, EINVAL, "invalid memory swappiness %" PRId64 " (0..100)",
                            l->memory_swappiness);
    if (l->cpu_period && (l->cpu_period < 1000 || l->cpu_period > 1000000))
        return tm_error_set(err, EINVAL, "cpu period %" PRIu64 " us is outside 1000..1000000",
                            l->cpu_period);
    if (l->cpu_quota >= 0 && l->cpu_quota < 1000)
        return tm_error_set(err, EINVAL, "cpu quota %" PRId64 " us is below 1000", l->cpu_quota);
    if (l->cpu_shares && (l->cpu_shares < 2 || l->cpu_shares > 262144))
        return tm_error_set(err, EINVAL, "cpu shares %" PRIu64 " is outside 2..262144",
                            l->cpu_shares);
    if ((l->blkio_weight && (l->blkio_weight < 10 || l->blkio_weight > 1000)) ||
        (l->blkio_leaf_weight && (l->blkio_leaf_weight < 10 || l->blkio_leaf_weight > 1000)))
        return tm_error_set(err, EINVAL, "blkio weight %u is outside 10..1000",
                            l->blkio_weight ? l->blkio_weight : l->blkio_leaf_weight);
    for (size_t i = 0; i < l->nunified; i++)
        if (!*l->unified[i].key || strchr(l->unified[i].key, '/') || l->unified[i].key[0] == '.')
            return tm_error_set(err, EINVAL, "unified key \"%s\" is not a cgroup file name",
                                l->unified[i].key);
    return 0;
}

static bool any_throttle(const struct tm_cgroup_limits *l)
{
    for (int i = 0; i < TM_BLKIO_NTHROTTLE; i++)
        if (l->nblkio_throttle[i])
            return true;
    return false;
}

/* The controllers the limits need. */
static unsigned needed(const struct tm_cgroup_limits *l)
{
    unsigned need = 0;
    if (l->memory_max >= 0 || l->memory_swap >= 0 || l->memory_reservation >= 0 ||
        l->memory_swappiness >= 0 || l->oom_kill_disable)
        need |= TM_CGROUP_MEMORY;
    if (l->pids_max >= 0)
        need |= TM_CGROUP_PIDS;
    if (l->cpu_quota >= 0 || l->cpu_period || l->cpu_shares || l->cpu_rt_runtime >= 0 || l->cpu_rt_period)
        need |= TM_CGROUP_CPU;
    if (*l->cpuset_cpus || *l->cpuset_mems)
        need |= TM_CGROUP_CPUSET;
    if (l->blkio_weight || l->blkio_leaf_weight || l->nblkio_weight_device || any_throttle(l))
        need |= TM_CGROUP_BLKIO;
    if (l->nhugepages)
        need |= TM_CGROUP_HUGETLB;
    if (l->net_classid >= 0)
        need |= TM_CGROUP_NET_CLS;
    if (l->nnet_prios)
        need |= TM_CGROUP_NET_PRIO;
    return need;
}

static const struct tm_cgroup_hierarchy *host_place_for(const struct tm_cgroup_host *host, unsigned c)
{
    for (size_t i = 0; i < host->n; i++)
        if (host->h[i].v2 && (host->h[i].controllers & c))
            return &host->h[i];
    for (size_t i = 0; i < host->n; i++)
        if (!host->h[i].v2 && (host->h[i].controllers & c))
            return &host->h[i];
    return NULL;
}

/* What runc has no v2 file for. */
static const char *v2_lacks(const struct tm_cgroup_host *host, const struct tm_cgroup_limits *l)
{
    const struct tm_cgroup_hierarchy *h;
    if ((h = host_place_for(host, TM_CGROUP_MEMORY)) && h->v2) {
        if (l->memory_swappiness >= 0)
            return "memory swappiness (linux.resources.memory.swappiness)";
        if (l->oom_kill_disable)
            return "disabling the OOM killer (linux.resources.memory.disableOOMKiller)";
    }
    if ((h = host_place_for(host, TM_CGROUP_CPU)) && h->v2 && (l->cpu_rt_runtime >= 0 || l->cpu_rt_period))
        return "realtime cpu limits (linux.resources.cpu.realtimeRuntime/realtimePeriod)";
    if ((h = host_place_for(host, TM_CGROUP_BLKIO)) && h->v2 && l->blkio_leaf_weight)
        return "a blkio leaf weight (linux.resources.blockIO.leafWeight)";
    return NULL;
}

int tm_cgroup_check_limits(const struct tm_cgroup_host *host, const struct tm_cgroup_limits *l,
                           tm_error *err)
{
    int ret = check_ranges(l, err);
    if (ret < 0)
        return ret;
    char desc[512];
    tm_cgroup_host_describe(host, desc, sizeof desc);
    unsigned need = needed(l);
    for (size_t i = 0; i < tm_cgroup_ncontrollers; i++) {
        const struct tm_cgroup_controller *c = &tm_cgroup_controllers[i];
        if ((need & c->bit) && !host_place_for(host, c->bit))
            return tm_error_set(err, ENOTSUP, "a %s limit needs the %s controller, which this host lacks (%s)",
                                c->v1, c->v1, desc);
    }
    const char *what = v2_lacks(host, l);
    if (what)
        return tm_error_set(err, ENOTSUP, "%s: not supported on cgroup v2 (%s)", what, desc);
    bool v2 = false;
    for (size_t i = 0; i < host->n; i++)
        v2 |= host->h[i].v2;
    if (l->nunified && !v2)
        return tm_error_set(err, ENOTSUP, "linux.resources.unified needs cgroup v2, which this host lacks (%s)",
                            desc);
    return 0;
}

/* ---- memory, pids, cpu ---- */

/* memsw must never drop below memory.limit_in_bytes, so the order depends
 * on the current limit (runc's rule); in a fresh cgroup memory goes first. */
static int memory_v1_limits(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    if (l->memory_swap < 0 || !tm_cgroup_has_file(dir, "memory.memsw.limit_in_bytes"))
        return l->memory_max >= 0 ? tm_cgroup_write_num(dir, "memory.limit_in_bytes", l->memory_max, err) : 0;
    uint64_t cur;
    tm_error ignored;
    bool swap_first = tm_cgroup_read_u64(dir, "memory.limit_in_bytes", &cur, &ignored) == 0 &&
                      cur <= (uint64_t)l->memory_swap;
    int ret;
    if (swap_first && (ret = tm_cgroup_write_num(dir, "memory.memsw.limit_in_bytes", l->memory_swap, err)) < 0)
        return ret;
    if ((ret = tm_cgroup_write_num(dir, "memory.limit_in_bytes", l->memory_max, err)) < 0)
        return ret;
    return swap_first ? 0 : tm_cgroup_write_num(dir, "memory.memsw.limit_in_bytes", l->memory_swap, err);
}

static int memory_v1(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret = memory_v1_limits(dir, l, err);
    if (ret >= 0 && l->memory_reservation >= 0)
        ret = tm_cgroup_write_num(dir, "memory.soft_limit_in_bytes", l->memory_reservation, err);
    if (ret >= 0 && l->memory_swappiness >= 0)
        ret = tm_cgroup_write_num(dir, "memory.swappiness", l->memory_swappiness, err);
    if (ret >= 0 && l->oom_kill_disable)
        ret = tm_cgroup_write(dir, "memory.oom_control", "1", err);
    return ret;
}

/* OCI's memory_swap is memory+swap; v2's swap.max is the swap alone. */
static int memory_v2(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret;
    if (l->memory_max >= 0 && (ret = tm_cgroup_write_num(dir, "memory.max", l->memory_max, err)) < 0)
        return ret;
    if (l->memory_swap >= 0 && tm_cgroup_has_file(dir, "memory.swap.max") &&
        (ret = tm_cgroup_write_num(dir, "memory.swap.max", l->memory_swap - l->memory_max, err)) < 0)
        return ret;
    if (l->memory_reservation >= 0)
        return tm_cgroup_write_num(dir, "memory.low", l->memory_reservation, err);
    return 0;
}

static uint64_t period_of(const struct tm_cgroup_limits *l)
{
    return l->cpu_period ? l->cpu_period : 100000;
}

static int cpu_v1(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret = 0;
    if ((l->cpu_quota >= 0 || l->cpu_period) &&
        (ret = tm_cgroup_write_num(dir, "cpu.cfs_period_us", (int64_t)period_of(l), err)) < 0)
        return ret;
    if (l->cpu_quota >= 0 && (ret = tm_cgroup_write_num(dir, "cpu.cfs_quota_us", l->cpu_quota, err)) < 0)
        return ret;
    if (l->cpu_shares && (ret = tm_cgroup_write_num(dir, "cpu.shares", (int64_t)l->cpu_shares, err)) < 0)
        return ret;
    /* the period first, as runc: the runtime must fit in it */
    if (l->cpu_rt_period && (ret = tm_cgroup_write_num(dir, "cpu.rt_period_us", (int64_t)l->cpu_rt_period, err)) < 0)
        return ret;
    if (l->cpu_rt_runtime >= 0)
        ret = tm_cgroup_write_num(dir, "cpu.rt_runtime_us", l->cpu_rt_runtime, err);
    return ret;
}

static int cpu_v2(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret;
    if (l->cpu_quota >= 0 || l->cpu_period) {
        char val[48], quota[24] = "max";
        if (l->cpu_quota >= 0)
            snprintf(quota, sizeof quota, "%" PRId64, l->cpu_quota);
        snprintf(val, sizeof val, "%s %" PRIu64, quota, period_of(l));
        if ((ret = tm_cgroup_write(dir, "cpu.max", val, err)) < 0)
            return ret;
    }
    /* runc's mapping of shares 2..262144 onto weight 1..10000 */
    if (l->cpu_shares)
        return tm_cgroup_write_num(dir, "cpu.weight", (int64_t)(1 + ((l->cpu_shares - 2) * 9999) / 262142), err);
    return 0;
}

static int cpuset(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    int ret = 0;
    if (*l->cpuset_cpus)
        ret = tm_cgroup_write(dir, "cpuset.cpus", l->cpuset_cpus, err);
    if (ret >= 0 && *l->cpuset_mems)
        ret = tm_cgroup_write(dir, "cpuset.mems", l->cpuset_mems, err);
    return ret;
}

/* ---- block I/O ---- */

static const char *const throttle_v1[TM_BLKIO_NTHROTTLE] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
};
static const char *const throttle_v2[TM_BLKIO_NTHROTTLE] = { "rbps", "wbps", "riops", "wiops" };

static int write_dev(const char *dir, const char *name, const struct tm_cgroup_blkio_device *d,
                     const char *key, uint64_t v, tm_error *err)
{
    char val[96];
    snprintf(val, sizeof val, "%" PRId64 ":%" PRId64 " %s%s%" PRIu64, d->major, d->minor, key ? key : "",
             key ? "=" : "", v);
    return tm_cgroup_write(dir, name, val, err);
}

/* Kernels without CFQ have BFQ's files only (runc's choice of name). */
static int blkio_v1(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    bool bfq = tm_cgroup_has_file(dir, "blkio.bfq.weight");
    const char *weight = bfq ? "blkio.bfq.weight" : "blkio.weight";
    const char *weight_dev = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
    int ret = 0;
    if (l->blkio_weight && (ret = tm_cgroup_write_num(dir, weight, l->blkio_weight, err)) < 0)
        return ret;
    if (l->blkio_leaf_weight && (ret = tm_cgroup_write_num(dir, "blkio.leaf_weight", l->blkio_leaf_weight, err)) < 0)
        return ret;
    for (size_t i = 0; i < l->nblkio_weight_device; i++) {
        const struct tm_cgroup_blkio_device *d = &l->blkio_weight_device[i];
        if (d->value && (ret = write_dev(dir, weight_dev, d, NULL, d->value, err)) < 0)
            return ret;
        if (d->leaf_weight &&
            (ret = write_dev(dir, "blkio.leaf_weight_device", d, NULL, d->leaf_weight, err)) < 0)
            return ret;
    }
    for (int t = 0; t < TM_BLKIO_NTHROTTLE; t++)
        for (size_t i = 0; i < l->nblkio_throttle[t]; i++)
            if ((ret = write_dev(dir, throttle_v1[t], &l->blkio_throttle[t][i], NULL,
                                 l->blkio_throttle[t][i].value, err)) < 0)
                return ret;
    return 0;
}

static int blkio_v2(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    bool bfq = tm_cgroup_has_file(dir, "io.bfq.weight");
    int ret = 0;
    if (l->blkio_weight) {
        char val[32];   /* runc's mapping of 10..1000 onto 1..10000 */
        snprintf(val, sizeof val, "default %u", 1 + (l->blkio_weight - 10u) * 9999u / 990u);
        ret = bfq ? tm_cgroup_write_num(dir, "io.bfq.weight", l->blkio_weight, err)
                  : tm_cgroup_write(dir, "io.weight", val, err);
        if (ret < 0)
            return ret;
    }
    for (size_t i = 0; i < l->nblkio_weight_device; i++)   /* only BFQ has per-device weights */
        if (l->blkio_weight_device[i].value &&
            (ret = write_dev(dir, "io.bfq.weight", &l->blkio_weight_device[i], NULL,
                             l->blkio_weight_device[i].value, err)) < 0)
            return ret;
    for (int t = 0; t < TM_BLKIO_NTHROTTLE; t++)
        for (size_t i = 0; i < l->nblkio_throttle[t]; i++)
            if ((ret = write_dev(dir, "io.max", &l->blkio_throttle[t][i], throttle_v2[t],
                                 l->blkio_throttle[t][i].value, err)) < 0)
                return ret;
    return 0;
}

/* ---- hugetlb, network, unified ---- */

static int hugetlb(const char *dir, bool v2, const struct tm_cgroup_limits *l, tm_error *err)
{
    for (size_t i = 0; i < l->nhugepages; i++) {
        char name[64];
        snprintf(name, sizeof name, "hugetlb.%s.%s", l->hugepages[i].page_size, v2 ? "max" : "limit_in_bytes");
        int ret = tm_cgroup_write_num(dir, name, (int64_t)l->hugepages[i].limit, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int net_prio(const char *dir, const struct tm_cgroup_limits *l, tm_error *err)
{
    for (size_t i = 0; i < l->nnet_prios; i++) {
        char val[64];
        snprintf(val, sizeof val, "%s %" PRIu32, l->net_prios[i].name, l->net_prios[i].priority);
        int ret = tm_cgroup_write(dir, "net_prio.ifpriomap", val, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static const struct tm_cgroup_place *v2_place(const struct tm_cgroup *cg)
{
    for (size_t i = 0; i < cg->n; i++)
        if (cg->p[i].h.v2)
            return &cg->p[i];
    return NULL;
}

static int unified(const struct tm_cgroup *cg, const struct tm_cgroup_limits *l, tm_error *err)
{
    const struct tm_cgroup_place *p = v2_place(cg);
    for (size_t i = 0; p && i < l->nunified; i++) {
        int ret = tm_cgroup_write(p->dir, l->unified[i].key, l->unified[i].value, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

int tm_cgroup_write_limits(const struct tm_cgroup *cg, const struct tm_cgroup_limits *l, tm_error *err)
{
    const struct tm_cgroup_place *p;
    int ret = 0;
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_CPUSET)))
        ret = cpuset(p->dir, l, err);
    if (ret >= 0 && (p = tm_cgroup_place_for(cg, TM_CGROUP_MEMORY)))
        ret = (p->h.v2 ? memory_v2 : memory_v1)(p->dir, l, err);
    if (ret >= 0 && (p = tm_cgroup_place_for(cg, TM_CGROUP_PIDS)) && l->pids_max >= 0)
        ret = tm_cgroup_write_num(p->dir, "pids.max", l->pids_max, err);
    if (ret >= 0 && (p = tm_cgroup_place_for(cg, TM_CGROUP_CPU)))
        ret = (p->h.v2 ? cpu_v2 : cpu_v1)(p->dir, l, err);
    if (ret >= 0 && (p = tm_cgroup_place_for(cg, TM_CGROUP_BLKIO)))
        ret = (p->h.v2 ? blkio_v2 : blkio_v1)(p->dir, l, err);
    if (ret >= 0 && (p = tm_cgroup_place_for(cg, TM_CGROUP_HUGETLB)))
        ret = hugetlb(p->dir, p->h.v2, l, err);
    if (ret >= 0 && (p = tm_cgroup_place_for(cg, TM_CGROUP_NET_CLS)) && l->net_classid >= 0)
        ret = tm_cgroup_write_num(p->dir, "net_cls.classid", l->net_classid, err);
    if (ret >= 0 && (p = tm_cgroup_place_for(cg, TM_CGROUP_NET_PRIO)))
        ret = net_prio(p->dir, l, err);
    if (ret >= 0)
        ret = unified(cg, l, err);
    return ret;
}
