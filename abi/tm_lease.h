/* Slots and TCS leases: what the daemon and the trusted runtime agree on.
 * Shared by the host (lib/daemon, lib/shared) and the trusted runtime.
 *
 * The daemon hands out TCSs and container slots; the enclave keeps its own
 * record of them and checks it on every entry:
 *   - a slot is FREE, BOUND (one or more TCSs serve it) or RELEASED (its last
 *     TCS was unbound; its pages wait for the trim). Binding a FREE slot
 *     makes a fresh lease token for it (RDRAND, inside); the token is the
 *     container's credential and every ecall on a TCS that serves a slot
 *     must carry it (tm_ecall_args.lease_token), else TM_STATUS_NOT_LEASED.
 *   - once any TCS of the enclave has been bound, a TCS that serves no slot
 *     runs only the lease ecalls and PING: a process cannot use a TCS it
 *     was not leased.
 *   - malloc on a TCS that serves a slot allocates in that slot (pages are
 *     EACCEPTed as the allocator grows: expand); the ecall's in/out copies
 *     live there too, so a container killed mid-ecall never holds a lock
 *     another container needs.
 *
 * Release of a slot (detach, or the process died):
 *   1. TM_ECALL_LEASE_UNBIND on each of its TCSs (the last one reports the
 *      slot released and how many bytes from its start were committed);
 *   2. the host EMODTs the committed pages to PT_TRIM;
 *   3. TM_ECALL_SLOT_TRIM on an unbound TCS: the enclave EACCEPTs each trim
 *      and marks the slot FREE;
 *   4. the host EREMOVEs the pages (and any EAUG'd page never accepted). */
#ifndef TM_LEASE_H
#define TM_LEASE_H

#include <stdint.h>

#define TM_LEASE_TOKEN_SIZE 16

enum tm_lease_mode {
    TM_LEASE_NEW = 0,    /* slot must be FREE: a fresh token is made */
    TM_LEASE_JOIN = 1,   /* slot must be BOUND; token = the slot's token (another thread) */
    TM_LEASE_FORK = 2,   /* slot must be FREE; parent_slot BOUND, token = the parent's token:
                          * the new slot records its parent (read-only view for the child) */
};

/* TM_ECALL_LEASE_BIND: in, on the TCS to bind (which must serve no slot). */
struct tm_lease_bind_in {
    uint32_t slot;
    uint32_t mode;                          /* enum tm_lease_mode */
    uint32_t parent_slot;                   /* TM_LEASE_FORK only */
    uint32_t reserved;                      /* 0 */
    uint8_t token[TM_LEASE_TOKEN_SIZE];     /* JOIN: the slot's; FORK: the parent's */
};

/* TM_ECALL_LEASE_BIND: out. */
struct tm_lease_bind_out {
    uint8_t token[TM_LEASE_TOKEN_SIZE];     /* the slot's token */
    uint64_t generation;                    /* counts binds of this slot from FREE */
};

/* TM_ECALL_LEASE_UNBIND: in = nothing (the call's lease_token must be the
 * slot's); an ecall abandoned on this TCS by a dead process is dropped. */
struct tm_lease_unbind_out {
    uint32_t slot;
    uint32_t released;                      /* 1: no TCS serves the slot any more */
    uint64_t committed;                     /* released: bytes from the slot start to trim */
};

/* TM_ECALL_SLOT_TRIM: in, on a TCS that serves no slot. */
struct tm_slot_trim_in {
    uint32_t slot;                          /* must be RELEASED */
    uint32_t reserved;
};

struct tm_slot_trim_out {
    uint64_t pages;                         /* trims accepted: the host may EREMOVE them */
};

#endif
