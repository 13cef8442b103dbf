/* linux.resources: blockIO, hugepageLimits, network and unified; rdma, for
 * which this runtime has nothing, is refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_parse_resources.h"
#include "util/cleanup.h"

/* obj.key as an array: *list, its path *lp, and *out a zeroed array of
 * size-byte entries as long as it. 0 when absent. */
static int get_list(json_t *obj, const tm_jpath *at, const char *key, size_t size, void **out, json_t **list,
                    tm_jpath *lp, tm_error *err)
{
    int r = tm_json_get_array(obj, at, key, TM_SPEC_MAX_ENTRIES, list, err);
    if (r <= 0)
        return r;
    *lp = tm_jpath_key(at, key);
    size_t n = json_array_size(*list);
    *out = n ? calloc(n, size) : NULL;
    r = tm_spec_alloc_check(*out, n, lp, err);
    return r < 0 ? r : 1;
}

/* A list of {major, minor, KEY[, leafWeight]} objects; KEY is "rate" or "weight". */
static int device_list(json_t *res, const tm_jpath *at, const char *name, const char *key, int64_t max,
                       struct tm_cgroup_blkio_device **out, size_t *n, tm_error *err)
{
    json_t *list;
    tm_jpath lp;
    void *mem = NULL;
    int r = get_list(res, at, name, sizeof **out, &mem, &list, &lp, err);
    if (r <= 0)
        return r;
    *out = mem;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *o = json_array_get(list, i);
        tm_jpath ip = tm_jpath_index(&lp, i);
        struct tm_cgroup_blkio_device *d = &(*out)[i];
        int64_t v = 0;
        *n = i + 1;
        if ((r = tm_json_object_value(o, &ip, err)) < 0)
            return r;
        if ((r = tm_json_required_int(o, &ip, "major", 0, UINT32_MAX, &d->major, err)) < 0 ||
            (r = tm_json_required_int(o, &ip, "minor", 0, UINT32_MAX, &d->minor, err)) < 0)
            return r;
        if ((r = tm_json_get_int(o, &ip, key, 0, max, &v, err)) > 0)
            d->value = (uint64_t)v;
        if (r >= 0 && !strcmp(key, "weight") &&
            (r = tm_json_get_int(o, &ip, "leafWeight", 0, UINT16_MAX, &v, err)) > 0)
            d->leaf_weight = (uint16_t)v;
        if (r < 0)
            return r;
    }
    return 0;
}

static int blkio(json_t *res, const tm_jpath *at, struct tm_cgroup_limits *lim, tm_error *err)
{
    json_t *b;
    int r = tm_json_get_object(res, at, "blockIO", &b, err);
    if (r <= 0)
        return r;
    tm_jpath bp = tm_jpath_key(at, "blockIO");
    int64_t v;
    if ((r = tm_json_get_int(b, &bp, "weight", 0, UINT16_MAX, &v, err)) > 0)
        lim->blkio_weight = (uint16_t)v;
    if (r >= 0 && (r = tm_json_get_int(b, &bp, "leafWeight", 0, UINT16_MAX, &v, err)) > 0)
        lim->blkio_leaf_weight = (uint16_t)v;
    if (r >= 0)
        r = device_list(b, &bp, "weightDevice", "weight", UINT16_MAX, &lim->blkio_weight_device,
                        &lim->nblkio_weight_device, err);
    static const char *const throttle[TM_BLKIO_NTHROTTLE] = {
        "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice",
    };
    for (int t = 0; r >= 0 && t < TM_BLKIO_NTHROTTLE; t++)
        r = device_list(b, &bp, throttle[t], "rate", INT64_MAX, &lim->blkio_throttle[t],
                        &lim->nblkio_throttle[t], err);
    return r;
}

static int hugepages(json_t *res, const tm_jpath *at, struct tm_cgroup_limits *lim, tm_error *err)
{
    json_t *list;
    tm_jpath lp;
    void *mem = NULL;
    int r = get_list(res, at, "hugepageLimits", sizeof *lim->hugepages, &mem, &list, &lp, err);
    if (r <= 0)
        return r;
    lim->hugepages = mem;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *o = json_array_get(list, i);
        tm_jpath ip = tm_jpath_index(&lp, i);
        _cleanup_free_ char *size = NULL;
        int64_t v;
        lim->nhugepages = i + 1;
        if ((r = tm_json_required_string(o, &ip, "pageSize", &size, err)) < 0)
            return r;
        tm_jpath sp = tm_jpath_key(&ip, "pageSize");
        /* it becomes part of a file name: "2MB", "1GB" */
        if (!*size || strlen(size) >= sizeof lim->hugepages[i].page_size ||
            strspn(size, "0123456789KMGB") != strlen(size))
            return tm_json_fail(err, &sp, "\"%s\" is not a page size like \"2MB\"", size);
        strcpy(lim->hugepages[i].page_size, size);
        if ((r = tm_json_required_int(o, &ip, "limit", 0, INT64_MAX, &v, err)) < 0)
            return r;
        lim->hugepages[i].limit = (uint64_t)v;
    }
    return 0;
}

static int network(json_t *res, const tm_jpath *at, struct tm_cgroup_limits *lim, tm_error *err)
{
    json_t *net, *list;
    int r = tm_json_get_object(res, at, "network", &net, err);
    if (r <= 0)
        return r;
    tm_jpath np = tm_jpath_key(at, "network"), lp;
    void *mem = NULL;
    if ((r = tm_json_get_int(net, &np, "classID", 0, UINT32_MAX, &lim->net_classid, err)) < 0 ||
        (r = get_list(net, &np, "priorities", sizeof *lim->net_prios, &mem, &list, &lp, err)) <= 0)
        return r;
    lim->net_prios = mem;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *o = json_array_get(list, i);
        tm_jpath ip = tm_jpath_index(&lp, i);
        _cleanup_free_ char *name = NULL;
        int64_t v = 0;
        lim->nnet_prios = i + 1;
        if ((r = tm_json_required_string(o, &ip, "name", &name, err)) < 0)
            return r;
        if (!*name || strlen(name) >= 16 || strpbrk(name, " /\n")) {
            tm_jpath p = tm_jpath_key(&ip, "name");
            return tm_json_fail(err, &p, "\"%s\" is not an interface name", name);
        }
        strcpy(lim->net_prios[i].name, name);
        if ((r = tm_json_get_int(o, &ip, "priority", 0, UINT32_MAX, &v, err)) < 0)
            return r;
        lim->net_prios[i].priority = (uint32_t)v;
    }
    return 0;
}

int tm_spec_parse_resources_more(json_t *res, const tm_jpath *at, struct tm_cgroup_limits *lim,
                                 tm_error *err)
{
    json_t *v;
    int r = blkio(res, at, lim, err);
    if (r >= 0)
        r = hugepages(res, at, lim, err);
    if (r >= 0)
        r = network(res, at, lim, err);
    if (r >= 0 && (r = tm_json_get_object(res, at, "rdma", &v, err)) > 0 && json_object_size(v)) {
        tm_jpath p = tm_jpath_key(at, "rdma");
        return tm_json_fail(err, &p, "not supported (teemate has no rdma controller support)");
    }
    if (r >= 0 && (r = tm_json_get_object(res, at, "unified", &v, err)) > 0) {
        tm_jpath p = tm_jpath_key(at, "unified");
        _cleanup_free_ struct tm_key_value *kv = NULL;
        size_t n = 0;
        r = tm_json_string_map(v, &p, &kv, &n, err);
        /* the strings move to the limits, which free them, whatever r is */
        if (n && !(lim->unified = calloc(n, sizeof *lim->unified))) {
            for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
            }
            return tm_error_set(err, ENOMEM, "linux.resources.unified: out of memory");
        }
        for (size_t i = 0; i < n; i++)
            lim->unified[i] = (struct tm_cgroup_unified){ kv[i].key, kv[i].value };
        lim->nunified = n;
    }
    return r < 0 ? r : 0;
}
