/* Attaching a process to a shared enclave that teemated owns (EPC aliasing).
 *
 * tm_attach asks the daemon for the enclave by name and receives, over the
 * unix socket, the enclave's fds (SCM_RIGHTS), its layout, a container slot,
 * TCS leases and the slot's lease token. It then maps, at the same addresses
 * as every other process: the image and the enclave-global heap (shared), its
 * own threads' pages (stack, TCS, SSA, thread data) and its own slot; a forked
 * child also maps its parent's slot read-only. Nothing else of ELRANGE is
 * accessible here: other containers' slots and TCSs are not mapped.
 *
 * The lease lives as long as the process: on tm_detach, or when the process
 * dies (the daemon holds a pidfd), the daemon unbinds the TCSs, trims the
 * slot and takes both back. Closing the connection alone does not end it
 * (threads may still be inside); DETACH is accepted only on the connection
 * that attached. */
#ifndef TM_SHARED_ATTACH_H
#define TM_SHARED_ATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend.h"
#include "enclave/ecall.h"
#include "tm_image.h"
#include "tm_lease.h"
#include "util/error.h"

#define TM_ATTACH_MAX_THREADS 64
/* Views: each image segment (at most TM_ELF_MAX_SEGMENTS, with its own
 * permissions), the heap, the slot, a forked child's parent slot, and up to
 * four per thread (stack, TCS, SSA, thread data; adjacent ones merged). */
#define TM_ATTACH_MAX_VIEWS (32 + 3 + 4 * TM_ATTACH_MAX_THREADS)

struct tm_attach_options {
    const char *socket_path;   /* NULL: tm_daemon_socket_path() */
    uint32_t threads;          /* TCS leases wanted; 0 means 1 */
    bool no_autostart;         /* fail instead of starting teemated when none runs */
    /* The container's enclave memory cap, in bytes (rounded up to pages; 0:
     * none; more than the slot: the slot): its slot holds at most this much
     * EPC, and malloc inside returns NULL past it (abi/tm_lease.h). */
    uint64_t slot_limit;
};

/* Where the time of an attach went (milliseconds). */
struct tm_attach_stats {
    double connect_ms;         /* socket connect (and daemon start, if it was started) */
    double request_ms;         /* request to reply: the daemon's leasing, slot and bind ecall */
    double map_ms;             /* backend attach and the views mapped here */
    double first_entry_ms;     /* tm_attach_first_entry: this process's first EENTER; < 0 if not measured */
    bool daemon_started;
};

/* One view of ELRANGE this process maps. */
struct tm_attach_view {
    uint64_t offset, len;
    int prot;                  /* PROT_* upper bound */
};

struct tm_attachment {
    const struct tm_backend_ops *ops;
    struct tm_backend_enclave *be;
    uint64_t base, size;
    struct tm_enclave_regions regions;
    uint8_t mrenclave[32];
    char name[64];
    uint64_t attach_id;        /* the daemon's id of this lease */
    uint32_t slot;
    uint64_t slot_offset, slot_size;
    uint64_t slot_limit;       /* the cap the daemon applied, bytes (<= slot_size; 0: none) */
    int32_t parent_slot;       /* forked child: the parent's slot (mapped read-only), else -1 */
    uint8_t token[TM_LEASE_TOKEN_SIZE];
    uint32_t nthreads;
    uint64_t tcs_offsets[TM_ATTACH_MAX_THREADS];
    size_t nviews;
    struct tm_attach_view views[TM_ATTACH_MAX_VIEWS];
    int conn;                  /* the daemon connection (DETACH goes on it) */
    char socket_path[108];     /* where the daemon listens (a forked child connects there) */
    struct tm_attach_stats stats;
};

/* Attach to the enclave called name. Errors (err says which): -ENOENT no such
 * enclave, -EBUSY no free TCS or slot (the message says how many are leased),
 * -ECONNREFUSED no daemon and autostart off, -EPROTO a malformed reply. */
int tm_attach(const char *name, const struct tm_attach_options *opts, struct tm_attachment **out,
              tm_error *err);

/* Run an ecall on thread index (< nthreads) under this attachment's lease. */
int tm_attach_ecall(struct tm_attachment *a, uint32_t thread, struct tm_ecall_call *call,
                    tm_error *err);

/* Enter the enclave once on thread 0 with a PING and time it into
 * stats.first_entry_ms: what a new process pays on its first entry (the sim
 * installs its signal handlers, signal stack and syscall dispatch then), so
 * that --stats can show it apart from the run. */
int tm_attach_first_entry(struct tm_attachment *a, tm_error *err);

/* Fork this process (fork(2)); the child detaches from the parent's views and
 * attaches to the same enclave as a forked child: a new slot and lease of its
 * own (capped as the parent's is, as a forked process stays in its parent's
 * cgroup), the parent's slot mapped read-only, and TM_ECALL_FORK_CHILD run
 * once (the image's fork hook). Returns like fork: the child's pid in the parent
 * (*child NULL), 0 in the child (*child its attachment), -errno on failure
 * (in the child, a failure is reported through err and -errno; the child
 * should then _exit). The child leases one thread. In the child, parent is
 * emptied (its views unmapped, its connection closed without a DETACH: the
 * lease is the parent's); tm_detach(parent) there only frees it. */
pid_t tm_attach_fork(struct tm_attachment *parent, struct tm_attachment **child, tm_error *err);

/* Give the lease back (the daemon unbinds, trims and frees the slot) and
 * unmap everything. NULL is fine. */
void tm_detach(struct tm_attachment *a);
void tm_detachp(struct tm_attachment **a);
#define _cleanup_attachment_ __attribute__((cleanup(tm_detachp)))

#endif
