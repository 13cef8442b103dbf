/* The simulation backend's internals, shared by its parts:
 *   sim_enclave.c   EPC (memfd), the simulated CPU state in shared memory,
 *                   ECREATE, attaching, TCS busy flags
 *   sim_views.c     this process's views of ELRANGE and the page protections in them
 *   sim_build.c     EADD/EEXTEND, EINIT
 *   sim_edmm.c      EAUG, EACCEPT (with EAUG on demand), EMODPE, EACCEPTCOPY
 *   sim_trim.c      EMODT (to PT_TRIM, or PT_TCS: a TCS made) and EREMOVE
 *   sim_backend.c   struct tm_backend_ops tm_backend_sim
 *   sim_root_key.c  the per-machine root key file
 *   sim_keys.c      key derivation, EREPORT and EGETKEY
 *   sim_cpu.c, sim_trampoline.S
 *                   EENTER/ERESUME/EEXIT, ENCLU trapping, AEX, syscall trapping
 * Every cost here is real work: copying, hashing, mapping. No sleeps. */
#ifndef TM_SIM_H
#define TM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "sgx_arch.h"
#include "util/error.h"

/* EPCM entry of one page, as the CPU keeps it. */
struct tm_sim_epcm {
    uint8_t valid;
    uint8_t type;       /* enum sgx_page_type */
    uint8_t perm;       /* SGX_SECINFO_R/W/X */
    uint8_t pending;    /* EAUG'd, not yet EACCEPTed */
    uint8_t modified;   /* EMODT'd, not yet EACCEPTed */
    uint8_t reserved[3];
} __attribute__((aligned(8)));   /* one 8-byte word: updated with compare-and-swap */

_Static_assert(sizeof(struct tm_sim_epcm) == 8, "EPCM entry is one word");

/* The simulated CPU's view of one enclave, in shared memory (a memfd of its
 * own) so that every process attached to the enclave sees one enclave. */
struct tm_sim_state {
    uint32_t magic;
    uint32_t initialized;          /* EINIT done */
    struct sgx_secs secs;          /* MRENCLAVE/MRSIGNER final after EINIT */
    uint64_t npages;               /* enclave size / 4096 */
    uint8_t isv_family_id[16];     /* from the SIGSTRUCT at EINIT (reported with KSS) */
    uint8_t isv_ext_prod_id[16];
    /* then, each 8-byte aligned: struct tm_sim_epcm epcm[npages]; uint32_t tcs_busy[npages] */
};

#define TM_SIM_STATE_MAGIC 0x4d495354U   /* "TSIM" */
/* What the sim's CPUID would report as MaxEnclaveSize_64 (2^36, as most parts). */
#define TM_SIM_MAX_ENCLAVE_SIZE (1ULL << 36)

/* Keys of the simulated CPU, derived from the per-machine root key (sim_keys.c). */
struct tm_sim_cpu_keys {
    uint8_t derivation[16];        /* AES-128 key every EGETKEY/EREPORT key is a CMAC under */
    uint8_t report_keyid[32];      /* CR_REPORT_KEYID: one value per boot */
};

/* What the keys are derived from, read at ECREATE and attach; the derivation
 * itself waits for the first EREPORT/EGETKEY, since OpenSSL's first use in a
 * process costs about a millisecond (its providers), which an attach that
 * never asks for a key should not pay. */
struct tm_sim_key_source {
    uint8_t root[32];
    char boot_id[64];              /* /proc/sys/kernel/random/boot_id */
    uint32_t boot_len;
    uint32_t derived;              /* atomic: 0 not yet, 1 being stored, 2 keys valid */
    struct tm_sim_cpu_keys keys;
};

/* One view of ELRANGE in this process: the EPC mapped MAP_SHARED at the same
 * offset, each page with its EPCM permissions within cap. Pages outside every
 * view are an anonymous PROT_NONE reservation: not mapped here at all. */
struct tm_sim_view {
    uint64_t offset, len;
    int cap;          /* PROT_READ/WRITE/EXEC upper bound */
    bool on_demand;   /* made by map(): an EACCEPT of a page never added EAUGs it
                       * (expand); the creator's build view is not */
};

struct tm_sim_enclave {
    uint64_t base, size;
    int epc_fd;                     /* memfd: the EPC contents */
    int state_fd;                   /* memfd: struct tm_sim_state + EPCM */
    struct tm_sim_state *state;
    struct tm_sim_epcm *epcm;       /* npages entries, after state */
    uint32_t *tcs_busy;             /* npages entries: 1 while a thread is inside that TCS */
    uint8_t *cpu_view;              /* the EPC mapped for the simulated CPU, not at ELRANGE */
    void *measure;                  /* struct tm_measure * until EINIT (creator only) */
    struct tm_sim_key_source keys;  /* process-local */
    /* Process-local. Written by map/unmap; read by faults and ENCLU leaves,
     * which run in signal handlers of threads that hold no lock. */
    pthread_rwlock_t views_lock;
    struct tm_sim_view *views;      /* sorted by offset, disjoint */
    size_t nviews;
    uint64_t expand_pages;          /* atomic: pages EAUG'd on an EACCEPT here */
    uint64_t expand_ns;             /* atomic: the time those EAUG+EACCEPTs took */
};

/* The backend-neutral handle of a sim enclave is the struct tm_sim_enclave itself. */
static inline struct tm_sim_enclave *tm_sim_enclave_of(struct tm_backend_enclave *be)
{
    return (struct tm_sim_enclave *)be;
}

/* EPCM entries are read and changed as one word, so that processes sharing an
 * enclave never see half an update. */
static inline struct tm_sim_epcm tm_sim_epcm_load(const struct tm_sim_epcm *p)
{
    struct tm_sim_epcm v;
    __atomic_load(p, &v, __ATOMIC_ACQUIRE);
    return v;
}

static inline bool tm_sim_epcm_cas(struct tm_sim_epcm *p, struct tm_sim_epcm *expected,
                                   struct tm_sim_epcm desired)
{
    return __atomic_compare_exchange(p, expected, &desired, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

/* SGX error codes (RAX after ENCLS/ENCLU with ZF set), SDM vol. 3D table 38-4. */
#define SGX_INVALID_SIG_STRUCT 1
#define SGX_INVALID_ATTRIBUTE 2
#define SGX_INVALID_MEASUREMENT 4
#define SGX_INVALID_SIGNATURE 8
#define SGX_PAGE_ATTRIBUTES_MISMATCH 19
#define SGX_PAGE_NOT_MODIFIABLE 20
#define SGX_INVALID_CPUSVN 32
#define SGX_INVALID_ISVSVN 64
#define SGX_INVALID_KEYNAME 256

/* Where a leaf faults instead of returning an error code, the in-enclave leaves
 * below return one of these (negative, and apart from any -errno); the CPU
 * delivers the fault as an AEX with vector TM_SIM_FAULT_VECTOR(ret). */
#define TM_SIM_FAULT_GP (-(0x100 | 13))   /* #GP(0) */
#define TM_SIM_FAULT_PF (-(0x100 | 14))   /* #PF on the page operand */
#define TM_SIM_IS_FAULT(ret) ((ret) < 0 && ((-(ret)) & 0x100))
#define TM_SIM_FAULT_VECTOR(ret) ((-(ret)) & 0xFF)

/* The CPU's version of itself, reported in REPORT.CPUSVN; KEYREQUEST.CPUSVN may not exceed it. */
#define TM_SIM_CPUSVN { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/* ---- sim_enclave.c: ECREATE, attaching, TCS ---- */
/* ECREATE: validate the SECS, reserve a naturally aligned ELRANGE, create the
 * EPC and state memfds, start the measurement. The base is (*out)->base. The
 * creator has all of ELRANGE mapped as one build view (cap RWX, no expand). */
int tm_sim_ecreate(const struct sgx_secs *secs, struct tm_sim_enclave **out, tm_error *err);
/* Attach this process to an enclave another process created, from its two fds
 * (dup'ed; the caller keeps its own), which must describe an enclave at
 * [base, base + size). ELRANGE is reserved here (anonymous, PROT_NONE;
 * -EEXIST if the range is taken) and nothing is accessible until tm_sim_map. */
int tm_sim_attach(int epc_fd, int state_fd, uint64_t base, uint64_t size, struct tm_sim_enclave **out,
                  tm_error *err);
uint64_t tm_sim_epc_pages(struct tm_sim_enclave *e);
/* Valid EPCM entries in [offset, offset + len) (clipped to ELRANGE). */
uint64_t tm_sim_epc_pages_in(struct tm_sim_enclave *e, uint64_t offset, uint64_t len);
/* Call fn on the sub-ranges of [offset, offset + len) whose EPCM entries may
 * be non-zero (data extents of the state memfd): the rest are holes, invalid
 * pages, so a sparse 64 GiB enclave is not scanned page by page. */
int tm_sim_epcm_scan(struct tm_sim_enclave *e, uint64_t offset, uint64_t len,
                     int (*fn)(struct tm_sim_enclave *e, uint64_t off, uint64_t len, void *arg), void *arg,
                     tm_error *err);
/* Unmap and close this process's view; the enclave lives while any process holds it. */
void tm_sim_destroy(struct tm_sim_enclave *e);
/* The TCS at tcs_offset through cpu_view, or NULL if that page is not a valid TCS. */
struct sgx_tcs *tm_sim_tcs(struct tm_sim_enclave *e, uint64_t tcs_offset);
/* Mark a TCS busy (EENTER) / idle (EEXIT, AEX); acquire fails if busy (-EBUSY),
 * not a TCS or the enclave is not initialised (-EINVAL). Atomic across processes. */
int tm_sim_tcs_acquire(struct tm_sim_enclave *e, uint64_t tcs_offset, tm_error *err);
void tm_sim_tcs_release(struct tm_sim_enclave *e, uint64_t tcs_offset);

/* ---- sim_views.c: this process's views of ELRANGE ---- */
/* The creator's one build view of all of ELRANGE (ECREATE). */
int tm_sim_views_init_full(struct tm_sim_enclave *e, tm_error *err);
/* Map [offset, offset + len) of the EPC at base + offset (MAP_SHARED|MAP_FIXED),
 * replacing whatever view was there, as an on-demand view with cap prot; each
 * page gets its EPCM permissions within cap. */
int tm_sim_map(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, int prot, tm_error *err);
/* Put the anonymous PROT_NONE reservation back over the range; drop its views. */
int tm_sim_unmap(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err);
/* The view holding the page at offset, copied to *v; false if none does. */
bool tm_sim_view_at(struct tm_sim_enclave *e, uint64_t offset, struct tm_sim_view *v);
/* Re-apply the EPCM permissions of the page at offset within its view's cap
 * (another process may have EACCEPTed it). Returns true if the page is now
 * accessible with prot (PROT_READ/WRITE/EXEC), for a fault handler to retry;
 * false, changing nothing, for a page outside this process's views. */
bool tm_sim_sync_page(struct tm_sim_enclave *e, uint64_t offset, int prot);
/* Set this process's protections of the pages of [offset, offset + len) that
 * lie in its views from the EPCM, within each view's cap: R/W/X for an
 * accepted PT_REG page, PROT_NONE for everything else (TCS, pending, modified,
 * trimmed, invalid). Pages outside the views are left alone. One mprotect per
 * run of equal protections. */
int tm_sim_protect(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err);

/* ---- sim_build.c: EADD/EEXTEND, EINIT (the backend's add_pages and init) ---- */
int tm_sim_eadd(struct tm_sim_enclave *e, uint64_t offset, const void *src, uint64_t len,
                uint64_t secinfo_flags, bool measured, tm_error *err);
int tm_sim_einit(struct tm_sim_enclave *e, const struct sgx_sigstruct *sigstruct, tm_error *err);
/* The checks of a TCS page's contents that EADD (and EACCEPT of a TCS) make. */
int tm_sim_tcs_check(const struct tm_sim_enclave *e, const struct sgx_tcs *t, uint64_t off, tm_error *err);

/* ---- sim_edmm.c: SGX2 ---- */
/* Host side of SGX2: EAUG a pending page (offset from the base). */
int tm_sim_eaug(struct tm_sim_enclave *e, uint64_t offset, tm_error *err);
/* In-enclave leaves on EPC pages; linaddr and src are absolute addresses in
 * ELRANGE, si the SECINFO the enclave passed (the caller checked RBX is 64-byte
 * aligned and readable). Return 0, an SGX error code (as in RAX) or TM_SIM_FAULT_*.
 * A page outside this process's views is not mapped here: #PF, as on hardware.
 * EACCEPT of a page never added, inside an on-demand view whose cap has
 * PROT_WRITE, in an initialised enclave, first EAUGs it (what the upstream
 * driver does on that fault) and counts it in expand_pages/expand_ns.
 * On success this process's ELRANGE mapping follows the EPCM. */
int tm_sim_eaccept(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si);
int tm_sim_emodpe(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si);
int tm_sim_eacceptcopy(struct tm_sim_enclave *e, uint64_t linaddr, uint64_t src,
                       const struct sgx_secinfo *si);

/* ---- sim_trim.c: EMODT to PT_TRIM or PT_TCS, EREMOVE (the backend's trim, make_tcs, remove) ---- */
/* EMODT every valid, accepted PT_REG page of the range to PT_TRIM (MODIFIED
 * set, permissions cleared); invalid, pending and already trimmed pages are
 * skipped; a TCS in the range is refused (-EINVAL) before anything changes. */
int tm_sim_emodt_trim(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err);
/* EREMOVE the trims the enclave accepted and the pages EAUG'd but never
 * accepted; invalid pages are skipped; the first page in use stops it with
 * -EBUSY (pages removed before it stay removed). The EPC memory of removed
 * pages is given back (hole punched in the EPC memfd). */
/* EMODT an accepted PT_REG page to PT_TCS (MODIFIED set, R/W/X cleared);
 * the enclave's EACCEPT(PT_TCS|MODIFIED) checks its contents as EADD would
 * and makes it enterable: a TCS made at run time. */
int tm_sim_emodt_tcs(struct tm_sim_enclave *e, uint64_t offset, tm_error *err);
int tm_sim_eremove(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, uint64_t *removed,
                   tm_error *err);

/* ---- sim_root_key.c ---- */
#define TM_SIM_ROOT_KEY_FILE "sim-root.key"
/* Load (or create, 0600) the per-machine simulated root key in the state dir. */
int tm_sim_root_key(uint8_t key[32], tm_error *err);

/* ---- sim_keys.c ---- */
/* Read the root key and the boot id into e->keys (ECREATE and attach do
 * this); the keys are derived from them at the first EREPORT or EGETKEY. */
int tm_sim_keys_init(struct tm_sim_enclave *e, tm_error *err);
/* EREPORT by enclave e for the target: 0, or a negative TM_SIM_FAULT_* / -errno. */
int tm_sim_ereport(struct tm_sim_enclave *e, const struct sgx_targetinfo *ti,
                   const uint8_t report_data[64], struct sgx_report *out);
/* EGETKEY by enclave e: 0, an SGX error code, or a negative TM_SIM_FAULT_* / -errno. */
int tm_sim_egetkey(struct tm_sim_enclave *e, const struct sgx_keyrequest *kr, uint8_t key[16]);

/* ---- sim_cpu.c (with sim_trampoline.S): the backend's enter and resume ---- */
int tm_sim_enter(struct tm_backend_enclave *be, uint64_t tcs_offset, uint64_t rdi, uint64_t rsi,
                 uint64_t rdx, struct tm_enter_result *res, tm_error *err);
int tm_sim_resume(struct tm_backend_enclave *be, uint64_t tcs_offset, struct tm_enter_result *res,
                  tm_error *err);

#endif
