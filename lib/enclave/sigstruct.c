#include "enclave/sigstruct.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>
#include <time.h>

#include "enclave/key.h"
#include "util/cleanup.h"
#include "util/hex.h"

static const uint8_t sigstruct_header[16] = SGX_SIGSTRUCT_HEADER;
static const uint8_t sigstruct_header2[16] = SGX_SIGSTRUCT_HEADER2;

/* DER of DigestInfo { sha256, NULL, OCTET STRING (32 bytes) } without the hash
 * (RFC 8017, section 9.2, note 1). */
static const uint8_t sha256_digest_info[19] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

static void bn_freep(BIGNUM **p) { BN_free(*p); }
static void bn_ctx_freep(BN_CTX **p) { BN_CTX_free(*p); }
static void pkey_ctx_freep(EVP_PKEY_CTX **p) { EVP_PKEY_CTX_free(*p); }
static void md_ctx_freep(EVP_MD_CTX **p) { EVP_MD_CTX_free(*p); }

void tm_sign_options_default(struct tm_sign_options *o)
{
    /* A flags mask of all ones makes EINIT compare DEBUG and MODE64BIT exactly
     * (INIT is 0 on both sides at EINIT time). */
    *o = (struct tm_sign_options){
        .xfrm = SGX_XFRM_LEGACY,
        .xfrm_mask = SGX_XFRM_LEGACY,
        .attributes_mask = ~0ULL,
        .miscmask = ~0U,
    };
}

static uint32_t bcd(unsigned value, unsigned digits)
{
    uint32_t r = 0;
    for (unsigned i = 0; i < digits; i++, value /= 10)
        r |= (uint32_t)(value % 10) << (4 * i);
    return r;
}

static uint32_t bcd_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return bcd((unsigned)tm.tm_year + 1900, 4) << 16 | bcd((unsigned)tm.tm_mon + 1, 2) << 8 |
           bcd((unsigned)tm.tm_mday, 2);
}

static void reverse_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = src[len - 1 - i];
}

static int sigstruct_check_fixed(const struct sgx_sigstruct *ss, tm_error *err)
{
    char hex[33];
    if (memcmp(ss->header.header, sigstruct_header, sizeof(sigstruct_header)))
        return tm_error_set(err, EINVAL, "SIGSTRUCT HEADER is %s, not 06000000e10000000000010000000000",
                            tm_hex(hex, ss->header.header, 16));
    if (memcmp(ss->header.header2, sigstruct_header2, sizeof(sigstruct_header2)))
        return tm_error_set(err, EINVAL, "SIGSTRUCT HEADER2 is %s, not 01010000600000006000000001000000",
                            tm_hex(hex, ss->header.header2, 16));
    if (ss->exponent != 3)
        return tm_error_set(err, EINVAL, "SIGSTRUCT exponent is %u, SGX needs 3", ss->exponent);
    return 0;
}

/* SHA-256 of the signed bytes: header (0..127) then body (900..1027). */
static int sigstruct_digest(const struct sgx_sigstruct *ss, uint8_t hash[32], tm_error *err)
{
    _cleanup_(md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(md, &ss->header, sizeof(ss->header)) ||
        !EVP_DigestUpdate(md, &ss->body, sizeof(ss->body)) ||
        !EVP_DigestFinal_ex(md, hash, &len) || len != 32)
        return tm_error_openssl(err, EIO, "SHA-256 of the SIGSTRUCT failed");
    return 0;
}

/* EMSA-PKCS1-v1_5 (RFC 8017, 9.2): 00 01 FF..FF 00 || DigestInfo || hash. */
static int sigstruct_encoded_message(const struct sgx_sigstruct *ss, uint8_t em[SGX_MODULUS_SIZE],
                                     tm_error *err)
{
    enum { TAIL = sizeof(sha256_digest_info) + SGX_HASH_SIZE };
    int ret = sigstruct_digest(ss, em + SGX_MODULUS_SIZE - SGX_HASH_SIZE, err);
    if (ret < 0)
        return ret;
    em[0] = 0x00;
    em[1] = 0x01;
    memset(em + 2, 0xff, SGX_MODULUS_SIZE - TAIL - 3);
    em[SGX_MODULUS_SIZE - TAIL - 1] = 0x00;
    memcpy(em + SGX_MODULUS_SIZE - TAIL, sha256_digest_info, sizeof(sha256_digest_info));
    return 0;
}

/* What EINIT computes with e = 3: s^2 = q1*n + r and s*r = q2*n + m, so
 * m = s^3 mod n, q1 = floor(s^2 / n) and q2 = floor((s^3 - q1*s*n) / n). */
static int rsa_cube(const BIGNUM *s, const BIGNUM *n, BIGNUM *q1, BIGNUM *q2, BIGNUM *m,
                    BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *t = BN_CTX_get(ctx), *r = BN_CTX_get(ctx);
    int ok = t && r && BN_sqr(t, s, ctx) && BN_div(q1, r, t, n, ctx) && BN_mul(t, s, r, ctx) &&
             BN_div(q2, m, t, n, ctx);
    BN_CTX_end(ctx);
    return ok;
}

int tm_sigstruct_verify(const struct sgx_sigstruct *ss, tm_error *err)
{
    int ret = sigstruct_check_fixed(ss, err);
    if (ret < 0)
        return ret;
    _cleanup_(bn_ctx_freep) BN_CTX *ctx = BN_CTX_new();
    _cleanup_(bn_freep) BIGNUM *n = BN_lebin2bn(ss->modulus, SGX_MODULUS_SIZE, NULL);
    _cleanup_(bn_freep) BIGNUM *s = BN_lebin2bn(ss->signature, SGX_MODULUS_SIZE, NULL);
    _cleanup_(bn_freep) BIGNUM *q1 = BN_new();
    _cleanup_(bn_freep) BIGNUM *q2 = BN_new();
    _cleanup_(bn_freep) BIGNUM *m = BN_new();
    if (!ctx || !n || !s || !q1 || !q2 || !m)
        return tm_error_openssl(err, ENOMEM, "cannot verify the SIGSTRUCT");
    if (BN_num_bits(n) != 8 * SGX_MODULUS_SIZE || !BN_is_odd(n))
        return tm_error_set(err, EKEYREJECTED, "modulus is not an odd 3072-bit number");
    if (BN_cmp(s, n) >= 0)
        return tm_error_set(err, EKEYREJECTED, "signature is not less than the modulus");
    if (!rsa_cube(s, n, q1, q2, m, ctx))
        return tm_error_openssl(err, ENOMEM, "cannot verify the SIGSTRUCT");

    uint8_t got[SGX_MODULUS_SIZE], want[SGX_MODULUS_SIZE];
    ret = sigstruct_encoded_message(ss, want, err);
    if (ret < 0)
        return ret;
    if (BN_bn2binpad(m, got, sizeof(got)) < 0 || memcmp(got, want, sizeof(want)))
        return tm_error_set(err, EKEYREJECTED, "signature does not verify");
    if (BN_bn2lebinpad(q1, got, sizeof(got)) < 0 || memcmp(got, ss->q1, sizeof(got)))
        return tm_error_set(err, EKEYREJECTED, "Q1 is wrong");
    if (BN_bn2lebinpad(q2, got, sizeof(got)) < 0 || memcmp(got, ss->q2, sizeof(got)))
        return tm_error_set(err, EKEYREJECTED, "Q2 is wrong");
    return 0;
}

static void sigstruct_fill(struct sgx_sigstruct *ss, const uint8_t mrenclave[32],
                           const struct tm_sign_options *o)
{
    memset(ss, 0, sizeof(*ss));
    memcpy(ss->header.header, sigstruct_header, sizeof(sigstruct_header));
    ss->header.vendor = o->vendor;
    ss->header.date = o->date ? o->date : bcd_today();
    memcpy(ss->header.header2, sigstruct_header2, sizeof(sigstruct_header2));
    ss->exponent = 3;
    struct sgx_sigstruct_body *b = &ss->body;
    b->miscselect = o->miscselect;
    b->miscmask = o->miscmask;
    b->attributes.flags = SGX_ATTR_MODE64BIT | (o->debug ? SGX_ATTR_DEBUG : 0);
    b->attributes.xfrm = o->xfrm;
    b->attributes_mask.flags = o->attributes_mask;
    b->attributes_mask.xfrm = o->xfrm_mask;
    memcpy(b->enclave_hash, mrenclave, SGX_HASH_SIZE);
    b->isv_prod_id = o->isv_prod_id;
    b->isv_svn = o->isv_svn;
}

/* RSA PKCS#1 v1.5 signature of SHA-256(header || body), big-endian. */
static int sigstruct_rsa_sign(const struct sgx_sigstruct *ss, EVP_PKEY *key,
                              uint8_t sig[SGX_MODULUS_SIZE], tm_error *err)
{
    uint8_t hash[SGX_HASH_SIZE];
    int ret = sigstruct_digest(ss, hash, err);
    if (ret < 0)
        return ret;
    _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t len = SGX_MODULUS_SIZE;
    if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_sign(ctx, sig, &len, hash, sizeof(hash)) <= 0)
        return tm_error_openssl(err, EIO, "RSA signing failed");
    if (len != SGX_MODULUS_SIZE)
        return tm_error_set(err, EIO, "RSA signature is %zu bytes, expected 384", len);
    return 0;
}

int tm_sigstruct_sign(struct sgx_sigstruct *ss, const uint8_t mrenclave[32],
                      const struct tm_sign_options *o, EVP_PKEY *key, tm_error *err)
{
    int ret = tm_key_check(key, "signing key", err);
    if (ret < 0)
        return ret;
    sigstruct_fill(ss, mrenclave, o);

    _cleanup_(bn_ctx_freep) BN_CTX *ctx = BN_CTX_new();
    _cleanup_(bn_freep) BIGNUM *n = NULL;
    if (!ctx || !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
        BN_bn2lebinpad(n, ss->modulus, SGX_MODULUS_SIZE) < 0)
        return tm_error_openssl(err, EINVAL, "cannot read the key's modulus");

    uint8_t sig[SGX_MODULUS_SIZE];
    ret = sigstruct_rsa_sign(ss, key, sig, err);
    if (ret < 0)
        return ret;
    reverse_copy(ss->signature, sig, SGX_MODULUS_SIZE);

    _cleanup_(bn_freep) BIGNUM *s = BN_bin2bn(sig, SGX_MODULUS_SIZE, NULL);
    _cleanup_(bn_freep) BIGNUM *q1 = BN_new();
    _cleanup_(bn_freep) BIGNUM *q2 = BN_new();
    _cleanup_(bn_freep) BIGNUM *m = BN_new();
    if (!s || !q1 || !q2 || !m || !rsa_cube(s, n, q1, q2, m, ctx) ||
        BN_bn2lebinpad(q1, ss->q1, SGX_MODULUS_SIZE) < 0 ||
        BN_bn2lebinpad(q2, ss->q2, SGX_MODULUS_SIZE) < 0)
        return tm_error_openssl(err, ENOMEM, "cannot compute Q1 and Q2");

    /* Check our own work the way EINIT will, so a bad SIGSTRUCT never leaves here. */
    ret = tm_sigstruct_verify(ss, err);
    return ret < 0 ? tm_error_prefix(err, "new SIGSTRUCT fails its own check") : 0;
}

int tm_sigstruct_parse(struct sgx_sigstruct *ss, const uint8_t *data, size_t len, tm_error *err)
{
    if (len != sizeof(*ss))
        return tm_error_set(err, EINVAL, "SIGSTRUCT must be %zu bytes, got %zu", sizeof(*ss), len);
    memcpy(ss, data, sizeof(*ss));
    return sigstruct_check_fixed(ss, err);
}

void tm_sigstruct_mrsigner(const struct sgx_sigstruct *ss, uint8_t mrsigner[32])
{
    /* Only fails when out of memory; zeros then are never a real MRSIGNER. */
    if (!EVP_Digest(ss->modulus, sizeof(ss->modulus), mrsigner, NULL, EVP_sha256(), NULL))
        memset(mrsigner, 0, SGX_HASH_SIZE);
}
