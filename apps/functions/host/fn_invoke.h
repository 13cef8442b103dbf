/* One invocation of a function: a new container (its own pid, mount, UTS,
 * IPC and cgroup namespaces, the host's network so that HTTP GET reaches
 * 127.0.0.1, a memory and pids limit), in it a new instance in the
 * function's mode, the result back over a pipe, the container deleted. */
#ifndef FN_INVOKE_H
#define FN_INVOKE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/container.h"
#include "fn_host.h"
#include "fn_record.h"
#include "util/file.h"

/* What a container adds to the function's memory limit for its cgroup: the
 * runtime itself, the enclave image and the sanitizers' own memory. */
#define FN_CONTAINER_OVERHEAD (256ULL << 20)
#define FN_CONTAINER_PIDS 64

struct fn_invoke_request {
    const struct fn_record *rec;
    const struct fn_services *services;
    const char *params;           /* the params object (JSON) */
    const char *state_root;       /* containers' state (NULL: the default) */
    const char *daemon_socket;    /* teemated (teemate mode; NULL: the default) */
    const char *image;            /* fn.elf (strawman mode) */
    const char *id;               /* the container's id */
};

/* Where the time went, in ms (g-contract.md's fields; 0 where a mode has
 * none), and the details the human line shows. The phases are disjoint but
 * expand_ms, which is spent inside heap_ms, code_load_ms and run_ms (the
 * enclave cannot tell the host where one ends inside one ecall). */
struct fn_invoke_stats {
    double container_ms;          /* cgroup + clone + namespaces and mounts (not the attach) */
    double enclave_build_ms;      /* strawman: ECREATE + EADD/EEXTEND + EINIT */
    double alias_ms;              /* teemate: connect + lease + map */
    double expand_ms;             /* EAUG + EACCEPT of pages added on demand (inside heap and run) */
    double heap_ms;               /* the instance's JS heap */
    double code_load_ms;          /* native/strawman: compile (+ bytecode load); teemate: bytecode load */
    double run_ms;                /* main(params) */
    double total_ms;              /* start of work to the result in hand */
    uint64_t epc_pages;           /* strawman: its enclave; teemate: its slot and thread pages */
    uint64_t expand_pages;
    uint64_t memory_peak_bytes;   /* the container's cgroup (0: unknown) */
    struct tm_container_timing container;
    struct tm_attach_stats alias; /* teemate */
    struct fn_strawman_stats strawman;
};

/* How the invocation ended. A container that died without a result gives
 * an error result (OpenWhisk's text) and died says how (signal, OOM); one
 * that did not answer within its time limit plus room for its start (5 s +
 * 2 ms per MiB of memory) is killed and gets OpenWhisk's time-limit error. */
struct fn_invocation {
    struct fn_result result;
    struct fn_invoke_stats stats;
    char died[256];               /* "" when the instance answered */
};

/* The container spec of rec's instances (host root and network, its
 * limits, fn-NAME in teemate mode): fn_invoke's and the gateway's warm ones. */
int fn_invoke_spec(const struct fn_record *rec, struct tm_container_spec *spec, tm_error *err);

/* 0 with inv filled (the result may be an error result), or -errno when no
 * instance could be made (err says why). */
int fn_invoke(const struct fn_invoke_request *req, struct fn_invocation *inv, tm_error *err);

/* Bytes read before EOF (EINTR retried; fewer than len: the writer died),
 * or -1. Writes: tm_write_full (util/file.h). */
ssize_t fn_read_full(int fd, void *buf, size_t len);

/* OpenWhisk's texts for an instance that gave no result: it died, or it ran
 * past its time limit (FN_MSG_TIMEOUT " of N milliseconds."). */
#define FN_MSG_DIED "The action did not produce a valid response and exited unexpectedly."
#define FN_MSG_TIMEOUT "The action exceeded its time limits"
#define FN_RESULT_DIED "{\"error\":\"" FN_MSG_DIED "\"}"

/* The watchdog's room past a run's time limit: the runtime's own limit
 * answers first; a hung runtime must not hold the invoker. */
#define FN_WATCHDOG_GRACE_MS 5000

#endif
