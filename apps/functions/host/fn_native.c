/* The native mode: the same runtime (enclave/fn_*.c, Duktape) in this
 * process, no enclave; the platform calls the host's services directly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "fn_host.h"
#include "fn_platform.h"
#include "fn_runtime.h"
#include "util/cleanup.h"

static const struct fn_services *fn_native_services;
/* The native runtime's C stack budget: the enclave image's thread stack
 * less the same margin, so that both modes refuse the same depth. */
#define FN_NATIVE_STACK_BUDGET ((512U - 96U) << 10)
static __thread uintptr_t fn_native_stack_entry;
static void *fn_native_instance;

void fn_native_init(const struct fn_services *services)
{
    fn_native_services = services;
}

void *fn_platform_shared_alloc(size_t n) { return malloc(n); }
void fn_platform_shared_free(void *p) { free(p); }
void *fn_platform_instance(void) { return fn_native_instance; }
void fn_platform_set_instance(void *instance) { fn_native_instance = instance; }

int fn_platform_stack_low(void)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return fn_native_stack_entry && sp < fn_native_stack_entry - FN_NATIVE_STACK_BUDGET;
}

/* RDRAND as inside the enclave (a getrandom(2) per Math.random made the
 * native baseline twice as slow as the enclave on validate-input); the
 * kernel's generator where the CPU has none or it keeps failing. */
__attribute__((target("rdrnd"))) uint64_t fn_platform_random_u64(void)
{
    unsigned long long v;
    if (__builtin_cpu_supports("rdrnd"))
        for (int i = 0; i < 10; i++)
            if (__builtin_ia32_rdrand64_step(&v))
                return v;
    while (getrandom(&v, sizeof v, 0) != sizeof v)
        ;
    return v;
}

static int64_t fn_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t fn_platform_monotonic_ns(void) { return fn_clock_ns(CLOCK_MONOTONIC); }
int64_t fn_platform_realtime_ns(void) { return fn_clock_ns(CLOCK_REALTIME); }

void fn_platform_sha256(const void *data, size_t len, uint8_t digest[32])
{
    SHA256(data, len, digest);
}

size_t fn_platform_transfer_max(void) { return FN_TRANSFER_MAX; }

long fn_platform_log(const char *line, size_t len)
{
    return fn_native_services ? fn_service_log(fn_native_services, line, len) : -ENOSYS;
}

long fn_platform_sleep_ms(uint64_t ms) { return fn_service_sleep_ms(ms); }

long fn_platform_http_get(const char *url, size_t url_len, void *out, size_t cap, size_t *len)
{
    return fn_service_http_get(url, url_len, out, cap, len);
}

long fn_platform_store_put(const char *bucket, size_t blen, const char *key, size_t klen,
                           const void *data, size_t len)
{
    if (!fn_native_services)
        return -ENOSYS;
    return fn_service_store_put(fn_native_services, bucket, blen, key, klen, data, len);
}

long fn_platform_store_get(const char *bucket, size_t blen, const char *key, size_t klen,
                           void *out, size_t cap, size_t *len)
{
    if (!fn_native_services)
        return -ENOSYS;
    return fn_service_store_get(fn_native_services, bucket, blen, key, klen, out, cap, len);
}

int fn_native_load(const void *wire, size_t len, char **error_json, tm_error *err)
{
    char out[4096];
    size_t out_len = 0;
    fn_native_stack_entry = (uintptr_t)__builtin_frame_address(0);
    int rc = fn_code_load(wire, len, out, sizeof out, &out_len);
    return fn_host_finish_load(rc, out, out_len, error_json, err);
}

static int fn_native_runner(void *ctx, uint32_t ecall, const void *in, size_t in_len, void *out,
                            size_t out_cap, int *rc, size_t *out_len, tm_error *err)
{
    (void)ctx, (void)err;
    fn_native_stack_entry = (uintptr_t)__builtin_frame_address(0);
    *rc = ecall == FN_ECALL_RESULT ? fn_instance_result(out, out_cap, out_len)
                                   : fn_instance_run(in, in_len, out, out_cap, out_len);
    return 0;
}

void fn_native_stats(struct fn_stats *stats)
{
    fn_instance_stats(stats);
}

int fn_native_run(const struct fn_run_request *req, const char *params, struct fn_result *result,
                  tm_error *err)
{
    return fn_host_run(req, params, fn_native_runner, NULL, result, err);
}

int fn_native_run_env(const struct fn_run_request *req, const char *env, const char *params,
                      struct fn_result *result, tm_error *err)
{
    return fn_host_run_env(req, env, params, fn_native_runner, NULL, result, err);
}
