/* A backend builds and runs enclaves: `sim` (the software TEE) or `sgx` (the
 * upstream Linux driver). Which one runs is chosen at run time; one image runs
 * unchanged on both. The operations mirror the instructions they stand for. */
#ifndef TM_BACKEND_H
#define TM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "sgx_arch.h"
#include "util/error.h"

enum tm_backend_kind { TM_BACKEND_AUTO, TM_BACKEND_SIM, TM_BACKEND_SGX };

/* How control came back from an enclave thread. */
enum tm_enter_outcome {
    TM_ENTER_EEXIT,   /* the enclave left with EEXIT: rdi/rsi/rdx are its results */
    TM_ENTER_AEX,     /* an exception: exit_info / fault_addr say which */
};

struct tm_enter_result {
    enum tm_enter_outcome outcome;
    uint64_t rdi, rsi, rdx;   /* EEXIT: registers the enclave chose to pass out */
    uint32_t exit_info;       /* AEX: SGX EXITINFO (vector, type, valid) as far as the host sees */
    uint64_t fault_addr;      /* AEX: faulting data address for #PF/#GP where known, else 0 */
};

struct tm_backend_enclave;   /* one backend's enclave */

struct tm_backend_ops {
    const char *name;
    /* ECREATE. secs gives size, ssa_frame_size, attributes, xfrm, miscselect;
     * the backend picks a naturally aligned base and writes it to *base. */
    int (*create)(const struct sgx_secs *secs, struct tm_backend_enclave **out, uint64_t *base,
                  tm_error *err);
    /* EADD of len bytes (page multiple) at offset from src (NULL = zero pages),
     * each page with secinfo_flags, and EEXTEND of every chunk when measured. */
    int (*add_pages)(struct tm_backend_enclave *e, uint64_t offset, const void *src, uint64_t len,
                     uint64_t secinfo_flags, bool measured, tm_error *err);
    /* EINIT with the SIGSTRUCT (the backend checks it as the CPU would). */
    int (*init)(struct tm_backend_enclave *e, const struct sgx_sigstruct *sigstruct, tm_error *err);
    /* EENTER the TCS at tcs_offset with RDI/RSI/RDX; returns after EEXIT or AEX.
     * A TCS that is busy fails with -EBUSY. */
    int (*enter)(struct tm_backend_enclave *e, uint64_t tcs_offset, uint64_t rdi, uint64_t rsi,
                 uint64_t rdx, struct tm_enter_result *res, tm_error *err);
    /* ERESUME the TCS after an AEX. */
    int (*resume)(struct tm_backend_enclave *e, uint64_t tcs_offset, struct tm_enter_result *res,
                  tm_error *err);
    /* EPC pages this enclave holds right now. */
    uint64_t (*epc_pages)(struct tm_backend_enclave *e);
    void (*destroy)(struct tm_backend_enclave *e);
};

extern const struct tm_backend_ops tm_backend_sim;
extern const struct tm_backend_ops tm_backend_sgx;

/* Resolve AUTO (sgx when /dev/sgx_enclave exists, else sim) and check the
 * backend can run here; an sgx request on a machine without SGX is a clear error. */
int tm_backend_select(enum tm_backend_kind kind, const struct tm_backend_ops **ops, tm_error *err);
/* "sim", "sgx", "auto" -> kind; -EINVAL otherwise. */
int tm_backend_parse(const char *name, enum tm_backend_kind *kind);

#endif
