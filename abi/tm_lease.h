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
 *     The token is checked first, before the call's arguments are looked
 *     at: on a TCS that serves a slot, even LEASE_BIND or SLOT_TRIM without
 *     the token get TM_STATUS_NOT_LEASED (with it: TM_STATUS_SLOT_STATE).
 *   - once any TCS of the enclave has been bound, a TCS that serves no slot
 *     runs only LEASE_BIND, SLOT_TRIM and PING (LEASE_UNBIND and FORK_CHILD
 *     there: TM_STATUS_NOT_LEASED, nothing to act on): a process cannot use
 *     a TCS it was not leased. Before the first bind (a private enclave,
 *     `teemate enclave run`) every ecall runs on every TCS, with no token.
 *   - malloc on a TCS that serves a slot allocates in that slot (pages are
 *     EACCEPTed as the allocator grows: expand); the ecall's in/out copies
 *     live there too, so a container killed mid-ecall never holds a lock
 *     another container needs.
 *   - a slot may be capped (tm_lease_bind_in.limit_pages, the container's
 *     "enclave memory" limit, as its cgroup limits its ordinary memory): its
 *     allocator then grows only over the first min(slot size, limit_pages *
 *     4096) bytes of the slot, and malloc returns NULL past them. The slot's
 *     allocator is the only thing that EACCEPTs pages of a slot (stacks, TCS,
 *     SSA and thread data are per-TCS ranges outside the slots; the lease
 *     ecalls keep their in/out on the stack), so the cap bounds the pages of
 *     the slot ever accepted while it is bound. Enforced in trusted/tm_arena.c
 *     (the arena's limit); the host may also map no more of the slot than
 *     the cap, so that it cannot EAUG past it either.
 *
 * Release of a slot (detach, or the process died, at any instruction):
 *   1. TM_ECALL_LEASE_UNBIND on each of its TCSs (the last one reports the
 *      slot released and how many bytes from its start the trim must cover:
 *      every page the slot may hold, the one its allocator was accepting
 *      when the process died and any a former owner left included);
 *   2. the host EMODTs the accepted pages of that range to PT_TRIM (pages
 *      only added, or not there, stay as they are);
 *   3. TM_ECALL_SLOT_TRIM on an unbound TCS: the enclave EACCEPTs the trim
 *      of each page of the range and marks the slot FREE. The host maps the
 *      slot so that the EACCEPT of a page not there adds it (as the driver
 *      does on that fault) rather than faults. A page the enclave accepted
 *      once whose trim fails is left out of out.pages and stays; the enclave
 *      remembers it (the slot's dirty end) and the next owner zeroes it
 *      before use, while a page already there past that end is never used.
 *      Refused (TM_STATUS_SLOT_STATE) while a forked child of the slot is
 *      still bound: the child reads the parent's pages; trim the parent
 *      after the child's last unbind;
 *   4. the host EREMOVEs the slot's pages (any EAUG'd page never accepted
 *      too). A page that stays means the slot is not clean: the daemon
 *      quarantines it (never handed out, shown by `enclave inspect`).
 *
 * A process that died inside an ecall (or while its ecall waited in an
 * ocall) leaves that ecall on its TCS: once the host has made the TCS
 * enterable again, every ecall there gets TM_STATUS_BUSY except
 * LEASE_UNBIND carrying the slot's token, which drops the dead ecall (and
 * any runtime lock it held) and then unbinds as usual. On a TCS that serves
 * no slot of a shared enclave, LEASE_UNBIND drops such an ecall (there it can
 * only be a lease ecall or PING) and answers TM_STATUS_NOT_LEASED. A death
 * that leaves an exception pending (CSSA 1: killed between an AEX and its
 * ERESUME, or inside the handler; on SGX hardware every kill inside the
 * enclave) is dropped the same way: LEASE_UNBIND with the token enters the
 * exception entry, which points the pending frame at a fresh unbind and
 * answers TM_EXIT_EXCEPTION / TM_EXCEPTION_RESUME; the host's ERESUME then
 * runs the unbind as a new ecall. Nested exceptions (CSSA > 1) are not
 * dropped (TM_STATUS_EXCEPTION_ENTRY): the daemon quarantines that TCS. */
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

/* TM_ECALL_LEASE_BIND: in, on the TCS to bind (which must serve no slot).
 * in_len must be sizeof(struct tm_lease_bind_in), out_cap at least
 * sizeof(struct tm_lease_bind_out); slot (and for FORK parent_slot, another
 * slot) < slot_count, limit_pages 0 for JOIN, else TM_STATUS_BAD_ARGUMENTS.
 * A wrong state is TM_STATUS_SLOT_STATE, a wrong token TM_STATUS_NOT_LEASED.
 *
 * limit_pages (NEW, FORK): the most pages of the slot its allocator may ever
 * accept, counted from the slot's start; 0 = the whole slot, a limit larger
 * than the slot is the whole slot. A lower cap only makes malloc fail sooner,
 * so the enclave takes whatever the host asks. It holds until the slot is
 * released; a JOIN inherits it (and must pass 0). */
struct tm_lease_bind_in {
    uint32_t slot;
    uint32_t mode;                          /* enum tm_lease_mode */
    uint32_t parent_slot;                   /* TM_LEASE_FORK only */
    uint32_t limit_pages;                   /* NEW, FORK: the slot's cap (0: none); JOIN: 0 */
    uint8_t token[TM_LEASE_TOKEN_SIZE];     /* JOIN: the slot's; FORK: the parent's */
};

/* TM_ECALL_LEASE_BIND: out. */
struct tm_lease_bind_out {
    uint8_t token[TM_LEASE_TOKEN_SIZE];     /* the slot's token */
    uint64_t generation;                    /* counts binds of this slot from FREE (NEW, FORK) */
};

/* TM_ECALL_LEASE_UNBIND: in = nothing (the call's lease_token must be the
 * slot's); an ecall abandoned on this TCS by a dead process is dropped. */
struct tm_lease_unbind_out {
    uint32_t slot;
    uint32_t released;                      /* 1: no TCS serves the slot any more */
    uint64_t committed;                     /* released: bytes from the slot start to trim */
};

/* TM_ECALL_TCS_MAKE and TM_ECALL_TCS_ACCEPT: in, on a TCS that serves no
 * slot; the TCS made is number tcs (one of the image's on-demand ones). */
struct tm_tcs_make_in {
    uint32_t tcs;
    uint32_t reserved;
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
