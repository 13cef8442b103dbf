/* The host's side of the functions ocalls (fn_abi.h): the request is copied
 * out of the scratch buffer once (the enclave can still write it), checked,
 * and served. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fn_abi.h"
#include "fn_services.h"
#include "util/cleanup.h"

/* names header + bucket + key (+ data for a put) from req[0..len). */
static int fn_ocall_names(const char *req, size_t len, const char **bucket, size_t *blen,
                          const char **key, size_t *klen, size_t *used)
{
    struct fn_store_names n;
    if (len < sizeof n)
        return -EINVAL;
    memcpy(&n, req, sizeof n);
    if (n.bucket_len > FN_MAX_NAME || n.key_len > FN_MAX_NAME ||
        len - sizeof n < (size_t)n.bucket_len + n.key_len)
        return -EINVAL;
    *bucket = req + sizeof n;
    *blen = n.bucket_len;
    *key = *bucket + n.bucket_len;
    *klen = n.key_len;
    *used = sizeof n + n.bucket_len + n.key_len;
    if (!fn_name_is_valid(*bucket, *blen) || !fn_name_is_valid(*key, *klen))
        return -EINVAL;
    return 0;
}

int64_t fn_host_ocall(void *ctx, uint32_t number, const void *in, size_t in_len, void *out,
                      size_t out_cap, size_t *out_len)
{
    const struct fn_services *s = ctx;
    *out_len = 0;
    _cleanup_free_ char *req = malloc(in_len ? in_len : 1);
    if (!req)
        return -ENOMEM;
    memcpy(req, in, in_len);
    const char *bucket, *key;
    size_t blen, klen, used;
    int r;
    switch (number) {
    case FN_OCALL_LOG:
        return fn_service_log(s, req, in_len);
    case FN_OCALL_SLEEP: {
        uint64_t ms;
        if (in_len != sizeof ms)
            return -EINVAL;
        memcpy(&ms, req, sizeof ms);
        return fn_service_sleep_ms(ms);
    }
    case FN_OCALL_HTTP_GET:
        return fn_service_http_get(req, in_len, out, out_cap, out_len);
    case FN_OCALL_STORE_PUT:
        if ((r = fn_ocall_names(req, in_len, &bucket, &blen, &key, &klen, &used)) < 0)
            return r;
        return fn_service_store_put(s, bucket, blen, key, klen, req + used, in_len - used);
    case FN_OCALL_STORE_GET:
        if ((r = fn_ocall_names(req, in_len, &bucket, &blen, &key, &klen, &used)) < 0)
            return r;
        if (used != in_len)
            return -EINVAL;
        return fn_service_store_get(s, bucket, blen, key, klen, out, out_cap, out_len);
    default:
        return -ENOSYS;
    }
}
