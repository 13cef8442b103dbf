/* The runtime's platform inside the enclave: code in the enclave-global heap,
 * the instance anchored in its container slot, randomness from RDRAND,
 * SHA-256 from mbedTLS, and the host's services through application ocalls
 * (fn_abi.h) whose answers are checked here before use. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/sha256.h>

#include "fn_abi.h"
#include "fn_platform.h"
#include "teemate_enclave.h"

static void *fn_instance_no_slot;   /* a private enclave (teemate enclave run) has no slot */

void *fn_platform_shared_alloc(size_t n) { return tm_shared_malloc(n); }
void fn_platform_shared_free(void *p) { tm_shared_free(p); }

void *fn_platform_instance(void)
{
    return tm_slot_current() >= 0 ? tm_slot_root() : fn_instance_no_slot;
}

void fn_platform_set_instance(void *instance)
{
    if (tm_slot_current() >= 0)
        tm_slot_set_root(instance);
    else
        fn_instance_no_slot = instance;
}

uint64_t fn_platform_random_u64(void) { return tm_random_u64(); }

/* Room for the deepest frames between two of Duktape's checks, musl's
 * formatting and an ocall. */
#define FN_STACK_MARGIN (96U << 10)

int fn_platform_stack_low(void) { return tm_stack_left() < FN_STACK_MARGIN; }

static int64_t fn_clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) < 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t fn_platform_monotonic_ns(void) { return fn_clock_ns(CLOCK_MONOTONIC); }
int64_t fn_platform_realtime_ns(void) { return fn_clock_ns(CLOCK_REALTIME); }

void fn_platform_sha256(const void *data, size_t len, uint8_t digest[32])
{
    mbedtls_sha256_ret(data, len, digest, 0);
}

/* The host gives FN_ECALL_RUN a scratch buffer of FN_SCRATCH_SIZE. */
size_t fn_platform_transfer_max(void) { return FN_TRANSFER_MAX; }

long fn_platform_log(const char *line, size_t len)
{
    long r = tm_ocall_app(FN_OCALL_LOG, line, len, NULL, 0, NULL);
    if (r == -ENOSYS) {   /* a host without the service (teemate attach): its output */
        char buf[FN_MAX_LOG + 2];
        memcpy(buf, line, len);
        buf[len] = '\n';
        buf[len + 1] = '\0';
        return tm_print(buf);
    }
    return r;
}

long fn_platform_sleep_ms(uint64_t ms)
{
    return tm_ocall_app(FN_OCALL_SLEEP, &ms, sizeof ms, NULL, 0, NULL);
}

long fn_platform_http_get(const char *url, size_t url_len, void *out, size_t cap, size_t *len)
{
    return tm_ocall_app(FN_OCALL_HTTP_GET, url, url_len, out, cap, len);
}

/* names header, bucket, key[, data] in one malloc'ed buffer. */
static void *fn_store_request(const char *bucket, size_t blen, const char *key, size_t klen,
                              const void *data, size_t dlen, size_t *len)
{
    struct fn_store_names names = { (uint32_t)blen, (uint32_t)klen };
    *len = sizeof names + blen + klen + dlen;
    char *req = malloc(*len);
    if (!req)
        return NULL;
    memcpy(req, &names, sizeof names);
    memcpy(req + sizeof names, bucket, blen);
    memcpy(req + sizeof names + blen, key, klen);
    if (dlen)
        memcpy(req + sizeof names + blen + klen, data, dlen);
    return req;
}

long fn_platform_store_put(const char *bucket, size_t blen, const char *key, size_t klen,
                           const void *data, size_t dlen)
{
    size_t len;
    void *req = fn_store_request(bucket, blen, key, klen, data, dlen, &len);
    if (!req)
        return -ENOMEM;
    long r = tm_ocall_app(FN_OCALL_STORE_PUT, req, len, NULL, 0, NULL);
    free(req);
    return r;
}

long fn_platform_store_get(const char *bucket, size_t blen, const char *key, size_t klen,
                           void *out, size_t cap, size_t *got)
{
    size_t len;
    void *req = fn_store_request(bucket, blen, key, klen, NULL, 0, &len);
    if (!req)
        return -ENOMEM;
    long r = tm_ocall_app(FN_OCALL_STORE_GET, req, len, out, cap, got);
    free(req);
    return r;
}
