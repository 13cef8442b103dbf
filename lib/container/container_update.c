/* tm_container_update: new limits into a live container's cgroup, and into
 * ROOT/ID/resources.json (what updates have set so far, later ones over
 * earlier ones), as runc keeps them in its state. */
#include <errno.h>
#include <string.h>

#include "container/cgroup.h"
#include "container/container.h"
#include "util/cleanup.h"
#include "util/file.h"

/* b's limits over a's (0 and "" in b: a's stays). */
static void overlay(struct tm_cgroup_update *a, const struct tm_cgroup_update *b)
{
#define TAKE(f) if (b->f) a->f = b->f
    TAKE(memory); TAKE(memory_swap); TAKE(memory_reservation); TAKE(pids); TAKE(cpu_quota);
    TAKE(cpu_period); TAKE(cpu_shares); TAKE(blkio_weight);
#undef TAKE
    if (*b->cpuset_cpus)
        memcpy(a->cpuset_cpus, b->cpuset_cpus, sizeof a->cpuset_cpus);
    if (*b->cpuset_mems)
        memcpy(a->cpuset_mems, b->cpuset_mems, sizeof a->cpuset_mems);
}

static int record(const char *root, const char *id, const struct tm_cgroup_update *u, tm_error *err)
{
    char path[PATH_MAX];
    int ret = tm_state_path(root, id, "resources.json", path, sizeof path, err);
    if (ret < 0)
        return ret;
    struct tm_cgroup_update all = { 0 };
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    tm_error ignored;
    if (tm_file_read(path, 1 << 20, &data, &len, &ignored) == 0)
        tm_cgroup_update_parse((const char *)data, len, &all, &ignored);
    overlay(&all, u);
    _cleanup_free_ char *text = tm_cgroup_update_json(&all);
    if (!text)
        return tm_error_set(err, ENOMEM, "cannot record the limits of container \"%s\"", id);
    return tm_file_write(path, text, strlen(text), 0600, err);
}

int tm_container_update(const char *root, const char *id, const struct tm_cgroup_update *u, tm_error *err)
{
    _cleanup_(tm_state_clear) struct tm_container_state st = { 0 };
    _cleanup_close_ int lock = tm_state_open(root, id, &st, err);
    if (lock < 0)
        return lock;
    enum tm_container_status s = tm_state_status(root, &st);
    if (s == TM_CONTAINER_STOPPED || s == TM_CONTAINER_CREATING || !st.cgroup_path[0])
        return tm_error_set(err, EINVAL, "container not running");
    _cleanup_cgroup_ struct tm_cgroup *cg = NULL;
    int ret;
    if ((ret = tm_cgroup_open(NULL, st.cgroup_path, &cg, err)) < 0 || (ret = tm_cgroup_update(cg, u, err)) < 0)
        return ret;
    return record(root, id, u, err);
}
