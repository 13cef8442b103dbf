/* Changing a live cgroup's limits (tm_cgroup_update): unlike creation, a
 * limit not named stays as it is, -1 lifts one, and the order of writes
 * depends on what is there now (memory before or after memory+swap). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/cgroup_internal.h"

/* A limit value: -1 is "max" on v2 and on pids.max, -1 itself on v1 files. */
static int write_limit(const struct tm_cgroup_place *p, const char *name, int64_t v, tm_error *err)
{
    if (v < 0 && (p->h.v2 || !strncmp(name, "pids.", 5)))
        return tm_cgroup_write(p->dir, name, "max", err);
    return tm_cgroup_write_num(p->dir, name, v < 0 ? -1 : v, err);
}

static int check(const struct tm_cgroup_update *u, tm_error *err)
{
    if (u->cpu_period && (u->cpu_period < 1000 || u->cpu_period > 1000000))
        return tm_error_set(err, EINVAL, "cpu period %" PRIu64 " us is outside 1000..1000000", u->cpu_period);
    if (u->cpu_quota > 0 && u->cpu_quota < 1000)
        return tm_error_set(err, EINVAL, "cpu quota %" PRId64 " us is below 1000", u->cpu_quota);
    if (u->cpu_shares && (u->cpu_shares < 2 || u->cpu_shares > 262144))
        return tm_error_set(err, EINVAL, "cpu shares %" PRIu64 " is outside 2..262144", u->cpu_shares);
    if (u->blkio_weight && (u->blkio_weight < 10 || u->blkio_weight > 1000))
        return tm_error_set(err, EINVAL, "blkio weight %u is outside 10..1000", u->blkio_weight);
    if (u->memory > 0 && u->memory_swap > 0 && u->memory_swap < u->memory)
        return tm_error_set(err, EINVAL, "memory+swap limit %" PRId64 " is below memory limit %" PRId64,
                            u->memory_swap, u->memory);
    return 0;
}

/* The hierarchy with controller bit, or -ENOTSUP naming what needed it. */
static int place(const struct tm_cgroup *cg, unsigned bit, const char *what, const struct tm_cgroup_place **p,
                 tm_error *err)
{
    if ((*p = tm_cgroup_place_for(cg, bit)))
        return 0;
    return tm_error_set(err, ENOTSUP, "%s needs the %s controller, which this host lacks", what,
                        tm_cgroup_controller_name(bit, false));
}

static int need_file(const struct tm_cgroup_place *p, const char *name, const char *what, tm_error *err)
{
    if (tm_cgroup_has_file(p->dir, name))
        return 0;
    return tm_error_set(err, ENOTSUP, "%s: this host has no %s (in %s)", what, name, p->dir);
}

/* A limit as the kernel has it now; -1 for none. */
static int64_t current(const struct tm_cgroup_place *p, const char *name)
{
    uint64_t v;
    tm_error ignored;
    if (tm_cgroup_read_u64(p->dir, name, &v, &ignored) < 0 || v >= (uint64_t)INT64_MAX / 2)
        return -1;
    return (int64_t)v;
}

static int memory(const struct tm_cgroup *cg, const struct tm_cgroup_update *u, tm_error *err)
{
    if (!u->memory && !u->memory_swap && !u->memory_reservation)
        return 0;
    const struct tm_cgroup_place *p;
    int ret = place(cg, TM_CGROUP_MEMORY, "a memory limit", &p, err);
    if (ret < 0)
        return ret;
    const char *limit = p->h.v2 ? "memory.max" : "memory.limit_in_bytes";
    const char *swap = p->h.v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
    if (u->memory_swap && (ret = need_file(p, swap, "a memory+swap limit", err)) < 0)
        return ret;
    int64_t mem = u->memory ? u->memory : current(p, limit);
    if (u->memory_swap > 0 && (mem < 0 || u->memory_swap < mem))
        return mem < 0 ? tm_error_set(err, EINVAL, "a memory+swap limit needs a memory limit")
                       : tm_error_set(err, EINVAL, "memory+swap limit %" PRId64 " is below memory limit %" PRId64,
                                      u->memory_swap, mem);
    if (p->h.v2) {   /* swap.max is the swap alone */
        if (u->memory && (ret = write_limit(p, limit, u->memory, err)) < 0)
            return ret;
        if (u->memory_swap && (ret = write_limit(p, swap, u->memory_swap < 0 || mem < 0 ? -1 : u->memory_swap - mem,
                                                 err)) < 0)
            return ret;
    } else {
        /* memsw may never be below the memory limit: raise whichever must go first (runc's rule). */
        int64_t cur = current(p, limit);
        bool swap_first = u->memory_swap && (u->memory_swap < 0 || (cur >= 0 && cur <= u->memory_swap));
        if (swap_first && (ret = write_limit(p, swap, u->memory_swap, err)) < 0)
            return ret;
        if (u->memory && (ret = write_limit(p, limit, u->memory, err)) < 0)
            return ret;
        if (u->memory_swap && !swap_first && (ret = write_limit(p, swap, u->memory_swap, err)) < 0)
            return ret;
    }
    if (u->memory_reservation)
        return write_limit(p, p->h.v2 ? "memory.low" : "memory.soft_limit_in_bytes", u->memory_reservation, err);
    return 0;
}

static int cpu(const struct tm_cgroup *cg, const struct tm_cgroup_update *u, tm_error *err)
{
    if (!u->cpu_quota && !u->cpu_period && !u->cpu_shares)
        return 0;
    const struct tm_cgroup_place *p;
    int ret = place(cg, TM_CGROUP_CPU, "a cpu limit", &p, err);
    if (ret < 0)
        return ret;
    if (p->h.v2) {
        if (u->cpu_quota || u->cpu_period) {
            /* cpu.max holds both: keep the half not named */
            char *now = NULL, quota[24] = "max";
            unsigned long long period = 100000;
            if ((ret = tm_cgroup_read(p->dir, "cpu.max", 64, &now, err)) < 0)
                return ret;
            sscanf(now, "%23s %llu", quota, &period);
            free(now);
            if (u->cpu_quota)
                snprintf(quota, sizeof quota, u->cpu_quota < 0 ? "max" : "%" PRId64, u->cpu_quota);
            char val[64];
            snprintf(val, sizeof val, "%s %llu", quota, u->cpu_period ? (unsigned long long)u->cpu_period : period);
            if ((ret = tm_cgroup_write(p->dir, "cpu.max", val, err)) < 0)
                return ret;
        }
        /* runc's mapping of shares 2..262144 onto weight 1..10000 */
        if (u->cpu_shares)
            return tm_cgroup_write_num(p->dir, "cpu.weight", (int64_t)(1 + ((u->cpu_shares - 2) * 9999) / 262142), err);
        return 0;
    }
    if (u->cpu_quota && (ret = need_file(p, "cpu.cfs_quota_us", "a cpu quota", err)) < 0)
        return ret;
    if (u->cpu_period && (ret = tm_cgroup_write_num(p->dir, "cpu.cfs_period_us", (int64_t)u->cpu_period, err)) < 0)
        return ret;
    if (u->cpu_quota && (ret = write_limit(p, "cpu.cfs_quota_us", u->cpu_quota, err)) < 0)
        return ret;
    if (u->cpu_shares)
        return tm_cgroup_write_num(p->dir, "cpu.shares", (int64_t)u->cpu_shares, err);
    return 0;
}

int tm_cgroup_update(struct tm_cgroup *cg, const struct tm_cgroup_update *u, tm_error *err)
{
    const struct tm_cgroup_place *p;
    int ret = check(u, err);
    if (ret < 0)
        return ret;
    /* Every controller and file is looked for before the first write, so a
     * limit the host lacks changes nothing. */
    if ((u->memory || u->memory_swap || u->memory_reservation) &&
        (ret = place(cg, TM_CGROUP_MEMORY, "a memory limit", &p, err)) < 0)
        return ret;
    if (u->pids && (ret = place(cg, TM_CGROUP_PIDS, "a pids limit", &p, err)) < 0)
        return ret;
    if ((u->cpu_quota || u->cpu_period || u->cpu_shares) && (ret = place(cg, TM_CGROUP_CPU, "a cpu limit", &p, err)) < 0)
        return ret;
    if ((*u->cpuset_cpus || *u->cpuset_mems) && (ret = place(cg, TM_CGROUP_CPUSET, "a cpuset", &p, err)) < 0)
        return ret;
    const struct tm_cgroup_place *blkio = NULL;
    const char *weight = NULL;
    if (u->blkio_weight) {
        if ((ret = place(cg, TM_CGROUP_BLKIO, "a blkio weight", &blkio, err)) < 0)
            return ret;
        const char *const names[] = { "blkio.bfq.weight", "blkio.weight", "io.bfq.weight", "io.weight" };
        for (size_t i = blkio->h.v2 ? 2 : 0; !weight && i < (blkio->h.v2 ? 4u : 2u); i++)
            if (tm_cgroup_has_file(blkio->dir, names[i]))
                weight = names[i];
        if (!weight)
            return tm_error_set(err, ENOTSUP, "a blkio weight: this host has no %s (in %s)",
                                blkio->h.v2 ? "io.weight" : "blkio.weight", blkio->dir);
    }
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_MEMORY)) && u->memory_swap &&
        (ret = need_file(p, p->h.v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes", "a memory+swap limit",
                         err)) < 0)
        return ret;

    if ((ret = memory(cg, u, err)) < 0)
        return ret;
    if (u->pids && (ret = write_limit(tm_cgroup_place_for(cg, TM_CGROUP_PIDS), "pids.max", u->pids, err)) < 0)
        return ret;
    if ((ret = cpu(cg, u, err)) < 0)
        return ret;
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_CPUSET))) {
        if (*u->cpuset_cpus && (ret = tm_cgroup_write(p->dir, "cpuset.cpus", u->cpuset_cpus, err)) < 0)
            return ret;
        if (*u->cpuset_mems && (ret = tm_cgroup_write(p->dir, "cpuset.mems", u->cpuset_mems, err)) < 0)
            return ret;
    }
    if (weight) {
        char val[32];   /* io.weight: runc's mapping of 10..1000 onto 1..10000 */
        if (!strcmp(weight, "io.weight"))
            snprintf(val, sizeof val, "default %u", 1 + (u->blkio_weight - 10u) * 9999u / 990u);
        else
            snprintf(val, sizeof val, "%u", u->blkio_weight);
        return tm_cgroup_write(blkio->dir, weight, val, err);
    }
    return 0;
}
