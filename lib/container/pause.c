/* pause and resume: freezing and thawing a container's cgroup, with runc's
 * rules. A created or running container may be paused ("container not
 * running" otherwise), only a paused one resumed ("container not paused");
 * the status that follows is read back from the freezer (state.c). */
#include <errno.h>

#include "container/cgroup.h"
#include "container/container.h"
#include "util/cleanup.h"

static int freeze(const char *root, const char *id, bool pause, tm_error *err)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    _cleanup_close_ int lock = tm_state_open(root, id, &st, err);
    if (lock < 0)
        return lock;
    enum tm_container_status s = tm_state_status(root, &st);
    if (pause && s != TM_CONTAINER_RUNNING && s != TM_CONTAINER_CREATED)
        return tm_error_set(err, EINVAL, "container not running");
    if (!pause && s != TM_CONTAINER_PAUSED)
        return tm_error_set(err, EINVAL, "container not paused");
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    int ret;
    if ((ret = tm_cgroup_open(NULL, st.cgroup_path, &cg, err)) < 0 ||
        (ret = tm_cgroup_freeze(cg, pause, err)) < 0)
        return ret;
    return 0;
}

int tm_container_pause(const char *root, const char *id, tm_error *err)
{
    return freeze(root, id, true, err);
}

int tm_container_resume(const char *root, const char *id, tm_error *err)
{
    return freeze(root, id, false, err);
}
