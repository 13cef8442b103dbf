/* KV_ECALL_BATCH (kv_abi.h): every record of the host's batch is checked
 * before anything runs (a malformed batch is -EINVAL and changes nothing);
 * then connections are made, fed and dropped in order, the cron runs if
 * asked, and the replies of every client with output go out as records. What
 * does not fit out_cap stays inside (KV_OUT_PENDING) for the next call. */
#include <errno.h>
#include <string.h>

#include "kv_entry.h"
#include "kv_server.h"

#define KV_IN_ALL (KV_IN_NEW | KV_IN_DATA | KV_IN_GONE)

static int kv_batch_check(const uint8_t *in, size_t in_len)
{
    struct kv_batch_in head;
    if (in_len < sizeof head)
        return -EINVAL;
    memcpy(&head, in, sizeof head);
    size_t off = sizeof head;
    for (uint32_t i = 0; i < head.count; i++) {
        struct kv_client_in rec;
        if (in_len - off < sizeof rec)
            return -EINVAL;
        memcpy(&rec, in + off, sizeof rec);
        if (rec.id == 0 || (rec.flags & ~KV_IN_ALL) || rec.len > in_len - off - sizeof rec)
            return -EINVAL;
        if (rec.len && !(rec.flags & (KV_IN_NEW | KV_IN_DATA)))
            return -EINVAL;   /* bytes without a meaning */
        if ((rec.flags & KV_IN_NEW) && (rec.flags & KV_IN_DATA))
            return -EINVAL;   /* a NEW record's bytes are its addresses: data comes apart */
        uint64_t size = KV_RECORD_SIZE(rec.len);
        off = size > in_len - off ? in_len : off + (size_t)size;   /* last one may be unpadded */
    }
    return 0;
}

void kv_client_schedule_close(struct kv_client *c)
{
    c->flags |= KV_CLIENT_CLOSE_ASAP;
    kv_client_mark_pending(c);
}

static void kv_batch_record(const uint8_t *p, const struct kv_client_in *rec)
{
    struct kv_client *c = kv_client_find(rec->id);
    const uint8_t *data = p + sizeof *rec;
    size_t len = rec->len;
    if (rec->flags & KV_IN_NEW) {
        if (!c)
            c = kv_client_new(rec->id, (const char *)data, len);
        len = 0;
    }
    if (!c)
        return;   /* already closed inside: what the host still had is dropped */
    if ((rec->flags & KV_IN_DATA) && len)
        kv_client_feed(c, data, len);   /* closes it past kv_client_output_limit() */
    if (rec->flags & KV_IN_GONE)
        kv_client_free(c);
    else if (c->flags & KV_CLIENT_CLOSE_ASAP)
        kv_client_mark_pending(c);
}

/* One client's record: as many of its bytes as fit. Returns bytes used, 0
 * when not even a header fits. */
static size_t kv_batch_emit(struct kv_client *c, uint8_t *out, size_t room, bool *done)
{
    struct kv_client_core *cc = c->core;
    *done = false;
    if (room < sizeof(struct kv_client_out))
        return 0;
    size_t pending = cc->out_len - cc->out_sent;
    bool asap = c->flags & KV_CLIENT_CLOSE_ASAP;
    if (asap)
        pending = 0;   /* closed now: what it did not take is dropped */
    size_t fit = (room - sizeof(struct kv_client_out)) & ~(size_t)7;
    size_t n = pending < fit ? pending : fit;
    if (n > UINT32_MAX - 8)
        n = (UINT32_MAX - 8) & ~(size_t)7;
    struct kv_client_out rec = { .id = c->id, .flags = 0, .len = (uint32_t)n };
    memcpy(out + sizeof rec, cc->out + cc->out_sent, n);
    cc->out_sent += n;
    kv_server()->stat_net_out += n;
    if (n == pending) {
        *done = true;
        if (asap || (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY))
            rec.flags |= KV_OUT_CLOSE;
        cc->out_len = cc->out_sent = 0;
        if (cc->out_cap > 64 * 1024) {
            kv_free(cc->out);
            cc->out = NULL;
            cc->out_cap = 0;
        }
    } else {
        rec.flags |= KV_OUT_PENDING;
    }
    memcpy(out, &rec, sizeof rec);
    size_t size = (size_t)KV_RECORD_SIZE(n);
    memset(out + sizeof rec + n, 0, size - sizeof rec - n);
    return size;
}

static size_t kv_batch_output(uint8_t *out, size_t out_cap, uint32_t *count)
{
    struct kv_server *s = kv_server();
    size_t off = sizeof(struct kv_batch_out);
    struct kv_client *keep_head = NULL, *keep_tail = NULL;
    *count = 0;
    while (s->write_head) {
        struct kv_client *c = s->write_head;
        s->write_head = c->core->write_next;
        if (!s->write_head)
            s->write_tail = NULL;
        c->core->write_next = NULL;
        bool done = false;
        size_t used = kv_batch_emit(c, out + off, out_cap - off, &done);
        if (used) {
            off += used;
            (*count)++;
        }
        if (done) {
            c->flags &= ~KV_CLIENT_PENDING_WRITE;
            if (c->flags & (KV_CLIENT_CLOSE_ASAP | KV_CLIENT_CLOSE_AFTER_REPLY))
                kv_client_free(c);
            continue;
        }
        if (keep_tail)
            keep_tail->core->write_next = c;
        else
            keep_head = c;
        keep_tail = c;
    }
    s->write_head = keep_head;
    s->write_tail = keep_tail;
    return off;
}

int kv_batch(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    struct kv_server *s = kv_server();
    if (!s)
        return -ENOENT;
    if (out_cap < sizeof(struct kv_batch_out) || kv_batch_check(in, in_len) < 0)
        return -EINVAL;
    const uint8_t *p = in;
    struct kv_batch_in head;
    memcpy(&head, p, sizeof head);
    s->now_us = (int64_t)head.now_us;
    s->now_ms = (int64_t)(head.now_us / 1000);
    size_t off = sizeof head;
    for (uint32_t i = 0; i < head.count; i++) {
        struct kv_client_in rec;
        memcpy(&rec, p + off, sizeof rec);
        kv_batch_record(p + off, &rec);
        uint64_t size = KV_RECORD_SIZE(rec.len);
        off = size > in_len - off ? in_len : off + (size_t)size;
    }
    if (head.flags & KV_BATCH_CRON) {
        kv_expire_cycle();
        kv_db_cron();
        kv_save_cron();
    }
    uint32_t count;
    size_t len = kv_batch_output(out, out_cap, &count);
    struct kv_batch_out bo = { .count = count, .flags = s->shutdown ? KV_SERVER_SHUTDOWN : 0 };
    if (s->persist.bgsave_pending) {
        bo.flags |= KV_SERVER_BGSAVE;   /* the host takes it now */
        s->persist.bgsave_pending = false;
    }
    memcpy(out, &bo, sizeof bo);
    *out_len = len;
    return 0;
}
