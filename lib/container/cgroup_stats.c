/* Reading cgroup files: the helpers, and a container's usage and limits in
 * whichever version holds each controller. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/cgroup_internal.h"
#include "util/cleanup.h"

#define SMALL_FILE (64 * 1024)
#define PROCS_FILE (16 * 1024 * 1024)   /* cgroup.procs of a very busy cgroup */

const struct tm_cgroup_place *tm_cgroup_place_for(const struct tm_cgroup *cg, unsigned c)
{
    const struct tm_cgroup_place *v1 = NULL;
    for (size_t i = 0; i < cg->n; i++) {
        const struct tm_cgroup_place *p = &cg->p[i];
        if (p->removed || !(p->h.controllers & c))
            continue;
        if (p->h.v2)
            return p;
        if (!v1)
            v1 = p;
    }
    return v1;
}

int tm_cgroup_read(const char *dir, const char *name, size_t max, char **text, tm_error *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tm_error_sys(err, "cannot read %s", path);
    /* cgroup files report size 0: read until EOF, growing the buffer */
    size_t cap = 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);
    if (!buf)
        return tm_error_set(err, ENOMEM, "cannot read %s: out of memory", path);
    for (;;) {
        if (len == cap) {
            if (cap >= max)
                return tm_error_set(err, EFBIG, "%s: larger than %zu bytes", path, max);
            cap = cap * 2 < max ? cap * 2 : max;
            char *bigger = realloc(buf, cap + 1);
            if (!bigger)
                return tm_error_set(err, ENOMEM, "cannot read %s: out of memory", path);
            buf = bigger;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tm_error_sys(err, "cannot read %s", path);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *text = TM_STEAL(buf);
    return 0;
}

/* One number, optionally surrounded by white space; "max" / "-1" = none. */
static bool parse_u64(const char *s, const char **end, uint64_t *v)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!strncmp(s, "max", 3) || !strncmp(s, "-1", 2)) {
        *v = UINT64_MAX;
        *end = s + (s[0] == 'm' ? 3 : 2);
        return true;
    }
    if (!isdigit((unsigned char)*s))
        return false;
    char *e;
    errno = 0;
    unsigned long long x = strtoull(s, &e, 10);
    if (errno)
        return false;
    *v = x;
    *end = e;
    return true;
}

static bool only_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return !*s;
}

int tm_cgroup_read_u64(const char *dir, const char *name, uint64_t *v, tm_error *err)
{
    _cleanup_free_ char *text = NULL;
    int ret = tm_cgroup_read(dir, name, SMALL_FILE, &text, err);
    if (ret < 0)
        return ret;
    const char *end;
    if (!parse_u64(text, &end, v) || !only_space(end))
        return tm_error_set(err, EIO, "%s/%s: expected a number, found \"%.40s\"", dir, name, text);
    return 0;
}

int tm_cgroup_read_key(const char *dir, const char *name, const char *key, uint64_t *v,
                       tm_error *err)
{
    _cleanup_free_ char *text = NULL;
    int ret = tm_cgroup_read(dir, name, SMALL_FILE, &text, err);
    if (ret < 0)
        return ret;
    size_t klen = strlen(key);
    for (const char *line = text; *line; line += strcspn(line, "\n"), line += !!*line) {
        const char *end;
        if (strncmp(line, key, klen) || line[klen] != ' ')
            continue;
        if (!parse_u64(line + klen, &end, v) || (*end && *end != '\n'))
            return tm_error_set(err, EIO, "%s/%s: bad value for %s", dir, name, key);
        return 0;
    }
    return tm_error_set(err, ENOENT, "%s/%s: no %s line", dir, name, key);
}

int tm_cgroup_read_pids(const char *dir, pid_t **pids, size_t *n, tm_error *err)
{
    _cleanup_free_ char *text = NULL;
    int ret = tm_cgroup_read(dir, "cgroup.procs", PROCS_FILE, &text, err);
    if (ret < 0)
        return ret;
    size_t lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    _cleanup_free_ pid_t *out = calloc(lines + 1, sizeof *out);
    if (!out)
        return tm_error_set(err, ENOMEM, "%s/cgroup.procs: out of memory", dir);
    size_t count = 0;
    for (const char *c = text; !only_space(c);) {
        const char *end;
        uint64_t pid;
        if (!parse_u64(c, &end, &pid) || pid == 0 || pid > INT_MAX || count > lines ||
            (*end && *end != '\n'))
            return tm_error_set(err, EIO, "%s/cgroup.procs: not a list of pids", dir);
        out[count++] = (pid_t)pid;
        c = end;
    }
    *pids = TM_STEAL(out);
    *n = count;
    return 0;
}

/* A file older kernels or configurations lack: missing is fine. */
static int optional(int ret)
{
    return ret == -ENOENT ? 0 : ret;
}

/* A charge that fails hits one counter: memsw (tried first) or memory, so
 * the limit was hit the sum of both failcnts times. */
static int memory_v1(const char *dir, struct tm_cgroup_stats *st, tm_error *err)
{
    uint64_t limit, memsw_failcnt = 0;
    int ret;
    if ((ret = tm_cgroup_read_u64(dir, "memory.usage_in_bytes", &st->memory_current, err)) < 0 ||
        (ret = tm_cgroup_read_u64(dir, "memory.limit_in_bytes", &limit, err)) < 0 ||
        (ret = optional(tm_cgroup_read_u64(dir, "memory.max_usage_in_bytes", &st->memory_peak, err))) < 0 ||
        (ret = optional(tm_cgroup_read_u64(dir, "memory.failcnt", &st->memory_failcnt, err))) < 0 ||
        (ret = optional(tm_cgroup_read_u64(dir, "memory.memsw.failcnt", &memsw_failcnt, err))) < 0 ||
        (ret = optional(tm_cgroup_read_key(dir, "memory.oom_control", "oom_kill",
                                           &st->memory_oom_kills, err))) < 0)
        return ret;
    /* v1 says "no limit" with a huge page-rounded number, not -1 */
    st->memory_limit = limit >= 1ull << 62 ? UINT64_MAX : limit;
    st->memory_failcnt += memsw_failcnt;
    return 0;
}

static int memory_v2(const char *dir, struct tm_cgroup_stats *st, tm_error *err)
{
    int ret;
    if ((ret = tm_cgroup_read_u64(dir, "memory.current", &st->memory_current, err)) < 0 ||
        (ret = tm_cgroup_read_u64(dir, "memory.max", &st->memory_limit, err)) < 0 ||
        (ret = optional(tm_cgroup_read_u64(dir, "memory.peak", &st->memory_peak, err))) < 0 ||
        (ret = optional(tm_cgroup_read_key(dir, "memory.events", "max", &st->memory_failcnt, err))) < 0 ||
        (ret = optional(tm_cgroup_read_key(dir, "memory.events", "oom_kill",
                                           &st->memory_oom_kills, err))) < 0)
        return ret;
    return 0;
}

/* pids reads the same in both versions. */
static int pids_stats(const char *dir, struct tm_cgroup_stats *st, tm_error *err)
{
    int ret;
    if ((ret = tm_cgroup_read_u64(dir, "pids.current", &st->pids_current, err)) < 0 ||
        (ret = tm_cgroup_read_u64(dir, "pids.max", &st->pids_limit, err)) < 0 ||
        (ret = optional(tm_cgroup_read_key(dir, "pids.events", "max", &st->pids_refused, err))) < 0)
        return ret;
    return 0;
}

static int cpu_v1(const char *dir, struct tm_cgroup_stats *st, tm_error *err)
{
    int ret;
    if ((ret = tm_cgroup_read_u64(dir, "cpu.cfs_quota_us", &st->cpu_quota_us, err)) < 0 ||
        (ret = tm_cgroup_read_u64(dir, "cpu.cfs_period_us", &st->cpu_period_us, err)) < 0)
        return ret;
    return 0;
}

/* cpu.max: "QUOTA PERIOD" or "max PERIOD". */
static int cpu_v2(const char *dir, struct tm_cgroup_stats *st, tm_error *err)
{
    _cleanup_free_ char *text = NULL;
    int ret = tm_cgroup_read(dir, "cpu.max", SMALL_FILE, &text, err);
    if (ret < 0)
        return ret;
    const char *mid, *end;
    if (!parse_u64(text, &mid, &st->cpu_quota_us) || !parse_u64(mid, &end, &st->cpu_period_us) ||
        !only_space(end))
        return tm_error_set(err, EIO, "%s/cpu.max: expected \"QUOTA PERIOD\", found \"%.40s\"", dir,
                            text);
    return 0;
}

/* CPU time: v1 cpuacct counts ns; v2 core cpu.stat counts us and is there
 * with or without the cpu controller. */
static int cpu_usage(const struct tm_cgroup *cg, struct tm_cgroup_stats *st, tm_error *err)
{
    const struct tm_cgroup_place *p = tm_cgroup_place_for(cg, TM_CGROUP_CPUACCT);
    if (p) {
        int ret = tm_cgroup_read_u64(p->dir, "cpuacct.usage", &st->cpu_usage_ns, err);
        if (ret == 0)
            st->have |= TM_CGROUP_CPUACCT;
        return ret;
    }
    for (size_t i = 0; i < cg->n; i++) {
        if (!cg->p[i].h.v2 || cg->p[i].removed)
            continue;
        uint64_t us;
        int ret = tm_cgroup_read_key(cg->p[i].dir, "cpu.stat", "usage_usec", &us, err);
        if (ret < 0)
            return optional(ret);
        st->cpu_usage_ns = us * 1000;
        st->have |= TM_CGROUP_CPUACCT;
        return 0;
    }
    return 0;
}

int tm_cgroup_stats(struct tm_cgroup *cg, struct tm_cgroup_stats *st, tm_error *err)
{
    *st = (struct tm_cgroup_stats){ .memory_limit = UINT64_MAX, .pids_limit = UINT64_MAX,
                                    .cpu_quota_us = UINT64_MAX };
    const struct tm_cgroup_place *p;
    int ret;
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_MEMORY))) {
        if ((ret = (p->h.v2 ? memory_v2 : memory_v1)(p->dir, st, err)) < 0)
            return ret;
        st->have |= TM_CGROUP_MEMORY;
    }
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_PIDS))) {
        if ((ret = pids_stats(p->dir, st, err)) < 0)
            return ret;
        st->have |= TM_CGROUP_PIDS;
    }
    if ((p = tm_cgroup_place_for(cg, TM_CGROUP_CPU))) {
        if ((ret = (p->h.v2 ? cpu_v2 : cpu_v1)(p->dir, st, err)) < 0)
            return ret;
        st->have |= TM_CGROUP_CPU;
    }
    return cpu_usage(cg, st, err);
}
