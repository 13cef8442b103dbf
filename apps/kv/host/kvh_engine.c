/* What every engine shares: the store's start and its figures. */
#include <errno.h>
#include <string.h>

#include "kvh.h"

int kvh_engine_start(struct kvh_engine *e, const struct kv_config *c, tm_error *err)
{
    size_t out_len = 0;
    int rc = 0;
    int r = e->call(e, KV_ECALL_START, c, sizeof *c, NULL, 0, &out_len, &rc, err);
    if (r < 0)
        return r;
    if (rc < 0)
        return tm_error_set(err, -rc, "the store did not start: %s", strerror(-rc));
    return 0;
}

int kvh_engine_info(struct kvh_engine *e, struct kv_info *info, tm_error *err)
{
    size_t out_len = 0;
    int rc = 0;
    int r = e->call(e, KV_ECALL_INFO, NULL, 0, info, sizeof *info, &out_len, &rc, err);
    if (r < 0)
        return r;
    if (rc < 0 || out_len != sizeof *info)
        return tm_error_set(err, rc < 0 ? -rc : EPROTO, "the store's INFO answered %d with %zu bytes",
                            rc, out_len);
    return 0;
}
