/* Internal interfaces of the trusted runtime. Trusted code only: nothing here
 * (or anywhere under trusted/) includes lib/ or cli/ headers; the host is
 * reached through the ABI in abi/ and nothing else. */
#ifndef TM_RUNTIME_H
#define TM_RUNTIME_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tm_image.h"

#define TM_HIDDEN __attribute__((visibility("hidden")))

/* What the runtime hands back to tm_entry.S: RAX = status, RDX = value. */
struct tm_entry_result {
    int64_t status;   /* enum tm_status */
    int64_t value;
};

/* State of the ecall in progress on this thread; lives on the trusted stack,
 * found through tm_thread_data.ecall_context. */
struct tm_ecall_context {
    uint64_t output;        /* host buffer, checked to lie outside ELRANGE */
    uint64_t output_size;
    uint64_t output_len;    /* bytes asked for so far */
};

/* tm_entry.S calls this on the thread's stack with a clean register state. */
struct tm_entry_result tm_trusted_entry(uint64_t ecall, uint64_t args, uintptr_t enclave_base,
                                        uintptr_t tcs_address);

/* tm_thread.c: find this thread's data page, make %fs:0 point at it. */
struct tm_thread_data *tm_thread_bind(uintptr_t enclave_base, uintptr_t tcs_address);
/* The bound thread data page (valid after tm_thread_bind on this entry). */
static inline struct tm_thread_data *tm_thread_current(void)
{
    const __seg_fs struct tm_thread_data *fs = 0;
    return (struct tm_thread_data *)(uintptr_t)fs->self;
}

/* tm_reloc.c: apply the image's R_X86_64_RELATIVE relocations, once per
 * enclave (concurrent first entries wait for the first). */
void tm_reloc_apply_once(uintptr_t enclave_base);
void tm_reloc_apply(uintptr_t enclave_base, const Elf64_Rela *begin, const Elf64_Rela *end);

/* tm_libc.c: the per-thread state musl expects behind the thread pointer. */
void tm_libc_thread_init(struct tm_thread_data *td);

/* 64 random bits from the CPU (RDRAND); traps if the CPU gives none. */
uint64_t tm_random_u64(void);

/* tm_host_memory.c: host (untrusted) memory, addressed by integers so that no
 * host pointer is dereferenced by accident. A range is acceptable only if it
 * lies wholly outside ELRANGE and does not wrap; an empty range always is. */
bool tm_host_range_is_outside(uint64_t address, uint64_t size);
/* Copy in/out of a range already checked with tm_host_range_is_outside. Each
 * host byte is accessed once (volatile): no double fetch. */
void tm_host_copy_in(void *dst, uint64_t src, size_t size);
void tm_host_copy_out(uint64_t dst, const void *src, size_t size);
/* Copy a host NUL-terminated string into dst[0..cap), NUL included. Returns
 * its length, or -1 if it does not fit or runs into ELRANGE. */
long tm_host_copy_string_in(char *dst, size_t cap, uint64_t src);

/* tm_ecall_main.c: TM_ECALL_MAIN. */
struct tm_entry_result tm_ecall_main(uint64_t args_address);

#endif
