/* KV_ECALL_LOAD: the dump the host opened, read through its file calls, into
 * the empty store at start. In the enclave only a sealed dump is taken (a
 * plain one is brought in with `teemate kv import`); natively only a plain
 * one (nothing could unseal it). Any failure leaves the store empty and says
 * why in out. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kv_entry.h"
#include "kv_persist.h"
#include "kv_server.h"

/* The file, with its first bytes read ahead to tell sealed from plain. */
struct kv_load_file {
    uint8_t head[8];
    size_t head_len, head_pos;
};

static int kv_load_read(void *arg, void *p, size_t n)
{
    struct kv_load_file *f = arg;
    uint8_t *dst = p;
    while (n && f->head_pos < f->head_len) {
        *dst++ = f->head[f->head_pos++];
        n--;
    }
    struct kv_source rest = kv_file_source();
    return n ? rest.read(rest.arg, dst, n) : 0;
}

static int kv_load_fail(void *out, size_t out_cap, size_t *out_len, int r, const char *msg)
{
    if (out_cap) {
        int n = snprintf(out, out_cap, "%s", msg);
        *out_len = n < 0 ? 0 : (size_t)n < out_cap ? (size_t)n : out_cap - 1;
    }
    return r;
}

int kv_load(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    (void)in_len;
    *out_len = 0;
    if (!kv_server())
        return -ENOENT;
    if (kv_keys_total())
        return kv_load_fail(out, out_cap, out_len, -EEXIST, "the store is not empty");
    struct kv_load_file f = { 0 };
    struct kv_source file = { kv_load_read, &f };
    char err[256] = "";
    int r = kv_load_read(&f, f.head, sizeof f.head);
    f.head_len = sizeof f.head;   /* handed out again first */
    if (r < 0)
        return kv_load_fail(out, out_cap, out_len, r == -ENODATA ? -EINVAL : r,
                            r == -ENODATA ? "too short to be a dump" : "cannot read it");
    bool sealed = memcmp(f.head, KV_SEALED_MAGIC, 8) == 0;
    if (sealed != kv_platform_seals())
        return kv_load_fail(out, out_cap, out_len, -EINVAL,
                            sealed ? "a sealed dump: only the enclave's store can read it"
                                   : "not a sealed dump (a plain RDB? bring it in with "
                                     "`teemate kv import`)");
    if (!sealed) {
        r = kv_rdb_load(&file, err, sizeof err);
        return r < 0 ? kv_load_fail(out, out_cap, out_len, r, err) : 0;
    }
    struct kv_sealed *reader = NULL;
    struct kv_source plain;
    r = kv_sealed_reader_new(&file, &reader, &plain);
    if (r == 0) {
        r = kv_rdb_load(&plain, err, sizeof err);
        if (r == 0 && (r = kv_sealed_reader_finish(reader)) < 0)
            snprintf(err, sizeof err, "data after the end of the dump");
    } else {
        snprintf(err, sizeof err, "%s", r == -EBADMSG ? "sealed file does not authenticate" : "bad sealed header");
    }
    kv_sealed_free(reader);
    if (r < 0) {
        kv_db_empty(NULL, -1);   /* never half-loaded */
        if (r == -EBADMSG)
            snprintf(err, sizeof err, "sealed file does not authenticate (tampered, truncated, "
                                      "or sealed by another signer)");
        return kv_load_fail(out, out_cap, out_len, r, err);
    }
    kv_server()->dirty = 0;
    return 0;
}
