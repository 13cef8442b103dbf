#include "enclave/key.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/file.h"

#define KEY_BITS 3072
#define KEY_MAX_FILE_SIZE (1 << 20)

static void pkey_ctx_freep(EVP_PKEY_CTX **p) { EVP_PKEY_CTX_free(*p); }
static void bn_freep(BIGNUM **p) { BN_free(*p); }
static void bio_freep(BIO **p) { BIO_free(*p); }

void tm_key_freep(EVP_PKEY **key)
{
    EVP_PKEY_free(*key);
}

int tm_key_generate(EVP_PKEY **key, tm_error *err)
{
    _cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    _cleanup_(bn_freep) BIGNUM *e = BN_new();
    if (!ctx || !e || !BN_set_word(e, 3))
        return tm_error_openssl(err, ENOMEM, "cannot set up RSA key generation");
    *key = NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, KEY_BITS) <= 0 ||
        EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) <= 0 || EVP_PKEY_generate(ctx, key) <= 0)
        return tm_error_openssl(err, EIO, "cannot generate an RSA-%d key with e = 3", KEY_BITS);
    return 0;
}

int tm_key_save(EVP_PKEY *key, const char *path, tm_error *err)
{
    /* Secure-memory BIO: the PEM text is wiped when it is freed. */
    _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_secmem());
    if (!bio)
        return tm_error_openssl(err, ENOMEM, "%s: cannot allocate", path);
    /* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"). */
    if (!PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        return tm_error_openssl(err, EIO, "%s: cannot encode the private key", path);
    char *pem;
    long len = BIO_get_mem_data(bio, &pem);
    if (len <= 0)
        return tm_error_openssl(err, EIO, "%s: cannot encode the private key", path);
    return tm_file_write(path, pem, (size_t)len, 0600, err);
}

int tm_key_check(EVP_PKEY *key, const char *name, tm_error *err)
{
    if (!EVP_PKEY_is_a(key, "RSA")) {
        const char *type = EVP_PKEY_get0_type_name(key);
        return tm_error_set(err, EINVAL, "%s: %s key, SGX needs RSA-3072 with e = 3", name,
                            type ? type : "non-RSA");
    }
    int bits = EVP_PKEY_get_bits(key);
    if (bits != KEY_BITS)
        return tm_error_set(err, EINVAL, "%s: RSA key has %d bits, SGX needs %d", name, bits,
                            KEY_BITS);
    _cleanup_(bn_freep) BIGNUM *e = NULL;
    if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e))
        return tm_error_openssl(err, EINVAL, "%s: cannot read the public exponent", name);
    if (!BN_is_word(e, 3)) {
        char *dec = BN_bn2dec(e);
        tm_error_set(err, EINVAL, "%s: public exponent is %s, SGX needs 3", name,
                     dec ? dec : "not 3");
        OPENSSL_free(dec);
        return -err->code;
    }
    return 0;
}

/* Never prompt on the terminal for a passphrase: an encrypted key just fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf, (void)size, (void)rwflag, (void)arg;
    return -1;
}

int tm_key_load(const char *path, EVP_PKEY **key, tm_error *err)
{
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    int ret = tm_file_read(path, KEY_MAX_FILE_SIZE, &data, &len, err);
    if (ret < 0)
        return ret;
    _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(data, (int)len);
    if (!bio)
        return tm_error_openssl(err, ENOMEM, "%s: cannot allocate", path);
    _cleanup_key_ EVP_PKEY *loaded = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    bool encrypted = memmem(data, len, "ENCRYPTED", 9) != NULL;
    OPENSSL_cleanse(data, len);
    ERR_clear_error();
    if (!loaded)
        return tm_error_set(err, EINVAL, "%s: not a PEM private key%s", path,
                            encrypted ? " (it is encrypted: give an unencrypted key)" : "");
    ret = tm_key_check(loaded, path, err);
    if (ret < 0)
        return ret;
    *key = TM_STEAL(loaded);
    return 0;
}
