/* What the JS runtime needs from where it runs: inside an enclave
 * (fn_platform_enclave.c: ocalls, RDRAND, the enclave-global heap) or in an
 * ordinary process (host/fn_platform_native.c: the services called directly).
 * Services return >= 0 or -errno. */
#ifndef FN_PLATFORM_H
#define FN_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Memory every instance sees: the compiled code. */
void *fn_platform_shared_alloc(size_t n);
void fn_platform_shared_free(void *p);
/* This instance's anchor (per container slot inside an enclave). */
void *fn_platform_instance(void);
void fn_platform_set_instance(void *instance);

uint64_t fn_platform_random_u64(void);
/* Whether the C stack is nearly used up (Duktape then throws a RangeError
 * instead of running into the stack's guard page). */
int fn_platform_stack_low(void);
int64_t fn_platform_monotonic_ns(void);
int64_t fn_platform_realtime_ns(void);
void fn_platform_sha256(const void *data, size_t len, uint8_t digest[32]);

long fn_platform_log(const char *line, size_t len);
long fn_platform_sleep_ms(uint64_t ms);
/* The body into out (at most cap bytes); returns its full length. */
long fn_platform_http_get(const char *url, size_t url_len, void *out, size_t cap, size_t *len);
long fn_platform_store_put(const char *bucket, size_t bucket_len, const char *key, size_t key_len,
                           const void *data, size_t len);
/* The object into out (at most cap bytes); returns its full length. */
long fn_platform_store_get(const char *bucket, size_t bucket_len, const char *key, size_t key_len,
                           void *out, size_t cap, size_t *len);
/* The largest body or object the platform can hand in at once. */
size_t fn_platform_transfer_max(void);

#endif
