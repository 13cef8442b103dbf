/* The simulation backend's internals, shared by its parts:
 *   sim_enclave.c   EPC (memfd), the simulated CPU state in shared memory,
 *                   ECREATE, attaching, page permissions, TCS busy flags
 *   sim_build.c     EADD/EEXTEND, EINIT
 *   sim_edmm.c      EAUG, EACCEPT, EMODPE, EACCEPTCOPY
 *   sim_backend.c   struct tm_backend_ops tm_backend_sim
 *   sim_root_key.c  the per-machine root key file
 *   sim_keys.c      key derivation, EREPORT and EGETKEY
 *   sim_cpu.c, sim_trampoline.S
 *                   EENTER/ERESUME/EEXIT, ENCLU trapping, AEX, syscall trapping
 * Every cost here is real work: copying, hashing, mapping. No sleeps. */
#ifndef TM_SIM_H
#define TM_SIM_H

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
    uint64_t epc_pages;            /* valid pages */
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

struct tm_sim_enclave {
    uint64_t base, size;
    int epc_fd;                     /* memfd: the EPC contents */
    int state_fd;                   /* memfd: struct tm_sim_state + EPCM */
    struct tm_sim_state *state;
    struct tm_sim_epcm *epcm;       /* npages entries, after state */
    uint32_t *tcs_busy;             /* npages entries: 1 while a thread is inside that TCS */
    uint8_t *cpu_view;              /* the EPC mapped for the simulated CPU, not at ELRANGE */
    void *measure;                  /* struct tm_measure * until EINIT (creator only) */
    struct tm_sim_cpu_keys keys;
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

/* ---- sim_enclave.c: ECREATE, attaching, page permissions, TCS ---- */
/* ECREATE: validate the SECS, reserve a naturally aligned ELRANGE, create the
 * EPC and state memfds, start the measurement. The base is (*out)->base. */
int tm_sim_ecreate(const struct sgx_secs *secs, struct tm_sim_enclave **out, tm_error *err);
/* Attach this process to an enclave another process created, from its two fds
 * (dup'ed; the caller keeps its own): ELRANGE is mapped at the same base with
 * each page's EPCM permissions. Fails if that range is taken here. */
int tm_sim_attach(int epc_fd, int state_fd, struct tm_sim_enclave **out, tm_error *err);
/* Re-apply the EPCM permissions of the page at offset to this process's ELRANGE
 * mapping (another process may have EACCEPTed it). Returns true if the page is
 * now accessible with prot (PROT_READ/WRITE/EXEC), for a fault handler to retry. */
bool tm_sim_sync_page(struct tm_sim_enclave *e, uint64_t offset, int prot);
/* Set this process's ELRANGE protections of [offset, offset+len) from the EPCM:
 * R/W/X for an accepted PT_REG page, PROT_NONE for everything else (TCS,
 * pending, modified, invalid). One mprotect per run of equal protections. */
int tm_sim_protect(struct tm_sim_enclave *e, uint64_t offset, uint64_t len, tm_error *err);
uint64_t tm_sim_epc_pages(struct tm_sim_enclave *e);
/* Unmap and close this process's view; the enclave lives while any process holds it. */
void tm_sim_destroy(struct tm_sim_enclave *e);
/* The TCS at tcs_offset through cpu_view, or NULL if that page is not a valid TCS. */
struct sgx_tcs *tm_sim_tcs(struct tm_sim_enclave *e, uint64_t tcs_offset);
/* Mark a TCS busy (EENTER) / idle (EEXIT, AEX); acquire fails if busy (-EBUSY),
 * not a TCS or the enclave is not initialised (-EINVAL). Atomic across processes. */
int tm_sim_tcs_acquire(struct tm_sim_enclave *e, uint64_t tcs_offset, tm_error *err);
void tm_sim_tcs_release(struct tm_sim_enclave *e, uint64_t tcs_offset);

/* ---- sim_build.c: EADD/EEXTEND, EINIT (the backend's add_pages and init) ---- */
int tm_sim_eadd(struct tm_sim_enclave *e, uint64_t offset, const void *src, uint64_t len,
                uint64_t secinfo_flags, bool measured, tm_error *err);
int tm_sim_einit(struct tm_sim_enclave *e, const struct sgx_sigstruct *sigstruct, tm_error *err);

/* ---- sim_edmm.c: SGX2 ---- */
/* Host side of SGX2: EAUG a pending page (offset from the base). */
int tm_sim_eaug(struct tm_sim_enclave *e, uint64_t offset, tm_error *err);
/* In-enclave leaves on EPC pages; linaddr and src are absolute addresses in
 * ELRANGE, si the SECINFO the enclave passed (the caller checked RBX is 64-byte
 * aligned and readable). Return 0, an SGX error code (as in RAX) or TM_SIM_FAULT_*.
 * On success this process's ELRANGE mapping follows the EPCM. */
int tm_sim_eaccept(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si);
int tm_sim_emodpe(struct tm_sim_enclave *e, uint64_t linaddr, const struct sgx_secinfo *si);
int tm_sim_eacceptcopy(struct tm_sim_enclave *e, uint64_t linaddr, uint64_t src,
                       const struct sgx_secinfo *si);

/* ---- sim_root_key.c ---- */
#define TM_SIM_ROOT_KEY_FILE "sim-root.key"
/* Load (or create, 0600) the per-machine simulated root key in the state dir. */
int tm_sim_root_key(uint8_t key[32], tm_error *err);

/* ---- sim_keys.c ---- */
/* Fill e->keys from the root key (ECREATE and attach do this). */
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
