/* A secure channel between two enclaves of the same image on this machine:
 * local attestation (EREPORT targeted at the peer) binds an ephemeral P-256
 * ECDH key to each side; HKDF-SHA256 turns the shared secret into one
 * AES-128-GCM key per direction; records carry sequence numbers. Protocol:
 * sdk/include/teemate_enclave.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecdh.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "sgx_arch.h"
#include "teemate_enclave.h"
#include "tm_runtime.h"

#define TM_CHANNEL_NONCE 32
#define TM_CHANNEL_KEY 16
#define TM_CHANNEL_IV_PREFIX 4
#define TM_CHANNEL_LABEL "TeeMate channel v1"

enum tm_channel_state { TM_CHANNEL_OFFERED, TM_CHANNEL_OPEN, TM_CHANNEL_CLOSED };

struct tm_channel_direction {
    mbedtls_gcm_context gcm;
    uint8_t iv_prefix[TM_CHANNEL_IV_PREFIX];
    uint64_t seq;   /* of the next record */
};

struct tm_channel {
    enum tm_channel_state state;
    mbedtls_ecp_group group;
    mbedtls_mpi secret;   /* ephemeral private key, dropped once the keys exist */
    uint8_t public_key[TM_CHANNEL_PUBLIC_KEY_SIZE];
    uint8_t nonce[TM_CHANNEL_NONCE];
    struct sgx_report_body self;   /* this enclave's identity */
    struct tm_channel_direction send, recv;
};

struct tm_channel_record_header {
    uint64_t seq;
    uint64_t len;
};

_Static_assert(sizeof(struct tm_channel_record_header) == TM_CHANNEL_RECORD_HEADER, "header");

/* mbedTLS's f_rng: the CPU's RDRAND, never the host. */
static int tm_channel_random(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = tm_random_u64();
        memcpy(out + i, &v, len - i < 8 ? len - i : 8);
    }
    return 0;
}

static void tm_channel_close(struct tm_channel *ch)
{
    ch->state = TM_CHANNEL_CLOSED;
    mbedtls_mpi_free(&ch->secret);   /* zeroizes */
    mbedtls_gcm_free(&ch->send.gcm);
    mbedtls_gcm_free(&ch->recv.gcm);
}

void tm_channel_free(struct tm_channel *ch)
{
    if (!ch)
        return;
    tm_channel_close(ch);
    mbedtls_ecp_group_free(&ch->group);
    mbedtls_platform_zeroize(ch, sizeof *ch);
    free(ch);
}

int tm_channel_offer(const struct sgx_targetinfo *peer, struct tm_channel **channel,
                     struct tm_channel_offer *offer)
{
    struct tm_channel *ch = calloc(1, sizeof *ch);
    if (!ch)
        return -ENOMEM;
    ch->state = TM_CHANNEL_OFFERED;
    mbedtls_ecp_group_init(&ch->group);
    mbedtls_mpi_init(&ch->secret);
    mbedtls_gcm_init(&ch->send.gcm);
    mbedtls_gcm_init(&ch->recv.gcm);

    struct sgx_report self;
    int r = tm_report(NULL, NULL, &self);
    ch->self = self.body;
    mbedtls_ecp_point q;
    mbedtls_ecp_point_init(&q);
    size_t olen = 0;
    if (r == 0 &&
        (mbedtls_ecp_group_load(&ch->group, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
         mbedtls_ecdh_gen_public(&ch->group, &ch->secret, &q, tm_channel_random, NULL) != 0 ||
         mbedtls_ecp_point_write_binary(&ch->group, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                        ch->public_key, sizeof ch->public_key) != 0 ||
         olen != sizeof ch->public_key))
        r = -EIO;
    mbedtls_ecp_point_free(&q);

    /* report data = SHA-256(public key) || nonce: the MAC binds both to us */
    uint8_t data[64];
    tm_channel_random(NULL, ch->nonce, sizeof ch->nonce);
    if (r == 0 && mbedtls_sha256_ret(ch->public_key, sizeof ch->public_key, data, 0) != 0)
        r = -EIO;
    memcpy(data + 32, ch->nonce, sizeof ch->nonce);
    struct tm_channel_offer o;
    memset(&o, 0, sizeof o);
    memcpy(o.public_key, ch->public_key, sizeof o.public_key);
    if (r == 0)
        r = tm_report(peer, data, &o.report);
    if (r < 0) {
        tm_channel_free(ch);
        return r;
    }
    *offer = o;
    *channel = ch;
    return 0;
}

/* Is the peer's report one this enclave can trust as its own kind? */
static int tm_channel_check_peer(const struct tm_channel *ch, const struct tm_channel_offer *peer)
{
    int r = tm_report_verify(&peer->report);
    if (r < 0)
        return r == -EBADMSG ? -EBADMSG : r;
    const struct sgx_report_body *b = &peer->report.body;
    /* Same code, same signer, and a debug enclave never gets a production one's data. */
    if (memcmp(b->mrenclave, ch->self.mrenclave, sizeof b->mrenclave) ||
        memcmp(b->mrsigner, ch->self.mrsigner, sizeof b->mrsigner) ||
        b->attributes.flags != ch->self.attributes.flags)
        return -EPERM;
    uint8_t hash[32];
    if (mbedtls_sha256_ret(peer->public_key, sizeof peer->public_key, hash, 0) != 0)
        return -EIO;
    if (memcmp(hash, b->report_data, sizeof hash))
        return -EBADMSG;
    /* Our own offer reflected back by the host shares our nonce. */
    if (!memcmp(b->report_data + 32, ch->nonce, sizeof ch->nonce) ||
        !memcmp(peer->public_key, ch->public_key, sizeof ch->public_key))
        return -EBADMSG;
    return 0;
}

/* ECDH, then both directions' keys from HKDF over the transcript. */
static int tm_channel_derive(struct tm_channel *ch, const struct tm_channel_offer *peer)
{
    const uint8_t *peer_nonce = peer->report.body.report_data + 32;
    bool self_low = memcmp(ch->nonce, peer_nonce, TM_CHANNEL_NONCE) < 0;
    mbedtls_ecp_point q;
    mbedtls_mpi z;
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&z);
    uint8_t shared[32];
    int r = 0;
    if (mbedtls_ecp_point_read_binary(&ch->group, &q, peer->public_key,
                                      sizeof peer->public_key) != 0 ||
        mbedtls_ecp_check_pubkey(&ch->group, &q) != 0)
        r = -EBADMSG;
    else if (mbedtls_ecdh_compute_shared(&ch->group, &z, &q, &ch->secret, tm_channel_random,
                                         NULL) != 0 ||
             mbedtls_mpi_write_binary(&z, shared, sizeof shared) != 0)
        r = -EIO;
    mbedtls_ecp_point_free(&q);
    mbedtls_mpi_free(&z);
    if (r < 0)
        return r;

    /* salt = nonce_low || nonce_high; info = label || MRENCLAVE_low ||
     * MRENCLAVE_high || key_low || key_high */
    const uint8_t *lo_nonce = self_low ? ch->nonce : peer_nonce;
    const uint8_t *hi_nonce = self_low ? peer_nonce : ch->nonce;
    const uint8_t *lo_mr = self_low ? ch->self.mrenclave : peer->report.body.mrenclave;
    const uint8_t *hi_mr = self_low ? peer->report.body.mrenclave : ch->self.mrenclave;
    const uint8_t *lo_key = self_low ? ch->public_key : peer->public_key;
    const uint8_t *hi_key = self_low ? peer->public_key : ch->public_key;
    uint8_t salt[2 * TM_CHANNEL_NONCE];
    uint8_t info[sizeof TM_CHANNEL_LABEL - 1 + 2 * 32 + 2 * TM_CHANNEL_PUBLIC_KEY_SIZE];
    size_t at = 0;
    memcpy(salt, lo_nonce, TM_CHANNEL_NONCE);
    memcpy(salt + TM_CHANNEL_NONCE, hi_nonce, TM_CHANNEL_NONCE);
    memcpy(info + at, TM_CHANNEL_LABEL, sizeof TM_CHANNEL_LABEL - 1);
    at += sizeof TM_CHANNEL_LABEL - 1;
    memcpy(info + at, lo_mr, 32), at += 32;
    memcpy(info + at, hi_mr, 32), at += 32;
    memcpy(info + at, lo_key, TM_CHANNEL_PUBLIC_KEY_SIZE), at += TM_CHANNEL_PUBLIC_KEY_SIZE;
    memcpy(info + at, hi_key, TM_CHANNEL_PUBLIC_KEY_SIZE), at += TM_CHANNEL_PUBLIC_KEY_SIZE;

    /* okm = key low->high | key high->low | IV prefix low->high | high->low */
    uint8_t okm[2 * TM_CHANNEL_KEY + 2 * TM_CHANNEL_IV_PREFIX];
    const mbedtls_md_info_t *sha256 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (!sha256 || mbedtls_hkdf(sha256, salt, sizeof salt, shared, sizeof shared, info, at, okm,
                                sizeof okm) != 0)
        r = -EIO;
    const uint8_t *send_key = okm + (self_low ? 0 : TM_CHANNEL_KEY);
    const uint8_t *recv_key = okm + (self_low ? TM_CHANNEL_KEY : 0);
    const uint8_t *ivs = okm + 2 * TM_CHANNEL_KEY;
    if (r == 0 &&
        (mbedtls_gcm_setkey(&ch->send.gcm, MBEDTLS_CIPHER_ID_AES, send_key, 128) != 0 ||
         mbedtls_gcm_setkey(&ch->recv.gcm, MBEDTLS_CIPHER_ID_AES, recv_key, 128) != 0))
        r = -EIO;
    memcpy(ch->send.iv_prefix, ivs + (self_low ? 0 : TM_CHANNEL_IV_PREFIX), TM_CHANNEL_IV_PREFIX);
    memcpy(ch->recv.iv_prefix, ivs + (self_low ? TM_CHANNEL_IV_PREFIX : 0), TM_CHANNEL_IV_PREFIX);
    mbedtls_platform_zeroize(shared, sizeof shared);
    mbedtls_platform_zeroize(okm, sizeof okm);
    return r;
}

int tm_channel_accept(struct tm_channel *ch, const struct tm_channel_offer *offer)
{
    if (ch->state != TM_CHANNEL_OFFERED)
        return ch->state == TM_CHANNEL_CLOSED ? -EPIPE : -EINVAL;
    struct tm_channel_offer peer;   /* one read of the caller's bytes */
    memcpy(&peer, offer, sizeof peer);
    int r = tm_channel_check_peer(ch, &peer);
    if (r == 0)
        r = tm_channel_derive(ch, &peer);
    mbedtls_mpi_free(&ch->secret);   /* ephemeral: forward secrecy */
    if (r < 0) {
        tm_channel_close(ch);
        return r;
    }
    ch->state = TM_CHANNEL_OPEN;
    return 0;
}

static void tm_channel_iv(const struct tm_channel_direction *d, uint64_t seq, uint8_t iv[12])
{
    memcpy(iv, d->iv_prefix, TM_CHANNEL_IV_PREFIX);
    memcpy(iv + TM_CHANNEL_IV_PREFIX, &seq, sizeof seq);
}

int tm_channel_seal(struct tm_channel *ch, const void *data, size_t len, void *record,
                    size_t record_cap, size_t *record_len)
{
    if (ch->state != TM_CHANNEL_OPEN)
        return ch->state == TM_CHANNEL_CLOSED ? -EPIPE : -EINVAL;
    if (record_cap < TM_CHANNEL_RECORD_OVERHEAD || len > record_cap - TM_CHANNEL_RECORD_OVERHEAD)
        return -ENOBUFS;
    if (ch->send.seq == UINT64_MAX) {   /* an IV must never repeat */
        tm_channel_close(ch);
        return -EPIPE;
    }
    struct tm_channel_record_header h = { .seq = ch->send.seq, .len = len };
    uint8_t iv[12];
    tm_channel_iv(&ch->send, h.seq, iv);
    uint8_t *out = record;
    memcpy(out, &h, sizeof h);
    if (mbedtls_gcm_crypt_and_tag(&ch->send.gcm, MBEDTLS_GCM_ENCRYPT, len, iv, sizeof iv,
                                  (const uint8_t *)&h, sizeof h, data, out + sizeof h,
                                  TM_CHANNEL_RECORD_TAG, out + sizeof h + len) != 0)
        return -EIO;
    ch->send.seq++;
    *record_len = len + TM_CHANNEL_RECORD_OVERHEAD;
    return 0;
}

int tm_channel_open(struct tm_channel *ch, const void *record, size_t record_len, void *data,
                    size_t data_cap, size_t *data_len)
{
    if (ch->state != TM_CHANNEL_OPEN)
        return ch->state == TM_CHANNEL_CLOSED ? -EPIPE : -EINVAL;
    struct tm_channel_record_header h;
    if (record_len < TM_CHANNEL_RECORD_OVERHEAD)
        goto refuse;
    memcpy(&h, record, sizeof h);
    if (h.len != record_len - TM_CHANNEL_RECORD_OVERHEAD || h.seq != ch->recv.seq)
        goto refuse;   /* truncated, replayed, reordered or dropped */
    if (h.len > data_cap)
        return -ENOBUFS;   /* the caller's buffer: the channel stays open */
    uint8_t iv[12];
    tm_channel_iv(&ch->recv, h.seq, iv);
    const uint8_t *in = (const uint8_t *)record + sizeof h;
    /* mbedTLS zeroes data when the tag does not match */
    if (mbedtls_gcm_auth_decrypt(&ch->recv.gcm, h.len, iv, sizeof iv, (const uint8_t *)&h,
                                 sizeof h, in + h.len, TM_CHANNEL_RECORD_TAG, in, data) != 0)
        goto refuse;
    ch->recv.seq++;
    *data_len = h.len;
    return 0;
refuse:
    tm_channel_close(ch);
    return -EBADMSG;
}
