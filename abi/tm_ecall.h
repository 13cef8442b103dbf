/* TeeMate ecall ABI: how the host enters an enclave thread, how the enclave
 * asks the host for a service (ocall), and how faults are reported. Shared by
 * the host (lib/enclave/ecall.c) and the trusted runtime (trusted/).
 *
 * EENTER (host -> enclave) lands on TCS.OENTRY = the image's entry, tm_entry:
 *   RAX  CSSA (set by the CPU). Non-zero: an exception is pending on this TCS
 *        (the exception entry below); RDI/RSI are then ignored.
 *   RBX  TCS address (CPU)          RCX  address EEXIT returns to (CPU)
 *   RDI  ecall number (enum tm_ecall, or an image's own number)
 *   RSI  TM_ECALL_OCALL_RETURN: the ocall's result (int64, >= 0 or -errno);
 *        any other ecall: host address of its struct tm_ecall_args
 *   RSP, RBP  the host's; saved, never used inside, restored before EEXIT.
 *   Everything else is ignored; flags and x87/SSE control state are reset.
 *
 * EEXIT (enclave -> host), to the RCX given at the latest EENTER:
 *   RDI  exit kind (enum tm_exit_kind)
 *   TM_EXIT_RETURN     RSI status (enum tm_status), RDX the ecall's value
 *   TM_EXIT_OCALL      RSI ocall number (enum tm_ocall), RDX host address of
 *                      the ocall's block, inside the ecall's scratch buffer.
 *                      The ecall waits on its stack; the host services the
 *                      ocall and enters with TM_ECALL_OCALL_RETURN.
 *   TM_EXIT_EXCEPTION  RSI enum tm_exception_action (or a negative status),
 *                      RDX the exception vector. The fault report is in the
 *                      ecall's argument block (fault). The host ERESUMEs when
 *                      RSI >= 0, and the ecall then continues or ends.
 *   RSP, RBP  the host's values at the latest EENTER
 *   RAX = 4 (EEXIT), RBX = return address, RCX = AEP (CPU); R8..R15 zero;
 *   x87/SSE registers zero, FCW 0x037F, MXCSR 0x1F80.
 *
 * Exceptions: after an AEX the host enters the same TCS again (CSSA > 0). The
 * runtime reads the SSA frame, gives the image's handler (tm_set_exception_
 * handler) a chance to fix it, and otherwise rewrites the frame so that the
 * ERESUME unwinds the ecall, which then returns TM_STATUS_FAULT. Either way
 * the host ERESUMEs from the same frame it made the exception entry from. */
#ifndef TM_ECALL_H
#define TM_ECALL_H

#include <stdint.h>

/* Ecalls 0..TM_ECALL_USER_FIRST-1 belong to the runtime; an image's own ecalls
 * (TM_ECALL(name, number) in teemate_enclave.h) use the numbers above. */
enum tm_ecall {
    TM_ECALL_MAIN = 0,          /* main(argc, argv); in = argv strings, each NUL-terminated */
    TM_ECALL_OCALL_RETURN = 1,  /* RSI = result of the ocall the thread waits on */
    TM_ECALL_PING = 2,          /* does nothing, returns 0: the cost of a round trip (and of
                                 * the first entry, which relocates the image) */
    /* Slots and leases (abi/tm_lease.h): the daemon's ecalls. */
    TM_ECALL_LEASE_BIND = 3,    /* bind this TCS to a container slot */
    TM_ECALL_LEASE_UNBIND = 4,  /* unbind it (detach, death); may release the slot */
    TM_ECALL_SLOT_TRIM = 5,     /* accept the trim of a released slot's pages */
    TM_ECALL_FORK_CHILD = 6,    /* a forked child's first ecall: the image's fork hook */
    /* SGX2 TCSs made at run time (tm_image.h tcs_on_demand), on a free TCS: */
    TM_ECALL_TCS_MAKE = 7,      /* EACCEPT a TCS's EAUG'd pages, write the TCS and thread data */
    TM_ECALL_TCS_ACCEPT = 8,    /* after the host's EMODT: EACCEPT the page as a TCS */
    TM_ECALL_USER_FIRST = 16,
};

enum tm_exit_kind {
    TM_EXIT_RETURN = 0,
    TM_EXIT_OCALL = 1,
    TM_EXIT_EXCEPTION = 2,
};

enum tm_status {
    TM_STATUS_OK = 0,
    TM_STATUS_UNKNOWN_ECALL = -1,    /* no ecall with this number */
    TM_STATUS_BAD_ARGUMENTS = -2,    /* argument block rejected (range, limit) */
    TM_STATUS_EXCEPTION_ENTRY = -3,  /* CSSA > 0 and no ecall to report it in */
    TM_STATUS_BUSY = -4,             /* an ecall is already in progress on this thread */
    TM_STATUS_NO_OCALL = -5,         /* OCALL_RETURN while no ocall waits */
    TM_STATUS_NO_MEMORY = -6,        /* the copies of in/out did not fit the heap */
    TM_STATUS_BAD_OUTPUT = -7,       /* the ecall claimed more output than out_size */
    TM_STATUS_FAULT = -8,            /* an exception ended the ecall: see fault */
    TM_STATUS_EXIT = -9,             /* exit(n) or abort(): value = n (abort: 134) */
    TM_STATUS_NOT_LEASED = -10,      /* this TCS is not leased with the token the call carries */
    TM_STATUS_SLOT_STATE = -11,      /* the slot is not in the state the lease call needs */
};

/* What the exception entry decided (RSI of TM_EXIT_EXCEPTION). */
enum tm_exception_action {
    TM_EXCEPTION_RESUME = 0,   /* the image's handler fixed it: ERESUME continues */
    TM_EXCEPTION_UNWIND = 1,   /* fatal: ERESUME ends the ecall with TM_STATUS_FAULT */
};

/* Limits the runtime enforces on an argument block. */
#define TM_ECALL_MAX_IN (16ULL << 20)
#define TM_ECALL_MAX_OUT (16ULL << 20)
#define TM_MAIN_MAX_ARGS 64
#define TM_MAIN_MAX_ARG_BYTES 4096   /* all strings with their NULs */
/* A scratch buffer smaller than this is refused; larger is fine. */
#define TM_OCALL_SCRATCH_MIN 4096ULL

/* struct tm_fault_report.flags */
#define TM_FAULT_VALID 0x1U     /* a report was written */
#define TM_FAULT_ADDR 0x2U      /* addr is the faulting data address (EXINFO.MADDR) */
#define TM_FAULT_SYSCALL 0x4U   /* #UD on a SYSCALL/SYSENTER/INT 0x80 instruction */
#define TM_FAULT_HANDLED 0x8U   /* the image's handler resumed it (last one only) */
#define TM_FAULT_NO_VECTOR 0x10U  /* EXITINFO not valid (#PF/#GP without MISCSELECT.EXINFO):
                                   * vector unknown inside; the host knows it from the AEX */

/* Written by the runtime into tm_ecall_args.fault when an exception arrives. */
struct tm_fault_report {
    uint32_t flags;
    uint32_t vector;     /* exception vector (14 = #PF...) */
    uint32_t exit_type;  /* SGX EXITINFO.TYPE: 3 hardware, 6 software */
    uint32_t errcd;      /* EXINFO.ERRCD (#PF/#GP) */
    uint64_t addr;       /* absolute */
    uint64_t rip;        /* absolute; the host subtracts the base for an image offset */
};

/* An ecall's argument block, in host memory. The runtime copies it in once,
 * refuses it unless ecall equals RDI and every range lies wholly outside
 * ELRANGE without wrapping and within the limits, copies in[0..in_size) into
 * the enclave, lets the ecall write up to out_size bytes into an enclave
 * buffer, and at the end copies out[0..out_len) and out_len back. */
struct tm_ecall_args {
    uint32_t ecall;
    uint32_t reserved;       /* 0 */
    uint64_t in, in_size;
    uint64_t out, out_size;
    uint64_t out_len;        /* written by the runtime */
    uint64_t scratch, scratch_size;   /* ocall marshalling area, >= TM_OCALL_SCRATCH_MIN */
    struct tm_fault_report fault;     /* written by the runtime */
    uint8_t lease_token[16];          /* the slot lease this call runs under (abi/tm_lease.h);
                                       * zero on a TCS that serves no slot */
};

_Static_assert(sizeof(struct tm_fault_report) == 32, "fault report");
_Static_assert(sizeof(struct tm_ecall_args) == 112, "ecall argument block");

/* ---- Ocalls. Each block lies at the start of the scratch buffer; its data
 * (if any) follows it inside the scratch buffer. The host checks both, and
 * answers a request it refuses with -EFAULT / -EINVAL / -ENOSYS. */
enum tm_ocall {
    TM_OCALL_WRITE = 1,          /* struct tm_ocall_write; result: bytes written */
    TM_OCALL_CLOCK_GETTIME = 2,  /* struct tm_ocall_clock; result 0 */
    TM_OCALL_EXIT = 3,           /* struct tm_ocall_exit; result 0; the ecall then ends */
    TM_OCALL_CPUID = 4,          /* struct tm_ocall_cpuid; result 0 (CPUID faults inside SGX) */
};

struct tm_ocall_write {
    uint64_t fd;     /* 1 or 2 */
    uint64_t buf;    /* host address inside the scratch buffer */
    uint64_t len;
};

#define TM_CLOCK_REALTIME 0
#define TM_CLOCK_MONOTONIC 1

struct tm_ocall_clock {
    uint64_t clock;  /* in: TM_CLOCK_* */
    int64_t sec;     /* out */
    int64_t nsec;    /* out: [0, 1e9) */
};

/* The host's CPUID for leaf/subleaf. Untrusted: it only selects code paths. */
struct tm_ocall_cpuid {
    uint32_t leaf, subleaf;          /* in: EAX, ECX */
    uint32_t eax, ebx, ecx, edx;     /* out */
};

/* Application ocalls: numbers TM_OCALL_APP_FIRST..TM_OCALL_APP_LAST belong to
 * the image's application and are served by the hook its host side registers
 * (lib/enclave/ecall.h); without one the host answers -ENOSYS. The block is a
 * struct tm_ocall_app; its input and its output room follow it inside the
 * scratch buffer. The host checks both ranges and writes out_len (<= out_cap);
 * the enclave checks out_len again and copies the output in once. */
#define TM_OCALL_APP_FIRST 0x100U
#define TM_OCALL_APP_LAST 0x1ffU

struct tm_ocall_app {
    uint64_t in, in_len;        /* host addresses inside the scratch buffer */
    uint64_t out, out_cap;
    uint64_t out_len;           /* written by the host */
};

#define TM_EXIT_KIND_EXIT 0
#define TM_EXIT_KIND_ABORT 1
#define TM_OCALL_EXIT_MESSAGE 128

struct tm_ocall_exit {
    uint64_t kind;     /* TM_EXIT_KIND_* */
    int64_t status;
    char message[TM_OCALL_EXIT_MESSAGE];   /* NUL-terminated (abort: why) */
};

#endif
