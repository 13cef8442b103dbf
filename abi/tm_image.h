/* TeeMate enclave image ABI, shared by the host loader and the trusted runtime.
 *
 * An image is a static-pie x86-64 ELF. Its layout settings travel inside it as
 * an ELF note (name "TeeMate", type TM_NOTE_LAYOUT), so one file describes the
 * whole enclave. The loader turns image + settings into this ELRANGE layout:
 *
 *   0                image segments            measured, permissions from phdrs
 *   guard page
 *   per thread t:    stack                     REG RW, added, contents unmeasured
 *                    (the last tcs_on_demand threads: all four made at run time)
 *                    TCS                       measured
 *                    SSA frames (nssa x size)  REG RW, measured
 *                    thread data page          REG RW, measured (struct below)
 *                    guard page
 *   heap             enclave-global heap       REG RW, added, contents unmeasured;
 *                                              its top heap_on_demand bytes added on demand (EAUG)
 *   guard page
 *   slots            slot_count x slot_size    REG RW, added on demand (EAUG)
 *
 * Every offset here is relative to the enclave base, so the measurement does not
 * depend on where ELRANGE lands; the runtime adds the base at run time. */
#ifndef TM_IMAGE_H
#define TM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define TM_NOTE_NAME "TeeMate"   /* 7 chars + NUL = 8 bytes, 4-aligned */
#define TM_NOTE_LAYOUT 1
#define TM_LAYOUT_VERSION 2

/* Limits the loader enforces (generous, but a hostile note cannot make us
 * allocate or loop without bound). */
#define TM_LAYOUT_MAX_ENCLAVE_SIZE (1ULL << 36)   /* 64 GiB */
#define TM_LAYOUT_MAX_TCS 256
#define TM_LAYOUT_MAX_NSSA 16
#define TM_LAYOUT_MAX_SSA_FRAME_PAGES 16
#define TM_LAYOUT_MAX_SLOTS 4096
#define TM_LAYOUT_SLOT_ALIGN (64ULL * 1024)

/* Descriptor of the TM_NOTE_LAYOUT note. All sizes in bytes unless noted. */
struct tm_layout_settings {
    uint32_t version;          /* TM_LAYOUT_VERSION */
    uint32_t flags;            /* reserved, 0 */
    uint64_t enclave_size;     /* ELRANGE size: power of two */
    uint32_t tcs_count;        /* TCS pool size (threads) */
    uint32_t nssa;             /* SSA frames per TCS */
    uint32_t ssa_frame_pages;  /* SECS.SSAFRAMESIZE */
    uint32_t slot_count;       /* container slots */
    uint64_t stack_size;       /* per thread, page multiple */
    uint64_t heap_size;        /* enclave-global heap, page multiple */
    uint64_t slot_size;        /* per container slot, page multiple */
    /* SGX2: the top heap_on_demand bytes of the heap are not added before
     * EINIT; the allocator EACCEPTs them as it grows (the host EAUGs them on
     * that fault). 0 (the default): the whole heap is added at build. */
    uint64_t heap_on_demand;
    /* SGX2: the last tcs_on_demand TCSs (with their stack, SSA frames and
     * thread data) are not added before EINIT: the host makes them as
     * leases need them (EAUG, the enclave writes them, EMODT to PT_TCS,
     * EACCEPT). Fewer than tcs_count: a made TCS is made from a built one. */
    uint32_t tcs_on_demand;
    uint32_t reserved;         /* 0 */
} __attribute__((packed));

_Static_assert(sizeof(struct tm_layout_settings) == 72, "layout note descriptor");

/* Where each region is, filled in by the loader into every thread data page
 * (and so covered by MRENCLAVE: the runtime can trust it). */
struct tm_enclave_regions {
    uint64_t enclave_size;
    uint64_t image_size;       /* end of the last segment, page-rounded */
    uint64_t heap_offset;
    uint64_t heap_size;
    uint64_t slots_offset;
    uint64_t slot_size;
    uint32_t slot_count;
    uint32_t tcs_count;
} __attribute__((packed));

/* The page that TCS.OFSBASGX and TCS.OGSBASGX point at. Its first word is the
 * thread pointer convention of x86-64 (%fs:0 holds the address of itself); the
 * runtime writes it and `enclave_base` at entry, the loader writes the rest. */
struct tm_thread_data {
    uint64_t self;             /* absolute, written inside the enclave */
    uint64_t enclave_base;     /* absolute, written inside the enclave */
    uint64_t tcs_index;
    uint64_t tcs_offset;
    uint64_t stack_top;        /* offset of the first byte above the stack */
    uint64_t stack_guard;      /* offset 0x28, fixed: the stack-protector canary (random, set inside) */
    uint64_t stack_bottom;     /* offset of the lowest stack byte */
    uint64_t ssa_offset;
    uint64_t ssa_frame_size;   /* bytes */
    uint64_t nssa;
    struct tm_enclave_regions regions;
    /* Written by the trusted runtime only; zero in the measured page. */
    uint64_t host_rsp;         /* RSP at EENTER, restored before EEXIT */
    uint64_t host_rbp;         /* RBP at EENTER (the vDSO needs it back) */
    uint64_t host_return;      /* RCX at EENTER: where EEXIT goes */
    int32_t errno_value;       /* this thread's errno */
    uint32_t reserved0;
    uint64_t libc_locale;      /* offset 168, fixed: musl reads its locale pointer here */
    uint64_t ecall_context;    /* the runtime's state of the ecall in progress */
    /* Written by the loader (measured), after the fields above so that their
     * offsets stay put; zero for an image that adds everything at build. */
    uint64_t heap_on_demand;   /* the heap's top bytes not added at build */
    uint32_t tcs_on_demand;    /* the last TCSs, made at run time */
    uint32_t reserved1;
} __attribute__((packed));

_Static_assert(sizeof(struct tm_thread_data) <= 4096, "thread data fits a page");
/* musl (x86-64) finds its per-thread state at the thread pointer, %fs:0 = the
 * address of this page, and reads struct pthread's `locale` at offset 168. */
_Static_assert(offsetof(struct tm_thread_data, libc_locale) == 168, "musl locale slot");
/* GCC's -fstack-protector (Debian builds musl with it) reads its canary at %fs:0x28. */
_Static_assert(offsetof(struct tm_thread_data, stack_guard) == 0x28, "stack-protector canary");
_Static_assert(offsetof(struct tm_thread_data, host_rsp) % 8 == 0, "runtime words aligned");

#endif
