/* The strawman fork: how a conventional confidential container forks, for
 * comparison with tm_attach_fork (attach.h). The parent process runs an
 * enclave of its own whose slot holds the data; fork(2) gives a child
 * process but no enclave, so the child builds a brand-new one from the same
 * image and SIGSTRUCT (create, add + measure, init), the two enclaves set up
 * an attested channel (tm_channel in teemate_enclave.h) and the parent's
 * enclave streams its data to the child's, encrypted; the host processes only
 * relay bytes over a socketpair.
 *
 * The image provides the ecalls (numbers in struct tm_strawman_ecalls; see
 * examples/slotdata/slotdata.h for their contract): SELF_TARGET, CHANNEL_OFFER,
 * CHANNEL_ACCEPT, EXPORT (parent: next record, 1 = last), IMPORT (child:
 * 1 = all in and checked). */
#ifndef TM_SHARED_STRAWMAN_H
#define TM_SHARED_STRAWMAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "tm_lease.h"
#include "util/error.h"

/* An enclave of this process's own, one TCS bound to a fresh slot
 * (TM_LEASE_NEW) so that the image's malloc allocates in the slot. */
struct tm_strawman_enclave {
    const struct tm_image *image;           /* borrowed */
    const struct sgx_sigstruct *sigstruct;  /* borrowed */
    const struct tm_backend_ops *ops;
    struct tm_enclave *enclave;
    uint32_t tcs;                           /* the bound TCS's index */
    uint32_t slot;
    uint8_t token[TM_LEASE_TOKEN_SIZE];
    double build_ms;                        /* tm_enclave_build + the bind ecall */
};

/* Build image (signed by sigstruct) with ops, bind TCS 0 to slot 0. The
 * image and sigstruct must outlive se. */
int tm_strawman_start(const struct tm_image *image, const struct sgx_sigstruct *sigstruct,
                      const struct tm_backend_ops *ops, struct tm_strawman_enclave *se,
                      tm_error *err);
/* tm_ecall on the bound TCS, with the slot's lease token. */
int tm_strawman_ecall(struct tm_strawman_enclave *se, struct tm_ecall_call *call, tm_error *err);
/* Destroy the enclave. Zeroed or stopped is fine. */
void tm_strawman_stop(struct tm_strawman_enclave *se);

struct tm_strawman_ecalls {
    uint32_t self_target, offer, accept, export_record, import_record;
};

/* The parent side as the fork sees it: the image and SIGSTRUCT the child
 * builds its enclave from (the parent's own), and how to run an ecall in the
 * parent's enclave (its own enclave, or a slot of a shared one it is
 * attached to). ecall returns like tm_ecall; call->retval is the image's. */
typedef int (*tm_strawman_ecall_fn)(void *ctx, struct tm_ecall_call *call, tm_error *err);
struct tm_strawman_parent {
    const struct tm_image *image;
    const struct sgx_sigstruct *sigstruct;
    const struct tm_backend_ops *ops;
    tm_strawman_ecall_fn ecall;
    void *ecall_ctx;
};

/* Direction of a relayed message. */
enum { TM_STRAWMAN_TO_CHILD = 0, TM_STRAWMAN_TO_PARENT = 1 };

/* Sees every message the parent process relays, both ways (TARGETINFOs,
 * offers, records), as the bytes that cross the socket. */
typedef void (*tm_strawman_observe_fn)(void *ctx, int direction, const uint8_t *msg, size_t len);

struct tm_strawman_options {
    struct tm_strawman_ecalls ecalls;
    size_t record_max;                /* room for one EXPORT record */
    tm_strawman_observe_fn observe;   /* NULL: none */
    void *observe_ctx;
    /* Streamed records. 0: EXPORT returns one record per ecall (1 = the
     * last) and IMPORT takes one per ecall (1 = all in). Else one EXPORT
     * ecall hands out every record through application ocall
     * stream_out (in = the record; the host answers 0 once relayed) and
     * returns 0 after the last; one IMPORT ecall asks for each record through
     * ocall stream_in (out = the record, up to record_max; the answer is its
     * length) and returns 1 once all is in and checked. The producer and the
     * consumer then keep their own state on their stacks (an RDB writer that
     * pushes bytes, a loader that pulls them). */
    uint32_t stream_out, stream_in;
    /* The child, first thing after fork(2): let go of what it must not keep
     * of the parent (an attachment's views of the parent's enclave). NULL:
     * nothing. */
    void (*child_after_fork)(void *ctx);
    void *child_ctx;
};

/* Where the time of a strawman fork went (milliseconds; CLOCK_MONOTONIC, which
 * both processes share). */
struct tm_strawman_stats {
    double fork_ms;      /* fork(2) until the child runs */
    double build_ms;     /* the child's new enclave: create, add + measure, init, bind */
    double channel_ms;   /* TARGETINFOs, offers, reports checked, keys derived */
    double copy_ms;      /* the stream: export, relay, import, the child's checksum */
    double total_ms;     /* fork(2) until the child's enclave holds the data */
    uint64_t bytes;      /* relayed, both ways */
    uint64_t records;
};

/* Fork this process; the child builds its enclave, receives the parent
 * enclave's data and checks it; the parent waits for the child to say so,
 * and for it to exit. 0 when the child's enclave holds the data (checksum
 * matched); else -errno with err saying which side failed and why. */
int tm_strawman_fork(struct tm_strawman_enclave *parent, const struct tm_strawman_options *opts,
                     struct tm_strawman_stats *st, tm_error *err);

/* The same for any parent, returning like fork(2) once the child's enclave
 * holds the data (the parent is blocked until then, as Gramine's checkpoint
 * is sent synchronously; then it may serve again). Parent: the child's pid,
 * to reap (its exit status is the caller's child code's). Child: 0, with
 * *child its enclave holding the data; the caller runs its work there (a
 * snapshot written from the copy), then tm_strawman_stop and _exit. A child
 * whose import failed says so to the parent and exits 1 itself. -errno on
 * failure in the parent, the child then killed and reaped. */
pid_t tm_strawman_fork_start(const struct tm_strawman_parent *parent,
                             const struct tm_strawman_options *opts, struct tm_strawman_stats *st,
                             struct tm_strawman_enclave *child, tm_error *err);

#endif
