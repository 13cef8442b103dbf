/* AES-NI inside the enclave: CPUID answered through the host (the instruction
 * faults in an SGX enclave), and mbedTLS's AES-128-GCM running on it.
 *   ecall 16: in = MiB (u32), AES-128-GCM encrypts that many MiB inside;
 *             out = {aesni_used (u32), tag of the last MiB (16 bytes)}; MiB i is
 *             zeros under key "0123456789abcdef", IV = i (u32 LE) || zeros
 *   ecall 17: in = {leaf, subleaf} (u32 each), out = EAX..EDX from tm_cpuid
 *   ecall 18: a UD2 whose handler asks tm_cpuid(0, 0) from the exception
 *             entry (an ocall while CSSA > 0) and steps over it; out = EAX..EDX */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/aesni.h>
#include <mbedtls/gcm.h>

#include <teemate_enclave.h>

TM_ENCLAVE_LAYOUT(.enclave_size = TM_MiB(32), .tcs_count = 2, .nssa = 2, .ssa_frame_pages = 1,
                  .stack_size = TM_KiB(64), .heap_size = TM_MiB(8), .slot_count = 1,
                  .slot_size = TM_MiB(1), );

#define CHUNK (1U << 20)

TM_ECALL(gcm_throughput, 16)
{
    uint32_t mib;
    if (in_len != sizeof mib || out_cap < 4 + 16)
        return -EINVAL;
    memcpy(&mib, in, sizeof mib);
    uint8_t *src = calloc(1, CHUNK), *dst = malloc(CHUNK);
    static const uint8_t key[16] = "0123456789abcdef";
    uint8_t iv[12] = { 0 }, tag[16];
    int r = src && dst ? 0 : -ENOMEM;
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    if (r == 0 && mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 128) != 0)
        r = -EIO;
    for (uint32_t i = 0; r == 0 && i < mib; i++) {
        memcpy(iv, &i, sizeof i);
        if (mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, CHUNK, iv, sizeof iv, NULL, 0, src,
                                      dst, sizeof tag, tag) != 0)
            r = -EIO;
    }
    mbedtls_gcm_free(&gcm);
    free(src);
    free(dst);
    if (r < 0)
        return r;
    uint32_t used = (uint32_t)mbedtls_aesni_has_support(MBEDTLS_AESNI_AES) &&
                    mbedtls_aesni_has_support(MBEDTLS_AESNI_CLMUL);
    memcpy(out, &used, 4);
    memcpy((uint8_t *)out + 4, tag, 16);
    *out_len = 20;
    return 0;
}

TM_ECALL(cpuid_through_host, 17)
{
    uint32_t leaf[2];
    if (in_len != sizeof leaf || out_cap < 16)
        return -EINVAL;
    memcpy(leaf, in, sizeof leaf);
    int r = tm_cpuid(leaf[0], leaf[1], out);
    if (r == 0)
        *out_len = 16;
    return r;
}

static uint32_t handler_regs[4];
static volatile int handler_result;

static int cpuid_in_handler(struct tm_exception_info *info)
{
    const uint8_t *code = (const uint8_t *)(uintptr_t)info->gpr->rip;
    if (info->vector != 6 || code[0] != 0x0f || code[1] != 0x0b)
        return TM_EXCEPTION_NOT_HANDLED;
    handler_result = tm_cpuid(0, 0, handler_regs);
    info->gpr->rip += 2;
    return TM_EXCEPTION_CONTINUE;
}

TM_ECALL(cpuid_from_exception_entry, 18)
{
    if (out_cap < 16)
        return -EINVAL;
    handler_result = -1;
    tm_set_exception_handler(cpuid_in_handler);
    __asm__ volatile("ud2");
    tm_set_exception_handler(NULL);
    memcpy(out, handler_regs, 16);
    *out_len = 16;
    return handler_result;
}
