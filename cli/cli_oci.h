/* runc's command-line convention, which engines (podman, containerd, conmon)
 * speak to a runtime given with --runtime: global options before the verb,
 * and a runtime log where every error also goes. */
#ifndef TM_CLI_OCI_H
#define TM_CLI_OCI_H

#include <stdbool.h>

#include "util/error.h"

#define TM_VERSION "0.1.0"
#define TM_OCI_SPEC_VERSION "1.0.2"

/* Read the global options in argv[1..] (--root DIR, --log FILE, --log-format
 * text|json, --debug, --systemd-cgroup, --rootless VALUE; as --opt VALUE,
 * --opt=VALUE or Go's single-dash -opt). Returns -1 with *verb the index of
 * the verb (argc if none), or an exit code after printing an error. */
int tm_cli_oci_globals(int argc, char **argv, int *verb);

/* The state root: --root, else the default (state.h). */
const char *tm_cli_oci_root(void);
bool tm_cli_oci_debug(void);
/* For create and run: -ENOTSUP when --systemd-cgroup was given. */
int tm_cli_oci_cgroup_manager_check(tm_error *err);

/* Append one error line to the --log file (text or json); no-op without --log. */
void tm_cli_oci_log_error(const char *msg);

/* "teemate version X\nspec: 1.0.2\n" */
void tm_cli_oci_version(void);

/* Helpers the runc-style verbs share. */
/* The single ID argument after the options (argv[optind]); NULL after printing
 * a usage error. */
const char *tm_cli_oci_one_id(const char *verb, int argc, char **argv);
/* realpath of the bundle (NULL: "."), checked to be a directory. */
int tm_cli_oci_bundle(const char *given, char *out, tm_error *err);
/* "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3": the number, or -EINVAL. */
int tm_cli_oci_signal(const char *text);

#endif
