/* The strawman BGSAVE's host side (kvh_strawman.h): the parent's ecalls go
 * through its attachment, the child's through its own enclave; both host
 * processes only relay the channel's records (lib/shared/strawman.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/client.h"
#include "enclave/devkey.h"
#include "enclave/measure.h"
#include "enclave/sigstruct.h"
#include "kvh_enclave.h"
#include "kvh_strawman.h"
#include "util/cleanup.h"

int kvh_strawman_image_load(const char *kv_elf, uint64_t maxmemory, struct kvh_strawman_image *out,
                            tm_error *err)
{
    memset(out, 0, sizeof *out);
    _cleanup_image_ struct tm_image *base = NULL;
    char key[512];
    int r = tm_image_load(kv_elf, &base, err);
    if (r == 0)
        r = kvh_shared_image(base, kvh_slot_size(maxmemory), &out->image, err);
    if (r == 0 && (r = tm_devkey_sign(out->image, &out->sigstruct, key, sizeof key, err)) < 0)
        kvh_strawman_image_free(out);
    return r < 0 ? tm_error_prefix(err, "the strawman child's image") : 0;
}

void kvh_strawman_image_free(struct kvh_strawman_image *img)
{
    tm_image_free(img->image);
    img->image = NULL;
}

int kvh_strawman_check(const struct kvh_strawman_image *img, const char *socket,
                       const char *enclave, tm_error *err)
{
    uint8_t mrenclave[32], mrsigner[32];
    int r = tm_measure_layout(&img->image->layout, NULL, NULL, mrenclave, err);
    if (r < 0)
        return r;
    tm_sigstruct_mrsigner(&img->sigstruct, mrsigner);
    _cleanup_close_ int conn = tm_daemon_connect(socket, false, NULL, err);
    if (conn < 0)
        return conn;
    struct tm_enclave_info info;
    if ((r = tm_daemon_inspect(conn, enclave, &info, err)) < 0)
        return r;
    if (memcmp(info.mrenclave, mrenclave, sizeof mrenclave))
        return tm_error_set(err, EPERM, "--fork strawman: enclave %s is not kv.elf as this "
                            "server lays it out (another image?)", enclave);
    if (memcmp(info.mrsigner, mrsigner, sizeof mrsigner))
        return tm_error_set(err, EPERM, "--fork strawman: enclave %s is signed by another key "
                            "than this process's development key (teemated runs with another "
                            "TEEMATE_STATE_DIR?): its children would be refused", enclave);
    return 0;
}

/* ---- the parent's ecalls: thread 0 of its attachment */
static int kvh_strawman_parent_ecall(void *ctx, struct tm_ecall_call *call, tm_error *err)
{
    return tm_attach_ecall(ctx, 0, call, err);
}

/* In the child: the parent's views of the shared enclave and its daemon
 * connection are the parent's (as tm_attach_fork's child drops them, without
 * a DETACH): a strawman child has no way into the parent's enclave. */
static void kvh_strawman_drop_parent(void *ctx)
{
    struct tm_attachment *a = ctx;
    a->ops->destroy(a->be);
    a->be = NULL;
    close(a->conn);
    a->conn = -1;
}

/* ---- the child's engine: its own enclave */
struct kvh_strawman_child {
    struct kvh_engine e;
    struct tm_strawman_enclave se;
    void *scratch;
};

static int kvh_strawman_child_call(struct kvh_engine *e, uint32_t ecall, const void *in,
                                   size_t in_len, void *out, size_t out_cap, size_t *out_len,
                                   int *rc, tm_error *err)
{
    struct kvh_strawman_child *x = (struct kvh_strawman_child *)e;
    /* the snapshot a strawman child writes is its own copy */
    if (ecall == KV_ECALL_SNAPSHOT_WRITE)
        ecall = KV_ECALL_STRAWMAN_WRITE;
    struct tm_ecall_call call = { .ecall = ecall, .in = in, .in_len = in_len, .out = out,
                                  .out_cap = out_cap, .scratch_size = TM_ECALL_SCRATCH_DEFAULT,
                                  .scratch = x->scratch };
    int r = tm_strawman_ecall(&x->se, &call, err);
    if (r < 0)
        return tm_error_prefix(err, "the strawman child's ecall %u", ecall);
    if (call.exited)
        return tm_error_set(err, ECONNABORTED, "the child's store exited (%lld) during ecall %u",
                            (long long)call.retval, ecall);
    *rc = (int)call.retval;
    *out_len = call.out_len;
    return 0;
}

static void kvh_strawman_child_close(struct kvh_engine *e)
{
    struct kvh_strawman_child *x = (struct kvh_strawman_child *)e;
    tm_strawman_stop(&x->se);
    free(x->scratch);
    free(x);
}

static pid_t kvh_strawman_child_fork(struct kvh_engine *e, struct kvh_engine **child, tm_error *err)
{
    (void)e;
    (void)child;
    return tm_error_set(err, ENOTSUP, "a strawman child does not fork");
}

pid_t kvh_strawman_fork(struct tm_attachment *a, const struct kvh_strawman_image *img,
                        struct kvh_engine **child, struct kvh_strawman_result *r, tm_error *err)
{
    memset(r, 0, sizeof *r);
    *child = NULL;
    struct kvh_strawman_child *x = calloc(1, sizeof *x);
    if (!x || !(x->scratch = aligned_alloc(64, TM_ECALL_SCRATCH_DEFAULT))) {
        free(x);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    memset(x->scratch, 0, TM_ECALL_SCRATCH_DEFAULT);
    struct tm_strawman_parent parent = { .image = img->image, .sigstruct = &img->sigstruct,
                                         .ops = a->ops, .ecall = kvh_strawman_parent_ecall,
                                         .ecall_ctx = a };
    struct tm_strawman_options o = {
        .ecalls = { .self_target = KV_ECALL_STRAWMAN_SELF_TARGET,
                    .offer = KV_ECALL_STRAWMAN_OFFER, .accept = KV_ECALL_STRAWMAN_ACCEPT,
                    .export_record = KV_ECALL_STRAWMAN_EXPORT,
                    .import_record = KV_ECALL_STRAWMAN_IMPORT },
        .record_max = KV_STRAWMAN_RECORD_MAX,
        .stream_out = KV_OCALL_STRAWMAN_SEND, .stream_in = KV_OCALL_STRAWMAN_RECV,
        .child_after_fork = kvh_strawman_drop_parent, .child_ctx = a,
    };
    pid_t pid = tm_strawman_fork_start(&parent, &o, &r->stats, &x->se, err);
    if (pid == 0) {
        x->e = (struct kvh_engine){ .call = kvh_strawman_child_call,
                                    .close = kvh_strawman_child_close,
                                    .fork = kvh_strawman_child_fork,
                                    .name = "strawman child enclave" };
        *child = &x->e;
        return 0;
    }
    free(x->scratch);
    free(x);
    if (pid < 0)
        return tm_error_prefix(err, "strawman fork");
    r->pid = pid;
    r->fork_usec = (uint64_t)(r->stats.total_ms * 1000.0);
    return pid;
}

/* ---- the server's engine for --fork strawman */
struct kvh_strawman_engine {
    struct kvh_engine e;
    struct kvh_engine *inner;             /* kvh_engine_enclave's */
    struct tm_attachment *a;
    const struct kvh_strawman_image *img;
    struct kvh_strawman_result last;
    char name[96];
};

static int kvh_strawman_engine_call(struct kvh_engine *e, uint32_t ecall, const void *in,
                                    size_t in_len, void *out, size_t out_cap, size_t *out_len,
                                    int *rc, tm_error *err)
{
    struct kvh_strawman_engine *x = (struct kvh_strawman_engine *)e;
    return x->inner->call(x->inner, ecall, in, in_len, out, out_cap, out_len, rc, err);
}

static pid_t kvh_strawman_engine_fork(struct kvh_engine *e, struct kvh_engine **child,
                                      tm_error *err)
{
    struct kvh_strawman_engine *x = (struct kvh_strawman_engine *)e;
    pid_t pid = kvh_strawman_fork(x->a, x->img, child, &x->last, err);
    const struct tm_strawman_stats *st = &x->last.stats;
    if (pid > 0)
        kvh_log(KVH_LOG_NOTICE, "Strawman fork: the child's enclave holds the data after %.1f ms "
                "(fork %.1f, enclave build %.1f, channel %.1f, copy %.1f; %llu bytes relayed)",
                st->total_ms, st->fork_ms, st->build_ms, st->channel_ms, st->copy_ms,
                (unsigned long long)st->bytes);
    return pid;
}

static void kvh_strawman_engine_close(struct kvh_engine *e)
{
    struct kvh_strawman_engine *x = (struct kvh_strawman_engine *)e;
    x->inner->close(x->inner);
    free(x);
}

int kvh_engine_strawman(struct tm_attachment *a, const struct kvh_strawman_image *img,
                        struct kvh_engine **out, tm_error *err)
{
    struct kvh_strawman_engine *x = calloc(1, sizeof *x);
    if (!x)
        return tm_error_set(err, ENOMEM, "out of memory");
    int r = kvh_engine_enclave(a, &x->inner, err);
    if (r < 0) {
        free(x);
        return r;
    }
    x->a = a;
    x->img = img;
    snprintf(x->name, sizeof x->name, "%s, strawman fork", x->inner->name);
    x->e = (struct kvh_engine){ .call = kvh_strawman_engine_call,
                                .close = kvh_strawman_engine_close,
                                .fork = kvh_strawman_engine_fork, .name = x->name };
    *out = &x->e;
    return 0;
}

const struct kvh_strawman_result *kvh_engine_strawman_last(const struct kvh_engine *e)
{
    if (!e || e->fork != kvh_strawman_engine_fork)
        return NULL;
    return &((const struct kvh_strawman_engine *)e)->last;
}
