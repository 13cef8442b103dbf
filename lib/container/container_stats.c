/* A container's cgroup counters and processes, read through its saved state
 * (events --stats, ps, and fn invoke before it deletes the container). */
#include <errno.h>
#include <stdlib.h>

#include "container/cgroup.h"
#include "container/container.h"
#include "util/cleanup.h"

int tm_container_stats(const char *root, const char *id, struct tm_cgroup_stats *s, tm_error *err)
{
    struct tm_container_state st;
    int ret = tm_state_load(root, id, &st, err);
    if (ret < 0)
        return ret;
    struct tm_cgroup *cg = NULL;
    ret = st.cgroup_path[0] ? tm_cgroup_open(NULL, st.cgroup_path, &cg, err)
                            : tm_error_set(err, ENOENT, "container \"%s\" has no cgroup", id);
    tm_state_clear(&st);
    if (ret == 0)
        ret = tm_cgroup_stats(cg, s, err);
    tm_cgroup_free(cg);
    return ret;
}

int tm_container_pids(const char *root, const char *id, pid_t **pids, size_t *n, tm_error *err)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    int ret = tm_state_load(root, id, &st, err);
    if (ret < 0)
        return ret;
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    ret = st.cgroup_path[0] ? tm_cgroup_open(NULL, st.cgroup_path, &cg, err) : -ENOENT;
    if (ret == -ENOENT) {   /* no cgroup (yet, or any more): no processes */
        *n = 0;
        *pids = calloc(1, sizeof **pids);
        return *pids ? 0 : tm_error_set(err, ENOMEM, "out of memory");
    }
    return ret < 0 ? ret : tm_cgroup_pids(cg, pids, n, err);
}
