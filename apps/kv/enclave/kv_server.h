/* The core's own state (not part of the kv.h contract with the data types):
 * the server, the allocator, clients, the command table, the platform hooks.
 * One struct kv_server per store, allocated from the platform and anchored as
 * the slot's root inside the enclave (never in .data/.bss: every process
 * attached to the enclave sees those). */
#ifndef KV_SERVER_H
#define KV_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "kv_abi.h"

/* kv_obj.reserved bit: a string grown in place (APPEND, SETRANGE), which
 * OBJECT ENCODING calls "raw" as Redis does, whatever its length. */
#define KV_OBJ_GROWN 1

#define KV_ERRSTATS_MAX 128   /* Redis's ERROR_STATS_NUMBER */

/* ---- Platform (kv_platform_native.c / kv_platform_enclave.c). */
struct kv_server *kv_platform_root(void);
void kv_platform_set_root(struct kv_server *s);
uint64_t kv_platform_random_u64(void);
/* The platform's allocator, for slabs and big blocks. */
void *kv_platform_alloc(size_t n);
void *kv_platform_alloc_aligned(size_t align, size_t n);
void *kv_platform_realloc(void *p, size_t n);
void kv_platform_free(void *p);
/* Bytes the store's process really holds (INFO used_memory_rss, as Redis's
 * is the process's RSS): the slot's committed pages in the enclave, the
 * resident set natively. */
size_t kv_platform_rss(void);
/* Persistence. A snapshot child shares its parent's memory in the enclave
 * and has a copy of it natively (fork(2), taken after the batch that ran
 * BGSAVE): either way it reads the frozen snapshot. */
/* The store whose snapshot a child writes: its parent's (tm_slot_parent_root)
 * in the enclave, its own natively; NULL when there is none. */
const struct kv_server *kv_platform_snapshot_parent(void);
bool kv_platform_seals(void);    /* files at rest are sealed (the enclave) */
/* A host call (KV_OCALL_*): an ocall in the enclave, natively the function
 * the host registered (kv_platform_native_set_host, kv_entry.h). Returns
 * like the ocall: >= 0 or -errno. */
long kv_platform_host_call(uint32_t number, const void *in, size_t in_len, void *out,
                           size_t out_cap, size_t *out_len);
/* Sealing keys (kv_sealed.c). The variable parts of an EGETKEY SEAL request,
 * kept in a sealed file's header so that the key can be derived again. */
struct kv_seal_keyreq {
    uint8_t key_id[32];      /* random per file: a fresh key per file */
    uint8_t cpu_svn[16];
    uint16_t isv_svn;
    uint16_t policy;         /* SGX_KEYPOLICY_MRSIGNER */
};
/* This enclave's CPUSVN and ISVSVN into req (for a new file). 0 or -errno. */
int kv_platform_seal_identity(struct kv_seal_keyreq *req);
/* The key of req (EGETKEY SEAL). -EBADMSG when it cannot be this enclave's
 * (an SVN above ours), -ENOTSUP natively unless a test key was set. The
 * caller wipes the key. */
int kv_platform_seal_key(const struct kv_seal_keyreq *req, uint8_t key[16]);
/* Natively only, for tests: keys become SHA-256(test key, req); NULL: none. */
void kv_platform_set_test_seal_key(const uint8_t key[16]);
/* The files of a persistence ecall (KV_OCALL_FILE_READ/WRITE in the enclave,
 * the fds kv_platform_set_files gave natively). read: bytes (0 at the end)
 * or -errno; write: 0 when all was written, else -errno. */
long kv_platform_file_read(void *p, size_t n);
int kv_platform_file_write(const void *p, size_t n);
/* Natively only: the host's file functions (apps/kv/host/kvh_files.c);
 * NULL: none (-EBADF). */
void kv_platform_set_files(long (*read_fn)(void *p, size_t n),
                           int (*write_fn)(const void *p, size_t n));

/* ---- Allocator (kv_mem.c): size classes up to KV_MEM_SMALL_MAX carved from
 * KV_MEM_CHUNK-aligned slabs (O(1) free lists), bigger blocks straight from
 * the platform with a header. used = what the store's live blocks hold. */
#define KV_MEM_CLASSES 44
#define KV_MEM_SMALL_MAX 16384   /* a list node of 8 KiB (listpack-sized) and its growth: slabs, not the arena */
#define KV_MEM_CHUNK (64u * 1024)
struct kv_mem {
    bool direct;                          /* every block from the platform (ASan builds) */
    size_t used;
    size_t chunks_bytes;                  /* slabs taken from the platform */
    void *free_list[KV_MEM_CLASSES];
    char *bump[KV_MEM_CLASSES], *bump_end[KV_MEM_CLASSES];
    uintptr_t *chunk_map;                 /* open addressing: base | (class + 1) */
    size_t chunk_map_cap, chunk_count;    /* chunk_count: slabs given to classes */
    void **chunk_list;                    /* every region of slabs, to give them back */
    size_t chunk_list_cap, region_count;
    char *region_next, *region_end;       /* the last region's slabs not given out yet */
};
void kv_mem_init(struct kv_mem *m, bool direct);
void kv_mem_destroy(struct kv_mem *m);    /* gives every slab back */
void *kv_mem_alloc(struct kv_mem *m, size_t n);
void *kv_mem_realloc(struct kv_mem *m, void *p, size_t n);
void kv_mem_free(struct kv_mem *m, void *p);
size_t kv_mem_usable(struct kv_mem *m, const void *p);
size_t kv_usable(const void *p);          /* the server's allocator */

/* A command whose first argument names a subcommand ("client" -> the
 * "client|setname" entry); without a proc it needs one (arity -2). */
#define KV_CMD_CONTAINER 64U

/* ---- Clients. */
#define KV_CLIENT_CLOSE_AFTER_REPLY 1U    /* QUIT, protocol error: no more input */
#define KV_CLIENT_CLOSE_ASAP 2U           /* CLIENT KILL, limits: close now */
#define KV_CLIENT_MULTI 4U
#define KV_CLIENT_DIRTY_CAS 8U            /* a WATCHed key changed */
#define KV_CLIENT_DIRTY_EXEC 16U          /* a command was refused while queueing */
#define KV_CLIENT_PENDING_WRITE 32U       /* in the server's write list */
#define KV_CLIENT_AUTHENTICATED 64U
#define KV_CLIENT_CLOSE_AFTER_REPLY_PENDING 128U  /* CLIENT KILL of itself: after its reply */

struct kv_queued {                        /* a command queued by MULTI */
    const struct kv_command *cmd;
    int argc;
    struct kv_str **argv;
};
struct kv_watched {
    int db;
    bool expired;                         /* logically expired when WATCHed */
    struct kv_str *key;
};

struct kv_client_core {
    struct kv_client *prev, *next;        /* the server's list, oldest first */
    struct kv_client *write_next;         /* the server's pending-write list */
    /* input */
    struct kv_str *query;                 /* unparsed bytes from qpos */
    size_t qpos;
    int reqtype;                          /* 0, '*' multibulk, 'i' inline */
    int64_t multibulk_len, bulk_len;
    int argv_cap;
    /* output: out[sent..len) still to hand to the host */
    char *out;
    size_t out_len, out_cap, out_sent;
    /* identity */
    struct kv_str *name;
    char addr[64], laddr[64];
    int64_t ctime_ms, last_ms;
    const struct kv_command *last_cmd;
    /* MULTI/WATCH */
    struct kv_queued *queued;
    int queued_count, queued_cap;
    uint32_t queued_flags;                /* union of the queued commands' flags */
    struct kv_watched *watched;
    int watched_count, watched_cap;
};

/* ---- Persistence state (kv_save.c): Redis's rdb_* fields. */
#define KV_SAVE_POINTS_MAX 16
struct kv_persist {
    struct kv_save_point { int64_t seconds, changes; } points[KV_SAVE_POINTS_MAX];
    int npoints;
    int64_t lastsave;                     /* unix s of the last good save (LASTSAVE) */
    int64_t last_try_ms;                  /* last BGSAVE attempt (retry after 5 s on error) */
    bool last_bgsave_ok;
    int64_t last_bgsave_time_sec;         /* -1 before the first */
    int64_t bgsave_start_ms;
    uint64_t dirty_at_start;
    uint64_t latest_fork_usec;
    uint64_t last_cow_size;
    bool bgsave_pending;                  /* begun here; the host forks the child */
    uint64_t saves, bgsaves_ok, bgsaves_err;
};

/* ---- The server. */
struct tm_channel;
struct kv_server {
    struct kv_mem mem;
    struct kv_config config;
    uint64_t hash_seed[2];
    uint64_t rng;                         /* xorshift state (RANDOMKEY, SPOP...) */
    int64_t now_ms, now_us;               /* the batch's clock */
    int64_t start_ms;
    struct kv_db *db;
    int dbnum;
    struct kv_dict **watched;             /* per db: key -> struct kv_watchers * */
    int watching_clients;
    struct kv_dict *commands;             /* name -> const struct kv_command * */
    struct kv_dict *clients_by_id;        /* 8-byte id -> struct kv_client * */
    struct kv_client *clients_head, *clients_tail;
    struct kv_client *write_head, *write_tail;
    size_t client_count;
    bool shutdown;
    /* copy-on-write for snapshots (issue 13, kv_snapshot.c) */
    uint32_t epoch;
    uint32_t snapshot_epoch;
    bool snapshot_running;
    struct kv_snapshot *snapshot;         /* what the running one sees (read by the child) */
    struct tm_channel *strawman_channel;  /* kv_strawman.c (enclave only): a strawman fork's */
    struct kv_obj **deferred;             /* frees held back while a snapshot runs */
    size_t deferred_count, deferred_cap;
    struct kv_dict **retired;             /* dicts FLUSHALL replaced while one runs */
    size_t retired_count, retired_cap;
    uint64_t cow_bytes;                   /* copied for the running snapshot */
    struct kv_persist persist;            /* SAVE/BGSAVE state (kv_save.c) */
    /* stats (INFO) */
    uint64_t dirty;
    size_t mem_peak;
    uint64_t stat_commands, stat_connections, stat_rejected, stat_expired;
    uint64_t stat_hits, stat_misses, stat_net_in, stat_net_out;
    uint64_t expire_cursor_db;            /* active expiry: where the last cycle stopped */
    bool active_expire_off;               /* DEBUG SET-ACTIVE-EXPIRE 0: lazy expiry only */
    /* INFO errorstats: error replies by code, sorted as Redis's rax lists them */
    uint64_t stat_error_replies;
    uint32_t nerrstats;
    struct kv_errstat { char code[32]; uint64_t count; } errstats[KV_ERRSTATS_MAX];
};

/* The store of this process / slot (NULL before kv_start). */
static inline struct kv_server *kv_server(void) { return kv_platform_root(); }

uint64_t kv_random(void);   /* the server's PRNG: not for secrets */

/* kv_client.c */
struct kv_client *kv_client_new(uint64_t id, const char *addrs, size_t len);
void kv_client_free(struct kv_client *c);
struct kv_client *kv_client_find(uint64_t id);
void kv_client_feed(struct kv_client *c, const void *p, size_t len);  /* parse + run */
#define KV_CLIENT_OUTPUT_LIMIT_MAX ((size_t)256 << 20)   /* Redis's replica class, hard */
size_t kv_client_output_limit(void);   /* 16 MB + maxmemory/16, at most the above */
void kv_client_reset_argv(struct kv_client *c);
void kv_client_mark_pending(struct kv_client *c);    /* joins the write list */
void kv_client_schedule_close(struct kv_client *c);  /* CLIENT KILL, limits */
void kv_client_list_line(struct kv_client *c, struct kv_client *who, struct kv_str **out);

/* kv_resp.c: parses one command from c's query buffer into argc/argv.
 * 1: a command is ready (argc may be 0: an empty one), 0: needs more bytes,
 * -1: protocol error replied (the client closes after it). */
int kv_resp_parse(struct kv_client *c);

/* kv_reply.c */
void kv_reply_raw(struct kv_client *c, const void *p, size_t len);
void kv_reply_error_len(struct kv_client *c, const char *msg, size_t len);

/* kv_command.c */
void kv_commands_init(struct kv_server *s);
const struct kv_command *kv_command_lookup(struct kv_client *c, bool *unknown_sub);
void kv_command_process(struct kv_client *c);     /* argv -> reply */
void kv_command_call(struct kv_client *c, const struct kv_command *cmd);
size_t kv_command_count(void);
bool kv_over_maxmemory(void);
/* With maxmemory the store lives in a slot of maxmemory + a quarter + 64 MB
 * (kvh_slot_size); running out of it ends the store (kv_mem_oom), and big
 * blocks freed as buffers double do not always coalesce. True when `more`
 * bytes now would pass maxmemory + an eighth + 16 MB, leaving the rest as
 * slack: the allocation is refused instead (the client closed, the command
 * answered -OOM). */
bool kv_mem_would_exhaust(uint64_t more);
void kv_reject(struct kv_client *c, const char *msg);   /* error + flags MULTI dirty */
extern const struct kv_command *const kv_command_tables[];
extern const struct kv_command kv_command_commands[];   /* kv_cmd_command.c */

/* kv_dict.c, beyond kv.h */
void kv_dict_shrink_if_needed(struct kv_dict *d);
void kv_dict_rehash_cron(struct kv_dict *d);
/* Frozen dicts (kv_dict.c's comment): kv_snapshot_begin freezes the
 * keyspace, kv_snapshot_end thaws it. */
void kv_dict_freeze(struct kv_dict *d);
bool kv_dict_is_frozen(const struct kv_dict *d);
void kv_dict_thaw(struct kv_dict *d);
size_t kv_dict_frozen_bytes(const struct kv_dict *d);
/* e itself, or in a frozen dict (unless e was added since) a new entry for
 * e's key with e's value that replaces it, e kept for the snapshot: call it
 * before changing e->v. */
struct kv_dict_entry *kv_dict_entry_writable(struct kv_dict *d, struct kv_dict_entry *e);

/* kv_db.c */
void kv_db_init(struct kv_server *s);
void kv_db_free_all(struct kv_server *s);
uint64_t kv_db_empty(struct kv_client *c, int index);   /* -1: all; returns keys removed */
bool kv_db_expire_if_needed(struct kv_db *db, struct kv_client *c, const struct kv_str *key);
void kv_db_delete_expired(struct kv_db *db, struct kv_dict_entry *e);
/* Removes key (and its TTL) and hands its object to the caller (RENAME). */
struct kv_obj *kv_db_take(struct kv_client *c, const struct kv_str *key);
size_t kv_keys_total(void);
struct kv_db *kv_db_at(int index);

/* kv_multi.c */
void kv_multi_queue(struct kv_client *c, const struct kv_command *cmd);
void kv_multi_discard(struct kv_client *c);
void kv_watch_touch(int db, const struct kv_str *key);
void kv_watch_touch_db(int db);           /* -1: every db */
void kv_unwatch_all(struct kv_client *c);

/* kv_save.c */
void kv_save_init(struct kv_server *s);
bool kv_save_parse_points(const char *spec, struct kv_persist *p);   /* false: invalid */
void kv_save_cron(void);
bool kv_save_denies_writes(void);          /* -MISCONF */
void kv_save_info(struct kv_str **o);      /* INFO persistence's fields */
/* SAVE: 0 or -errno (-EBUSY while a BGSAVE runs, unless shutting down: then
 * its child is killed first and the store as it is now is saved). */
int kv_save_now(bool shutdown);
extern const struct kv_command kv_persist_commands[];
#define KV_ERR_MISCONF "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."

/* kv_expire.c */
void kv_expire_cycle(void);
void kv_db_cron(void);

/* kv_obj.c: copy-on-write of objects */
struct kv_obj *kv_obj_copy(const struct kv_obj *o);
bool kv_obj_needs_copy(const struct kv_obj *o);
void kv_obj_free_now(struct kv_obj *o);

/* kv_snapshot.c: a point-in-time view of the keyspace (kv_persist.h).
 * freeze: a child process will read it while this one keeps serving (the
 * enclave's attach fork); false when the child has its own copy of memory
 * (a native fork) or nothing runs meanwhile (SAVE). */
struct kv_snapshot *kv_snapshot_begin(bool freeze);
/* The keyspace as it is, for a save by the store itself (kv_free it);
 * live: while a frozen snapshot runs (SHUTDOWN's save). */
struct kv_snapshot *kv_snapshot_view(bool live);
void kv_snapshot_end(void);
/* The child has a copy of its own now (a strawman child, which got the data
 * over the channel): thaw the dicts and free what was kept for the snapshot,
 * but keep it as the running BGSAVE's until kv_snapshot_end. */
void kv_snapshot_release(void);
/* FLUSHALL/FLUSHDB of a frozen dict: freed when the snapshot ends. */
bool kv_snapshot_retire(struct kv_dict *d);

/* kv_util.c */
size_t kv_ll2str(char *buf, int64_t v);            /* buf >= 21 */
bool kv_parse_int64(const char *p, size_t len, int64_t *out);   /* string2ll */
bool kv_str_to_long_double(const struct kv_str *s, long double *out);
int kv_long_double_format(long double v, char *buf, size_t cap);  /* INCRBYFLOAT's */
struct kv_str **kv_split_args(const char *line, size_t len, int *argc);  /* sdssplitargs */
void kv_argv_free(struct kv_str **argv, int argc);

#endif
