/* mbedTLS's AES-NI detection runs CPUID, which faults inside an SGX enclave
 * (#UD). Defining the whole aesni module here keeps Debian's aesni.o out of
 * the image and mbedTLS on its portable AES. */
#include <stddef.h>

int mbedtls_aesni_has_support(unsigned int what)
{
    (void)what;
    return 0;
}

/* Never called while has_support says no. */
int mbedtls_aesni_crypt_ecb(void *ctx, int mode, const unsigned char in[16], unsigned char out[16])
{
    (void)ctx, (void)mode, (void)in, (void)out;
    __builtin_trap();
}

void mbedtls_aesni_gcm_mult(unsigned char c[16], const unsigned char a[16], const unsigned char b[16])
{
    (void)c, (void)a, (void)b;
    __builtin_trap();
}

void mbedtls_aesni_inverse_key(unsigned char *invkey, const unsigned char *fwdkey, int nr)
{
    (void)invkey, (void)fwdkey, (void)nr;
    __builtin_trap();
}

int mbedtls_aesni_setkey_enc(unsigned char *rk, const unsigned char *key, size_t bits)
{
    (void)rk, (void)key, (void)bits;
    __builtin_trap();
}
