/* bench/kv's parts: the three servers (kvb_server.c), the data set and the
 * memory it takes (kvb_memory.c), redis-benchmark runs (kvb_throughput.c)
 * and the results (kvb_report.c). */
#ifndef KVB_H
#define KVB_H

#include <stdbool.h>
#include <sys/types.h>

#define KVB_TARGETS 3          /* redis-server, teemate --no-enclave, teemate (enclave) */
#define KVB_REDIS 0
#define KVB_NATIVE 1
#define KVB_ENCLAVE 2
#define KVB_MAX_TESTS 16
#define KVB_MAX_SIZES 4
#define KVB_PIPELINES 2
#define KVB_CLIENTS 50
#define KVB_KEYSPACE 1000000   /* redis-benchmark -r: the keys the data set holds */
#define KVB_RUN_TIMEOUT 120    /* seconds one redis-benchmark run may take */

extern const char *const kvb_target_names[KVB_TARGETS];
extern const char *const kvb_target_short[KVB_TARGETS];
extern const unsigned kvb_pipelines[KVB_PIPELINES];

struct kvb_options {
    unsigned requests;           /* -n for the cheap tests at small values */
    unsigned keys;               /* the data set: keys loaded before the tests */
    unsigned sizes[KVB_MAX_SIZES];
    unsigned nsizes;
    const char *tests;           /* comma-separated redis-benchmark -t names */
    const char *out_dir, *teemate;
    bool quick;
};

/* The machinery the targets share: a scratch dir, our own teemated. */
struct kvb_env {
    char work[64], sock[4200], image[4200];
    const char *teemate;
    bool have_kv, have_enclave;
    pid_t daemon;
    char load_start[64], load_end[64];   /* /proc/loadavg when the run began and ended */
};

struct kvb_server {
    pid_t pid;                   /* what we spawned */
    unsigned port;
    bool up;
};

/* One target's figures after loading the data set of one value size. */
struct kvb_memory {
    bool ran;
    char why[160];               /* when !ran, or the load went wrong */
    unsigned long long keys;     /* DBSIZE after the load */
    double load_s;
    long long used_before, used_after;   /* INFO used_memory */
    long long rss_before, rss_after;     /* VmRSS of the serving process, bytes */
    long long epc_before, epc_after;     /* slot EPC pages (enclave only, else -1) */
    long long info_rss_after;            /* INFO used_memory_rss: the server's own view */
};

struct kvb_result {
    char test[32];
    unsigned requests;
    double rps, p50, p99;
};

struct kvb_run {                 /* one target at one pipeline: a result per test */
    struct kvb_result r[KVB_MAX_TESTS];
    unsigned n;
};

struct kvb_size {                /* everything measured at one value size */
    unsigned bytes;
    bool up[KVB_TARGETS];
    struct kvb_memory mem[KVB_TARGETS];
    struct kvb_run runs[KVB_PIPELINES][KVB_TARGETS];
};

/* kvb_server.c */
int kvb_env_start(struct kvb_env *env, const char *teemate);
void kvb_env_stop(struct kvb_env *env);
/* Start target t on a free port; false (and a message) when it did not come up. */
bool kvb_server_start(struct kvb_env *env, int t, struct kvb_server *s);
void kvb_server_stop(struct kvb_server *s);
/* An INFO field as an integer, -1 when absent. */
long long kvb_info_field(unsigned port, const char *section, const char *field);
long long kvb_dbsize(unsigned port);
/* The process that holds the store's memory (the enclave's: the container
 * attached to it) and, for the enclave, its slot's EPC pages (-1 if none). */
pid_t kvb_server_process(struct kvb_env *env, int t, const struct kvb_server *s, long long *epc_pages);
long long kvb_rss_bytes(pid_t pid);

/* kvb_memory.c: load keys "key:%012u" 0..keys-1 with values of bytes bytes
 * through redis-cli --pipe, measuring before and after. */
void kvb_memory_measure(struct kvb_env *env, int t, const struct kvb_server *s, unsigned keys,
                        unsigned bytes, struct kvb_memory *m);

/* kvb_throughput.c */
unsigned kvb_requests(const char *test, unsigned bytes, unsigned requests);
bool kvb_benchmark(unsigned port, const char *test, unsigned requests, unsigned pipeline,
                   unsigned bytes, struct kvb_run *run);
const struct kvb_result *kvb_find(const struct kvb_run *run, const char *test);

/* kvb_report.c: kv.json, kv.md, kv.svg, kv-memory.svg in out_dir (after
 * each size, so an interrupted run leaves what it measured); the final one's
 * Markdown also on stdout. 0 or -1. */
int kvb_report(const struct kvb_options *o, const struct kvb_env *env, const struct kvb_size *sizes,
               unsigned nsizes, bool final);

#endif
