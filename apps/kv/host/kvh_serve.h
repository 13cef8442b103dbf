/* teemate kv serve's whole life (kvh_serve.c); the CLI only parses. */
#ifndef KVH_SERVE_H
#define KVH_SERVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "kvh.h"

struct kvh_serve_options {
    struct kvh_settings settings;
    const char *config;        /* the file read, for the log; NULL: none */
    const char *name;          /* the enclave is kv-NAME */
    bool no_enclave;           /* the store in this process */
    bool fork_ahead;           /* --fork ahead: the child forked and attached before BGSAVE */
    bool fork_strawman;        /* --fork strawman: BGSAVE's child gets an enclave of its
                                * own and the data over the channel (kvh_strawman.h) */
    const char *socket;        /* teemated's; NULL: the default */
    const char *image;         /* kv.elf */
    const char *state_root;    /* containers' state; NULL: the default */
    pid_t pid;                 /* what the log and INFO show (this process) */
};

/* Serves until SIGTERM/SIGINT or SHUTDOWN: 0; an error before or during. */
int kvh_serve(const struct kvh_serve_options *o, tm_error *err);
/* kvh_log's pid: the server's, also inside its container (pid 1 there). */
void kvh_log_set_pid(pid_t pid);

#endif
