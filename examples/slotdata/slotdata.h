/* The slotdata image's ecalls: data in a container slot, for the fork
 * benchmark (bench/fork.c) and tests (tests/unit/test_strawman.c). Shared by
 * the image and its hosts; plain C types only.
 *
 * The data is a deterministic pattern: 64-bit word i of a fill with seed s is
 * tm_slotdata_word(s, i) (little-endian; a tail shorter than 8 bytes takes
 * the low bytes of its word), so a host can look for it in what it relays. */
#ifndef TM_SLOTDATA_H
#define TM_SLOTDATA_H

#include <stdint.h>

/* Ecall numbers (defines: TM_ECALL compares them with enum tm_ecall). */
/* in: struct tm_slotdata_fill; out: u64 checksum. Replaces this slot's
 * data with bytes of the pattern, malloc'ed in the slot (the slot root). */
#define TM_SLOTDATA_FILL 16
/* out: struct tm_slotdata_sum of this slot's data, recomputed. */
#define TM_SLOTDATA_CHECKSUM 17
/* Forked child: out: struct tm_slotdata_sum of the parent's data, read
 * through its root in the parent's slot (mapped read-only here). */
#define TM_SLOTDATA_PARENT_CHECKSUM 18
/* out: this enclave's TARGETINFO (512 bytes). */
#define TM_SLOTDATA_SELF_TARGET 19
/* Strawman fork (tm_channel, teemate_enclave.h). in: the peer's
 * TARGETINFO; out: struct tm_channel_offer (512 bytes). */
#define TM_SLOTDATA_CHANNEL_OFFER 20
/* in: the peer's offer. */
#define TM_SLOTDATA_CHANNEL_ACCEPT 21
/* Parent: out = the next channel record of its data (the first carries
 * {length, checksum}, then chunks of at most TM_SLOTDATA_CHUNK bytes);
 * returns 1 once the last record is out, else 0. */
#define TM_SLOTDATA_EXPORT 22
/* Child: in = a record from EXPORT, decrypted inside into this slot's
 * data (allocated at the first); returns 1 once all the data is in and
 * its checksum matches, else 0; -EBADMSG refused. */
#define TM_SLOTDATA_IMPORT 23

#define TM_SLOTDATA_CHUNK (4U << 20)
/* Room an EXPORT's out buffer needs (the record's header and tag). */
#define TM_SLOTDATA_RECORD_MAX (TM_SLOTDATA_CHUNK + 32)

struct tm_slotdata_fill {
    uint64_t bytes;
    uint64_t seed;
};

struct tm_slotdata_sum {
    uint64_t checksum;
    uint64_t bytes;
};

static inline uint64_t tm_slotdata_word(uint64_t seed, uint64_t i)
{
    return (seed ^ i) * 0x9E3779B97F4A7C15ULL;
}

#endif
