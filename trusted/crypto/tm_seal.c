/* Sealing: AES-128-GCM (mbedTLS) under an EGETKEY SEAL key. The key request's
 * variable parts (key id, CPUSVN, ISVSVN, policy) travel in the blob's header
 * so that the same key can be derived again; the header is the GCM's
 * additional data, so none of it can be changed without unseal noticing. */
#include <errno.h>
#include <string.h>

#include <mbedtls/gcm.h>

#include "sgx_arch.h"
#include "teemate_enclave.h"
#include "tm_runtime.h"

/* Which attributes the key depends on (as Intel's SDK: INIT, DEBUG, MODE64BIT;
 * a debug enclave never gets a production enclave's key). */
#define TM_SEAL_ATTRIBUTE_MASK (SGX_ATTR_INIT | SGX_ATTR_DEBUG | SGX_ATTR_MODE64BIT)
#define TM_SEAL_MISC_MASK 0xF0000000U

static void tm_seal_random(uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = tm_random_u64();
        memcpy(out + i, &v, len - i < 8 ? len - i : 8);
    }
}

static int tm_seal_key(const struct tm_sealed_header *h, uint8_t key[16])
{
    struct sgx_keyrequest kr;
    memset(&kr, 0, sizeof kr);
    kr.key_name = SGX_KEY_SEAL;
    kr.key_policy = h->policy;
    kr.isv_svn = h->isv_svn;
    memcpy(kr.cpu_svn, h->cpu_svn, sizeof kr.cpu_svn);
    kr.attribute_mask.flags = TM_SEAL_ATTRIBUTE_MASK;
    memcpy(kr.key_id, h->key_id, sizeof kr.key_id);
    kr.misc_mask = TM_SEAL_MISC_MASK;
    return tm_getkey(&kr, key);
}

static bool tm_seal_policy_ok(uint16_t policy)
{
    return policy == SGX_KEYPOLICY_MRENCLAVE || policy == SGX_KEYPOLICY_MRSIGNER;
}

int tm_seal(uint16_t policy, const void *data, size_t len, void *blob, size_t blob_cap,
            size_t *blob_len)
{
    if (!tm_seal_policy_ok(policy))
        return -EINVAL;
    if (len > SIZE_MAX - sizeof(struct tm_sealed_header) || blob_cap < tm_sealed_size(len))
        return -ENOBUFS;
    struct sgx_report self;
    int r = tm_report(NULL, NULL, &self);
    if (r < 0)
        return r;

    struct tm_sealed_header h;
    memset(&h, 0, sizeof h);
    h.magic = TM_SEALED_MAGIC;
    h.version = 1;
    h.policy = policy;
    memcpy(h.cpu_svn, self.body.cpu_svn, sizeof h.cpu_svn);
    h.isv_svn = self.body.isv_svn;
    tm_seal_random(h.key_id, sizeof h.key_id);
    tm_seal_random(h.iv, sizeof h.iv);
    h.payload_len = len;

    uint8_t key[16];
    if ((r = tm_seal_key(&h, key)) < 0)
        return r;
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    r = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128);
    uint8_t *out = (uint8_t *)blob + sizeof h;
    if (r == 0)
        r = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, h.iv, sizeof h.iv,
                                      (const uint8_t *)&h, offsetof(struct tm_sealed_header, tag),
                                      data, out, sizeof h.tag, h.tag);
    mbedtls_gcm_free(&gcm);
    memset(key, 0, sizeof key);
    if (r != 0)
        return -EIO;
    memcpy(blob, &h, sizeof h);
    *blob_len = tm_sealed_size(len);
    return 0;
}

int tm_unseal(const void *blob, size_t blob_len, void *data, size_t data_cap, size_t *data_len)
{
    struct tm_sealed_header h;
    if (blob_len < sizeof h)
        return -EBADMSG;
    memcpy(&h, blob, sizeof h);
    if (h.magic != TM_SEALED_MAGIC || h.version != 1 || !tm_seal_policy_ok(h.policy) ||
        h.payload_len != blob_len - sizeof h)
        return -EBADMSG;
    if (h.payload_len > data_cap)
        return -ENOBUFS;

    uint8_t key[16];
    int r = tm_seal_key(&h, key);
    if (r < 0)
        return r == -EACCES ? -EBADMSG : r;   /* e.g. an SVN from a newer enclave */
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    r = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128);
    if (r == 0)
        r = mbedtls_gcm_auth_decrypt(&gcm, h.payload_len, h.iv, sizeof h.iv, (const uint8_t *)&h,
                                     offsetof(struct tm_sealed_header, tag), h.tag, sizeof h.tag,
                                     (const uint8_t *)blob + sizeof h, data);
    mbedtls_gcm_free(&gcm);
    memset(key, 0, sizeof key);
    if (r != 0) {
        memset(data, 0, h.payload_len);   /* nothing unauthenticated stays behind */
        return -EBADMSG;
    }
    *data_len = h.payload_len;
    return 0;
}
