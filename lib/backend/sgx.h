/* The sgx backend's internals shared with backend_select.c and the tests. */
#ifndef TM_SGX_H
#define TM_SGX_H

#include <asm/sgx.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "util/error.h"

#define TM_SGX_DEVICE "/dev/sgx_enclave"

/* One ADD_PAGES call's worth of pages: the permissions the driver will allow
 * mmap() to ask for there (a TCS is mapped read-write). */
struct sgx_range {
    uint64_t offset, len;
    uint64_t perm;   /* SGX_SECINFO_R/W/X */
    bool tcs;
};

struct tm_backend_enclave {
    int fd;
    uint64_t base, size;
    bool initialized;
    bool attached;                  /* attach(): created elsewhere, its pages unknown here */
    bool sgx2;                      /* EDMM ioctls usable: see sgx_edmm_probe */
    uint64_t epc_pages;             /* pages this process EADDed */
    struct sgx_range *ranges;       /* what this process EADDed (the creator only) */
    size_t nranges, cap;
    vdso_sgx_enter_enclave_t enter; /* NULL: this kernel cannot enter enclaves */
};

/* The enclave device: $TEEMATE_SGX_DEVICE when set (tests), else TM_SGX_DEVICE. */
const char *tm_sgx_device_path(void);

/* Fill err with why the device cannot be opened (errno_value from open or
 * access): missing device, missing permission, or the plain error. */
int tm_sgx_device_error(const char *path, int errno_value, tm_error *err);

/* Can the sgx backend run here: device present and usable, and the kernel's
 * vDSO has __vdso_sgx_enter_enclave. 0 or a clear error. */
int tm_sgx_check(tm_error *err);

/* What came back from __vdso_sgx_enter_enclave as a tm_enter_result: EEXIT
 * with the registers the exit handler saw, an AEX (vector -> EXITINFO), or an
 * error when EENTER itself faulted (#GP: the TCS is busy -> -EBUSY). */
int tm_sgx_run_result(const struct sgx_enclave_run *run, uint64_t rdi, uint64_t rsi, uint64_t rdx,
                      uint64_t tcs_offset, struct tm_enter_result *res, tm_error *err);

/* sgx_shared.c: the shared-enclave ops of tm_backend_sgx (see backend.h). */
int tm_sgx_export_fds(struct tm_backend_enclave *e, int fds[TM_BACKEND_MAX_FDS]);
int tm_sgx_attach(const int *fds, int nfds, uint64_t base, uint64_t size, struct tm_backend_enclave **out,
                  tm_error *err);
int tm_sgx_map(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, int prot, tm_error *err);
int tm_sgx_unmap(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, tm_error *err);
/* Record a range this process EADDed (or made a TCS: tm_sgx_make_tcs). */
int tm_sgx_record_range(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, uint64_t perm,
                        bool tcs, tm_error *err);
int tm_sgx_make_tcs(struct tm_backend_enclave *e, uint64_t offset, tm_error *err);
int tm_sgx_trim(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, tm_error *err);
int tm_sgx_remove(struct tm_backend_enclave *e, uint64_t offset, uint64_t len, uint64_t *removed,
                  tm_error *err);
uint64_t tm_sgx_epc_pages_in(struct tm_backend_enclave *e, uint64_t offset, uint64_t len);
void tm_sgx_tcs_reclaim(struct tm_backend_enclave *e, uint64_t tcs_offset);
void tm_sgx_expand_stats(struct tm_backend_enclave *e, struct tm_expand_stats *st);
/* Whether the CPU has SGX2 (CPUID.(EAX=12H,ECX=0):EAX[1]). */
bool tm_sgx_cpu_has_sgx2(void);

#endif
