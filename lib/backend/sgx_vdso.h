/* Reaching the kernel's vDSO: find a symbol in its ELF image (a parser that
 * works on any buffer, so it can be tested and fuzzed on corrupted copies),
 * and call __vdso_sgx_enter_enclave from C. */
#ifndef TM_SGX_VDSO_H
#define TM_SGX_VDSO_H

#include <asm/sgx.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define TM_VDSO_VERSION "LINUX_2.6"
#define TM_VDSO_SGX_ENTER "__vdso_sgx_enter_enclave"

/* Find the defined function `name` (version `version`, NULL = any) in the
 * dynamic symbol table of the ELF64 x86-64 shared object in image[0..len),
 * laid out as in memory (the vDSO is mapped as one file-identical segment).
 * *offset is the function's offset from image; it lies in an executable
 * PT_LOAD. -ENOENT when the symbol is absent, -ENOEXEC when the image is
 * malformed; every read is bounds-checked and the image need not be aligned. */
int tm_vdso_find(const uint8_t *image, size_t len, const char *name, const char *version,
                 size_t *offset, tm_error *err);

/* The running process's vDSO image (AT_SYSINFO_EHDR) and its length. */
int tm_vdso_image(const uint8_t **image, size_t *len, tm_error *err);

/* Address of a function of the running kernel's vDSO (version TM_VDSO_VERSION). */
int tm_vdso_lookup(const char *name, void **fn, tm_error *err);

/* Call fn (__vdso_sgx_enter_enclave) with its own arguments. The vDSO keeps
 * only RBX and RBP; an enclave may return with R12-R15 changed (TeeMate's
 * runtime zeroes them at EEXIT), so this wrapper saves them around the call. */
int tm_sgx_vdso_call(unsigned long rdi, unsigned long rsi, unsigned long rdx, unsigned int leaf,
                     unsigned long r8, unsigned long r9, struct sgx_enclave_run *run,
                     vdso_sgx_enter_enclave_t fn);

#endif
