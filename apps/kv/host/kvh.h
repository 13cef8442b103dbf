/* The key-value store's host side: it only moves bytes. Settings (redis.conf
 * syntax and flags), Redis's log lines, listeners, and an epoll loop that
 * hands every ready client's bytes to the store in ONE batch ecall per
 * iteration (kv_abi.h) and writes back what the store answers. The store
 * runs in a shared enclave (kvh_engine_enclave.c) or, for --no-enclave,
 * natively in this process (kvh_engine_native.c): the same loop either way.
 * Functions return 0 or -errno with err filled. */
#ifndef KVH_H
#define KVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kv_abi.h"
#include "util/error.h"

/* ---- Settings (kvh_conf.c): Redis's names, defaults and units. */
#define KVH_MAX_BINDS 16
#define KVH_DEFAULT_PORT 6379
#define KVH_DEFAULT_DATABASES 16
#define KVH_DEFAULT_HZ 10
#define KVH_MAX_CLIENTS 10000          /* Redis's maxclients */
enum kvh_loglevel { KVH_LOG_DEBUG, KVH_LOG_VERBOSE, KVH_LOG_NOTICE, KVH_LOG_WARNING };

struct kvh_settings {
    uint32_t port;                     /* 0: no TCP listener (as Redis) */
    uint32_t nbind;
    char bind[KVH_MAX_BINDS][64];
    char dir[256];
    bool has_pass;
    uint32_t pass_len;
    char pass[KV_MAX_PASS];
    uint64_t maxmemory;                /* 0: none */
    uint32_t databases;
    uint32_t hz;
    uint32_t timeout;                  /* idle client timeout, s; 0: never */
    uint32_t maxclients;
    enum kvh_loglevel loglevel;
    char logfile[256];                 /* "": stderr */
    char unixsocket[108];              /* "": none */
    char save[128];                    /* save points, Redis's syntax ("" none) */
    bool save_set;                     /* a save directive replaced the default */
    char dbfilename[128];
    bool stop_writes_on_bgsave_error;
    /* what is accepted but not done (the log says so at start) */
    char ignored[256];
};

/* Redis's defaults (bind 127.0.0.1, port 6379, 16 databases, hz 10...). */
void kvh_settings_default(struct kvh_settings *s);
/* Redis's memory units: "100" bytes, "1k" = 1000, "1kb" = 1024, m/mb, g/gb
 * (case-insensitive). false for anything else. */
bool kvh_parse_memory(const char *text, uint64_t *out);
/* One directive with its arguments (argv[0] = the name, case-insensitive).
 * On error err holds Redis's reason ("Bad directive or wrong number of
 * arguments", "argument couldn't be parsed into an integer"...). `first`:
 * the first bind of a source replaces the default list, later ones add. */
int kvh_conf_set(struct kvh_settings *s, int argc, char **argv, bool *bind_seen, tm_error *err);
/* A redis.conf text: comments (#), blank lines, quoted arguments ("..." with
 * Redis's escapes, '...'). An error names the file and line:
 * "FILE:LINE: 'the line': reason". */
int kvh_conf_parse(struct kvh_settings *s, const char *text, size_t len, const char *path,
                   tm_error *err);
int kvh_conf_load(struct kvh_settings *s, const char *path, tm_error *err);
/* The store's own settings, for KV_ECALL_START. */
void kvh_settings_to_config(const struct kvh_settings *s, struct kv_config *c);

/* ---- Log (kvh_log.c): Redis's line format, "pid:M 06 Dec 2026 16:10:00.123 * msg". */
void kvh_log_open(const struct kvh_settings *s);   /* level and file ("" = stderr) */
void kvh_log(enum kvh_loglevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Engines: where the store runs. call() runs one of kv_abi.h's ecalls;
 * its value (0 or -errno from the store) in *rc. */
struct kvh_engine {
    int (*call)(struct kvh_engine *e, uint32_t ecall, const void *in, size_t in_len, void *out,
                size_t out_cap, size_t *out_len, int *rc, tm_error *err);
    void (*close)(struct kvh_engine *e);
    /* fork(2) for a BGSAVE child: in the child (0 returned) *child is the
     * engine to write the parent's snapshot with (natively this same store,
     * copied by the kernel; in the enclave an attachment of its own to the
     * same enclave, reading the parent's slot). -errno on failure. */
    pid_t (*fork)(struct kvh_engine *e, struct kvh_engine **child, tm_error *err);
    const char *name;                  /* for the log: "native", "enclave kv-NAME" */
};
/* The store compiled into this process (kv_entry.h). */
int kvh_engine_native(struct kvh_engine **out, tm_error *err);
/* KV_ECALL_START / KV_ECALL_INFO through an engine. */
int kvh_engine_start(struct kvh_engine *e, const struct kv_config *c, tm_error *err);
int kvh_engine_info(struct kvh_engine *e, struct kv_info *info, tm_error *err);

/* ---- Listeners (kvh_listen.c): TCP on each bind address (nonblocking,
 * backlog 511 as Redis's tcp-backlog), a unix socket. Returns the fd. */
int kvh_listen_tcp(const char *addr, uint32_t port, tm_error *err);
int kvh_listen_unix(const char *path, tm_error *err);
/* The port a listener got (port 0 asked for any). */
uint32_t kvh_listen_port(int fd);

/* ---- The loop (kvh_loop.c). */
struct kvh_loop_options {
    struct kvh_engine *engine;
    const int *listeners;
    size_t nlisteners;
    uint32_t hz;                       /* cron ticks a second (1..500) */
    uint32_t timeout;                  /* idle clients closed after s; 0: never */
    uint32_t maxclients;
    size_t read_chunk;                 /* bytes read per client per iteration (0: 64 KiB) */
    bool persist;                      /* the server's: snapshot children (kvh_persist.h) */
};
/* What the loop did (tests, the log at exit). */
struct kvh_loop_stats {
    uint64_t batches, records_in, records_out;
    uint64_t accepted, closed, refused;     /* refused: past maxclients */
    uint64_t pending_asks;                  /* records sent only to fetch kept replies */
    uint64_t bytes_in, bytes_out;
    size_t clients;                         /* connected now */
};
struct kvh_loop;
int kvh_loop_new(const struct kvh_loop_options *o, struct kvh_loop **out, tm_error *err);
/* Serve until SHUTDOWN (the store's flag) or kvh_loop_stop. 0 on a clean stop. */
int kvh_loop_run(struct kvh_loop *l, tm_error *err);
/* Async-signal-safe: the next iteration closes every client and returns. */
void kvh_loop_stop(struct kvh_loop *l);
void kvh_loop_get_stats(const struct kvh_loop *l, struct kvh_loop_stats *st);
/* Closes the clients (their GONE goes to the store) and frees; not the listeners. */
void kvh_loop_free(struct kvh_loop *l);

#endif
