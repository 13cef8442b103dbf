/* teemate update: change a created or running container's cgroup limits. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/cgroup.h"
#include "container/container.h"
#include "util/cleanup.h"
#include "util/file.h"
#include "util/size.h"

#define MAX_RESOURCES_FILE (1u << 20)

static const char usage[] =
    "Usage: teemate update [OPTIONS] ID\n\n"
    "Change the resource limits of the container ID (created or running), in\n"
    "its cgroup, as runc's update. A limit not given stays as it is.\n\n"
    "Options:\n"
    "  --resources FILE, -r FILE  runc's JSON document (linux.resources' memory,\n"
    "                        cpu, pids, blockIO.weight); '-' reads standard input.\n"
    "                        With it, the other options are ignored (as runc)\n"
    "  --memory N            memory limit in bytes (\"64m\", \"1g\" too); -1: none\n"
    "  --memory-swap N       memory + swap limit; -1: unlimited swap\n"
    "  --memory-reservation N  soft limit\n"
    "  --pids-limit N        most processes; -1: none\n"
    "  --cpu-quota N         CFS quota in microseconds per period; -1: none\n"
    "  --cpu-period N        CFS period in microseconds\n"
    "  --cpu-share N, --cpu-shares N  relative weight (v2: mapped to cpu.weight)\n"
    "  --cpuset-cpus LIST, --cpuset-mems LIST\n"
    "  --blkio-weight N      10..1000\n";

enum { O_MEMORY = 256, O_SWAP, O_RESERVATION, O_PIDS, O_QUOTA, O_PERIOD, O_SHARES, O_CPUS, O_MEMS, O_BLKIO };

/* runc's units.RAMInBytes, and "-1". */
static int memory_value(const char *opt, const char *text, int64_t *out, tm_error *err)
{
    uint64_t v;
    if (!strcmp(text, "-1")) {
        *out = -1;
        return 0;
    }
    if (tm_parse_size(text, INT64_MAX, &v) < 0)   /* 0: unchanged, as runc */
        return tm_error_set(err, EINVAL, "invalid value for %s: invalid size: '%s'", opt, text);
    *out = (int64_t)v;
    return 0;
}

static int int_value(const char *opt, const char *text, int64_t min, int64_t max, int64_t *out, tm_error *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max)
        return tm_error_set(err, EINVAL, "invalid value for %s: \"%s\"", opt, text);
    *out = v;
    return 0;
}

static int read_resources(const char *path, struct tm_cgroup_update *u, tm_error *err)
{
    _cleanup_free_ uint8_t *data = NULL;
    size_t len = 0;
    int ret;
    if (!strcmp(path, "-")) {
        size_t cap = 0;
        for (;;) {
            if (len == cap) {
                uint8_t *p = cap < MAX_RESOURCES_FILE ? realloc(data, cap = cap ? cap * 2 : 4096) : NULL;
                if (!p)
                    return tm_error_set(err, EFBIG, "resources on standard input: larger than %u bytes",
                                        MAX_RESOURCES_FILE);
                data = p;
            }
            ssize_t n = read(0, data + len, cap - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return tm_error_sys(err, "cannot read the resources from standard input");
            if (n == 0)
                break;
            len += (size_t)n;
        }
    } else if ((ret = tm_file_read(path, MAX_RESOURCES_FILE, &data, &len, err)) < 0)
        return ret;
    ret = tm_cgroup_update_parse((const char *)data, len, u, err);
    return ret < 0 ? tm_error_prefix(err, "%s", strcmp(path, "-") ? path : "resources on standard input") : 0;
}

static int from_option(int c, const char *arg, struct tm_cgroup_update *u, tm_error *err)
{
    int64_t v = 0;
    int ret = 0;
    switch (c) {
    case O_MEMORY: return memory_value("memory", arg, &u->memory, err);
    case O_SWAP: return memory_value("memory-swap", arg, &u->memory_swap, err);
    case O_RESERVATION: return memory_value("memory-reservation", arg, &u->memory_reservation, err);
    case O_PIDS: return int_value("pids-limit", arg, -1, INT64_MAX, &u->pids, err);
    case O_QUOTA: return int_value("cpu-quota", arg, -1, INT64_MAX, &u->cpu_quota, err);
    case O_PERIOD:
        ret = int_value("cpu-period", arg, 0, UINT32_MAX, &v, err);
        u->cpu_period = (uint64_t)v;
        return ret;
    case O_SHARES:
        ret = int_value("cpu-share", arg, 0, UINT32_MAX, &v, err);
        u->cpu_shares = (uint64_t)v;
        return ret;
    case O_BLKIO:
        ret = int_value("blkio-weight", arg, 0, UINT16_MAX, &v, err);
        u->blkio_weight = (uint16_t)v;
        return ret;
    case O_CPUS:
    case O_MEMS: {
        char *dst = c == O_CPUS ? u->cpuset_cpus : u->cpuset_mems;
        if (strlen(arg) >= sizeof u->cpuset_cpus)
            return tm_error_set(err, EINVAL, "invalid value for %s: too long", c == O_CPUS ? "cpuset-cpus" : "cpuset-mems");
        strcpy(dst, arg);
        return 0;
    }
    }
    return 0;
}

int tm_cmd_update(int argc, char **argv)
{
    static const struct option opts[] = {
        { "resources", required_argument, NULL, 'r' },
        { "memory", required_argument, NULL, O_MEMORY },
        { "memory-swap", required_argument, NULL, O_SWAP },
        { "memory-reservation", required_argument, NULL, O_RESERVATION },
        { "pids-limit", required_argument, NULL, O_PIDS },
        { "cpu-quota", required_argument, NULL, O_QUOTA },
        { "cpu-period", required_argument, NULL, O_PERIOD },
        { "cpu-share", required_argument, NULL, O_SHARES },
        { "cpu-shares", required_argument, NULL, O_SHARES },
        { "cpuset-cpus", required_argument, NULL, O_CPUS },
        { "cpuset-mems", required_argument, NULL, O_MEMS },
        { "blkio-weight", required_argument, NULL, O_BLKIO },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *resources = NULL;
    struct { int c; const char *arg; } given[32];
    size_t ngiven = 0;
    int c;
    while ((c = tm_cli_getopt("update", argc, argv, "r:h", opts)) != -1) {
        switch (c) {
        case 'r': resources = optarg; break;
        case 'h': return fputs(usage, stdout), 0;
        case '?': return TM_EXIT_USAGE;
        default:
            if (ngiven == sizeof given / sizeof given[0])
                return tm_cli_usage("update", "too many options");
            given[ngiven].c = c;
            given[ngiven++].arg = optarg;
        }
    }
    const char *id = tm_cli_oci_one_id("update", argc, argv);
    if (!id)
        return TM_EXIT_USAGE;
    tm_error err = { 0 };
    struct tm_cgroup_update u = { 0 };
    if (resources) {
        if (read_resources(resources, &u, &err) < 0)
            return tm_cli_fail(&err);
    } else {
        for (size_t i = 0; i < ngiven; i++)
            if (from_option(given[i].c, given[i].arg, &u, &err) < 0)
                return tm_cli_fail(&err);
    }
    return tm_container_update(tm_cli_oci_root(), id, &u, &err) < 0 ? tm_cli_fail(&err) : 0;
}
