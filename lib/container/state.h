/* The state of the containers this runtime made, kept under the state root
 * (`--root`, default /run/teemate) so it outlives the CLI process that
 * created a container: ROOT/ID/state.json (written atomically), ROOT/ID/exec.fifo
 * (present while the container is created and not started; `start` opens it),
 * ROOT/ID/init.error (why init failed after create returned, if it did),
 * ROOT/ID/lock (a POSIX record lock, so a forked init
 * never holds it: one verb at a time per container). */
#ifndef TM_CONTAINER_STATE_H
#define TM_CONTAINER_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/spec.h"
#include "util/error.h"

#define TM_CONTAINER_ID_MAX 128
#define TM_STATE_ROOT_DEFAULT "/run/teemate"

enum tm_container_status {
    TM_CONTAINER_CREATING,     /* the creating runtime is still at work (holds the lock) */
    TM_CONTAINER_CREATED,      /* init waits on exec.fifo */
    TM_CONTAINER_RUNNING,      /* the user process (or enclave main) runs */
    TM_CONTAINER_STOPPED,      /* init is gone (or a zombie) */
    TM_CONTAINER_PAUSED,       /* created or running, its cgroup frozen (pause) */
};

struct tm_container_state {
    char id[TM_CONTAINER_ID_MAX + 1];
    pid_t pid;                 /* init, in the runtime's pid namespace; 0 before the clone */
    uint64_t pid_start;        /* /proc/PID/stat starttime: a reused pid is not ours */
    char bundle[PATH_MAX];
    char rootfs[PATH_MAX];     /* absolute; empty: the host's root */
    char cgroup_path[PATH_MAX];
    char created[40];          /* RFC 3339, UTC */
    char enclave[65];          /* shared enclave attached to; empty: plain container */
    uid_t owner;
    bool creating;             /* written before the cgroup and init exist, cleared once ready:
                                  still set with its creator gone = a creation that died */
    pid_t creator;             /* the runtime process making it, and its start time */
    uint64_t creator_start;
    struct tm_key_value *annotations;  /* owned */
    size_t nannotations;
};

/* The state root: root if given, else TM_STATE_ROOT_DEFAULT for uid 0,
 * else $XDG_RUNTIME_DIR/teemate (or /tmp/teemate-UID). */
const char *tm_state_root(const char *root);

/* Ids are 1..TM_CONTAINER_ID_MAX of [A-Za-z0-9_+.-], not "." or "..". */
int tm_state_id_check(const char *id, tm_error *err);

/* PATH of ROOT/ID[/name] into buf. -ENAMETOOLONG if it does not fit. */
int tm_state_path(const char *root, const char *id, const char *name, char *buf, size_t len,
                  tm_error *err);

/* Make ROOT/ID (mode 0711; -EEXIST "container \"ID\" already exists") and
 * take its lock; the lock fd is returned (>= 0). */
int tm_state_create(const char *root, const char *id, tm_error *err);
/* Take ROOT/ID's lock (blocking); -ENOENT "container \"ID\" does not exist". */
int tm_state_lock(const char *root, const char *id, tm_error *err);
/* Take ROOT/ID's lock and load its state into st: the lock fd (>= 0). */
int tm_state_open(const char *root, const char *id, struct tm_container_state *st, tm_error *err);

int tm_state_save(const char *root, const struct tm_container_state *st, tm_error *err);
/* -ENOENT: container "ID" does not exist. A directory without state.json
 * (a creation killed before it wrote one) loads as a creating record with
 * nothing but its id, so list shows it and delete removes it. */
int tm_state_load(const char *root, const char *id, struct tm_container_state *st, tm_error *err);
/* Remove ROOT/ID and everything in it. */
int tm_state_remove(const char *root, const char *id, tm_error *err);
/* The message init left in ROOT/ID/init.error (NUL-terminated into buf);
 * false when there is none. */
bool tm_state_init_error(const char *root, const char *id, char *buf, size_t len);
/* Ids (every container directory) under root, sorted; *ids malloc'd (free each, then the array). */
int tm_state_list(const char *root, char ***ids, size_t *n, tm_error *err);

/* What the container is doing now (pid alive and ours? fifo present? cgroup frozen?). */
enum tm_container_status tm_state_status(const char *root, const struct tm_container_state *st);
const char *tm_container_status_name(enum tm_container_status s);

/* The runtime-spec's state JSON (ociVersion, id, status, pid, bundle,
 * annotations) plus runc's extra fields (rootfs, created, owner); malloc'd. */
char *tm_state_oci_json(const struct tm_container_state *st, enum tm_container_status s);

/* /proc/PID/stat starttime, 0 if the process is gone. */
uint64_t tm_proc_start_time(pid_t pid);

void tm_state_clear(struct tm_container_state *st);

#endif
