/* The store in a shared enclave: every call is an ecall on thread 0 of this
 * process's attachment (its lease, its slot holds the store). One scratch
 * buffer for the ecalls' ocalls is kept for the engine's life: a fresh one
 * per batch would cost its zeroing every iteration. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvh.h"
#include "kvh_enclave.h"

struct kvh_enclave_engine {
    struct kvh_engine e;
    struct tm_attachment *a;
    void *scratch;
    char name[80];
};

static int kvh_enclave_call(struct kvh_engine *e, uint32_t ecall, const void *in, size_t in_len,
                            void *out, size_t out_cap, size_t *out_len, int *rc, tm_error *err)
{
    struct kvh_enclave_engine *x = (struct kvh_enclave_engine *)e;
    struct tm_ecall_call call = {
        .ecall = ecall, .in = in, .in_len = in_len, .out = out, .out_cap = out_cap,
        .scratch_size = TM_ECALL_SCRATCH_DEFAULT, .scratch = x->scratch,
    };
    int r = tm_attach_ecall(x->a, 0, &call, err);
    if (r < 0)
        return tm_error_prefix(err, "the store's ecall %u", ecall);
    if (call.exited)
        return tm_error_set(err, ECONNABORTED, "the store exited (%lld) during ecall %u",
                            (long long)call.retval, ecall);
    if (call.out_len > out_cap)
        return tm_error_set(err, EPROTO, "the store wrote %zu bytes into %zu", call.out_len, out_cap);
    *rc = (int)call.retval;
    *out_len = call.out_len;
    return 0;
}

/* The child attaches to the same enclave, a slot of its own, the parent's
 * slot mapped read-only (tm_attach_fork). */
static pid_t kvh_enclave_fork(struct kvh_engine *e, struct kvh_engine **child, tm_error *err)
{
    struct kvh_enclave_engine *x = (struct kvh_enclave_engine *)e;
    struct tm_attachment *ca = NULL;
    pid_t self = getpid();
    pid_t pid = tm_attach_fork(x->a, &ca, err);
    if (pid < 0 && getpid() != self) {
        /* the child could not attach (teemated gone, no slot): it must not
         * return into the parent's loop as a second server */
        kvh_log(KVH_LOG_WARNING, "Background saving error: the snapshot child: %s", err->msg);
        _exit(1);
    }
    if (pid < 0)
        return tm_error_prefix(err, "the snapshot child");
    if (pid == 0 && kvh_engine_enclave(ca, child, err) < 0) {
        kvh_log(KVH_LOG_WARNING, "Background saving error: %s", err->msg);
        _exit(1);
    }
    return pid;
}

static void kvh_enclave_close(struct kvh_engine *e)
{
    struct kvh_enclave_engine *x = (struct kvh_enclave_engine *)e;
    free(x->scratch);
    free(x);   /* the attachment is its owner's (the container's init detaches) */
}

int kvh_engine_enclave(struct tm_attachment *a, struct kvh_engine **out, tm_error *err)
{
    struct kvh_enclave_engine *x = calloc(1, sizeof *x);
    if (!x || !(x->scratch = aligned_alloc(64, TM_ECALL_SCRATCH_DEFAULT))) {
        free(x);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    memset(x->scratch, 0, TM_ECALL_SCRATCH_DEFAULT);
    x->a = a;
    snprintf(x->name, sizeof x->name, "enclave %s, slot %u", a->name, a->slot);
    x->e = (struct kvh_engine){ .call = kvh_enclave_call, .close = kvh_enclave_close,
                                .fork = kvh_enclave_fork, .name = x->name };
    *out = &x->e;
    return 0;
}
