/* The strawman fork (strawman.h): a new enclave for the child and the
 * parent's data copied into it over an attested, encrypted channel.
 *
 *   parent                                child (after fork(2))
 *                                         build a new enclave, bind a slot
 *          <------ TARGET (child's TARGETINFO)
 *   OFFER(child's)
 *          TARGET+OFFER (parent's) ------>
 *                                         OFFER(parent's), ACCEPT(parent's offer)
 *          <------ OFFER (child's)
 *   ACCEPT(child's offer)
 *   EXPORT -> RECORD ------------------>  IMPORT ... until it returns 1
 *          <------ DONE (status, the child's timestamps)
 *
 * Messages on a SOCK_STREAM socketpair: {kind, length} then the bytes. The
 * host processes see only TARGETINFOs, offers and ciphertext. With streamed
 * records (opts.stream_out/in) the EXPORT and IMPORT are one ecall each and
 * the records cross in their ocalls: the parent's ocall sends, the child's
 * receives. After DONE the child returns to its caller (like fork) for more
 * work in its enclave; the parent does not wait for it. */
#include "shared/strawman.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/clock.h"

#define OFFER_SIZE 512        /* struct tm_channel_offer (teemate_enclave.h) */
#define TARGET_SIZE sizeof(struct sgx_targetinfo)

enum strawman_msg { MSG_TARGET = 1, MSG_OFFER = 2, MSG_RECORD = 3, MSG_DONE = 4 };

struct strawman_header {
    uint32_t kind;
    uint32_t reserved;
    uint64_t len;
};

/* The child's last word: how it went, and when each phase ended. */
struct strawman_done {
    int32_t status;      /* 0 or -errno */
    uint32_t reserved;
    double start_ms, built_ms, channel_ms, done_ms;
    char msg[sizeof(((tm_error *)0)->msg)];
};

/* ---- the enclave each side runs ---- */

int tm_strawman_start(const struct tm_image *image, const struct sgx_sigstruct *sigstruct,
                      const struct tm_backend_ops *ops, struct tm_strawman_enclave *se,
                      tm_error *err)
{
    memset(se, 0, sizeof *se);
    se->image = image;
    se->sigstruct = sigstruct;
    se->ops = ops;
    double t0 = tm_now_ms();
    int ret = tm_enclave_build(image, sigstruct, ops, &se->enclave, err);
    if (ret < 0)
        return ret;
    /* The slot as a container maps it: a view that grows on demand (EAUG on
     * the allocator's EACCEPT), which the builder's view of ELRANGE is not. */
    const struct tm_enclave_regions *rg = &image->layout.regions;
    if (se->slot >= rg->slot_count)
        ret = tm_error_set(err, EINVAL, "the image has no slot %u", se->slot);
    else
        ret = ops->map(se->enclave->be, rg->slots_offset + (uint64_t)se->slot * rg->slot_size,
                       rg->slot_size, PROT_READ | PROT_WRITE, err);
    if (ret < 0) {
        tm_strawman_stop(se);
        return ret;
    }
    struct tm_lease_bind_in in = { .slot = se->slot, .mode = TM_LEASE_NEW };
    struct tm_lease_bind_out out;
    struct tm_ecall_call bind = { .ecall = TM_ECALL_LEASE_BIND, .in = &in, .in_len = sizeof in,
                                  .out = &out, .out_cap = sizeof out };
    ret = tm_ecall(ops, se->enclave->be, se->enclave->base, se->enclave->size,
                   tm_enclave_tcs_offset(se->enclave, se->tcs), &bind, err);
    if (ret == 0 && (bind.retval != 0 || bind.out_len != sizeof out))
        ret = tm_error_set(err, EPROTO, "binding TCS %u to slot %u failed (%lld)", se->tcs,
                           se->slot, (long long)bind.retval);
    if (ret < 0) {
        tm_error_prefix(err, "strawman enclave");
        tm_strawman_stop(se);
        return ret;
    }
    memcpy(se->token, out.token, sizeof se->token);
    se->build_ms = tm_now_ms() - t0;
    return 0;
}

int tm_strawman_ecall(struct tm_strawman_enclave *se, struct tm_ecall_call *call, tm_error *err)
{
    memcpy(call->lease_token, se->token, sizeof call->lease_token);
    return tm_ecall(se->ops, se->enclave->be, se->enclave->base, se->enclave->size,
                    tm_enclave_tcs_offset(se->enclave, se->tcs), call, err);
}

void tm_strawman_stop(struct tm_strawman_enclave *se)
{
    tm_enclave_destroy(se->enclave);
    se->enclave = NULL;
}

/* An ecall whose value must be >= 0 (the image's -errno otherwise), through
 * run(ctx, call): the child's own enclave or the parent's, whatever it is. */
static int strawman_call_with(tm_strawman_ecall_fn run, void *ctx, struct tm_ecall_call *c,
                              tm_error *err)
{
    int ret = run(ctx, c, err);
    if (ret < 0)
        return ret;
    if (c->exited)
        return tm_error_set(err, ECONNABORTED, "ecall %u: the enclave exited (%lld)", c->ecall,
                            (long long)c->retval);
    if (c->retval < 0)
        return tm_error_set(err, (int)-c->retval, "ecall %u refused: %s", c->ecall,
                            strerror((int)-c->retval));
    return (int)c->retval;
}

static int strawman_enclave_ecall(void *ctx, struct tm_ecall_call *call, tm_error *err)
{
    return tm_strawman_ecall(ctx, call, err);
}

static int strawman_call(tm_strawman_ecall_fn run, void *ctx, uint32_t ecall, const void *in,
                         size_t in_len, void *out, size_t out_cap, size_t *out_len, tm_error *err)
{
    struct tm_ecall_call c = { .ecall = ecall, .in = in, .in_len = in_len, .out = out,
                               .out_cap = out_cap };
    int ret = strawman_call_with(run, ctx, &c, err);
    if (ret >= 0 && out_len)
        *out_len = c.out_len;
    return ret;
}

/* A streaming ecall's scratch: the record and the call's own room. */
static size_t strawman_stream_scratch(const struct tm_strawman_options *o)
{
    size_t n = o->record_max + 64 * 1024;
    return (n + 4095) & ~(size_t)4095;
}

/* ---- messages ---- */

static int strawman_write(int fd, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, (const uint8_t *)buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        done += (size_t)n;
    }
    return 0;
}

static int strawman_read(int fd, void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = read(fd, (uint8_t *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ECONNRESET;
        done += (size_t)n;
    }
    return 0;
}

static int strawman_send(int fd, uint32_t kind, const void *buf, size_t len, tm_error *err)
{
    struct strawman_header h = { .kind = kind, .len = len };
    int ret = strawman_write(fd, &h, sizeof h);
    if (ret == 0)
        ret = strawman_write(fd, buf, len);
    return ret < 0 ? tm_error_set(err, -ret, "strawman: sending message %u: %s", kind,
                                  strerror(-ret))
                   : 0;
}

/* Receive a message of this kind into buf (at most cap bytes); its length. */
static ssize_t strawman_recv(int fd, uint32_t kind, void *buf, size_t cap, tm_error *err)
{
    struct strawman_header h;
    int ret = strawman_read(fd, &h, sizeof h);
    if (ret < 0)
        return tm_error_set(err, -ret, "strawman: waiting for message %u: %s", kind,
                            ret == -ECONNRESET ? "the other side closed" : strerror(-ret));
    if (h.kind == MSG_DONE && kind != MSG_DONE && h.len == sizeof(struct strawman_done)) {
        /* the child gave up early: its reason is the error */
        struct strawman_done done;
        if ((ret = strawman_read(fd, &done, sizeof done)) < 0)
            return tm_error_set(err, -ret, "strawman: the child ended early");
        done.msg[sizeof done.msg - 1] = '\0';
        return tm_error_set(err, done.status < 0 ? -done.status : EPROTO, "strawman child: %s",
                            done.msg);
    }
    if (h.kind != kind || h.len > cap)
        return tm_error_set(err, EPROTO, "strawman: message %u of %llu bytes, expected %u (<= %zu)",
                            h.kind, (unsigned long long)h.len, kind, cap);
    ret = strawman_read(fd, buf, h.len);
    if (ret < 0)
        return tm_error_set(err, -ret, "strawman: reading message %u: %s", kind, strerror(-ret));
    return (ssize_t)h.len;
}

/* ---- the child ---- */

/* The child's streamed IMPORT: each record asked for through the ocall is
 * read from the parent's socket here. */
struct strawman_pull {
    int sock;
    size_t record_max;
    tm_error err;        /* why the stream broke, for the child's last word */
};

static int64_t strawman_pull_record(void *ctx, uint32_t number, const void *in, size_t in_len,
                                    void *out, size_t out_cap, size_t *out_len)
{
    struct strawman_pull *pl = ctx;
    (void)number;
    (void)in;
    (void)in_len;
    size_t cap = out_cap < pl->record_max ? out_cap : pl->record_max;
    ssize_t n = strawman_recv(pl->sock, MSG_RECORD, out, cap, &pl->err);
    if (n < 0)
        return n;
    *out_len = (size_t)n;
    return n;
}

static int strawman_child_import(struct tm_strawman_enclave *se,
                                 const struct tm_strawman_options *o, int sock, tm_error *err)
{
    if (o->stream_in) {
        struct strawman_pull pl = { .sock = sock, .record_max = o->record_max };
        struct tm_ecall_call c = { .ecall = o->ecalls.import_record,
                                   .scratch_size = strawman_stream_scratch(o),
                                   .app_ocall = strawman_pull_record, .app_ctx = &pl };
        int ret = strawman_call_with(strawman_enclave_ecall, se, &c, err);
        if (ret < 0 && pl.err.msg[0])
            tm_error_prefix(err, "%s", pl.err.msg);   /* the relay broke first */
        if (ret >= 0 && ret != 1)
            ret = tm_error_set(err, EPROTO, "the import ended without all the data (%d)", ret);
        return ret < 0 ? ret : 0;
    }
    _cleanup_free_ uint8_t *record = malloc(o->record_max);
    if (!record)
        return tm_error_set(err, ENOMEM, "out of memory");
    int ret = 0;
    for (int complete = 0; ret >= 0 && !complete;) {
        ssize_t n = strawman_recv(sock, MSG_RECORD, record, o->record_max, err);
        if (n < 0)
            ret = (int)n;
        else if ((ret = strawman_call(strawman_enclave_ecall, se, o->ecalls.import_record, record,
                                      (size_t)n, NULL, 0, NULL, err)) >= 0)
            complete = ret == 1;
    }
    return ret < 0 ? ret : 0;
}

static int strawman_child_run(const struct tm_strawman_parent *parent,
                              const struct tm_strawman_options *o, int sock,
                              struct tm_strawman_enclave *child, struct strawman_done *done,
                              tm_error *err)
{
    struct tm_strawman_enclave *se = child;
    int ret = tm_strawman_start(parent->image, parent->sigstruct, parent->ops, se, err);
    done->built_ms = tm_now_ms();
    if (ret < 0)
        return ret;

    uint8_t target[TARGET_SIZE], peer[TARGET_SIZE + OFFER_SIZE], offer[OFFER_SIZE];
    tm_strawman_ecall_fn run = strawman_enclave_ecall;
    ret = strawman_call(run, se, o->ecalls.self_target, NULL, 0, target, sizeof target, NULL, err);
    if (ret >= 0)
        ret = strawman_send(sock, MSG_TARGET, target, sizeof target, err);
    if (ret >= 0 && (ret = (int)strawman_recv(sock, MSG_OFFER, peer, sizeof peer, err)) >= 0 &&
        ret != sizeof peer)
        ret = tm_error_set(err, EPROTO, "strawman: the parent's offer is %d bytes", ret);
    if (ret >= 0)
        ret = strawman_call(run, se, o->ecalls.offer, peer, TARGET_SIZE, offer, sizeof offer, NULL,
                            err);
    if (ret >= 0)
        ret = strawman_call(run, se, o->ecalls.accept, peer + TARGET_SIZE, OFFER_SIZE, NULL, 0,
                            NULL, err);
    if (ret >= 0)
        ret = strawman_send(sock, MSG_OFFER, offer, sizeof offer, err);
    done->channel_ms = tm_now_ms();
    if (ret >= 0)
        ret = strawman_child_import(se, o, sock, err);
    done->done_ms = tm_now_ms();
    return ret < 0 ? ret : 0;
}

/* Returns only once the child's enclave holds the data and the parent was told. */
static void strawman_child(const struct tm_strawman_parent *parent,
                           const struct tm_strawman_options *o, int sock,
                           struct tm_strawman_enclave *se)
{
    if (o->child_after_fork)
        o->child_after_fork(o->child_ctx);
    struct strawman_done done = { .start_ms = tm_now_ms() };
    tm_error err = { 0 };
    memset(se, 0, sizeof *se);
    done.status = strawman_child_run(parent, o, sock, se, &done, &err);
    if (done.status < 0)
        snprintf(done.msg, sizeof done.msg, "%s", err.msg);
    tm_error ignored = { 0 };
    strawman_send(sock, MSG_DONE, &done, sizeof done, &ignored);
    close(sock);   /* the parent has its answer and serves again */
    if (done.status < 0) {
        tm_strawman_stop(se);
        _exit(1);
    }
}

/* ---- the parent ---- */

static void strawman_observe(const struct tm_strawman_options *o, struct tm_strawman_stats *st,
                             int direction, const uint8_t *msg, size_t len)
{
    st->bytes += len;
    if (o->observe)
        o->observe(o->observe_ctx, direction, msg, len);
}

/* The parent's streamed EXPORT: each record its ocall hands out goes to the
 * child here, while the ecall is still inside. */
struct strawman_push {
    const struct tm_strawman_options *o;
    struct tm_strawman_stats *st;
    int sock;
    tm_error err;
};

static int64_t strawman_push_record(void *ctx, uint32_t number, const void *in, size_t in_len,
                                    void *out, size_t out_cap, size_t *out_len)
{
    struct strawman_push *ps = ctx;
    (void)number;
    (void)out;
    (void)out_cap;
    *out_len = 0;
    if (in_len > ps->o->record_max)
        return tm_error_set(&ps->err, EMSGSIZE, "a record of %zu bytes (room: %zu)", in_len,
                            ps->o->record_max);
    strawman_observe(ps->o, ps->st, TM_STRAWMAN_TO_CHILD, in, in_len);
    ps->st->records++;
    int ret = strawman_send(ps->sock, MSG_RECORD, in, in_len, &ps->err);
    return ret < 0 ? ret : 0;
}

static int strawman_parent_export(const struct tm_strawman_parent *p,
                                  const struct tm_strawman_options *o, int sock,
                                  struct tm_strawman_stats *st, tm_error *err)
{
    if (o->stream_out) {
        struct strawman_push ps = { .o = o, .st = st, .sock = sock };
        struct tm_ecall_call c = { .ecall = o->ecalls.export_record,
                                   .scratch_size = strawman_stream_scratch(o),
                                   .app_ocall = strawman_push_record, .app_ctx = &ps };
        int ret = strawman_call_with(p->ecall, p->ecall_ctx, &c, err);
        if (ret < 0 && ps.err.msg[0])
            tm_error_prefix(err, "%s", ps.err.msg);
        return ret < 0 ? ret : 0;
    }
    _cleanup_free_ uint8_t *record = malloc(o->record_max);
    if (!record)
        return tm_error_set(err, ENOMEM, "out of memory");
    for (int last = 0; !last;) {
        size_t len = 0;
        int ret = strawman_call(p->ecall, p->ecall_ctx, o->ecalls.export_record, NULL, 0, record,
                                o->record_max, &len, err);
        if (ret < 0)
            return ret;
        last = ret == 1;
        strawman_observe(o, st, TM_STRAWMAN_TO_CHILD, record, len);
        st->records++;
        if ((ret = strawman_send(sock, MSG_RECORD, record, len, err)) < 0)
            return ret;
    }
    return 0;
}

static int strawman_parent_run(const struct tm_strawman_parent *p,
                               const struct tm_strawman_options *o, int sock,
                               struct tm_strawman_stats *st, tm_error *err)
{
    uint8_t target[TARGET_SIZE], mine[TARGET_SIZE + OFFER_SIZE], offer[OFFER_SIZE];
    ssize_t n = strawman_recv(sock, MSG_TARGET, target, sizeof target, err);
    if (n >= 0 && n != sizeof target)
        n = tm_error_set(err, EPROTO, "strawman: the child's TARGETINFO is %zd bytes", n);
    if (n < 0)
        return (int)n;
    strawman_observe(o, st, TM_STRAWMAN_TO_PARENT, target, sizeof target);
    int ret = strawman_call(p->ecall, p->ecall_ctx, o->ecalls.self_target, NULL, 0, mine,
                            TARGET_SIZE, NULL, err);
    if (ret >= 0)
        ret = strawman_call(p->ecall, p->ecall_ctx, o->ecalls.offer, target, sizeof target,
                            mine + TARGET_SIZE, OFFER_SIZE, NULL, err);
    if (ret < 0)
        return ret;
    strawman_observe(o, st, TM_STRAWMAN_TO_CHILD, mine, sizeof mine);
    if ((ret = strawman_send(sock, MSG_OFFER, mine, sizeof mine, err)) < 0)
        return ret;
    if ((n = strawman_recv(sock, MSG_OFFER, offer, sizeof offer, err)) < 0)
        return (int)n;
    strawman_observe(o, st, TM_STRAWMAN_TO_PARENT, offer, (size_t)n);
    if ((ret = strawman_call(p->ecall, p->ecall_ctx, o->ecalls.accept, offer, (size_t)n, NULL, 0,
                             NULL, err)) < 0)
        return ret;
    return strawman_parent_export(p, o, sock, st, err);
}

pid_t tm_strawman_fork_start(const struct tm_strawman_parent *parent,
                             const struct tm_strawman_options *opts, struct tm_strawman_stats *st,
                             struct tm_strawman_enclave *child, tm_error *err)
{
    memset(st, 0, sizeof *st);
    if (!parent->image || !parent->ecall || opts->record_max < 64)
        return tm_error_set(err, EINVAL, "strawman fork: no parent enclave or no room for records");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return tm_error_sys(err, "strawman fork: socketpair");
    _cleanup_close_ int sock = sv[0];
    double t0 = tm_now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[1]);
        return tm_error_sys(err, "strawman fork: fork");
    }
    if (pid == 0) {
        close(sv[0]);
        sock = -1;
        strawman_child(parent, opts, sv[1], child);
        return 0;
    }
    close(sv[1]);

    int ret = strawman_parent_run(parent, opts, sock, st, err);
    struct strawman_done done = { .status = -EPROTO };
    ssize_t n = -1;
    if (ret == 0) {
        n = strawman_recv(sock, MSG_DONE, &done, sizeof done, err);
        if (n >= 0 && n != sizeof done)
            n = tm_error_set(err, EPROTO, "strawman: the child's report is %zd bytes", n);
        if (n >= 0 && done.status < 0) {
            done.msg[sizeof done.msg - 1] = '\0';
            n = tm_error_set(err, -done.status, "strawman child: %s", done.msg);
        }
    }
    if (ret < 0 || n < 0) {
        /* The child we made, perhaps waiting on us: it must not outlive the failure. */
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return ret < 0 ? ret : (int)n;
    }
    st->fork_ms = done.start_ms - t0;
    st->build_ms = done.built_ms - done.start_ms;
    st->channel_ms = done.channel_ms - done.built_ms;
    st->copy_ms = done.done_ms - done.channel_ms;
    st->total_ms = done.done_ms - t0;
    return pid;
}

int tm_strawman_fork(struct tm_strawman_enclave *parent, const struct tm_strawman_options *opts,
                     struct tm_strawman_stats *st, tm_error *err)
{
    if (!parent->enclave) {
        memset(st, 0, sizeof *st);
        return tm_error_set(err, EINVAL, "strawman fork: no parent enclave or no room for records");
    }
    struct tm_strawman_parent p = { .image = parent->image, .sigstruct = parent->sigstruct,
                                    .ops = parent->ops, .ecall = strawman_enclave_ecall,
                                    .ecall_ctx = parent };
    struct tm_strawman_enclave child;
    pid_t pid = tm_strawman_fork_start(&p, opts, st, &child, err);
    if (pid < 0)
        return pid;
    if (pid == 0) {   /* the child's enclave holds the data: nothing more to do */
        tm_strawman_stop(&child);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return tm_error_set(err, ECHILD, "strawman child: ended with status 0x%x", status);
    return 0;
}
