/* The host side of the call protocol (abi/tm_ecall.h): run one ecall on one
 * TCS, servicing its ocalls and its exceptions until it returns.
 *
 *   enter(ecall, args) -> EEXIT(ocall)     -> service -> enter(OCALL_RETURN) ...
 *                      -> AEX              -> enter (CSSA > 0) -> EEXIT(exception)
 *                                          -> ERESUME ...
 *                      -> EEXIT(return)    -> done
 *
 * Every ocall request is checked against what this side knows (the scratch
 * buffer it handed out, the fds and clocks it serves) and refused with an
 * error code into the enclave when it does not fit: never followed blindly. */
#ifndef TM_ECALL_HOST_H
#define TM_ECALL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "tm_ecall.h"
#include "util/error.h"

#define TM_ECALL_SCRATCH_DEFAULT (64U * 1024)
/* A handler that keeps resuming the same fault must not loop forever. */
#define TM_ECALL_MAX_EXCEPTIONS 100000

/* Where the write ocall's bytes go: returns bytes written or -errno. */
typedef long (*tm_ecall_write_fn)(void *ctx, int fd, const void *buf, size_t len);

/* An application's ocall service (numbers TM_OCALL_APP_FIRST..LAST): in and
 * out are checked ranges of the scratch buffer (host memory the enclave also
 * writes: read each input byte once). Sets *out_len <= out_cap; returns >= 0
 * or -errno, which the enclave gets. */
typedef int64_t (*tm_ecall_app_ocall_fn)(void *ctx, uint32_t number, const void *in,
                                         size_t in_len, void *out, size_t out_cap,
                                         size_t *out_len);

/* The process-wide application ocall hook, for calls that name none. */
void tm_ecall_register_app_ocalls(tm_ecall_app_ocall_fn fn, void *ctx);

struct tm_ecall_call {
    /* in */
    uint32_t ecall;
    const void *in;
    size_t in_len;
    void *out;
    size_t out_cap;
    size_t scratch_size;          /* 0: TM_ECALL_SCRATCH_DEFAULT */
    void *scratch;                /* the caller's scratch buffer of scratch_size bytes,
                                   * 64-aligned, reused call after call; NULL: one
                                   * allocated (and zeroed) for this call */
    tm_ecall_write_fn write;      /* NULL: write(2) to fd 1 or 2 */
    void *write_ctx;
    uint8_t lease_token[16];      /* the slot lease (abi/tm_lease.h); zero: none */
    tm_ecall_app_ocall_fn app_ocall;  /* NULL: the registered hook, if any */
    void *app_ctx;

    /* out */
    int32_t status;               /* enum tm_status the enclave returned */
    int64_t retval;               /* the ecall's value (exit: its status) */
    size_t out_len;
    bool exited;                  /* exit(n) ended it: retval = n */
    bool aborted;                 /* abort() ended it */
    char exit_message[TM_OCALL_EXIT_MESSAGE];
    struct tm_fault_report fault; /* the last report from inside (flags 0: none) */
    struct tm_enter_result aex;   /* the last AEX as the backend saw it */
    bool had_aex;
    uint64_t ocalls;
    uint32_t handled_exceptions;  /* resumed by the image's handler */
    uint32_t refused_ocalls;
    char refused[256];            /* why the first refused ocall was refused */
};

/* Run call->ecall on the TCS at tcs_offset of the enclave [base, base+size).
 * Returns 0 when the ecall returned (TM_STATUS_OK) or called exit(); else a
 * negative errno with err saying what happened: -EFAULT an exception ended it
 * ("enclave fault: #PF at 0x... (rip 0x...)", "enclave made a system call"),
 * -ECONNABORTED abort(), -ENOSYS no such ecall, -EINVAL arguments refused
 * inside, -EBUSY the TCS is in use, -ENOMEM, -EPROTO the enclave broke the
 * protocol, or the backend's error. */
int tm_ecall(const struct tm_backend_ops *ops, struct tm_backend_enclave *be, uint64_t base,
             uint64_t size, uint64_t tcs_offset, struct tm_ecall_call *call, tm_error *err);

/* TM_ECALL_MAIN's input: argv's strings back to back, each with its NUL.
 * *buf is malloc'ed. -E2BIG beyond TM_MAIN_MAX_ARGS / TM_MAIN_MAX_ARG_BYTES. */
int tm_ecall_pack_argv(int argc, char *const argv[], char **buf, size_t *len, tm_error *err);

/* "#PF at 0x... (rip 0x... = image+0x...)" and the like, for messages. */
void tm_ecall_fault_describe(const struct tm_fault_report *fault, uint64_t base, char *buf,
                             size_t n);
/* "#PF", "#UD"... or "vector N". */
const char *tm_ecall_vector_name(uint32_t vector, char buf[16]);

#endif
