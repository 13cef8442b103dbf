/* TeeMate SDK: the header an enclave application includes. Enclave code only.
 *
 * An image is one static-pie ELF: your code + the trusted runtime + musl's
 * libc.a, linked by sdk/enclave.mk with sdk/enclave.lds. Each image states its
 * enclave layout once, with TM_ENCLAVE_LAYOUT:
 *
 *     #include <teemate_enclave.h>
 *
 *     TM_ENCLAVE_LAYOUT(
 *         .enclave_size    = TM_MiB(64),   // ELRANGE, a power of two
 *         .tcs_count       = 4,            // threads that can be inside at once
 *         .nssa            = 2,            // SSA frames per thread
 *         .ssa_frame_pages = 1,
 *         .stack_size      = TM_KiB(64),   // per thread
 *         .heap_size       = TM_MiB(1),    // enclave-global
 *         .slot_count      = 8,            // container slots
 *         .slot_size       = TM_MiB(1),
 *         .heap_on_demand  = 0,            // SGX2: heap bytes added as malloc grows
 *         .tcs_on_demand   = 0,            // SGX2: TCSs teemated makes as leases need them
 *     );
 *
 *     int main(int argc, char **argv) { tm_print("hi\n"); return 0; }
 *
 * The loader checks the settings (sizes are page multiples, everything fits
 * in enclave_size, limits in tm_image.h); `teemate layout IMAGE` shows where
 * everything lands. MRENCLAVE covers what is added before EINIT only: not
 * the heap's on-demand part (zero pages either way) nor the TCSs made at run
 * time (the enclave writes those itself, tm_image.h). The linker refuses an image without exactly one layout.
 *
 * What the runtime gives the application:
 *   - ecalls: TM_ECALL(name, number) below; in/out are enclave copies.
 *   - main(argc, argv), run by the TM_ECALL_MAIN ecall (abi/tm_ecall.h) on one
 *     of the image's threads. argv and its strings are copies inside the
 *     enclave; argv[argc] is NULL. Several threads may be in main at once.
 *   - tm_print() and write(1 or 2, ...): output through the write ocall.
 *   - malloc, free, calloc, realloc, posix_memalign, aligned_alloc
 *     (thread-safe): on a thread that serves a container slot, in that slot
 *     (its pages are added as it grows, up to slot_size: expand; nothing of
 *     it is visible to other containers); otherwise in the enclave-global
 *     heap. free/realloc take a pointer from either (never another slot's).
 *   - tm_shared_malloc, tm_shared_calloc, tm_shared_free: always the
 *     enclave-global heap, which every process attached to the enclave sees
 *     (as it sees the image's .data/.bss).
 *   - container slots: tm_slot_current, tm_slot_committed, tm_slot_root /
 *     tm_slot_set_root (the application's per-slot anchor), and for a forked
 *     child (database snapshot) tm_slot_parent_root and the tm_on_fork hook.
 *   - time(), clock_gettime(REALTIME/MONOTONIC), gettimeofday() through the
 *     clock ocall: the host's time, so untrusted (monotonic never goes back).
 *   - exit(n), abort(): end the ecall (TM_STATUS_EXIT), reported to the host.
 *   - exceptions: a fault ends the ecall with a report to the host, unless a
 *     handler set with tm_set_exception_handler fixes it.
 *   - tm_report, tm_report_verify, tm_getkey, tm_seal, tm_unseal (mbedTLS).
 *   - musl's pure functions: string, memory, formatting (snprintf & co), ctype,
 *     strto*, math, setjmp/longjmp, qsort/bsearch, and errno (per thread).
 *     Locale functions behave as in the "C" locale (setlocale/uselocale: no).
 * Not yet (they fault: there are no system calls inside an enclave):
 *   stdio on FILEs (printf, fopen...), threads, signals. Also refused at link
 *   time: thread-local variables and constructors. */
#ifndef TEEMATE_ENCLAVE_H
#define TEEMATE_ENCLAVE_H

#include <stddef.h>
#include <stdint.h>

#include "sgx_arch.h"
#include "tm_ecall.h"
#include "tm_image.h"

#define TM_KiB(n) ((uint64_t)(n) << 10)
#define TM_MiB(n) ((uint64_t)(n) << 20)
#define TM_GiB(n) ((uint64_t)(n) << 30)

/* An ELF note as it sits in the file: header, name padded to 4, descriptor. */
struct tm_layout_note {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char name[8];
    struct tm_layout_settings desc;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct tm_layout_note) == 12 + 8 + 72, "layout note size");

/* Emits the image's layout note. Arguments are designated initializers of
 * struct tm_layout_settings (version and flags are filled in for you; naming
 * a field twice is an error with -Wextra -Werror). */
#define TM_ENCLAVE_LAYOUT(...)                                                   \
    __attribute__((used, section(".note.teemate"), aligned(4)))                \
    static const struct tm_layout_note tm_enclave_layout_note = {              \
        .namesz = sizeof(TM_NOTE_NAME),                                         \
        .descsz = sizeof(struct tm_layout_settings),                            \
        .type = TM_NOTE_LAYOUT,                                                 \
        .name = TM_NOTE_NAME,                                                   \
        .desc = { .version = TM_LAYOUT_VERSION, .flags = 0, __VA_ARGS__ },      \
    }

/* The application's entry, called by the runtime for TM_ECALL_MAIN (an image
 * without main refuses that ecall). Its return value reaches the host. */
int main(int argc, char **argv);

/* ---- Ecalls. An ecall gets enclave copies of the host's input and an
 * enclave buffer of out_cap bytes (zeroed); it sets *out_len (<= out_cap,
 * else the host gets TM_STATUS_BAD_OUTPUT) and returns the value the host
 * sees. Numbers from TM_ECALL_USER_FIRST; each number once per image. On a
 * thread serving a slot the copies live in the slot (malloc), so in_len and
 * out_cap count against it (TM_STATUS_NO_MEMORY when they do not fit).
 *
 *     TM_ECALL(echo, 16) { memcpy(out, in, in_len); *out_len = in_len; return 0; }
 */
typedef int (*tm_ecall_fn)(const void *in, size_t in_len, void *out, size_t out_cap,
                           size_t *out_len);

struct tm_ecall_entry {
    uint64_t number;
    tm_ecall_fn fn;
};

#define TM_ECALL(name, num)                                                          \
    _Static_assert((num) >= TM_ECALL_USER_FIRST, "ecall numbers start at 16");        \
    static int name(const void *in, size_t in_len, void *out, size_t out_cap,       \
                    size_t *out_len);                                                \
    __attribute__((used, section(".tm_ecalls"), aligned(8)))                        \
    static struct tm_ecall_entry tm_ecall_entry_##name = { (num), name };          \
    static int name(__attribute__((unused)) const void *in,                         \
                    __attribute__((unused)) size_t in_len,                          \
                    __attribute__((unused)) void *out,                              \
                    __attribute__((unused)) size_t out_cap,                         \
                    __attribute__((unused)) size_t *out_len)

/* Writes the NUL-terminated string s to the host's standard output (write
 * ocall). Returns 0, or -1 when it was not all written or there is no ecall
 * in progress. */
int tm_print(const char *s);

/* ---- Application ocalls (abi/tm_ecall.h): number in TM_OCALL_APP_FIRST..
 * LAST, served by the hook the application's host side registers. in_len +
 * out_cap must fit the ecall's scratch buffer (-E2BIG). The output is
 * untrusted: check it. Returns the host's answer (>= 0 or -errno); -ENOSYS
 * outside an ecall, -EIO when the host claims more output than out_cap. */
long tm_ocall_app(uint32_t number, const void *in, size_t in_len, void *out, size_t out_cap,
                  size_t *out_len);

/* 64 random bits from the CPU (RDRAND), never from the host. */
uint64_t tm_random_u64(void);

/* Bytes of this thread's stack (the layout's stack_size) left below the
 * caller's frame: for code that bounds its own recursion. */
size_t tm_stack_left(void);

/* ---- Memory shared by every container of the enclave: the enclave-global
 * heap (heap_size), whichever thread allocates. NULL / errno ENOMEM when full.
 * tm_shared_free of a pointer that is not from this heap traps. */
void *tm_shared_malloc(size_t n);
void *tm_shared_calloc(size_t count, size_t size);
void tm_shared_free(void *p);

/* ---- Container slots (abi/tm_lease.h). When the enclave is shared, each
 * container's threads serve its slot: malloc lands there, and only that
 * container's process maps it. A private enclave (teemate enclave run) has no slot. */
/* The slot this thread serves, or -1. */
int tm_slot_current(void);
/* Bytes of the slot committed so far (from its start), 0 without a slot. */
size_t tm_slot_committed(void);
/* The application's anchor in its slot (NULL until set; NULL without a
 * slot): e.g. the root of its data, allocated with malloc. Setting it
 * without a slot does nothing. Forgotten when the slot is freed. */
void *tm_slot_root(void);
void tm_slot_set_root(void *root);
/* In a forked child: the parent's anchor, pointing into the parent's slot,
 * which the child's process maps read-only (write nothing through it);
 * consistency of what it reads is the application's concern. NULL elsewhere. */
const void *tm_slot_parent_root(void);
/* Optional hook, run by TM_ECALL_FORK_CHILD (the first ecall of a forked
 * child); its value is the ecall's. Without one, that ecall returns 0. */
int tm_on_fork(const void *parent_root);

/* ---- Exceptions. The handler runs on a small stack (about 3 KiB) while the
 * faulting frame waits in the SSA; it may edit info->gpr (RIP, registers) and
 * return TM_EXCEPTION_CONTINUE to resume there, or TM_EXCEPTION_NOT_HANDLED to
 * let the runtime end the ecall with a fault report. One handler per image. */
#define TM_EXCEPTION_CONTINUE 1
#define TM_EXCEPTION_NOT_HANDLED 0

struct tm_exception_info {
    uint32_t vector;             /* 0 #DE, 6 #UD, 13 #GP, 14 #PF... */
    uint32_t errcd;
    uint64_t addr;               /* #PF: the faulting address; else 0 */
    int is_syscall;              /* #UD on a system call instruction */
    struct sgx_ssa_gpr *gpr;     /* the interrupted state, editable */
};

typedef int (*tm_exception_handler)(struct tm_exception_info *info);
/* Returns the previous handler; NULL removes it. */
tm_exception_handler tm_set_exception_handler(tm_exception_handler handler);

/* ---- Attestation and keys (ENCLU). Return 0 or -errno. */
/* EREPORT for target (NULL: an all-zero TARGETINFO) carrying data (64 bytes,
 * NULL: zeros). */
int tm_report(const struct sgx_targetinfo *target, const uint8_t data[64],
              struct sgx_report *report);
/* A TARGETINFO naming this enclave (reports it can verify). */
int tm_self_target(struct sgx_targetinfo *target);
/* EGETKEY; -EINVAL, -EACCES... from the SGX error code. */
int tm_getkey(const struct sgx_keyrequest *request, uint8_t key[16]);
/* 0 if report was made by an enclave on this machine for this enclave (its
 * MAC checks with this enclave's REPORT key), else -EBADMSG. */
int tm_report_verify(const struct sgx_report *report);

/* ---- Sealing: AES-128-GCM under an EGETKEY SEAL key bound to MRENCLAVE or
 * MRSIGNER (policy = SGX_KEYPOLICY_*). The blob carries the key request's
 * key id, SVNs and the IV (RDRAND), authenticated with the ciphertext. */
#define TM_SEALED_MAGIC 0x4c53544dU   /* "TMSL" */

struct tm_sealed_header {
    uint32_t magic;
    uint16_t version;     /* 1 */
    uint16_t policy;      /* SGX_KEYPOLICY_MRENCLAVE or _MRSIGNER */
    uint8_t key_id[32];
    uint8_t cpu_svn[16];
    uint16_t isv_svn;
    uint16_t reserved[3];
    uint8_t iv[12];
    uint32_t reserved2;
    uint64_t payload_len;
    uint8_t tag[16];
} __attribute__((packed));

_Static_assert(sizeof(struct tm_sealed_header) == 104, "sealed header");

static inline size_t tm_sealed_size(size_t len)
{
    return sizeof(struct tm_sealed_header) + len;
}
/* Seal len bytes into blob (blob_cap >= tm_sealed_size(len)). */
int tm_seal(uint16_t policy, const void *data, size_t len, void *blob, size_t blob_cap,
            size_t *blob_len);
/* Unseal blob into data (data_cap >= payload); -EBADMSG if it does not
 * authenticate (other enclave, other signer, tampered). */
int tm_unseal(const void *blob, size_t blob_len, void *data, size_t data_cap, size_t *data_len);

/* ======== Secure channel between two enclaves, and CPUID ========
 * (trusted/crypto/tm_channel.c, trusted/tm_cpuid.c)
 *
 * A channel joins two enclaves of the same image on the same machine (a
 * strawman fork: parent and the child's fresh enclave); the host only relays
 * its messages and never sees plaintext.
 *
 *   each side:  tm_channel_offer(peer's TARGETINFO) -> offer = an ephemeral
 *               P-256 public key + a REPORT targeted at the peer whose
 *               report data = SHA-256(public key) || nonce (32 random bytes)
 *   each side:  tm_channel_accept(peer's offer): the report's MAC checks with
 *               this enclave's REPORT key (made on this machine, for us), its
 *               MRENCLAVE, MRSIGNER and DEBUG bit equal ours, the key hashes
 *               to its report data and is a point on the curve, the nonces
 *               differ (our own offer reflected back is refused). Then
 *               ECDH -> HKDF-SHA256(salt = both nonces, info = both
 *               MRENCLAVEs and both public keys) -> one AES-128-GCM key and
 *               IV prefix per direction (the side with the smaller nonce is
 *               "low": no roles to agree on).
 *   records:    {seq (u64), len (u64)} || ciphertext || tag (16), the header
 *               authenticated as additional data, IV = prefix || seq. The
 *               receiver takes only the next sequence number: a replayed,
 *               reordered, truncated or tampered record is refused, and a
 *               refused record closes the channel (as TLS does).
 * Calls return 0 or -errno: -EBADMSG a record or offer refused, -EPERM the
 * peer is another enclave, -EPIPE the channel is closed, -ENOBUFS. */
#define TM_CHANNEL_PUBLIC_KEY_SIZE 65   /* uncompressed P-256 point */
#define TM_CHANNEL_RECORD_HEADER 16
#define TM_CHANNEL_RECORD_TAG 16
#define TM_CHANNEL_RECORD_OVERHEAD (TM_CHANNEL_RECORD_HEADER + TM_CHANNEL_RECORD_TAG)

struct tm_channel_offer {
    uint8_t public_key[TM_CHANNEL_PUBLIC_KEY_SIZE];
    uint8_t reserved[15];
    struct sgx_report report;
} __attribute__((packed));

_Static_assert(sizeof(struct tm_channel_offer) == 512, "channel offer");

struct tm_channel;

/* A new channel (malloc'ed here: in the slot of a thread that serves one) and
 * this side's offer for the enclave that peer names. */
int tm_channel_offer(const struct sgx_targetinfo *peer, struct tm_channel **channel,
                     struct tm_channel_offer *offer);
/* Check the peer's offer and derive the keys; -EPERM if the peer is not an
 * enclave of this image, -EBADMSG if the offer does not hold together. */
int tm_channel_accept(struct tm_channel *channel, const struct tm_channel_offer *peer);
/* Seal len bytes into the next record: record_cap >= len + TM_CHANNEL_RECORD_OVERHEAD. */
int tm_channel_seal(struct tm_channel *channel, const void *data, size_t len, void *record,
                    size_t record_cap, size_t *record_len);
/* Open the next record into data (data_cap >= its length); nothing is written
 * to data unless it authenticates. */
int tm_channel_open(struct tm_channel *channel, const void *record, size_t record_len, void *data,
                    size_t data_cap, size_t *data_len);
/* Keys wiped, memory freed. NULL is fine. */
void tm_channel_free(struct tm_channel *channel);

/* CPUID as the host answers it (the instruction itself faults in an SGX
 * enclave; the runtime also answers that fault this way). Untrusted: use it
 * to choose code paths, never for a security decision. 0 or -ENOSYS outside
 * an ecall. */
int tm_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
/* ======== end: secure channel, CPUID ======== */

#endif
