/* The sgx backend's internals shared with backend_select.c and the tests. */
#ifndef TM_SGX_H
#define TM_SGX_H

#include <asm/sgx.h>
#include <stdint.h>

#include "backend/backend.h"
#include "util/error.h"

#define TM_SGX_DEVICE "/dev/sgx_enclave"

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

#endif
