/* Local attestation, the verifier's side: a REPORT targeted at this enclave
 * carries a CMAC (AES-128) over its body under this enclave's REPORT key,
 * which EGETKEY derives from the report's KEYID. */
#include <errno.h>
#include <string.h>

#include <mbedtls/cmac.h>

#include "sgx_arch.h"
#include "teemate_enclave.h"

int tm_report_verify(const struct sgx_report *report)
{
    struct sgx_report copy;   /* one read of the caller's bytes */
    memcpy(&copy, report, sizeof copy);
    struct sgx_keyrequest kr;
    memset(&kr, 0, sizeof kr);
    kr.key_name = SGX_KEY_REPORT;
    memcpy(kr.key_id, copy.key_id, sizeof kr.key_id);
    uint8_t key[16];
    int r = tm_getkey(&kr, key);
    if (r < 0)
        return r;
    uint8_t mac[16];
    const mbedtls_cipher_info_t *aes = mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_128_ECB);
    r = aes ? mbedtls_cipher_cmac(aes, key, 128, (const uint8_t *)&copy.body, sizeof copy.body, mac)
            : -1;
    memset(key, 0, sizeof key);
    if (r != 0)
        return -EIO;
    uint8_t diff = 0;   /* constant time */
    for (size_t i = 0; i < sizeof mac; i++)
        diff |= mac[i] ^ copy.mac[i];
    return diff ? -EBADMSG : 0;
}
