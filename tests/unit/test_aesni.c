/* AES-NI inside the enclave: CPUID answered through the host (TM_OCALL_CPUID),
 * including from the exception entry (an ocall while CSSA > 0, as the #UD on
 * CPUID is answered on SGX hardware), and mbedTLS's AES-GCM on AES-NI giving
 * the same bytes as OpenSSL on the host. */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "harness.h"

static struct tm_image *image;
static struct tm_enclave *enclave;

static int start(tm_error *err)
{
    char path[512], key[4200];
    struct sgx_sigstruct ss;
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    snprintf(path, sizeof path, "%s/examples/tests/aesni.elf", build);
    int ret = tm_image_load(path, &image, err);
    if (ret == 0)
        ret = tm_devkey_sign(image, &ss, key, sizeof key, err);
    if (ret == 0)
        ret = tm_enclave_build(image, &ss, &tm_backend_sim, &enclave, err);
    return ret;
}

static int call(struct tm_ecall_call *c, tm_error *err)
{
    return tm_ecall(enclave->ops, enclave->be, enclave->base, enclave->size,
                    tm_enclave_tcs_offset(enclave, 0), c, err);
}

static void test_cpuid_ocall_answers_as_the_cpu(void)
{
    tm_error err = { 0 };
    static const uint32_t leaves[][2] = { { 0, 0 }, { 1, 0 }, { 7, 0 }, { 0x80000000u, 0 } };
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
        for (int again = 0; again < 2; again++) {   /* the second time from the cache */
            uint32_t regs[4];
            struct tm_ecall_call c = { .ecall = 17, .in = leaves[i], .in_len = 8, .out = regs,
                                       .out_cap = sizeof regs };
            REQUIRE(call(&c, &err) == 0);
            CHECK_EQ_INT(c.retval, 0);
            CHECK_EQ_INT(c.out_len, 16);
            unsigned a, b, cx, d;
            __cpuid_count(leaves[i][0], leaves[i][1], a, b, cx, d);
            CHECK_EQ_INT(regs[0], a);
            if (leaves[i][0] != 1)   /* leaf 1 EBX holds the answering CPU's APIC id */
                CHECK_EQ_INT(regs[1], b);
            CHECK_EQ_INT(regs[2], cx);
            CHECK_EQ_INT(regs[3], d);
            bool cached = leaves[i][0] <= 1 || leaves[i][0] == 7;
            CHECK_EQ_INT(c.ocalls, again && cached ? 0 : 1);
        }
    }
}

static void test_ocall_from_exception_entry(void)
{
    tm_error err = { 0 };
    uint32_t regs[4];
    struct tm_ecall_call c = { .ecall = 18, .out = regs, .out_cap = sizeof regs };
    REQUIRE(call(&c, &err) == 0);
    CHECK_EQ_INT(c.retval, 0);
    CHECK_EQ_INT(c.handled_exceptions, 1);
    CHECK(c.fault.flags & TM_FAULT_HANDLED);
    unsigned a, b, cx, d;
    __cpuid_count(0, 0, a, b, cx, d);
    CHECK(regs[0] == a && regs[1] == b && regs[2] == cx && regs[3] == d);
    /* the thread is usable afterwards */
    struct tm_ecall_call ping = { .ecall = TM_ECALL_PING };
    CHECK(call(&ping, &err) == 0);
}

/* The last MiB's tag, as the enclave computes it (examples/tests/aesni.c). */
static void host_gcm_tag(uint32_t mib, uint8_t tag[16])
{
    static const uint8_t key[16] = "0123456789abcdef";
    uint8_t iv[12] = { 0 };
    uint32_t last = mib - 1;
    memcpy(iv, &last, 4);
    uint8_t *zeros = calloc(1, 1 << 20), *out = malloc(1 << 20);
    REQUIRE(zeros && out);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len;
    REQUIRE(ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, iv) == 1 &&
            EVP_EncryptUpdate(ctx, out, &len, zeros, 1 << 20) == 1 &&
            EVP_EncryptFinal_ex(ctx, out, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    free(zeros);
    free(out);
}

static void test_gcm_uses_aesni_and_agrees_with_openssl(void)
{
    tm_error err = { 0 };
    uint32_t mib = 3;
    uint8_t out[20], tag[16];
    struct tm_ecall_call c = { .ecall = 16, .in = &mib, .in_len = 4, .out = out,
                               .out_cap = sizeof out };
    REQUIRE(call(&c, &err) == 0);
    CHECK_EQ_INT(c.retval, 0);
    REQUIRE(c.out_len == 20);
    unsigned a, b, cx, d;
    __cpuid_count(1, 0, a, b, cx, d);
    uint32_t used;
    memcpy(&used, out, 4);
    bool cpu_has = (cx & bit_AES) && (cx & bit_PCLMUL);
    CHECK_EQ_INT(used, cpu_has);   /* Debian's aesni.o is linked and says yes */
    host_gcm_tag(mib, tag);
    CHECK(memcmp(out + 4, tag, 16) == 0);
}

int main(void)
{
    tm_error err = { 0 };
    if (start(&err) < 0) {
        fprintf(stderr, "cannot start aesni.elf: %s\n", err.msg);
        return 1;
    }
    RUN(test_cpuid_ocall_answers_as_the_cpu);
    RUN(test_ocall_from_exception_entry);
    RUN(test_gcm_uses_aesni_and_agrees_with_openssl);
    tm_enclave_destroy(enclave);
    tm_image_free(image);
    TEST_EXIT();
}
