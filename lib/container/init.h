/* The container's init: what runs in the cloned child, from "go" to exec
 * (or to the enclave's main). Private to lib/container. */
#ifndef TM_CONTAINER_INIT_H
#define TM_CONTAINER_INIT_H

#include <stdint.h>

#include "container/container.h"

/* Messages on the runtime <-> init socketpair (SOCK_SEQPACKET). */
enum tm_sync_type {
    TM_SYNC_GO = 1,            /* runtime -> init: you are in your cgroup (and your user
                                  namespace has its maps), go on */
    TM_SYNC_READY = 2,         /* init -> runtime: set up, about to wait for start / exec */
    TM_SYNC_ERROR = 3,         /* init -> runtime: setup failed (status, message) */
    TM_SYNC_HOOKS = 4,         /* init -> runtime: mounts made, run prestart and createRuntime
                                  hooks, then GO again (only when there are some) */
};

/* GO's status is init's pid in the runtime's pid namespace (for the hooks' state). */
struct tm_sync_msg {
    uint32_t type;
    int32_t status;            /* ERROR: -errno */
    double setup_ms;           /* READY: "go" to ready, init's clock */
    char message[1024];
};

int tm_sync_send(int fd, uint32_t type, int status, double setup_ms, const char *message);
/* Receive one message; -EPIPE when the peer closed without one. */
int tm_sync_recv(int fd, struct tm_sync_msg *m);

struct tm_init_args {
    const struct tm_container_spec *spec;
    const struct tm_container_options *o;
    const char *rootfs;        /* absolute, or NULL: keep the host's root */
    int sync_fd;
    int fifo_fd;               /* O_PATH fd of exec.fifo, or -1 (no wait for start) */
    int console_fd;            /* connected console socket, or -1 */
    int error_fd;              /* ROOT/ID/init.error, for failures after READY; or -1 */
    int runtime_pidfd;         /* the runtime's pidfd: was it dead before PDEATHSIG was set? */
};

/* Never returns: execs, or exits with the enclave main's (or init_main's)
 * code, or reports an error to the runtime and exits 1. */
__attribute__((noreturn)) void tm_init_run(const struct tm_init_args *a);

/* The program spec->args[0] names, found as execvp would with the spec's
 * PATH, into out: 'exec: "X": executable file not found in $PATH' if none. */
int tm_init_find_program(const struct tm_container_spec *spec, char *out, size_t len, tm_error *err);

/* (rootfs.c) Propagation, the spec's mounts, devices, pivot_root, read-only root. */
int tm_rootfs_setup(const struct tm_container_spec *spec, const char *rootfs,
                    int (*before_pivot)(void *ctx, tm_error *err), void *ctx, tm_error *err);
/* Masked and read-only paths: after the sysctls, which write /proc/sys. */
int tm_rootfs_mask_paths(const struct tm_container_spec *spec, tm_error *err);

/* (sysctl.c) Refuse sysctls outside the container's own namespaces (runc's
 * rules and messages); write them to /proc/sys (in init). */
int tm_sysctl_check(const struct tm_container_spec *spec, tm_error *err);
int tm_sysctl_write(const struct tm_container_spec *spec, tm_error *err);

/* (idmap.c) Write /proc/PID/NAME ("uid_map" or "gid_map") from mappings,
 * in the one write the kernel takes; its refusal (overlaps, ids the writer
 * may not map) is runc's "failed to update /proc/PID/uid_map: ...". */
int tm_idmap_write(pid_t pid, const char *name, const struct tm_id_mapping *m, size_t n, tm_error *err);

/* (credentials.c) rlimits, groups/gid/uid, capabilities, no_new_privs, umask. */
int tm_credentials_apply(const struct tm_container_spec *spec, tm_error *err);
/* Put the capability bounding set down to spec's (needs CAP_SETPCAP: before setuid). */
int tm_capabilities_bound(const struct tm_container_spec *spec, tm_error *err);

/* (console.c) Make a pty in the container, send its master over the console
 * socket, and make the slave the controlling terminal and stdio. */
int tm_console_setup(int console_fd, tm_error *err);
/* (console.c, runtime side) Connect to the engine's --console-socket; the fd. */
int tm_console_connect(const char *path, tm_error *err);

/* (init_hooks.c) The hooks init takes part in, pid its pid as the runtime
 * sees it: before pivot_root, the runtime's prestart and createRuntime (over
 * the sync socket) then createContainer here; startContainer before exec. */
int tm_init_hooks_before_pivot(const struct tm_init_args *a, pid_t pid, tm_error *err);
int tm_init_hooks_start(const struct tm_init_args *a, pid_t pid, tm_error *err);

/* (init_enclave.c) Attach to the spec's enclave (before the mount changes:
 * the daemon's socket is on the host's filesystem). */
int tm_init_enclave_attach(const struct tm_init_args *a, tm_error *err);
/* Run the image's main with process.args; exits with its code. */
__attribute__((noreturn)) void tm_init_enclave_main(const struct tm_init_args *a);
/* Call the caller's init_main (with the attachment, if any); exits with its return. */
__attribute__((noreturn)) void tm_init_call_main(const struct tm_init_args *a);

#endif
