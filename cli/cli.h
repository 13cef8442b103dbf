/* Shared by the CLI verbs: each verb is one file exporting tm_cmd_<verb>. */
#ifndef TM_CLI_H
#define TM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define TM_EXIT_ERROR 1
#define TM_EXIT_USAGE 2

struct tm_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

int tm_cmd_keygen(int argc, char **argv);
int tm_cmd_sign(int argc, char **argv);
int tm_cmd_measure(int argc, char **argv);
int tm_cmd_sgxs(int argc, char **argv);
int tm_cmd_sigstruct(int argc, char **argv);
int tm_cmd_layout(int argc, char **argv);
int tm_cmd_daemon(int argc, char **argv);
int tm_cmd_enclave(int argc, char **argv);
int tm_cmd_enclave_create(int argc, char **argv);
int tm_cmd_enclave_ls(int argc, char **argv);
int tm_cmd_enclave_inspect(int argc, char **argv);
int tm_cmd_enclave_rm(int argc, char **argv);
int tm_cmd_enclave_run(int argc, char **argv);
int tm_cmd_attach(int argc, char **argv);
int tm_cmd_fn(int argc, char **argv);   /* cli/cmd_fn*.c: apps/functions */
int tm_cmd_gateway(int argc, char **argv);   /* cli/cmd_gateway.c: apps/functions/gateway */
int tm_cmd_kv(int argc, char **argv);        /* cli/cmd_kv.c: apps/kv/host */
/* Containers, in runc's convention (global options: cli_oci.h). */
int tm_cmd_create(int argc, char **argv);
int tm_cmd_start(int argc, char **argv);
int tm_cmd_state(int argc, char **argv);
int tm_cmd_kill(int argc, char **argv);
int tm_cmd_delete(int argc, char **argv);
int tm_cmd_run(int argc, char **argv);
int tm_cmd_spec(int argc, char **argv);
int tm_cmd_list(int argc, char **argv);
int tm_cmd_events(int argc, char **argv);
int tm_cmd_update(int argc, char **argv);
int tm_cmd_pause(int argc, char **argv);
int tm_cmd_resume(int argc, char **argv);
int tm_cmd_ps(int argc, char **argv);
int tm_cmd_features(int argc, char **argv);

/* Print "teemate: MESSAGE" on one line (and to the --log file); returns TM_EXIT_ERROR. */
int tm_cli_fail(const tm_error *err);
/* Print "teemate VERB: MESSAGE (see 'teemate VERB --help')"; returns TM_EXIT_USAGE. */
int tm_cli_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long with our one-line messages: returns the option, -1 at the end,
 * or '?' after printing a usage error for verb. */
int tm_cli_getopt(const char *verb, int argc, char **argv, const char *shortopts,
                  const struct option *longopts);

/* (cmd_enclave.c) Connect to teemated at socket_path (NULL: $TEEMATE_SOCKET or the state
 * directory's), starting it when none runs. The fd or -errno. */
int tm_cli_daemon_connect(const char *socket_path, tm_error *err);
/* "64MiB", "4KiB", or plain bytes. Returns buf. */
char *tm_cli_size(uint64_t bytes, char buf[32]);

/* Parse an unsigned number (decimal or 0x hex) no larger than max. */
int tm_cli_parse_u64(const char *text, uint64_t max, uint64_t *out);

#endif
