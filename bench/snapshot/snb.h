/* bench/snapshot's parts: a small RESP client (snb_resp.c), the servers
 * (snb_server.c), the data set (snb_load.c), one BGSAVE measured and
 * BGSAVEs back to back (snb_bgsave.c), redis-benchmark under snapshots
 * (snb_workload.c) and the results (snb_report*.c). */
#ifndef SNB_H
#define SNB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SNB_TARGETS 5
#define SNB_REDIS 0        /* Debian's redis-server: its own fork() */
#define SNB_ATTACH 1       /* teemate kv serve --fork attach (the enclave) */
#define SNB_STRAWMAN 2     /* teemate kv serve --fork strawman (a new enclave per snapshot) */
#define SNB_NOENCLAVE 3    /* teemate kv serve --no-enclave (throughput only) */
#define SNB_AHEAD 4        /* teemate kv serve --fork ahead (attach, the child forked before BGSAVE) */
#define SNB_MAX_SIZES 8
#define SNB_MAX_REPS 9
#define SNB_MAX_TESTS 8
#define SNB_MAX_SAVES 512  /* BGSAVEs one workload run keeps the figures of */
#define SNB_CLIENTS 50
#define SNB_PIPELINE 16
#define SNB_KEYSPACE 100000      /* redis-benchmark -r */
#define SNB_SAVE_TIMEOUT_S 300   /* one BGSAVE; past it the target is given up */
#define SNB_SLOW_SAVE_S 60       /* past it, one BGSAVE per size for that server */
#define SNB_RUN_TIMEOUT_S 300    /* one redis-benchmark run */
#define SNB_REPLY_TIMEOUT_S 30   /* one reply to the bench's own client */

extern const char *const snb_target_names[SNB_TARGETS];
extern const char *const snb_target_short[SNB_TARGETS];

struct snb_options {
    unsigned sizes_mb[SNB_MAX_SIZES], nsizes;   /* the fork sweep, ascending */
    unsigned reps;                  /* BGSAVEs per size and server (the median is judged) */
    unsigned value_bytes;
    unsigned load_mb;               /* the data set under the write load */
    unsigned requests;              /* redis-benchmark -n */
    unsigned load_value;            /* redis-benchmark -d */
    const char *tests;              /* redis-benchmark -t */
    const char *out_dir, *teemate, *dump_dir;
    bool quick;
};

/* ---- snb_resp.c: one connection, one command at a time. */
struct snb_conn {
    int fd;
    unsigned port;
    size_t off, have;
    char buf[65536];
};
/* Connects to 127.0.0.1:port; 0 or -errno. */
int snb_connect(struct snb_conn *c, unsigned port);
void snb_close(struct snb_conn *c);
/* Sends the NULL-terminated words as a RESP array and reads the reply: its
 * type byte ('+', '-', ':', '$', '*'), or -errno (the connection is then
 * closed, so that a late reply is never read as the next one's, and the
 * next call connects again). out gets a simple
 * string, error or integer's text, or a bulk string (cut to len - 1 bytes);
 * an array's elements are read and dropped. */
int snb_call(struct snb_conn *c, char *out, size_t len, ...);
/* An INFO field ("name:value" on a line of its own) as an integer; -1 when absent. */
long long snb_info_ll(const char *info, const char *name);
/* The same, as text into out ("" when absent). */
void snb_info_str(const char *info, const char *name, char *out, size_t len);

/* ---- snb_server.c */
struct snb_env {
    char work[64], dumps[64], sock[4200], image[4200], pipe_file[200];
    const char *teemate;
    bool have_kv, have_fork, have_ahead, have_save, have_enclave;
    pid_t daemon;
    char daemon_gone[160];          /* how our teemated ended, if it did */
    unsigned value_bytes;
    unsigned long long pipe_keys;   /* records in pipe_file so far */
    size_t record_len;
    char load_start[64], load_end[64];
};

struct snb_server {
    int target;
    pid_t pid;
    unsigned port;
    bool up;                         /* running and answering BGSAVE */
    struct snb_conn conn;
    char dir[128], log[200];
    unsigned long long keys;         /* key:000000000000 .. keys - 1 loaded */
    long long used_empty, used;      /* INFO used_memory before any load, now */
    double load_s;                   /* redis-cli --pipe time, all of it so far */
    char why[256];                   /* why it is not up */
};

int snb_env_start(struct snb_env *env, const struct snb_options *o);
void snb_env_stop(struct snb_env *env);
/* NULL while the bench's teemated runs; else how it ended (said once on
 * stderr): every enclave server's BGSAVE fails after that. */
const char *snb_env_daemon_gone(struct snb_env *env);
/* Start target t on a free port with its own dump dir, check that it
 * answers BGSAVE (an empty one, timed out as any other). false with
 * s->why set when it did not: "no BGSAVE yet: ..." when the server says
 * it has no snapshots (the TeeMate rows are then skipped, not failed). */
bool snb_server_start(struct snb_env *env, int t, struct snb_server *s);
void snb_server_stop(struct snb_server *s);
/* s->why says the server has no snapshots (skip) rather than failed. */
bool snb_server_unsupported(const struct snb_server *s);

/* ---- snb_load.c: keys "key:%012u" with incompressible printable values
 * (an RDB's LZF would otherwise shrink 'xxx...' values to nothing), from one
 * --pipe input file generated once for every server. */
/* Loads keys until INFO used_memory >= bytes (a few rounds, each sized by
 * the bytes per key measured so far). 0, or -1 with s->why. */
int snb_fill(struct snb_env *env, struct snb_server *s, unsigned long long bytes);

/* ---- snb_bgsave.c */
struct snb_save {
    bool ok;
    double total_ms;                 /* BGSAVE sent .. rdb_bgsave_in_progress:0 */
    double fork_ms;                  /* latest_fork_usec / 1000 */
    long long cow_bytes;             /* rdb_last_cow_size (-1: not reported) */
    long long dump_bytes;            /* D/dump.rdb afterwards */
    char why[200];                   /* !ok: the server's error, a status, a timeout */
};
/* One BGSAVE on c, polling INFO persistence every 1 ms until it ends. */
void snb_bgsave(struct snb_conn *c, const char *dir, struct snb_save *out);

/* BGSAVE again as soon as the previous one ended, until stopped. */
struct snb_looper {
    pthread_t thread;
    unsigned port;
    const char *dir;
    atomic_bool stop;
    unsigned count, failed;
    struct snb_save saves[SNB_MAX_SAVES];   /* the first SNB_MAX_SAVES */
    char why[200];                          /* the first failure */
};
int snb_looper_start(struct snb_looper *l, unsigned port, const char *dir);
/* Lets the BGSAVE in flight end, then joins. */
void snb_looper_stop(struct snb_looper *l);

/* ---- snb_workload.c: redis-benchmark -c 50 -P 16 -r 100000 -d LOAD_VALUE
 * on the loaded data set, without and with BGSAVEs back to back. */
struct snb_result {
    char test[32];
    double rps, p50, p99;
};
struct snb_run {
    bool ran;
    char why[256];
    struct snb_result r[SNB_MAX_TESTS];
    unsigned n;
    double wall_s;
    unsigned saves, saves_failed;        /* BGSAVEs that ended during the run */
    double cow_mean, cow_max;            /* their rdb_last_cow_size, bytes (-1: none) */
    double save_ms_median, fork_ms_median;
};
void snb_workload(const struct snb_options *o, struct snb_server *s, bool snapshots, struct snb_run *run);
/* DEL mylist (LPUSH's one key: it grows by -n values a run, the rest of the
 * load's keys are bounded by -r), then INFO used_memory; -1 on failure. */
long long snb_workload_reset(struct snb_server *s);
const struct snb_result *snb_find(const struct snb_run *run, const char *test);

/* ---- snb_report.c */
struct snb_point {                /* one server at one size */
    bool ran;
    char why[256];
    unsigned long long keys;
    long long used;
    double load_s;
    unsigned nsaves;
    struct snb_save saves[SNB_MAX_REPS];
    double fork_ms, total_ms;     /* medians of the ok saves; -1: none */
    long long cow_bytes, dump_bytes;   /* of the last ok save */
};
struct snb_results {
    struct snb_point points[SNB_MAX_SIZES][SNB_TARGETS];
    bool skipped[SNB_TARGETS];      /* no BGSAVE support yet (why in skip_why) */
    char skip_why[SNB_TARGETS][256];
    struct snb_run runs[SNB_TARGETS][2];   /* [t][0]: no snapshots, [1]: BGSAVE back to back */
    long long load_used[SNB_TARGETS];      /* used_memory at the start of the measured runs */
    unsigned long long load_keys[SNB_TARGETS];
    bool workload_done;
};
/* snapshot.json, snapshot.md, snapshot-fork.svg, snapshot-throughput.svg
 * in out_dir; the final Markdown also on stdout. 0 or -1. */
int snb_report(const struct snb_options *o, const struct snb_env *env, const struct snb_results *res,
               unsigned nsizes_done, bool final);

#endif
