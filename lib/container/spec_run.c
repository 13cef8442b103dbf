/* tm_spec_for_run: the default spec narrowed by `teemate run`'s options. */
#include "container/spec_run.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_internal.h"

static int oom(tm_error *err)
{
    return tm_error_set(err, ENOMEM, "run: out of memory");
}

/* Replace *slot with a copy of value (NULL stays NULL). */
static int set_string(char **slot, const char *value, tm_error *err)
{
    char *copy = value ? strdup(value) : NULL;
    if (value && !copy)
        return oom(err);
    free(*slot);
    *slot = copy;
    return 0;
}

static int set_args(struct tm_container_spec *spec, char *const *args, size_t n, tm_error *err)
{
    char **copy = calloc(n + 1, sizeof(*copy));
    if (!copy)
        return oom(err);
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = strdup(args[i]))) {
            tm_spec_free_strings(copy, i);
            return oom(err);
        }
    tm_spec_free_strings(spec->args, spec->nargs);
    spec->args = copy;
    spec->nargs = n;
    return 0;
}

static void free_mount(struct tm_mount_spec *m)
{
    free(m->destination);
    free(m->type);
    free(m->source);
    free(m->data);
}

/* On the host's root only a new /proc makes sense: /dev, /sys and the rest
 * are the host's own already. */
static void keep_only_proc(struct tm_container_spec *spec)
{
    size_t kept = 0;
    for (size_t i = 0; i < spec->nmounts; i++) {
        if (spec->mounts[i].destination && !strcmp(spec->mounts[i].destination, "/proc"))
            spec->mounts[kept++] = spec->mounts[i];
        else
            free_mount(&spec->mounts[i]);
    }
    spec->nmounts = kept;
}

static int set_root(struct tm_container_spec *spec, const char *rootfs, tm_error *err)
{
    spec->root_readonly = false;
    if (!rootfs) {
        keep_only_proc(spec);
        return set_string(&spec->root_path, NULL, err);
    }
    char real[PATH_MAX];
    if (!realpath(rootfs, real))
        return tm_error_sys(err, "root filesystem %s", rootfs);
    return set_string(&spec->root_path, real, err);
}

static void set_namespaces(struct tm_container_spec *spec, bool host_network)
{
    for (int t = 0; t < TM_NS_COUNT; t++) {
        free(spec->namespaces[t].path);
        spec->namespaces[t].path = NULL;
        spec->namespaces[t].enabled = t == TM_NS_PID || t == TM_NS_MOUNT || t == TM_NS_UTS ||
                                      t == TM_NS_IPC || t == TM_NS_CGROUP ||
                                      (t == TM_NS_NET && !host_network);
    }
}

static int add_annotation(struct tm_container_spec *spec, const char *key, const char *value,
                          tm_error *err)
{
    for (size_t i = 0; i < spec->nannotations; i++)
        if (!strcmp(spec->annotations[i].key, key))
            return set_string(&spec->annotations[i].value, value, err);
    struct tm_key_value *bigger = realloc(spec->annotations, (spec->nannotations + 1) * sizeof(*bigger));
    if (!bigger)
        return oom(err);
    spec->annotations = bigger;
    struct tm_key_value *a = &bigger[spec->nannotations];
    a->key = strdup(key);
    a->value = strdup(value);
    spec->nannotations++;   /* counted even half-made: tm_spec_free frees it */
    return a->key && a->value ? 0 : oom(err);
}

static int set_enclave(struct tm_container_spec *spec, const char *name, uint64_t memory, tm_error *err)
{
    int ret = set_string(&spec->enclave, name, err);
    spec->enclave_memory = name ? memory : 0;
    if (ret < 0 || !name)
        return ret;
    if ((ret = add_annotation(spec, TM_ANNOTATION_ENCLAVE, name, err)) < 0 || !memory)
        return ret;
    char text[32];
    snprintf(text, sizeof(text), "%" PRIu64, memory);
    return add_annotation(spec, TM_ANNOTATION_ENCLAVE_MEMORY, text, err);
}

static int fill(const struct tm_run_options *o, struct tm_container_spec *spec, tm_error *err)
{
    int ret;
    if ((ret = set_args(spec, o->args, o->nargs, err)) < 0 ||
        (ret = set_root(spec, o->rootfs, err)) < 0 ||
        (ret = set_string(&spec->hostname, o->hostname ? o->hostname : "teemate", err)) < 0 ||
        (ret = set_enclave(spec, o->enclave, o->enclave_memory, err)) < 0)
        return ret;
    spec->terminal = false;
    set_namespaces(spec, o->host_network);
    spec->resources.memory_max = o->memory_max;
    spec->resources.pids_max = o->pids_max;
    if (o->cpus > 0) {
        spec->resources.cpu_period = TM_RUN_CPU_PERIOD;
        spec->resources.cpu_quota = (int64_t)(o->cpus * TM_RUN_CPU_PERIOD + 0.5);   /* no libm */
    }
    return 0;
}

int tm_spec_for_run(const struct tm_run_options *o, struct tm_container_spec *spec, tm_error *err)
{
    if (!o->nargs || !o->args || !o->args[0])
        return tm_error_set(err, EINVAL, "run: no program to run");
    /* 1 ms of every 100 ms at least (the kernel's floor for cfs_quota_us). */
    if (o->cpus < 0 || !isfinite(o->cpus) || (o->cpus > 0 && o->cpus * TM_RUN_CPU_PERIOD < 1000) ||
        o->cpus > 4096)
        return tm_error_set(err, EINVAL, "run: --cpus %g is out of range (0.01 to 4096)", o->cpus);
    int ret = tm_spec_default(spec, err);
    if (ret < 0)
        return ret;
    if ((ret = fill(o, spec, err)) < 0)
        tm_spec_free(spec);
    return ret;
}
