/* The strawman BGSAVE inside (kv_abi.h, KV_ECALL_STRAWMAN_*): the parent's
 * store streamed to a child's brand-new enclave over the attested channel,
 * then written by the child from its copy. Enclave only (tm_channel).
 *
 * kv_rdb_save pushes bytes and kv_rdb_load pulls them, so each side runs in
 * ONE ecall and the records cross in its ocalls: the writer's sink seals a
 * chunk and hands it out (SEND), the loader's source asks for the next
 * record when its chunk is used up (RECV). Neither side keeps a copy of the
 * whole stream nor state between ecalls; the parent's host relays each
 * record as it comes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kv_entry.h"
#include "kv_persist.h"
#include "kv_server.h"
#include "teemate_enclave.h"

/* The channel of a strawman fork lives from OFFER to the end of EXPORT or
 * IMPORT. The parent keeps it in its store (a channel a failed fork left is
 * freed by the next OFFER). A child's fresh enclave has no store before its
 * IMPORT: static memory then, one entry per slot (a private enclave's static
 * memory is its own; in a shared one, which every attached process sees, a
 * store comes first). */
#define KV_STRAWMAN_SLOTS 64
static struct tm_channel *kv_strawman_channels[KV_STRAWMAN_SLOTS];

static struct tm_channel **kv_strawman_channel(void)
{
    struct kv_server *s = kv_server();
    if (s)
        return &s->strawman_channel;
    int slot = tm_slot_current();
    return slot >= 0 && slot < KV_STRAWMAN_SLOTS ? &kv_strawman_channels[slot] : NULL;
}

static void kv_strawman_end(struct tm_channel **ch)
{
    tm_channel_free(*ch);
    *ch = NULL;
}

TM_ECALL(kv_strawman_self_target, KV_ECALL_STRAWMAN_SELF_TARGET)
{
    if (out_cap < sizeof(struct sgx_targetinfo))
        return -EINVAL;
    int r = tm_self_target(out);
    if (r == 0)
        *out_len = sizeof(struct sgx_targetinfo);
    return r;
}

TM_ECALL(kv_strawman_offer, KV_ECALL_STRAWMAN_OFFER)
{
    struct tm_channel **ch = kv_strawman_channel();
    if (!ch)
        return -ENOTCONN;
    if (in_len != sizeof(struct sgx_targetinfo) || out_cap < sizeof(struct tm_channel_offer))
        return -EINVAL;
    if (kv_server())
        kv_strawman_end(ch);   /* a failed fork's */
    *ch = NULL;
    int r = tm_channel_offer(in, ch, out);
    if (r == 0)
        *out_len = sizeof(struct tm_channel_offer);
    return r;
}

TM_ECALL(kv_strawman_accept, KV_ECALL_STRAWMAN_ACCEPT)
{
    struct tm_channel **ch = kv_strawman_channel();
    if (!ch || !*ch)
        return -ENOTCONN;
    if (in_len != sizeof(struct tm_channel_offer))
        return -EINVAL;
    int r = tm_channel_accept(*ch, in);
    if (r < 0)
        kv_strawman_end(ch);
    return r;
}

/* ---- the parent: a sink that seals chunks and hands them out */
struct kv_strawman_out {
    struct tm_channel *ch;
    uint8_t *chunk, *record;
    size_t used;
};

static int kv_strawman_send(struct kv_strawman_out *o, const void *p, size_t n)
{
    size_t len = 0;
    int r = tm_channel_seal(o->ch, p, n, o->record, KV_STRAWMAN_RECORD_MAX, &len);
    if (r < 0)
        return r;
    long sent = tm_ocall_app(KV_OCALL_STRAWMAN_SEND, o->record, len, NULL, 0, NULL);
    return sent < 0 ? (int)sent : 0;
}

static int kv_strawman_out_write(void *arg, const void *p, size_t n)
{
    struct kv_strawman_out *o = arg;
    const uint8_t *b = p;
    while (n) {
        size_t take = KV_STRAWMAN_CHUNK - o->used;
        take = take < n ? take : n;
        memcpy(o->chunk + o->used, b, take);
        o->used += take;
        b += take;
        n -= take;
        if (o->used == KV_STRAWMAN_CHUNK) {
            int r = kv_strawman_send(o, o->chunk, o->used);
            if (r < 0)
                return r;
            o->used = 0;
        }
    }
    return 0;
}

static int kv_strawman_export_stream(struct kv_strawman_out *o, const struct kv_snapshot *snap)
{
    const struct kv_server *s = kv_server();
    int r = kv_strawman_send(o, &s->config, sizeof s->config);
    struct kv_sink sink = { kv_strawman_out_write, o };
    if (r == 0)
        r = kv_rdb_save(snap, &sink);
    if (r == 0 && o->used)
        r = kv_strawman_send(o, o->chunk, o->used);
    if (r == 0)
        r = kv_strawman_send(o, NULL, 0);   /* the end */
    return r;
}

TM_ECALL(kv_strawman_export, KV_ECALL_STRAWMAN_EXPORT)
{
    struct tm_channel **ch = kv_strawman_channel();
    struct kv_server *s = kv_server();
    if (!ch || !*ch)
        return -ENOTCONN;
    if (!s) {
        kv_strawman_end(ch);
        return -ENOENT;
    }
    /* BGSAVE's snapshot; else the keyspace as it is (nothing runs meanwhile) */
    struct kv_snapshot *view = s->snapshot ? NULL : kv_snapshot_view(false);
    struct kv_strawman_out o = { .ch = *ch, .chunk = kv_platform_alloc(KV_STRAWMAN_CHUNK),
                                 .record = kv_platform_alloc(KV_STRAWMAN_RECORD_MAX) };
    int r = o.chunk && o.record ? kv_strawman_export_stream(&o, view ? view : s->snapshot)
                                : -ENOMEM;
    if (o.chunk)
        memset(o.chunk, 0, KV_STRAWMAN_CHUNK);   /* plaintext of the store */
    kv_platform_free(o.chunk);
    kv_platform_free(o.record);
    if (view)
        kv_free(view);
    else if (r == 0)
        kv_snapshot_release();   /* the copy is out: the parent writes freely again */
    kv_strawman_end(ch);
    return r;
}

/* ---- the child: a source that asks for records and opens them */
struct kv_strawman_in {
    struct tm_channel *ch;
    uint8_t *chunk, *record;
    size_t len, pos;
    bool ended;            /* the empty record came */
};

/* The next record into chunk: its length (0: the end record). */
static long kv_strawman_recv(struct kv_strawman_in *in)
{
    if (in->ended)
        return -ENODATA;
    size_t rec_len = 0, len = 0;
    long got = tm_ocall_app(KV_OCALL_STRAWMAN_RECV, NULL, 0, in->record, KV_STRAWMAN_RECORD_MAX,
                            &rec_len);
    if (got < 0)
        return got;
    if ((size_t)got != rec_len)
        return -EPROTO;
    int r = tm_channel_open(in->ch, in->record, rec_len, in->chunk, KV_STRAWMAN_CHUNK, &len);
    if (r < 0)
        return r;
    in->len = len;
    in->pos = 0;
    in->ended = len == 0;
    return (long)len;
}

static int kv_strawman_in_read(void *arg, void *p, size_t n)
{
    struct kv_strawman_in *in = arg;
    uint8_t *b = p;
    while (n) {
        if (in->pos == in->len) {
            long r = kv_strawman_recv(in);
            if (r < 0)
                return (int)r;
            if (r == 0)
                return -ENODATA;   /* the stream ended inside the RDB */
        }
        size_t take = in->len - in->pos < n ? in->len - in->pos : n;
        memcpy(b, in->chunk + in->pos, take);
        in->pos += take;
        b += take;
        n -= take;
    }
    return 0;
}

static int kv_strawman_fail(void *out, size_t out_cap, size_t *out_len, int r, const char *msg)
{
    if (out_cap) {
        int n = snprintf(out, out_cap, "%s", msg);
        *out_len = n < 0 ? 0 : (size_t)n < out_cap ? (size_t)n + 1 : out_cap;
    }
    return r;
}

static int kv_strawman_import_stream(struct kv_strawman_in *in, char *err, size_t err_len)
{
    struct kv_config config;
    long got = kv_strawman_recv(in);
    if (got >= 0 && (size_t)got != sizeof config)
        got = -EPROTO;
    if (got < 0) {
        snprintf(err, err_len, "the parent's settings did not come (%s)", strerror((int)-got));
        return (int)got;
    }
    memcpy(&config, in->chunk, sizeof config);
    size_t unused = 0;
    int r = kv_start(&config, sizeof config, NULL, 0, &unused);
    if (r == 0 && kv_keys_total())
        r = -EEXIST;   /* not a fresh enclave */
    if (r < 0) {
        snprintf(err, err_len, "cannot start the child's store (%s)", strerror(-r));
        return r;
    }
    in->pos = in->len;   /* the settings are used up */
    struct kv_source src = { kv_strawman_in_read, in };
    if ((r = kv_rdb_load(&src, err, err_len)) < 0)
        return r;
    /* nothing may follow the RDB but the end record */
    if (in->pos != in->len || (got = kv_strawman_recv(in)) != 0) {
        snprintf(err, err_len, "data after the end of the RDB stream");
        return got < 0 ? (int)got : -EPROTO;
    }
    return 0;
}

TM_ECALL(kv_strawman_import, KV_ECALL_STRAWMAN_IMPORT)
{
    struct tm_channel **ch = kv_strawman_channel();
    if (!ch || !*ch)
        return -ENOTCONN;
    struct kv_strawman_in st = { .ch = *ch, .chunk = kv_platform_alloc(KV_STRAWMAN_CHUNK),
                                 .record = kv_platform_alloc(KV_STRAWMAN_RECORD_MAX) };
    char err[256] = "out of memory";
    int r = st.chunk && st.record ? kv_strawman_import_stream(&st, err, sizeof err) : -ENOMEM;
    if (st.chunk)
        memset(st.chunk, 0, KV_STRAWMAN_CHUNK);
    kv_platform_free(st.chunk);
    kv_platform_free(st.record);
    kv_strawman_end(ch);
    if (r < 0) {
        if (kv_server())
            kv_db_empty(NULL, -1);   /* never half a copy */
        return kv_strawman_fail(out, out_cap, out_len, r, err);
    }
    return 1;
}

TM_ECALL(kv_strawman_write, KV_ECALL_STRAWMAN_WRITE)
{
    if (!kv_server())
        return -ENOENT;
    return kv_save_now(false);
}
