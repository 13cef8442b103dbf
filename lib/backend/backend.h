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

/* At most this many fds make an enclave shareable (sim: EPC + CPU state; sgx: the enclave fd). */
#define TM_BACKEND_MAX_FDS 2

/* Expand as this process saw it: pages added on demand (EAUG on the fault of
 * an EACCEPT, as the upstream driver does) and the time that took. */
struct tm_expand_stats {
    uint64_t pages;
    double ms;
};

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

    /* ---- Shared enclaves: one enclave, many processes (EPC aliasing). ----
     * The creator's process has all of ELRANGE mapped. An attached process
     * has ELRANGE reserved (inaccessible) and maps only the views it is
     * given: the shared parts, its own threads, its own slot. */
    /* The fds another process needs to attach (borrowed, not dup'ed). Returns how many. */
    int (*export_fds)(struct tm_backend_enclave *e, int fds[TM_BACKEND_MAX_FDS]);
    /* Attach to an enclave created elsewhere: check the fds describe an
     * enclave at [base, base+size), reserve that range here (MAP_FIXED_NOREPLACE:
     * -EEXIST if something else is there). The fds are dup'ed. Nothing is
     * accessible until map(). */
    int (*attach)(const int *fds, int nfds, uint64_t base, uint64_t size,
                  struct tm_backend_enclave **out, tm_error *err);
    /* Map [offset, offset+len) at base+offset, MAP_SHARED, with at most prot
     * (PROT_READ|PROT_WRITE|PROT_EXEC; each page gets the EPCM's permissions
     * within that). A page-aligned range inside ELRANGE; replaces an earlier view there.
     * Expand happens in such views only: an EACCEPT of a page never added, in
     * a view with PROT_WRITE, EAUGs it (sgx: the driver, on the fault). The
     * creator's initial mapping does not expand; it maps a range to do so. */
    int (*map)(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, int prot, tm_error *err);
    /* Make the range inaccessible again (still reserved). */
    int (*unmap)(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, tm_error *err);
    /* EMODT every page of the range to PT_TRIM (SGX2; the enclave then EACCEPTs). */
    int (*trim)(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, tm_error *err);
    /* EMODT the accepted regular page at offset to PT_TCS (SGX2: a TCS made
     * at run time; the enclave wrote it and then EACCEPTs it as a TCS). */
    int (*make_tcs)(struct tm_backend_enclave *e, uint64_t offset, tm_error *err);
    /* EREMOVE the pages of the range whose trim was accepted, and pages EAUG'd
     * but never accepted; *removed (may be NULL) counts them. A page still in
     * use (PT_REG accepted) is an error and stays. The range must be mapped
     * by no process (no EAUG may be running there). */
    int (*remove)(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, uint64_t *removed,
                  tm_error *err);
    /* EPC pages in [offset, offset+len) right now. */
    uint64_t (*epc_pages_in)(struct tm_backend_enclave *e, uint64_t offset, uint64_t len);
    /* The process that was inside this TCS is gone: make the TCS enterable
     * again (sim: clear its busy flag; sgx: nothing, the kernel AEXed it). */
    void (*tcs_reclaim)(struct tm_backend_enclave *e, uint64_t tcs_offset);
    /* Expand work done in this process so far (zeros where unknown). */
    void (*expand_stats)(struct tm_backend_enclave *e, struct tm_expand_stats *st);
};

extern const struct tm_backend_ops tm_backend_sim;
extern const struct tm_backend_ops tm_backend_sgx;

/* A page-aligned, non-empty range inside an ELRANGE of size bytes, or -EINVAL
 * with a message naming what was asked ("map", "EREMOVE"...). */
int tm_backend_range_check(uint64_t size, const char *what, uint64_t offset, uint64_t len, tm_error *err);

/* Resolve AUTO (sgx when /dev/sgx_enclave exists, else sim) and check the
 * backend can run here; an sgx request on a machine without SGX is a clear error. */
int tm_backend_select(enum tm_backend_kind kind, const struct tm_backend_ops **ops, tm_error *err);
/* "sim", "sgx", "auto" -> kind; -EINVAL otherwise. */
int tm_backend_parse(const char *name, enum tm_backend_kind *kind);

#endif
