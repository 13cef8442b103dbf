/* The strawman BGSAVE, outside (`teemate kv serve --fork strawman`, issue 13
 * point 5): the conventional confidential-container fork, for comparison
 * with the attach fork. fork(2) gives a child process with no enclave; it
 * builds a brand-new one from kv-NAME's image and SIGSTRUCT, the two
 * enclaves set up the attested channel and the parent's store streams into
 * the child's (lib/shared/strawman.h; kv_abi.h KV_ECALL_STRAWMAN_*). The
 * parent is blocked until the child's enclave holds the data, as Gramine's
 * fork sends its checkpoint synchronously; then it serves again while the
 * child writes the dump from its copy. */
#ifndef KVH_STRAWMAN_H
#define KVH_STRAWMAN_H

#include <stdint.h>
#include <sys/types.h>

#include "kvh.h"
#include "sgx_arch.h"
#include "shared/attach.h"
#include "shared/strawman.h"

/* What a child builds its enclave from: kv-NAME's image exactly as
 * kvh_serve makes it (kv.elf laid out for maxmemory: kvh_shared_image) and
 * signed as teemated signs an image given without a SIGSTRUCT (the
 * development key of TEEMATE_STATE_DIR): the channel accepts only a peer
 * with the same MRENCLAVE and MRSIGNER. Load it before the server's
 * container starts (the image's path may not be there inside). */
struct kvh_strawman_image {
    struct tm_image *image;
    struct sgx_sigstruct sigstruct;
};
int kvh_strawman_image_load(const char *kv_elf, uint64_t maxmemory, struct kvh_strawman_image *out,
                            tm_error *err);
void kvh_strawman_image_free(struct kvh_strawman_image *img);
/* Whether teemated's enclave (name, on socket; NULL: the default) is what
 * img's children will be: the same MRENCLAVE and MRSIGNER, else the channel
 * refuses every child. -EPERM with err saying which differs. */
int kvh_strawman_check(const struct kvh_strawman_image *img, const char *socket,
                       const char *enclave, tm_error *err);

struct kvh_strawman_result {
    pid_t pid;                       /* the child */
    uint64_t fork_usec;              /* fork(2) until the child's enclave holds the data */
    struct tm_strawman_stats stats;  /* where that time went; bytes and records relayed */
};

/* The strawman fork of the store in a's slot (its thread 0 must be free: call
 * it between batches, once BGSAVE began its snapshot, or with none: the
 * keyspace as it is). Returns like fork(2). Parent: the child's pid once the
 * child's enclave holds the data (r filled); reap it: exit status 0 = the
 * dump written, fsynced and renamed. Child: 0, *child an engine on its own
 * enclave whose KV_ECALL_SNAPSHOT_WRITE writes its copy (as the attach
 * child's writes the parent's snapshot: SAVE_OPEN, FILE_WRITE, SAVE_CLOSE
 * through this process's registered file calls, kvh_persist_init); the
 * caller _exits when done. -errno with err on failure (the child reaped). */
pid_t kvh_strawman_fork(struct tm_attachment *a, const struct kvh_strawman_image *img,
                        struct kvh_engine **child, struct kvh_strawman_result *r, tm_error *err);

/* kvh_engine_enclave's engine on a, whose fork() is kvh_strawman_fork: what
 * `--fork strawman` serves with (kvh_persist_bgsave unchanged). img must
 * outlive the engine. The last fork's result: kvh_engine_strawman_last. */
int kvh_engine_strawman(struct tm_attachment *a, const struct kvh_strawman_image *img,
                        struct kvh_engine **out, tm_error *err);
const struct kvh_strawman_result *kvh_engine_strawman_last(const struct kvh_engine *e);

#endif
