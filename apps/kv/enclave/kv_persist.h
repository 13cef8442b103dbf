/* Persistence (issue 13): what a snapshot sees, the RDB writer and loader
 * (kv_rdb_save.c, kv_rdb_load.c) and the sealed stream around them
 * (kv_sealed.c). Byte streams go through sinks and sources so the same code
 * writes to a host file natively, to sealed chunks handed out by ocalls in
 * the enclave, and to memory in the unit tests and the fuzz target. */
#ifndef KV_PERSIST_H
#define KV_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv.h"

/* ---- Streams. 0 or -errno. */
struct kv_sink {
    int (*write)(void *arg, const void *p, size_t n);
    void *arg;
};
/* read() fills exactly n bytes; -ENODATA when the stream ends before n
 * (a truncated file), another -errno on failure. */
struct kv_source {
    int (*read)(void *arg, void *p, size_t n);
    void *arg;
};

/* ---- What a snapshot sees: each database's dicts as kv_snapshot_begin
 * found them. The parent keeps them unchanged for the snapshot (kv_dict.c:
 * frozen dicts keep deleted entries, add new ones marked as born after it)
 * and a child reads them in place, read-only: code that walks a snapshot
 * writes nothing it reaches from here and never calls kv_alloc/kv_server
 * (in a forked child they are the child's, not the parent's). */
struct kv_snapshot_db {
    const struct kv_dict *keys;     /* key -> struct kv_obj * */
    const struct kv_dict *expires;  /* key -> ms (v.i) */
    uint64_t keys_count, expires_count;  /* at the start (RESIZEDB) */
};
struct kv_snapshot {
    bool live;                      /* the dicts as they are now (kv_dict_cursor.live) */
    uint64_t hash_seed[2];          /* the store's (its dicts' buckets) */
    int64_t start_ms;               /* wall clock when it began (RDB ctime aux) */
    uint64_t used_memory;           /* used-mem aux */
    int dbnum;
    struct kv_snapshot_db db[];
};

/* Read-only walk of the entries of d that belong to the snapshot (entries
 * added after it began are skipped; entries deleted since are still
 * there). Start with a zeroed cursor; NULL at the end. Safe while the
 * parent keeps serving, and for a dict that is not frozen at all (SAVE, a
 * native fork child, tests): then every entry. A live walk (SHUTDOWN's save
 * while a BGSAVE runs, by the store itself) sees the dicts as they are now
 * instead: entries deleted since are skipped, entries added since seen. */
struct kv_dict_cursor {
    bool live;                      /* set from kv_snapshot.live before the walk */
    int table;
    uint64_t index;
    const struct kv_dict_entry *next;
};
const struct kv_dict_entry *kv_dict_snapshot_next(const struct kv_dict *d,
                                                  struct kv_dict_cursor *cur);
/* key's entry in d as snap sees it (a TTL in expires), read-only; NULL: none. */
const struct kv_dict_entry *kv_dict_snapshot_find(const struct kv_dict *d,
                                                  const struct kv_snapshot *snap,
                                                  const struct kv_str *key);

/* ---- RDB (Redis 7.0's format: REFERENCE.md). */
/* Writes snap as an RDB file (magic through CRC64) to out. Reads only. */
int kv_rdb_save(const struct kv_snapshot *snap, struct kv_sink *out);
/* Loads an RDB stream into the running store (kv_server(): every database
 * must be empty). All or nothing: on any error the databases are emptied
 * again and err (NUL-terminated) says what was wrong and where, e.g.
 * "Bad file format reading the append only file"-style plain words:
 * "RDB checksum mismatch", "unknown RDB type 200 at offset 1234". Keys
 * whose expiry has passed are skipped (as a master's load does).
 * -EINVAL bad data, -ENODATA truncated, other -errno from the source. */
int kv_rdb_load(struct kv_source *in, char *err, size_t err_len);
/* Redis's crc64 (Jones, reflected): crc = kv_crc64(crc, p, n), start at 0. */
uint64_t kv_crc64(uint64_t crc, const void *p, size_t n);

/* ---- Sealed files (kv_sealed.c): the RDB encrypted and authenticated in
 * chunks inside the enclave (AES-GCM, a key from EGETKEY, MRSIGNER policy).
 * A writer is a sink of plaintext that writes sealed bytes to file; a
 * reader is a source of plaintext that reads sealed bytes from file and
 * never hands out a byte of a chunk that does not authenticate; a file that
 * ends before its final chunk is -ENODATA, a chunk that fails -EBADMSG. */
#define KV_SEALED_MAGIC "TMKVSEAL"   /* 8 bytes at offset 0 */
struct kv_sealed;
int kv_sealed_writer_new(struct kv_sink *file, struct kv_sealed **out, struct kv_sink *plain);
int kv_sealed_writer_finish(struct kv_sealed *w);   /* the final chunk */
int kv_sealed_reader_new(struct kv_source *file, struct kv_sealed **out, struct kv_source *plain);
/* After the plaintext was read: -EBADMSG unless it was all read (through
 * the final chunk) and nothing follows the final chunk; -ENODATA when the
 * file ends before it. */
int kv_sealed_reader_finish(struct kv_sealed *r);
/* Up to n bytes of plaintext from a reader (0 at the end of the final
 * chunk), for callers that do not know the length (export). -errno as read. */
long kv_sealed_reader_read(struct kv_sealed *r, void *p, size_t n);
/* Wipes the key and any plaintext still buffered. */
void kv_sealed_free(struct kv_sealed *s);

/* ---- The host's files of a persistence ecall (kv_file.c, over
 * kv_platform_file_read/write: ocalls in the enclave, the host's functions
 * natively). */
struct kv_sink kv_file_sink(void);
struct kv_source kv_file_source(void);

#endif
