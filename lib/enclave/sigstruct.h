/* SIGSTRUCT: building, signing (RSA-3072, e = 3, PKCS#1 v1.5 over SHA-256 of
 * header || body), verifying as EINIT does, parsing and showing. */
#ifndef TM_SIGSTRUCT_H
#define TM_SIGSTRUCT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sgx_arch.h"
#include "util/error.h"

struct tm_sign_options {
    bool debug;                /* ATTRIBUTES.DEBUG */
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint32_t miscselect;
    uint32_t miscmask;
    uint64_t xfrm;             /* default SGX_XFRM_LEGACY */
    uint64_t xfrm_mask;
    uint64_t attributes_mask;  /* flags mask */
    uint32_t date;             /* BCD yyyymmdd; 0 = today (UTC) */
    uint32_t vendor;           /* 0 or 0x8086 */
};

/* Defaults: MODE64BIT, xfrm legacy, masks that make EINIT check DEBUG and
 * MODE64BIT exactly, today's date. */
void tm_sign_options_default(struct tm_sign_options *o);

struct evp_pkey_st;

/* Build and sign a SIGSTRUCT for mrenclave with key (RSA-3072, e = 3). */
int tm_sigstruct_sign(struct sgx_sigstruct *ss, const uint8_t mrenclave[32],
                      const struct tm_sign_options *o, struct evp_pkey_st *key, tm_error *err);

/* Structural checks of untrusted bytes: size, fixed headers, exponent. */
int tm_sigstruct_parse(struct sgx_sigstruct *ss, const uint8_t *data, size_t len, tm_error *err);

/* Verify as EINIT does: s^3 mod n is the PKCS#1 v1.5 encoding of SHA-256(header
 * || body), and q1, q2 are right. Independent of OpenSSL's RSA code. */
int tm_sigstruct_verify(const struct sgx_sigstruct *ss, tm_error *err);

/* MRSIGNER = SHA-256 of the little-endian modulus. */
void tm_sigstruct_mrsigner(const struct sgx_sigstruct *ss, uint8_t mrsigner[32]);

/* Human-readable / JSON dump of every field (+ MRSIGNER and verification). */
int tm_sigstruct_print(FILE *out, const struct sgx_sigstruct *ss, bool json, tm_error *err);

#endif
