/* SIGSTRUCT signing and verification, signing keys. The signature is also
 * checked with OpenSSL's own RSA verification, independently of our EINIT-style
 * check, and Q1/Q2 with the SDM's formulas written out literally. */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enclave/key.h"
#include "enclave/sigstruct.h"
#include "harness.h"
#include "util/cleanup.h"
#include "util/hex.h"

static void bn_freep(BIGNUM **p) { BN_free(*p); }
static void bn_ctx_freep(BN_CTX **p) { BN_CTX_free(*p); }
static void pkey_ctx_freep(EVP_PKEY_CTX **p) { EVP_PKEY_CTX_free(*p); }

static EVP_PKEY *test_key;   /* RSA-3072, e = 3: generated once, freed in main */
static char tmpdir[] = "/tmp/tm-test-sigstruct.XXXXXX";
static const uint8_t test_mrenclave[32] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

static EVP_PKEY *signing_key(void)
{
    tm_error err = { 0 };
    if (!test_key && tm_key_generate(&test_key, &err) < 0)
        fprintf(stderr, "  key generation: %s\n", err.msg);
    REQUIRE(test_key);
    return test_key;
}

/* A SIGSTRUCT over test_mrenclave with the default options. */
static void sign_default(struct sgx_sigstruct *ss)
{
    struct tm_sign_options o;
    tm_sign_options_default(&o);
    tm_error err = { 0 };
    int ret = tm_sigstruct_sign(ss, test_mrenclave, &o, signing_key(), &err);
    if (ret < 0)
        fprintf(stderr, "  sign: %s\n", err.msg);
    REQUIRE(ret == 0);
}

static EVP_PKEY *generate_rsa(unsigned bits, unsigned long e)
{
    _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    _cleanup_(bn_freep) BIGNUM *exp = BN_new();
    EVP_PKEY *key = NULL;
    REQUIRE(ctx && exp && BN_set_word(exp, e));
    REQUIRE(EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) > 0 &&
            EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, exp) > 0 && EVP_PKEY_generate(ctx, &key) > 0);
    return key;
}

static void tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

/* ---- tests ---- */

static void test_sign_and_verify(void)
{
    struct sgx_sigstruct ss;
    sign_default(&ss);
    tm_error err = { 0 };
    int ret = tm_sigstruct_verify(&ss, &err);
    if (ret < 0)
        fprintf(stderr, "  verify: %s\n", err.msg);
    CHECK_EQ_INT(ret, 0);
    static const uint8_t header[16] = SGX_SIGSTRUCT_HEADER, header2[16] = SGX_SIGSTRUCT_HEADER2;
    CHECK(!memcmp(ss.header.header, header, 16));
    CHECK(!memcmp(ss.header.header2, header2, 16));
    CHECK_EQ_INT(ss.header.vendor, 0);
    CHECK_EQ_INT(ss.exponent, 3);
    CHECK(!memcmp(ss.body.enclave_hash, test_mrenclave, 32));
    CHECK_EQ_INT(ss.body.attributes.flags, SGX_ATTR_MODE64BIT);
    CHECK_EQ_INT(ss.body.attributes.xfrm, SGX_XFRM_LEGACY);
    CHECK(ss.body.attributes_mask.flags == ~0ULL);
    CHECK_EQ_INT(ss.body.attributes_mask.xfrm, SGX_XFRM_LEGACY);
    CHECK_EQ_INT(ss.body.miscselect, 0);
    CHECK_EQ_INT(ss.body.miscmask, 0xffffffffU);
}

static void test_options_are_signed(void)
{
    struct tm_sign_options o;
    tm_sign_options_default(&o);
    o.debug = true;
    o.isv_prod_id = 0x1234;
    o.isv_svn = 7;
    o.miscselect = SGX_MISC_EXINFO;
    o.xfrm = 0x7;
    o.date = 0x20240229;
    o.vendor = 0x8086;
    struct sgx_sigstruct ss;
    tm_error err = { 0 };
    REQUIRE(tm_sigstruct_sign(&ss, test_mrenclave, &o, signing_key(), &err) == 0);
    CHECK_EQ_INT(tm_sigstruct_verify(&ss, &err), 0);
    CHECK_EQ_INT(ss.body.attributes.flags, SGX_ATTR_MODE64BIT | SGX_ATTR_DEBUG);
    CHECK_EQ_INT(ss.body.isv_prod_id, 0x1234);
    CHECK_EQ_INT(ss.body.isv_svn, 7);
    CHECK_EQ_INT(ss.body.miscselect, SGX_MISC_EXINFO);
    CHECK_EQ_INT(ss.body.attributes.xfrm, 0x7);
    CHECK_EQ_INT(ss.header.date, 0x20240229);
    CHECK_EQ_INT(ss.header.vendor, 0x8086);
}

/* Any change to a signed byte, the signature, the modulus or Q1/Q2 must fail.
 * Only reserved4 (1028..1039) is outside all of them, as in EINIT. */
static void test_every_byte_flip_fails(void)
{
    struct sgx_sigstruct ss;
    sign_default(&ss);
    const size_t reserved4 = offsetof(struct sgx_sigstruct, reserved4);
    int escaped = 0;
    for (size_t i = 0; i < sizeof(ss); i++) {
        struct sgx_sigstruct bad = ss;
        ((uint8_t *)&bad)[i] ^= 0x01;
        tm_error err = { 0 };
        bool unchecked = i >= reserved4 && i < reserved4 + sizeof(ss.reserved4);
        if ((tm_sigstruct_verify(&bad, &err) == 0) != unchecked) {
            fprintf(stderr, "  byte %zu: verify %s\n", i, unchecked ? "failed" : "passed");
            escaped++;
        }
    }
    CHECK_EQ_INT(escaped, 0);
}

static void test_verify_messages(void)
{
    struct sgx_sigstruct ss, bad;
    sign_default(&ss);
    tm_error err = { 0 };
    bad = ss;
    bad.signature[5] ^= 0x80;
    CHECK(tm_sigstruct_verify(&bad, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "signature does not verify");
    bad = ss;
    bad.body.isv_svn++;
    CHECK(tm_sigstruct_verify(&bad, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "signature does not verify");
    bad = ss;
    bad.q1[0] ^= 1;
    CHECK(tm_sigstruct_verify(&bad, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "Q1 is wrong");
    bad = ss;
    bad.q2[383] ^= 1;
    CHECK(tm_sigstruct_verify(&bad, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "Q2 is wrong");
    bad = ss;
    bad.exponent = 65537;
    CHECK(tm_sigstruct_verify(&bad, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "exponent is 65537");
    bad = ss;
    memcpy(bad.signature, bad.modulus, sizeof(bad.signature));   /* s = n */
    CHECK(tm_sigstruct_verify(&bad, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "not less than the modulus");
}

/* OpenSSL's RSA verification, with a public key built from the SIGSTRUCT's own
 * modulus: checks signature, byte order and modulus at once. */
static void test_openssl_verifies(void)
{
    struct sgx_sigstruct ss;
    sign_default(&ss);
    uint8_t data[256], hash[32], sig_be[384], n_be[384];
    memcpy(data, &ss.header, 128);
    memcpy(data + 128, &ss.body, 128);
    REQUIRE(EVP_Digest(data, sizeof(data), hash, NULL, EVP_sha256(), NULL));
    for (size_t i = 0; i < 384; i++) {
        sig_be[i] = ss.signature[383 - i];
        n_be[i] = ss.modulus[383 - i];
    }
    _cleanup_(bn_freep) BIGNUM *n = BN_bin2bn(n_be, sizeof(n_be), NULL);
    _cleanup_(bn_freep) BIGNUM *e = BN_new();
    REQUIRE(n && e && BN_set_word(e, ss.exponent));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    REQUIRE(bld);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    OSSL_PARAM_BLD_free(bld);
    _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    _cleanup_key_ EVP_PKEY *pub = NULL;
    int ok = params && fctx && EVP_PKEY_fromdata_init(fctx) > 0 &&
             EVP_PKEY_fromdata(fctx, &pub, EVP_PKEY_PUBLIC_KEY, params) > 0;
    OSSL_PARAM_free(params);
    REQUIRE(ok);

    _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
    REQUIRE(ctx && EVP_PKEY_verify_init(ctx) > 0 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0);
    CHECK_EQ_INT(EVP_PKEY_verify(ctx, sig_be, sizeof(sig_be), hash, sizeof(hash)), 1);
    hash[0] ^= 1;
    CHECK(EVP_PKEY_verify(ctx, sig_be, sizeof(sig_be), hash, sizeof(hash)) != 1);
    /* The modulus is the signing key's. */
    _cleanup_(bn_freep) BIGNUM *key_n = NULL;
    REQUIRE(EVP_PKEY_get_bn_param(signing_key(), OSSL_PKEY_PARAM_RSA_N, &key_n));
    CHECK_EQ_INT(BN_cmp(n, key_n), 0);
}

/* Q1 = floor(S^2 / M), Q2 = floor((S^3 - Q1*S*M) / M), written out literally. */
static void test_q1_q2(void)
{
    struct sgx_sigstruct ss;
    sign_default(&ss);
    _cleanup_(bn_ctx_freep) BN_CTX *ctx = BN_CTX_new();
    _cleanup_(bn_freep) BIGNUM *s = BN_lebin2bn(ss.signature, 384, NULL);
    _cleanup_(bn_freep) BIGNUM *m = BN_lebin2bn(ss.modulus, 384, NULL);
    _cleanup_(bn_freep) BIGNUM *s2 = BN_new();
    _cleanup_(bn_freep) BIGNUM *s3 = BN_new();
    _cleanup_(bn_freep) BIGNUM *q1 = BN_new();
    _cleanup_(bn_freep) BIGNUM *q2 = BN_new();
    _cleanup_(bn_freep) BIGNUM *t = BN_new();
    REQUIRE(ctx && s && m && s2 && s3 && q1 && q2 && t);
    REQUIRE(BN_mul(s2, s, s, ctx) && BN_mul(s3, s2, s, ctx));
    REQUIRE(BN_div(q1, NULL, s2, m, ctx));
    REQUIRE(BN_mul(t, q1, s, ctx) && BN_mul(t, t, m, ctx) && BN_sub(t, s3, t));
    REQUIRE(BN_div(q2, NULL, t, m, ctx));
    uint8_t want[384];
    REQUIRE(BN_bn2lebinpad(q1, want, sizeof(want)) == 384);
    CHECK(!memcmp(want, ss.q1, 384));
    REQUIRE(BN_bn2lebinpad(q2, want, sizeof(want)) == 384);
    CHECK(!memcmp(want, ss.q2, 384));
}

static void test_mrsigner(void)
{
    struct sgx_sigstruct ss;
    sign_default(&ss);
    uint8_t got[32], want[32];
    tm_sigstruct_mrsigner(&ss, got);
    REQUIRE(EVP_Digest(ss.modulus, sizeof(ss.modulus), want, NULL, EVP_sha256(), NULL));
    CHECK(!memcmp(got, want, 32));
}

static void test_parse(void)
{
    struct sgx_sigstruct ss, out;
    sign_default(&ss);
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_sigstruct_parse(&out, (const uint8_t *)&ss, sizeof(ss), &err), 0);
    CHECK(!memcmp(&out, &ss, sizeof(ss)));

    uint8_t big[sizeof(ss) + 1];
    memcpy(big, &ss, sizeof(ss));
    big[sizeof(ss)] = 0;
    CHECK(tm_sigstruct_parse(&out, big, sizeof(big), &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "SIGSTRUCT must be 1808 bytes, got 1809");
    CHECK(tm_sigstruct_parse(&out, big, sizeof(ss) - 1, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "got 1807");
    CHECK(tm_sigstruct_parse(&out, big, 0, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "got 0");

    struct sgx_sigstruct bad = ss;
    bad.header.header[4] = 0xe2;
    CHECK(tm_sigstruct_parse(&out, (const uint8_t *)&bad, sizeof(bad), &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "HEADER is");
    bad = ss;
    bad.header.header2[12] = 0;
    CHECK(tm_sigstruct_parse(&out, (const uint8_t *)&bad, sizeof(bad), &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "HEADER2 is");
    bad = ss;
    bad.exponent = 65537;
    CHECK(tm_sigstruct_parse(&out, (const uint8_t *)&bad, sizeof(bad), &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "exponent is 65537, SGX needs 3");
}

static void test_key_save_and_load(void)
{
    char path[256];
    tmp_path(path, sizeof(path), "good.pem");
    tm_error err = { 0 };
    REQUIRE(tm_key_save(signing_key(), path, &err) == 0);
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    _cleanup_key_ EVP_PKEY *loaded = NULL;
    int ret = tm_key_load(path, &loaded, &err);
    if (ret < 0)
        fprintf(stderr, "  load: %s\n", err.msg);
    REQUIRE(ret == 0);
    CHECK_EQ_INT(EVP_PKEY_eq(loaded, signing_key()), 1);
    FILE *f = fopen(path, "r");
    char line[64] = "";
    REQUIRE(f);
    CHECK(fgets(line, sizeof(line), f) != NULL);
    fclose(f);
    CHECK_STR_CONTAINS(line, "-----BEGIN PRIVATE KEY-----");
}

/* Save key under name, load it back and expect an error containing want. */
static void check_load_fails(EVP_PKEY *key, const char *name, const char *want)
{
    char path[256], expected[512];
    tmp_path(path, sizeof(path), name);
    tm_error err = { 0 };
    REQUIRE(tm_key_save(key, path, &err) == 0);
    _cleanup_key_ EVP_PKEY *loaded = NULL;
    CHECK(tm_key_load(path, &loaded, &err) < 0);
    CHECK(loaded == NULL);
    snprintf(expected, sizeof(expected), "%s: %s", path, want);
    CHECK_STR_CONTAINS(err.msg, expected);
}

static void test_key_load_rejects(void)
{
    _cleanup_key_ EVP_PKEY *small = generate_rsa(2048, 3);
    check_load_fails(small, "rsa2048.pem", "RSA key has 2048 bits, SGX needs 3072");
    _cleanup_key_ EVP_PKEY *e65537 = generate_rsa(3072, 65537);
    check_load_fails(e65537, "e65537.pem", "public exponent is 65537, SGX needs 3");
    _cleanup_key_ EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    REQUIRE(ec);
    check_load_fails(ec, "ec.pem", "EC key, SGX needs RSA-3072");

    /* Signing refuses such keys too. */
    struct sgx_sigstruct ss;
    struct tm_sign_options o;
    tm_sign_options_default(&o);
    tm_error err = { 0 };
    CHECK(tm_sigstruct_sign(&ss, test_mrenclave, &o, e65537, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "public exponent is 65537");

    char path[256], expected[512];
    tmp_path(path, sizeof(path), "not.pem");
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("hello\n", f);
    fclose(f);
    _cleanup_key_ EVP_PKEY *loaded = NULL;
    CHECK(tm_key_load(path, &loaded, &err) < 0);
    snprintf(expected, sizeof(expected), "%s: not a PEM private key", path);
    CHECK_STR_CONTAINS(err.msg, expected);

    /* An encrypted key fails without asking for a passphrase. */
    tmp_path(path, sizeof(path), "encrypted.pem");
    f = fopen(path, "w");
    REQUIRE(f);
    CHECK(PEM_write_PrivateKey(f, signing_key(), EVP_aes_256_cbc(), (unsigned char *)"secret", 6,
                               NULL, NULL));
    fclose(f);
    CHECK(tm_key_load(path, &loaded, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "not a PEM private key (it is encrypted");
}

static uint32_t today_bcd(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char buf[16];
    strftime(buf, sizeof(buf), "%Y%m%d", &tm);
    return (uint32_t)strtoul(buf, NULL, 16);   /* decimal digits read as BCD */
}

static void test_default_date(void)
{
    uint32_t before = today_bcd();
    struct sgx_sigstruct ss;
    sign_default(&ss);
    uint32_t after = today_bcd();
    uint32_t d = ss.header.date;
    for (int shift = 0; shift < 32; shift += 4)
        CHECK(((d >> shift) & 0xf) <= 9);
    CHECK(((d >> 8) & 0xff) >= 0x01 && ((d >> 8) & 0xff) <= 0x12);
    CHECK((d & 0xff) >= 0x01 && (d & 0xff) <= 0x31);
    CHECK(d >> 16 >= 0x2024);
    CHECK(d == before || d == after);
}

/* Print into memory; returns a malloc'ed string. */
static char *print_to_string(const struct sgx_sigstruct *ss, bool json)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    REQUIRE(f);
    tm_error err = { 0 };
    int ret = tm_sigstruct_print(f, ss, json, &err);
    fclose(f);
    CHECK_EQ_INT(ret, 0);
    return buf;
}

static void test_print(void)
{
    struct sgx_sigstruct ss;
    sign_default(&ss);
    char mr_hex[65], signer_hex[65];
    uint8_t signer[32];
    tm_hex(mr_hex, test_mrenclave, 32);
    tm_sigstruct_mrsigner(&ss, signer);
    tm_hex(signer_hex, signer, 32);

    _cleanup_free_ char *text = print_to_string(&ss, false);
    CHECK_STR_CONTAINS(text, "signature: valid\n");
    CHECK_STR_CONTAINS(text, "(MODE64BIT)");
    CHECK_STR_CONTAINS(text, mr_hex);
    CHECK_STR_CONTAINS(text, signer_hex);
    CHECK_STR_CONTAINS(text, "06000000e10000000000010000000000");

    _cleanup_free_ char *js = print_to_string(&ss, true);
    json_error_t jerr;
    json_auto_t *obj = json_loads(js, 0, &jerr);
    REQUIRE(obj);
    CHECK(!strcmp(json_string_value(json_object_get(obj, "mrenclave")) ?: "", mr_hex));
    CHECK(!strcmp(json_string_value(json_object_get(obj, "mrsigner")) ?: "", signer_hex));
    CHECK(json_is_true(json_object_get(obj, "signature_valid")));
    CHECK(json_object_get(obj, "signature_error") == NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(obj, "exponent")), 3);
    CHECK_EQ_INT(strlen(json_string_value(json_object_get(obj, "modulus")) ?: ""), 768);

    struct sgx_sigstruct bad = ss;
    bad.body.isv_prod_id ^= 1;
    _cleanup_free_ char *bad_text = print_to_string(&bad, false);
    CHECK_STR_CONTAINS(bad_text, "signature: INVALID (signature does not verify)");
    _cleanup_free_ char *bad_js = print_to_string(&bad, true);
    json_auto_t *bad_obj = json_loads(bad_js, 0, &jerr);
    REQUIRE(bad_obj);
    CHECK(json_is_false(json_object_get(bad_obj, "signature_valid")));
    CHECK(!strcmp(json_string_value(json_object_get(bad_obj, "signature_error")) ?: "",
                  "signature does not verify"));
}

static void remove_tmpdir(void)
{
    static const char *names[] = { "good.pem", "rsa2048.pem", "e65537.pem", "ec.pem", "not.pem",
                                   "encrypted.pem" };
    char path[256];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        tmp_path(path, sizeof(path), names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_sign_and_verify);
    RUN(test_options_are_signed);
    RUN(test_every_byte_flip_fails);
    RUN(test_verify_messages);
    RUN(test_openssl_verifies);
    RUN(test_q1_q2);
    RUN(test_mrsigner);
    RUN(test_parse);
    RUN(test_key_save_and_load);
    RUN(test_key_load_rejects);
    RUN(test_default_date);
    RUN(test_print);
    remove_tmpdir();
    EVP_PKEY_free(test_key);
    TEST_EXIT();
}
