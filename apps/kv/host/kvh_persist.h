/* The host's part of persistence (kvh_persist.c): the file calls the store
 * makes (KV_OCALL_*: ocalls from the enclave, direct calls natively), the
 * BGSAVE child, and loading the dump at start. The host opens, writes,
 * fsyncs and renames files; what goes in them is the store's (sealed in the
 * enclave). */
#ifndef KVH_PERSIST_H
#define KVH_PERSIST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kvh.h"

/* Registers the file calls for this process (both engines) and remembers
 * where files go: DIR/dbfilename, temp files DIR/temp-PID.rdb. ahead
 * (--fork ahead, the enclave only): each BGSAVE's child is forked and
 * attached ahead of time, at start and after the previous save, and BGSAVE
 * only wakes it (the snapshot's point in time is the store's software
 * copy-on-write, not the fork's). */
void kvh_persist_init(const char *dir, const char *dbfilename, bool ahead);
/* Loads DIR/dbfilename into the empty store if it exists: 0 (loaded, or no
 * file), else -errno with err saying what is wrong with the file. */
int kvh_persist_load(struct kvh_engine *e, uint64_t *keys, tm_error *err);
/* The BGSAVE the store just began: wakes the standby child or forks the
 * child that writes it (which first runs kvh_persist_start's in_child: the
 * parent's sockets are not the child's to keep open, as Redis's child
 * closes its listeners). The child's status pipe (for
 * epoll) in *fd; its end comes with kvh_persist_child_event. On failure the
 * store is told the save failed. */
int kvh_persist_bgsave(struct kvh_engine *e, int *fd, tm_error *err);
/* The loop is up: what a child closes first (the parent's sockets), and the
 * first standby child with ahead. */
void kvh_persist_start(struct kvh_engine *e, void (*in_child)(void *ctx), void *ctx);
/* The status pipe is readable: once the child is gone, reaps it and reports
 * to the store (KV_ECALL_SNAPSHOT_DONE). true when it is over (fd closed). */
bool kvh_persist_child_event(struct kvh_engine *e, tm_error *err);
/* The server stops: a running child is killed and its temp file removed. */
void kvh_persist_stop(void);

#endif
