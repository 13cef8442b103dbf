/* The host's services for JS functions (fn_abi.h): what the enclave's ocalls
 * and the native runtime reach. Every input is checked here again, as if it
 * came from an attacker (it may: the enclave's inputs are the function's). */
#ifndef FN_SERVICES_H
#define FN_SERVICES_H

#include <stddef.h>
#include <stdint.h>

struct fn_services {
    const char *store_dir;   /* the object store: one directory per bucket in it */
    int log_fd;              /* console.log lines go here */
};

long fn_service_log(const struct fn_services *s, const char *line, size_t len);
long fn_service_sleep_ms(uint64_t ms);
/* http:// only; the body (at most cap bytes) into out; returns the body's
 * full length, or -errno (-ENOENT 404, -EPROTO another status or a bad reply,
 * -ETIMEDOUT). */
long fn_service_http_get(const char *url, size_t url_len, void *out, size_t cap, size_t *len);
long fn_service_store_put(const struct fn_services *s, const char *bucket, size_t blen,
                          const char *key, size_t klen, const void *data, size_t len);
/* The object (at most cap bytes) into out; returns its full size. */
long fn_service_store_get(const struct fn_services *s, const char *bucket, size_t blen,
                          const char *key, size_t klen, void *out, size_t cap, size_t *len);

/* The ocall hook (lib/enclave/ecall.h's tm_ecall_app_ocall_fn), ctx = services. */
int64_t fn_host_ocall(void *ctx, uint32_t number, const void *in, size_t in_len, void *out,
                      size_t out_cap, size_t *out_len);

#endif
