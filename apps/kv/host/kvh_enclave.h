/* The store's shared enclave (kvh_image.c, kvh_engine_enclave.c): kv.elf
 * laid out for the database, made by teemated as kv-NAME, and the engine
 * that calls the store through an attachment to it. */
#ifndef KVH_ENCLAVE_H
#define KVH_ENCLAVE_H

#include <stdint.h>

#include "enclave/image.h"
#include "kvh.h"
#include "shared/attach.h"
#include "util/error.h"

/* Two slots: the server's, and one for the snapshot child (issue 13). */
#define KVH_SLOTS 2
/* A slot when maxmemory is 0 (no limit): what the store may grow to. */
#define KVH_DEFAULT_SLOT (4ULL << 30)
#define KVH_SLOT_ROOM (64ULL << 20)

/* The slot for a store of maxmemory bytes: maxmemory * 1.25 + 64 MiB (the
 * allocator's overhead and the clients' buffers), page-rounded;
 * KVH_DEFAULT_SLOT for 0. */
uint64_t kvh_slot_size(uint64_t maxmemory);
/* kv.elf laid out for the database: KVH_SLOTS slots of slot bytes, a TCS
 * for each (made on demand) and teemated's own; ELRANGE the smallest power
 * of two that fits. */
int kvh_shared_image(const struct tm_image *base, uint64_t slot, struct tm_image **out, tm_error *err);
/* The image as an unlinked file to hand teemated. */
/* "kv-NAME" (NAME: [A-Za-z0-9._-], at most 48 characters). */
int kvh_enclave_name(const char *name, char *buf, size_t len, tm_error *err);

int kvh_engine_enclave(struct tm_attachment *a, struct kvh_engine **out, tm_error *err);

#endif
