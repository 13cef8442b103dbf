/* Data in a container slot: the image behind the fork benchmark. A container
 * fills its slot with a pattern; a TeeMate-forked child reads the parent's
 * copy in place (the parent's slot, mapped read-only); a strawman child, in
 * an enclave of its own, receives it over an attested channel. Ecalls and
 * the pattern: slotdata.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <teemate_enclave.h>

#include "slotdata.h"

/* A slot holds 1 GiB of data plus the allocator's and the ecalls' buffers;
 * three slots: a parent, its forked child and one spare. */
TM_ENCLAVE_LAYOUT(.enclave_size = TM_GiB(4), .tcs_count = 4, .nssa = 2, .ssa_frame_pages = 1,
                  .stack_size = TM_KiB(128), .heap_size = TM_MiB(4), .slot_count = 3,
                  .slot_size = TM_MiB(1088), );

/* The slot root: everything this container keeps, found again from any ecall. */
struct slotdata_root {
    uint8_t *data;
    uint64_t len;
    uint64_t checksum;
    const struct slotdata_root *parent;   /* forked child: the parent's root (read-only) */
    struct tm_channel *channel;           /* strawman fork */
    bool header_done;                     /* EXPORT: {length, checksum} sent; IMPORT: received */
    bool complete;                        /* IMPORT: all data in and checked */
    uint64_t offset;                      /* EXPORT / IMPORT progress */
    uint64_t expected;                    /* IMPORT: the checksum the parent sent */
};

/* The header record of a transfer. */
struct slotdata_header {
    uint64_t len;
    uint64_t checksum;
};

static struct slotdata_root *slotdata_root(void)
{
    if (tm_slot_current() < 0)
        return NULL;   /* no slot, nowhere to keep data */
    struct slotdata_root *root = tm_slot_root();
    if (!root && (root = calloc(1, sizeof *root)) != NULL)
        tm_slot_set_root(root);
    return root;
}

/* Four independent FNV-style lanes over 64-bit words: fast, and any changed,
 * moved or missing word changes the result. */
static uint64_t slotdata_checksum(const uint8_t *p, uint64_t len)
{
    const uint64_t prime = 0x100000001b3ULL;
    uint64_t h[4] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL, 0x9ce484222325cbf2ULL,
                      0x2325cbf29ce48422ULL };
    uint64_t i = 0;
    for (; i + 32 <= len; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof w);
        for (int k = 0; k < 4; k++)
            h[k] = (h[k] ^ w[k]) * prime;
    }
    for (; i < len; i++)
        h[0] = (h[0] ^ p[i]) * prime;
    uint64_t sum = len;
    for (int k = 0; k < 4; k++)
        sum = (sum ^ h[k]) * prime + (sum >> 29);
    return sum;
}

static void slotdata_pattern(uint8_t *p, uint64_t len, uint64_t seed)
{
    uint64_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = tm_slotdata_word(seed, i / 8);
        memcpy(p + i, &w, 8);
    }
    if (i < len) {
        uint64_t w = tm_slotdata_word(seed, i / 8);
        memcpy(p + i, &w, len - i);
    }
}

static void slotdata_drop(struct slotdata_root *root)
{
    free(root->data);
    root->data = NULL;
    root->len = root->checksum = 0;
}

TM_ECALL(fill, TM_SLOTDATA_FILL)
{
    struct slotdata_root *root = slotdata_root();
    struct tm_slotdata_fill f;
    if (!root)
        return -ENOTCONN;
    if (in_len != sizeof f || out_cap < 8)
        return -EINVAL;
    memcpy(&f, in, sizeof f);
    slotdata_drop(root);
    if (f.bytes && (root->data = malloc(f.bytes)) == NULL)
        return -ENOMEM;
    slotdata_pattern(root->data, f.bytes, f.seed);
    root->len = f.bytes;
    root->checksum = slotdata_checksum(root->data, f.bytes);
    memcpy(out, &root->checksum, 8);
    *out_len = 8;
    return 0;
}

static int slotdata_sum_out(const struct slotdata_root *r, void *out, size_t out_cap, size_t *out_len)
{
    if (out_cap < sizeof(struct tm_slotdata_sum))
        return -EINVAL;
    struct tm_slotdata_sum s = { .checksum = slotdata_checksum(r->data, r->len), .bytes = r->len };
    memcpy(out, &s, sizeof s);
    *out_len = sizeof s;
    return 0;
}

TM_ECALL(checksum, TM_SLOTDATA_CHECKSUM)
{
    struct slotdata_root *root = slotdata_root();
    return root ? slotdata_sum_out(root, out, out_cap, out_len) : -ENOTCONN;
}

/* The runtime's fork hook (TM_ECALL_FORK_CHILD): remember the parent's root. */
int tm_on_fork(const void *parent_root)
{
    struct slotdata_root *root = slotdata_root();
    if (!root)
        return -ENOMEM;
    root->parent = parent_root;
    return 0;
}

TM_ECALL(parent_checksum, TM_SLOTDATA_PARENT_CHECKSUM)
{
    struct slotdata_root *root = slotdata_root();
    if (!root)
        return -ENOTCONN;
    const struct slotdata_root *parent = root->parent ? root->parent : tm_slot_parent_root();
    if (!parent)
        return -ENOENT;
    struct slotdata_root snapshot;   /* the parent may change it meanwhile: read it once */
    memcpy(&snapshot, parent, sizeof snapshot);
    return slotdata_sum_out(&snapshot, out, out_cap, out_len);
}

TM_ECALL(self_target, TM_SLOTDATA_SELF_TARGET)
{
    if (out_cap < sizeof(struct sgx_targetinfo))
        return -EINVAL;
    int r = tm_self_target(out);
    if (r == 0)
        *out_len = sizeof(struct sgx_targetinfo);
    return r;
}

TM_ECALL(channel_offer, TM_SLOTDATA_CHANNEL_OFFER)
{
    struct slotdata_root *root = slotdata_root();
    if (!root)
        return -ENOTCONN;
    if (in_len != sizeof(struct sgx_targetinfo) || out_cap < sizeof(struct tm_channel_offer))
        return -EINVAL;
    tm_channel_free(root->channel);
    root->channel = NULL;
    root->header_done = root->complete = false;
    root->offset = 0;
    int r = tm_channel_offer(in, &root->channel, out);
    if (r == 0)
        *out_len = sizeof(struct tm_channel_offer);
    return r;
}

TM_ECALL(channel_accept, TM_SLOTDATA_CHANNEL_ACCEPT)
{
    struct slotdata_root *root = slotdata_root();
    if (!root || !root->channel)
        return -ENOTCONN;
    if (in_len != sizeof(struct tm_channel_offer))
        return -EINVAL;
    return tm_channel_accept(root->channel, in);
}

TM_ECALL(export, TM_SLOTDATA_EXPORT)
{
    struct slotdata_root *root = slotdata_root();
    if (!root || !root->channel)
        return -ENOTCONN;
    int r;
    if (!root->header_done) {
        struct slotdata_header h = { .len = root->len, .checksum = root->checksum };
        r = tm_channel_seal(root->channel, &h, sizeof h, out, out_cap, out_len);
        root->header_done = r == 0;
        root->offset = 0;
    } else {
        uint64_t n = root->len - root->offset;
        n = n < TM_SLOTDATA_CHUNK ? n : TM_SLOTDATA_CHUNK;
        if (n == 0)
            return -EINVAL;   /* everything was sent */
        r = tm_channel_seal(root->channel, root->data + root->offset, n, out, out_cap, out_len);
        if (r == 0)
            root->offset += n;
    }
    if (r < 0)
        return r;
    return root->offset == root->len;
}

/* The header record: room for the data (this slot's, replacing what it had). */
static int slotdata_import_header(struct slotdata_root *root, const void *in, size_t in_len)
{
    struct slotdata_header h;
    size_t n = 0;
    int r = tm_channel_open(root->channel, in, in_len, &h, sizeof h, &n);
    if (r < 0)
        return r;
    if (n != sizeof h)
        return -EBADMSG;
    slotdata_drop(root);
    if (h.len && (root->data = malloc(h.len)) == NULL)
        return -ENOMEM;
    root->len = h.len;
    root->expected = h.checksum;
    root->offset = 0;
    root->header_done = true;
    return 0;
}

TM_ECALL(import, TM_SLOTDATA_IMPORT)
{
    struct slotdata_root *root = slotdata_root();
    if (!root || !root->channel)
        return -ENOTCONN;
    if (root->complete)
        return -EINVAL;
    int r;
    if (!root->header_done) {
        r = slotdata_import_header(root, in, in_len);
    } else {
        size_t n = 0;   /* decrypted straight into the slot's data */
        r = tm_channel_open(root->channel, in, in_len, root->data + root->offset,
                            root->len - root->offset, &n);
        if (r == 0 && n == 0)
            r = -EBADMSG;   /* an empty chunk: the sender is not ours */
        if (r == 0)
            root->offset += n;
    }
    if (r < 0 || root->offset < root->len)
        return r;
    root->checksum = slotdata_checksum(root->data, root->len);
    if (root->checksum != root->expected)
        return -EBADMSG;
    root->complete = true;
    return 1;
}
