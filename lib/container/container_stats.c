/* A container's cgroup counters, read through its saved state (events
 * --stats, and fn invoke before it deletes the container). */
#include <errno.h>

#include "container/cgroup.h"
#include "container/container.h"

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
