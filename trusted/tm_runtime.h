/* Internal interfaces of the trusted runtime. Trusted code only: nothing here
 * (or anywhere under trusted/) includes lib/ or cli/ headers; the host is
 * reached through the ABI in abi/ and nothing else. */
#ifndef TM_RUNTIME_H
#define TM_RUNTIME_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>

#include "tm_ecall.h"
#include "tm_image.h"

#define TM_HIDDEN __attribute__((visibility("hidden")))

/* What the runtime hands back to tm_entry.S: RAX = status, RDX = value. */
struct tm_entry_result {
    int64_t status;   /* enum tm_status */
    int64_t value;
};

/* State of the ecall in progress on this thread; lives on the trusted stack,
 * found through tm_thread_data.ecall_context (0 = no ecall in progress). */
struct tm_ecall_context {
    uint64_t ocall_rsp;           /* tm_entry.S: stack of the waiting ocall, or 0 */
    uint64_t args_address;        /* host argument block, checked */
    struct tm_ecall_args args;    /* trusted copy of it, checked */
    int64_t unwind_status;        /* what the ecall returns after a longjmp to unwind */
    int64_t unwind_value;
    jmp_buf unwind;               /* exit(), abort() and fatal exceptions land here */
    /* The enclave copies of in and out. Allocated (heap_buffers) once the
     * context is in place: growing a slot may fault, and a fault must find
     * an ecall to end, else the thread is lost. */
    bool heap_buffers;
    void *in, *out;
    size_t out_cap;
};

/* The exception entry's stack: the thread data page above this offset. */
#define TM_EXCEPTION_STACK_LOW 512

/* tm_entry.S calls this on the thread's stack with a clean register state. */
struct tm_entry_result tm_trusted_entry(uint64_t ecall, uint64_t args, uintptr_t enclave_base,
                                        uintptr_t tcs_address);
/* tm_ecall_abandon.c: tm_entry.S calls this, on the thread data page, for a
 * LEASE_UNBIND that finds an ecall in progress on this thread (its process
 * died). 0: that ecall was dropped (the unbind then runs as usual); else the
 * status to refuse the entry with. */
int64_t tm_entry_abandon(uint64_t args, uintptr_t enclave_base, uintptr_t tcs_address);
/* The same for a LEASE_UNBIND entering with CSSA > 0: the dead process left
 * an exception pending (killed between the AEX and the ERESUME, or inside
 * the handler). On success the pending frame is rewritten so that the
 * host's ERESUME (CSSA back to 0) starts the unbind as a new ecall
 * (tm_entry_resume_unbind); returns TM_EXCEPTION_RESUME, else the status to
 * refuse the entry with, the frame left as it was. */
int64_t tm_entry_abandon_exception(uint64_t args, uintptr_t enclave_base, uintptr_t tcs_address,
                                   uint64_t cssa);

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

/* tm_ecall.c: run one ecall (everything but OCALL_RETURN). */
struct tm_entry_result tm_ecall_run(uint64_t ecall, uint64_t args_address);
/* The ecall in progress on this thread, or NULL. */
static inline struct tm_ecall_context *tm_ecall_current(void)
{
    return (struct tm_ecall_context *)(uintptr_t)tm_thread_current()->ecall_context;
}
/* End the ecall in progress now, returning status and value to the host. */
__attribute__((noreturn)) void tm_ecall_unwind(int64_t status, int64_t value);

/* tm_lease.c: the lease check every ecall passes first (abi/tm_lease.h), on
 * the trusted copy of the call's token; TM_STATUS_OK or the status to refuse. */
int64_t tm_lease_gate(uint64_t ecall, const uint8_t token[16]);
/* May a LEASE_UNBIND carrying token drop the ecall left on this thread? */
int64_t tm_lease_may_abandon(const uint8_t token[16]);
/* Free the runtime locks this TCS holds (tm_lock.h: when that is right). */
void tm_locks_drop_mine(void);

/* tm_malloc.c: the enclave-global heap's arena (tm_arena.h). */
struct tm_arena;
struct tm_arena *tm_heap_arena(void);
void tm_heap_lock_drop_mine(void);

/* tm_enclu.c: ENCLU[EACCEPT] of the page at page with a SECINFO of these
 * flags; returns the SGX error code (0: accepted). */
uint64_t tm_eaccept(uint64_t secinfo_flags, uintptr_t page);
/* tm_expand.c: EACCEPT pages [start, start+len) of a's growable arena as
 * added (EAUG) ones; returns the bytes accepted from start (stops at the
 * first page it may not use). Moves a->reach past each page before its
 * EACCEPT and a->accepted after it; a page already there is zeroed and used
 * below a->dirty, refused above it. */
uint64_t tm_expand_commit(struct tm_arena *a, uintptr_t start, uint64_t len);
/* EACCEPT the trim of each page of [start, end); returns how many were
 * accepted. *dirty: the end of the last page below known whose trim failed
 * (it may still hold an owner's bytes), else start. */
uint64_t tm_expand_trim(uintptr_t start, uintptr_t end, uintptr_t known, uintptr_t *dirty);

/* tm_ecall_main.c: TM_ECALL_MAIN, in = argv strings. */
int tm_ecall_main(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len);

/* tm_entry.S: EEXIT with TM_EXIT_OCALL; returns the host's result. */
int64_t tm_ocall_exit(uint64_t number, uint64_t block);
/* tm_ocall.c: the ocalls, marshalled through the ecall's scratch buffer.
 * Return >= 0 or -errno (-ENOSYS outside an ecall or without scratch). */
long tm_ocall_write(int fd, const void *buf, size_t len);
int tm_ocall_clock(uint64_t clock, int64_t *sec, int64_t *nsec);
int tm_ocall_exit_report(uint64_t kind, int64_t status, const char *message);

struct sgx_ssa_gpr;
/* tm_exception.c: the CSSA > 0 entry (tm_entry.S). */
struct tm_entry_result tm_exception_entry(uint64_t cssa, uintptr_t enclave_base);
/* The GPR part of SSA frame cssa - 1 of this thread (where an AEX saved it). */
struct sgx_ssa_gpr *tm_exception_frame(const struct tm_thread_data *td, uintptr_t enclave_base,
                                       uint64_t cssa);

#endif
