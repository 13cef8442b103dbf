/* Talking to teemated: connecting (starting it when none runs) and the
 * requests that manage shared enclaves. Attaching is lib/shared/attach.h. */
#ifndef TM_DAEMON_CLIENT_H
#define TM_DAEMON_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define TM_DAEMON_SOCKET_NAME "teemated.sock"
#define TM_ENCLAVE_NAME_MAX 63   /* [A-Za-z0-9_.-], not starting with '.' or '-' */

/* [A-Za-z0-9_.-]{1,63}, not starting with '.' or '-'. */
bool tm_enclave_name_valid(const char *name);
/* Check name, with a message that says what is wrong (-EINVAL). */
int tm_enclave_name_check(const char *name, tm_error *err);

/* $TEEMATE_SOCKET, else <state dir>/teemated.sock. Static buffer; NULL when
 * no path can be made (no state directory). */
const char *tm_daemon_socket_path(void);
/* path, else the default above, made absolute, into buf (checked against the
 * size of a unix socket address). */
int tm_daemon_socket_resolve(const char *path, char *buf, size_t len, tm_error *err);

/* Start `teemate daemon --foreground` in the background (its own session,
 * stderr appended to <state dir>/teemated.log) and wait until it listens on
 * path: it writes one line on a pipe when ready, or why it could not start.
 * The program is $TEEMATE_EXE, else /proc/self/exe. *pid: the daemon's pid.
 * -EALREADY when another daemon already listens there (err says which pid). */
int tm_daemon_spawn(const char *path, int *pid, tm_error *err);
/* The same with more options for `teemate daemon` (NULL-terminated, at most
 * TM_DAEMON_SPAWN_MAX_ARGS). */
#define TM_DAEMON_SPAWN_MAX_ARGS 16
int tm_daemon_spawn_with(const char *path, const char *const *args, int *pid, tm_error *err);

/* Connect to the daemon at path (NULL: tm_daemon_socket_path()). With
 * autostart, start `teemate daemon` in the background when none answers and
 * wait until it listens (it reports readiness on a pipe; no polling sleeps).
 * *started says whether it was started here. Returns the fd or -errno. */
int tm_daemon_connect(const char *path, bool autostart, bool *started, tm_error *err);

struct tm_enclave_info;

/* Create a shared enclave. The image and SIGSTRUCT travel as open fds (the
 * daemon never opens a client's path); sig_fd -1: the daemon signs with its
 * development key. backend: "sim", "sgx" or "auto"; image_name is for display.
 * info (may be NULL) receives the new enclave's summary; note (may be NULL,
 * note_len bytes) what the daemon wants the user told (the development key). */
int tm_daemon_create(int conn, const char *name, int image_fd, int sig_fd, const char *backend,
                     const char *image_name, struct tm_enclave_info *info, char *note,
                     size_t note_len, tm_error *err);

/* Remove an enclave. In use: -EBUSY unless force, which stops new attaches
 * and frees it when the last process detaches (*pending then true; may be NULL). */
int tm_daemon_remove(int conn, const char *name, bool force, bool *pending, tm_error *err);

struct tm_enclave_info {
    char name[TM_ENCLAVE_NAME_MAX + 1];
    char backend[8];
    char image[256];            /* the image's file name, for display */
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint64_t base, size;
    uint32_t tcs_total, tcs_leased;
    uint32_t tcs_made;          /* built, or made since (SGX2); the rest are made as leases need them */
    uint32_t slots_total, slots_in_use;
    uint64_t epc_shared;        /* EPC pages outside the slots */
    uint64_t epc_total;         /* all EPC pages of the enclave */
    bool removing;              /* rm --force: waiting for the last detach */
    double create_ms;           /* build time: create + add/measure + init */
    uint32_t nattached;
    bool building;              /* CREATE still adding pages: no measurement yet */
    uint64_t build_pages_done, build_pages_total;
    struct tm_attached_info {
        uint64_t attach_id;
        int32_t pid;
        uint32_t slot;
        int32_t parent_slot;    /* -1: not a forked child */
        uint32_t threads;
        uint64_t epc_pages;     /* EPC pages in its slot */
        uint64_t epc_limit_pages;   /* its slot's cap (0: none) */
    } attached[64];             /* the first 64 */
    uint32_t tcs_quarantined;   /* of tcs_leased: never leased again */
    uint32_t slots_quarantined; /* of slots_in_use: never handed out again */
    uint32_t nquarantined;      /* inspect: entries below */
    struct tm_quarantined_info {
        bool tcs;               /* a TCS, else a slot */
        uint32_t index;
        char why[120];
    } quarantined[16];
};

/* All enclaves (attached[] left empty; nattached counts them). *infos is malloc'ed. */
int tm_daemon_list(int conn, struct tm_enclave_info **infos, size_t *count, tm_error *err);
int tm_daemon_inspect(int conn, const char *name, struct tm_enclave_info *info, tm_error *err);

/* The daemon's own counters, for leak checks: open fds, leases, EPC pages of all enclaves. */
struct tm_daemon_status {
    int32_t pid;
    uint32_t enclaves;
    uint32_t open_fds;
    uint32_t leases;
    uint64_t epc_pages;
    uint64_t requests, bad_requests;
    uint32_t conns, builds;     /* open connections, CREATEs building */
    uint64_t conns_refused;     /* connections refused or closed (full, idle, other user) */
    uint64_t log_dropped;       /* log lines the rate limit dropped */
    uint64_t epc_committed, epc_limit;   /* pages the enclaves may commit / --max-epc */
};
int tm_daemon_status(int conn, struct tm_daemon_status *st, tm_error *err);

#endif
