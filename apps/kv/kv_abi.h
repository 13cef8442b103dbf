/* The key-value store's ecalls: the one contract between apps/kv/enclave
 * (inside: RESP, commands, data) and apps/kv/host (outside: sockets only).
 * Numbers from 80 (the functions application uses 64..79).
 *
 * KV_ECALL_START  in: struct kv_config. Makes this slot's store (its root,
 *                 tm_slot_set_root) or, if the slot already holds one, takes
 *                 the new settings. Value 0 or -errno.
 * KV_ECALL_BATCH  in: struct kv_batch_in, then `count` records, each a struct
 *                 kv_client_in followed by `len` bytes and padded to 8. One
 *                 record per client that has news this loop iteration: a new
 *                 connection (KV_IN_NEW, bytes = "ADDR LADDR" text as
 *                 CLIENT LIST shows them, e.g. "127.0.0.1:5432 127.0.0.1:6379"),
 *                 bytes read from it (KV_IN_DATA), its end (KV_IN_GONE), or
 *                 just a request for replies still kept inside (no flag).
 *                 out: struct kv_batch_out, then records struct kv_client_out +
 *                 `len` reply bytes, padded to 8: the bytes to write to that
 *                 client in order. Value 0 or -errno (-EINVAL: malformed batch,
 *                 nothing done).
 *                 A client's replies that do not fit out_cap stay inside; its
 *                 record then has KV_OUT_PENDING and the host asks again (a
 *                 record without data) once it has written what it got. The
 *                 store parses what it can of a client's bytes and keeps the
 *                 rest (a partial command) in the client's query buffer.
 * KV_ECALL_INFO   in: nothing; out: struct kv_info (for the host's log and
 *                 tests: clients, keys, used memory). */
#ifndef KV_ABI_H
#define KV_ABI_H

#include <stdint.h>

#define KV_ECALL_START 80
#define KV_ECALL_BATCH 81
#define KV_ECALL_INFO 82
/* Persistence (issue 13; apps/kv/enclave/kv_persist.h):
 * KV_ECALL_SNAPSHOT_WRITE  in a forked snapshot child: writes its parent's
 *                 running snapshot as a sealed RDB through KV_OCALL_FILE_WRITE.
 * KV_ECALL_SNAPSHOT_DONE   in the parent: the child's result (int32 status,
 *                 0 ok); ends the snapshot (frees what it held).
 * KV_ECALL_LOAD   loads a sealed (or, natively, plain) RDB read through
 *                 KV_OCALL_FILE_READ into the empty store at start.
 * KV_ECALL_EXPORT unseals a sealed RDB (KV_OCALL_FILE_READ) into a plain
 *                 one (KV_OCALL_FILE_WRITE): `teemate kv export`.
 * KV_ECALL_IMPORT seals a plain RDB (read) into a sealed one (write):
 *                 `teemate kv import`.
 * Ocalls (the host serves them on the files it opened for the ecall):
 * KV_OCALL_FILE_WRITE in: bytes; result 0 or -errno (all written or none).
 * KV_OCALL_FILE_READ  in: uint64_t n; out: up to n bytes; result: bytes
 *                     read (0 at the end) or -errno. */
#define KV_ECALL_SNAPSHOT_WRITE 83
#define KV_ECALL_SNAPSHOT_DONE 84
#define KV_ECALL_LOAD 85
#define KV_ECALL_EXPORT 86
#define KV_ECALL_IMPORT 87
#define KV_OCALL_FILE_WRITE 0x120
#define KV_OCALL_FILE_READ 0x121
/* KV_OCALL_SAVE_OPEN  the host opens DIR/temp-PID.rdb for FILE_WRITE; 0/-errno.
 * KV_OCALL_SAVE_CLOSE in: int32 commit: 1 fsync, rename over DIR/dbfilename,
 *                     fsync DIR; 0 remove it. 0 or -errno. */
#define KV_OCALL_SAVE_OPEN 0x122
#define KV_OCALL_SAVE_CLOSE 0x123

/* The strawman BGSAVE (`teemate kv serve --fork strawman`, issue 13 point 5;
 * apps/kv/enclave/kv_strawman.c, lib/shared/strawman.h): the child process
 * builds a brand-new enclave of the same image and SIGSTRUCT, the two set up
 * an attested channel (tm_channel) and the parent's store is streamed into
 * the child's while the parent is blocked; the child then writes its copy.
 * KV_ECALL_STRAWMAN_SELF_TARGET  out: this enclave's TARGETINFO (512 bytes).
 * KV_ECALL_STRAWMAN_OFFER   in: the peer's TARGETINFO; out: struct
 *                 tm_channel_offer (512 bytes). This slot's channel (one).
 * KV_ECALL_STRAWMAN_ACCEPT  in: the peer's offer. 0, -EPERM another image.
 * KV_ECALL_STRAWMAN_EXPORT  parent: streams the store through
 *                 KV_OCALL_STRAWMAN_SEND, records of the channel (in: the
 *                 record, at most KV_STRAWMAN_RECORD_MAX bytes): first the
 *                 store's struct kv_config, then the running snapshot (or,
 *                 with none, the keyspace as it is: nothing changes during the
 *                 ecall) as an RDB in chunks of at most KV_STRAWMAN_CHUNK
 *                 bytes, then an empty record (the end). 0 once all is out;
 *                 BGSAVE's snapshot is then released (no more copy-on-write:
 *                 the child has its copy) but runs until SNAPSHOT_DONE.
 * KV_ECALL_STRAWMAN_IMPORT  child (a fresh enclave, no store yet): asks for
 *                 each record through KV_OCALL_STRAWMAN_RECV (out: the
 *                 record; the answer is its length), starts a store with the
 *                 parent's settings and loads the RDB into it (its CRC64
 *                 checked). 1 once all is in and the end record came; on
 *                 failure the store is emptied and out (if any room) holds a
 *                 NUL-terminated reason.
 * KV_ECALL_STRAWMAN_WRITE   child: writes its own store (the copy) as a
 *                 sealed dump, as SAVE does (KV_OCALL_SAVE_OPEN, FILE_WRITE,
 *                 SAVE_CLOSE). 0 or -errno.
 * Each channel ecall ends the channel on failure, EXPORT and IMPORT always. */
#define KV_ECALL_STRAWMAN_SELF_TARGET 88
#define KV_ECALL_STRAWMAN_OFFER 89
#define KV_ECALL_STRAWMAN_ACCEPT 90
#define KV_ECALL_STRAWMAN_EXPORT 91
#define KV_ECALL_STRAWMAN_IMPORT 92
#define KV_ECALL_STRAWMAN_WRITE 93
#define KV_OCALL_STRAWMAN_SEND 0x128
#define KV_OCALL_STRAWMAN_RECV 0x129
#define KV_STRAWMAN_CHUNK (64U * 1024)
#define KV_STRAWMAN_RECORD_MAX (KV_STRAWMAN_CHUNK + 32U)   /* + the channel's header and tag */

/* KV_ECALL_SNAPSHOT_DONE's input. */
struct kv_snapshot_report {
    int32_t status;              /* 0: the child wrote and renamed the file */
    uint32_t reserved;
    uint64_t fork_usec;          /* BGSAVE to the child's first instruction inside */
};

#define KV_MAX_PASS 512

struct kv_config {
    uint64_t maxmemory;          /* bytes; 0: no limit (noeviction when set) */
    uint32_t databases;          /* 1..KV_MAX_DATABASES (Redis: 16) */
    uint32_t port;               /* what INFO and CONFIG GET report */
    uint32_t hz;                 /* cron frequency the host keeps (Redis: 10) */
    uint32_t pass_len;           /* 0: no requirepass */
    char pass[KV_MAX_PASS];
    char bind[64];               /* NUL-terminated, for CONFIG GET bind */
    char dir[256];               /* NUL-terminated, for CONFIG GET dir and INFO */
    uint64_t proto_max_bulk_len; /* Redis: 512 MB */
    uint64_t client_query_buffer_limit; /* Redis: 1 GB */
    uint64_t pid;                /* the server's pid (INFO process_id) */
    uint64_t start_time_us;      /* host's wall clock at start (INFO uptime) */
    char save[128];              /* Redis's `save` ("3600 1 300 100 60 10000", "" none) */
    char dbfilename[128];        /* CONFIG GET dbfilename (the host opens the files) */
    uint32_t stop_writes_on_bgsave_error;   /* Redis: yes */
    uint32_t reserved;
};
#define KV_MAX_DATABASES 1024

struct kv_batch_in {
    uint64_t now_us;   /* host's wall clock (µs since the epoch): expiry and TIME.
                        * The host is trusted for time, as with any SGX enclave. */
    uint32_t count;    /* records that follow */
    uint32_t flags;    /* KV_BATCH_* */
};
/* Run the periodic work this iteration (active expiry, incremental rehash),
 * at hz times a second. */
#define KV_BATCH_CRON 1U

struct kv_client_in {
    uint64_t id;       /* the host's id for the connection, > 0, never reused */
    uint32_t flags;    /* KV_IN_* */
    uint32_t len;      /* bytes that follow */
};
#define KV_IN_NEW 1U
#define KV_IN_DATA 2U
#define KV_IN_GONE 4U

struct kv_batch_out {
    uint32_t count;    /* records that follow */
    uint32_t flags;    /* KV_SERVER_* */
};
/* SHUTDOWN was executed: the host closes every client and exits 0. */
#define KV_SERVER_SHUTDOWN 1U
/* A BGSAVE began (its snapshot is frozen): the host forks the child that
 * runs KV_ECALL_SNAPSHOT_WRITE, and reports its end with SNAPSHOT_DONE. */
#define KV_SERVER_BGSAVE 2U

struct kv_client_out {
    uint64_t id;
    uint32_t flags;    /* KV_OUT_* */
    uint32_t len;      /* reply bytes that follow */
};
/* Close the connection once these bytes are written (QUIT, a protocol
 * error, CLIENT KILL of this client, output limit). */
#define KV_OUT_CLOSE 1U
/* More replies are kept inside: ask again. */
#define KV_OUT_PENDING 2U

struct kv_info {
    uint64_t clients;
    uint64_t keys;          /* all databases */
    uint64_t used_memory;   /* bytes the store's allocations hold */
    uint64_t commands;      /* total_commands_processed */
};

/* Records are 8-aligned: header + len rounded up. */
#define KV_RECORD_SIZE(len) ((16u + (uint64_t)(len) + 7u) & ~(uint64_t)7u)

#endif
