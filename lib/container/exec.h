/* exec: a new process in a created or running container (runc's exec). It
 * joins the container's cgroup and namespaces (/proc/INIT/ns/NAME: the user
 * namespace first, the mount namespace last, a second fork to be inside the
 * pid namespace), then takes the credentials, capabilities, no_new_privs and
 * seccomp filter its spec says, as init does, and execs. In a container of
 * a shared enclave, a command whose args[0] is the container's own
 * process.args[0] (the image's entry) instead attaches to that enclave, with
 * its own slot and lease, and runs the image's main with the exec's args. */
#ifndef TM_CONTAINER_EXEC_H
#define TM_CONTAINER_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "container/spec.h"
#include "util/error.h"

struct tm_exec_options {
    const char *process_file;          /* runtime-spec process JSON, in place of config.json's */
    char *const *args;                 /* else: the command and what changes config.json's process */
    size_t nargs;
    char *const *env;                  /* NAME=VALUE, appended */
    size_t nenv;
    const char *cwd;
    const char *user;                  /* "UID[:GID]" */
    const gid_t *additional_gids;
    size_t nadditional_gids;
    char *const *caps;                 /* "CAP_X", added to bounding/effective/permitted */
    size_t ncaps;
    bool tty;
    bool no_new_privs;
    const char *apparmor;              /* refused: no AppArmor here (runc refuses too) */
    const char *process_label;         /* refused: no SELinux */

    const char *console_socket;        /* a terminal's pty master goes there */
    const char *pid_file;              /* the process's pid as the host sees it */
    int preserve_fds;                  /* fds 3..3+N-1 stay open in the process */
    bool detach;                       /* return once the process runs */
    bool ignore_paused;
    const char *daemon_socket;         /* teemated (enclave exec); NULL: the default */
};

/* Run the process; on success *status is its exit status (128 + signal
 * when killed) in the foreground, 0 detached. Failures, before the program
 * runs, are runc's texts: "cannot exec in a stopped container",
 * "cannot exec in a paused container (use --ignore-paused to override)",
 * "unable to start container process: exec: \"X\": executable file not found
 * in $PATH"; no process is left behind. */
int tm_container_exec(const char *root, const char *id, const struct tm_exec_options *o, int *status,
                      tm_error *err);

/* (exec_process.c) The spec of the exec'd process: bundle/config.json with
 * o's changes (or o->process_file's process); *entry (malloc'd) is
 * config.json's own process.args[0]. */
int tm_exec_spec(const char *bundle, const struct tm_exec_options *o, struct tm_container_spec *spec,
                 char **entry, tm_error *err);

#endif
