/* The spec `teemate run -- ARGS` builds from its options: the runtime-spec's
 * default configuration, narrowed to a quick command-line container. */
#ifndef TM_CONTAINER_SPEC_RUN_H
#define TM_CONTAINER_SPEC_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container/spec.h"
#include "util/error.h"

struct tm_run_options {
    char *const *args;          /* the program and its arguments; nargs >= 1 */
    size_t nargs;
    const char *rootfs;         /* a root filesystem directory; NULL: keep the host's root */
    const char *hostname;       /* NULL: "teemate" */
    bool host_network;          /* false: a network namespace of its own (loopback only) */
    int64_t memory_max;         /* bytes; -1: no limit */
    int64_t pids_max;           /* -1: no limit */
    double cpus;                /* CPU time as a number of CPUs (0.5: half of one); 0: no limit */
    const char *enclave;        /* shared enclave to attach to; NULL: a plain container */
    uint64_t enclave_memory;    /* the container's slot cap in bytes; 0: the whole slot */
};

#define TM_RUN_CPU_PERIOD 100000   /* microseconds, as runc and docker --cpus use */

/* tm_spec_default, then: process.args = args, no terminal; root = rootfs
 * (absolute) read-write, or the host's root with only /proc mounted anew
 * (the new pid namespace needs its own; masked and read-only paths kept);
 * pid, mount, uts, ipc and cgroup namespaces, a network one unless
 * host_network; the limits; hostname; the enclave (also as annotations, so
 * `teemate state` shows it). On failure *spec is freed. */
int tm_spec_for_run(const struct tm_run_options *o, struct tm_container_spec *spec, tm_error *err);

#endif
