/* Containers: namespaces, cgroup, root filesystem, credentials, and either
 * exec of the process or, for a container of a shared enclave, an attach to
 * that enclave and its main run in the container's init.
 *
 * Creation (tm_container_create):
 *   runtime                                 init (clone with CLONE_NEW*)
 *   cgroup made, limits written
 *   teemated reachable (enclave only)
 *   clone ------------------------------->  waits for "go"
 *   pid into the cgroup, oom_score_adj
 *   uid_map, gid_map, rlimits (user ns)
 *   "go" -------------------------------->  setns to joined namespaces
 *                                           attach to the enclave (enclave only)
 *                                           become the user namespace's root
 *                                           mounts, devices, pivot_root, masked paths,
 *                                           sysctls, hostname, rlimits, console,
 *                                           credentials, capabilities, no_new_privs
 *   <--------------------------------------  "ready" (or an error message)
 *   state saved (CREATED), pid file         create: blocks opening exec.fifo until
 *                                           `start`; seccomp; exec / enclave main /
 *                                           the caller's init_main
 * Start opens exec.fifo for reading, which lets init go on, and reads it to
 * its end: init holds it open (close-on-exec) until its exec succeeds, or
 * writes why it failed to ROOT/ID/init.error first, and start fails with it.
 *
 * User namespaces: with a new one (CLONE_NEWUSER in the same clone) the
 * runtime writes /proc/PID/uid_map and gid_map before "go"; init then
 * becomes the namespace's root. A process that joins a container later (OCI
 * exec) must setns the user namespace FIRST, from a single-threaded process,
 * then the others (they belong to it: joined from the host's user namespace
 * they are refused), then become its root as init does (init.c,
 * join_user_namespace and become_namespace_root) before its own credentials.
 *
 * The state record is written (status "creating", with the cgroup's path)
 * before the cgroup and init exist, so a creation killed at any instant
 * leaves a container that `list` shows and `delete` removes, cgroup (and
 * whatever is in it) included. */
#ifndef TM_CONTAINER_H
#define TM_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/spec.h"
#include "container/state.h"
#include "util/error.h"

struct tm_attachment;

struct tm_container_options {
    const char *id;
    const char *bundle;          /* absolute; a relative root.path is taken from here */
    const char *state_root;      /* NULL: tm_state_root(NULL) */
    const char *pid_file;        /* NULL: none */
    const char *console_socket;  /* NULL: init keeps the runtime's stdio */
    int preserve_fds;            /* fds 3..3+N-1 stay open in the container */
    bool wait_for_start;         /* create: stop before exec until `start` (exec.fifo) */
    const char *daemon_socket;   /* teemated (enclave containers); NULL: the default */
    bool enclave_stats;          /* enclave init prints alias/expand/run phases on stderr */
    bool die_with_runtime;       /* init (so the container) is SIGKILLed when this process dies */
    /* For a caller linked with the library: init calls init_main(init_ctx,
     * attachment) where it would exec (after credentials, capabilities and
     * seccomp) and exits with its return; process.args then only name the
     * process. attachment: the shared enclave init attached to (a spec with
     * an enclave; detached after), else NULL. init is a copy of the caller
     * (clone without CLONE_VM): ctx and its fds are there. */
    int (*init_main)(void *init_ctx, struct tm_attachment *attachment);
    void *init_ctx;
    /* With init_main: the first SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/2 init
     * gets is handed to this (on init's signal thread, never one inside the
     * enclave) instead of ending init, so init_main can stop cleanly; a
     * second one ends init as before. NULL: every such signal ends init. */
    void (*init_on_signal)(void *init_ctx, int sig);
};

/* Where container creation's time went (milliseconds, runtime's clock). */
struct tm_container_timing {
    double cgroup_ms;            /* cgroup made and limits written */
    double clone_ms;             /* clone until init is in its cgroup */
    double setup_ms;             /* "go" until init is ready (attach, mounts, credentials) */
    double total_ms;             /* tm_container_create from entry to ready */
};

/* Create the container (see above). On success the state is saved (status
 * CREATED when wait_for_start, else RUNNING) and *pid is init's pid. On
 * failure nothing is left: init is killed, cgroup and state removed. */
int tm_container_create(const struct tm_container_spec *spec, const struct tm_container_options *o,
                        pid_t *pid, struct tm_container_timing *timing, tm_error *err);

/* (lifecycle.c) The runtime-spec operations on a container made earlier,
 * possibly by another process. Errors carry the messages runc prints, which
 * engines match: "container \"ID\" does not exist", "cannot start a
 * container that has stopped", "cannot start an already running
 * container", "cannot delete container ID that is not stopped: running",
 * "container not running". */
int tm_container_start(const char *root, const char *id, tm_error *err);
int tm_container_kill(const char *root, const char *id, int sig, bool all, tm_error *err);
int tm_container_delete(const char *root, const char *id, bool force, tm_error *err);
/* The poststart hooks (warnings only) of a container made without
 * wait_for_start, whose process started with create (run in the foreground). */
void tm_container_poststart(const char *root, const char *id);

/* (container_update.c) New limits for a created or running container's
 * cgroup (tm_cgroup_update), recorded in ROOT/ID/resources.json. A stopped
 * one: "container not running". */
struct tm_cgroup_update;
int tm_container_update(const char *root, const char *id, const struct tm_cgroup_update *u, tm_error *err);
/* (spec_parse_update.c) runc's update document (linux.resources' memory,
 * cpu, pids, blockIO.weight) into u; and u back as such a document (malloc'd). */
int tm_cgroup_update_parse(const char *json, size_t len, struct tm_cgroup_update *u, tm_error *err);
char *tm_cgroup_update_json(const struct tm_cgroup_update *u);

/* (pause.c) Freeze a created or running container's processes ("container
 * not running" otherwise), thaw a paused one ("container not paused"). */
int tm_container_pause(const char *root, const char *id, tm_error *err);
int tm_container_resume(const char *root, const char *id, tm_error *err);

/* (features.c) The runtime-spec features document runc prints for
 * `features` (JSON, malloc'd; NULL: out of memory), naming what config.json
 * may use here; runtime_version goes into its annotations. */
char *tm_container_features_json(const char *runtime_version);

/* (container_stats.c) The counters of the container's cgroup (memory
 * current/peak/OOM kills, pids, cpu): readable until delete. */
struct tm_cgroup_stats;
int tm_container_stats(const char *root, const char *id, struct tm_cgroup_stats *s, tm_error *err);
/* The pids (runtime's pid namespace) in the container's cgroup: none (n 0)
 * when it has no cgroup. Malloc'd. */
int tm_container_pids(const char *root, const char *id, pid_t **pids, size_t *n, tm_error *err);

/* (container_events.c) 0 unless the container is missing ("container
 * \"ID\" does not exist") or stopped ("container with id ID is not
 * running"), runc's checks before `events`. */
int tm_container_check_live(const char *root, const char *id, tm_error *err);
/* runc's `events` stream: emit(ctx, stats) every interval_ns and emit(ctx,
 * NULL) for each OOM kill as the kernel reports it, until the container goes
 * away (deleted; on cgroup v2 also its cgroup emptied): then 0. A stats read
 * that fails is reported on stderr and the stream goes on; an error of emit
 * (< 0) ends it with that error. */
typedef int (*tm_container_event_fn)(void *ctx, const struct tm_cgroup_stats *stats, tm_error *err);
int tm_container_events(const char *root, const char *id, int64_t interval_ns, tm_container_event_fn emit,
                        void *ctx, tm_error *err);

/* Wait for init (a child of this process) to exit; its exit code, or
 * 128 + signal. Signals SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 sent to this process meanwhile are
 * passed on to init. */
int tm_container_wait(pid_t pid);

#endif
