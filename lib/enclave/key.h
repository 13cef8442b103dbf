/* Enclave signing keys: RSA-3072 with public exponent 3, PEM on disk. */
#ifndef TM_KEY_H
#define TM_KEY_H

#include "util/error.h"

struct evp_pkey_st;

int tm_key_generate(struct evp_pkey_st **key, tm_error *err);
/* Write the private key as PEM (PKCS#8, mode 0600). */
int tm_key_save(struct evp_pkey_st *key, const char *path, tm_error *err);
/* Load a private key and check it is RSA-3072 with e = 3. */
int tm_key_load(const char *path, struct evp_pkey_st **key, tm_error *err);
/* Check key is RSA-3072 with e = 3 (what SGX accepts); name is used in messages. */
int tm_key_check(struct evp_pkey_st *key, const char *name, tm_error *err);

void tm_key_freep(struct evp_pkey_st **key);
#define _cleanup_key_ __attribute__((cleanup(tm_key_freep)))

#endif
