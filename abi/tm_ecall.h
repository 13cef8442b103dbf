/* TeeMate ecall ABI, first cut: how the host enters an enclave thread and how
 * it gets control back. Shared by the host (lib/enclave) and the trusted
 * runtime (trusted/). Issue 3 replaces the argument handling with general
 * ecall/ocall marshalling; the register convention below is meant to stay.
 *
 * EENTER (host -> enclave) lands on TCS.OENTRY = the image's entry, tm_entry:
 *   RAX  CSSA (set by the CPU). Non-zero means an exception is pending on this
 *        TCS; the runtime cannot handle that yet and exits at once with
 *        TM_STATUS_EXCEPTION_ENTRY, touching no enclave memory.
 *   RBX  TCS address (CPU)          RCX  address EEXIT returns to (CPU)
 *   RDI  ecall number (enum tm_ecall)
 *   RSI  host address of the ecall's argument block (untrusted), or 0
 *   RSP, RBP  the host's; saved, never used inside, restored before EEXIT.
 *   Everything else is ignored; x87/SSE control state is reset on entry.
 *
 * EEXIT (enclave -> host), to the RCX given at EENTER:
 *   RDI  exit kind (enum tm_exit_kind)
 *   RSI  status (enum tm_status: 0 or negative)
 *   RDX  with TM_EXIT_RETURN and TM_STATUS_OK: the ecall's value (for
 *        TM_ECALL_MAIN, main's return value sign-extended); otherwise 0
 *   RSP, RBP  the host's values at EENTER
 *   RAX = 4 (EEXIT), RBX = return address, RCX = AEP (CPU); R8..R15 zero;
 *   x87/SSE registers zero, FCW 0x037F, MXCSR 0x1F80. */
#ifndef TM_ECALL_H
#define TM_ECALL_H

#include <stdint.h>

enum tm_ecall {
    TM_ECALL_MAIN = 0,      /* run the image's main(argc, argv): tm_ecall_main_args */
};

enum tm_exit_kind {
    TM_EXIT_RETURN = 0,     /* the ecall is over */
    /* TM_EXIT_OCALL = 1 arrives with issue 3. */
};

enum tm_status {
    TM_STATUS_OK = 0,
    TM_STATUS_UNKNOWN_ECALL = -1,    /* RDI is no enum tm_ecall */
    TM_STATUS_BAD_ARGUMENTS = -2,    /* argument block rejected (range, limit) */
    TM_STATUS_EXCEPTION_ENTRY = -3,  /* EENTER with CSSA > 0: no handler yet */
};

/* Limits on what TM_ECALL_MAIN copies into the enclave. */
#define TM_MAIN_MAX_ARGS 64
#define TM_MAIN_MAX_ARG_BYTES 4096   /* all strings with their NULs */

/* TM_ECALL_MAIN's argument block, in host memory. The runtime reads it once,
 * rejects it (TM_STATUS_BAD_ARGUMENTS) if it or any range it names overlaps
 * ELRANGE or wraps, copies argv into the enclave, and at the end writes only
 * output_len back.
 * Output is a stopgap until ocalls exist (issue 3): tm_print() appends to the
 * host buffer `output`; output_len counts every byte asked for, so
 * output_len > output_size means the output was truncated. No NUL is added. */
struct tm_ecall_main_args {
    uint64_t argc;          /* in: at most TM_MAIN_MAX_ARGS */
    uint64_t argv;          /* in: host address of argc host string addresses */
    uint64_t output;        /* in: host buffer, or 0 when output_size is 0 */
    uint64_t output_size;   /* in: its size in bytes */
    uint64_t output_len;    /* out: bytes tm_print was asked to write */
};

_Static_assert(sizeof(struct tm_ecall_main_args) == 40, "main argument block");

#endif
