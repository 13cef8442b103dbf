/* --no-enclave: the store's own sources compiled into this process
 * (libkv_native.a, kv_entry.h), called where the enclave engine enters the
 * enclave. The baseline "same runtime without an enclave". */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "kv_entry.h"
#include "kvh.h"

static int kvh_native_call(struct kvh_engine *e, uint32_t ecall, const void *in, size_t in_len,
                           void *out, size_t out_cap, size_t *out_len, int *rc, tm_error *err)
{
    (void)e;
    *out_len = 0;
    switch (ecall) {
    case KV_ECALL_START: *rc = kv_start(in, in_len, out, out_cap, out_len); break;
    case KV_ECALL_BATCH: *rc = kv_batch(in, in_len, out, out_cap, out_len); break;
    case KV_ECALL_INFO: *rc = kv_info(in, in_len, out, out_cap, out_len); break;
    case KV_ECALL_SNAPSHOT_WRITE: *rc = kv_snapshot_write(in, in_len, out, out_cap, out_len); break;
    case KV_ECALL_SNAPSHOT_DONE: *rc = kv_snapshot_done(in, in_len, out, out_cap, out_len); break;
    case KV_ECALL_LOAD: *rc = kv_load(in, in_len, out, out_cap, out_len); break;
    default: return tm_error_set(err, ENOSYS, "no store entry %u", ecall);
    }
    if (*out_len > out_cap)
        return tm_error_set(err, EPROTO, "the store wrote %zu bytes into %zu", *out_len, out_cap);
    return 0;
}

/* The kernel copies the store for the child (as Redis's fork does). */
static pid_t kvh_native_fork(struct kvh_engine *e, struct kvh_engine **child, tm_error *err)
{
    pid_t pid = fork();
    if (pid < 0)
        return tm_error_sys(err, "fork");
    if (pid == 0)
        *child = e;
    return pid;
}

static void kvh_native_close(struct kvh_engine *e)
{
    kv_stop();
    free(e);
}

int kvh_engine_native(struct kvh_engine **out, tm_error *err)
{
    struct kvh_engine *e = calloc(1, sizeof *e);
    if (!e)
        return tm_error_set(err, ENOMEM, "out of memory");
    *e = (struct kvh_engine){ .call = kvh_native_call, .close = kvh_native_close,
                             .fork = kvh_native_fork, .name = "native" };
    *out = e;
    return 0;
}
