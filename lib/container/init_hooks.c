/* The hooks that run while init sets the container up (hooks.h has the
 * table): the runtime's before pivot_root, asked for over the sync socket,
 * and init's own in the container's namespaces. */
#include "container/init.h"

#include <errno.h>
#include <stdlib.h>

#include "container/hooks.h"
#include "util/cleanup.h"

/* The state init's hooks get: what create will save, as far as init knows it. */
static char *state_json(const struct tm_init_args *a, pid_t pid, enum tm_container_status s)
{
    struct tm_container_state st = { .pid = pid, .annotations = a->spec->annotations,
                                     .nannotations = a->spec->nannotations };
    snprintf(st.id, sizeof st.id, "%s", a->o->id);
    snprintf(st.bundle, sizeof st.bundle, "%s", a->o->bundle ? a->o->bundle : "");
    snprintf(st.rootfs, sizeof st.rootfs, "%s", a->rootfs ? a->rootfs : "");
    return tm_state_oci_json(&st, s);   /* borrows the annotations: nothing to clear */
}

static int run_own(const struct tm_init_args *a, pid_t pid, enum tm_hook_kind k,
                   enum tm_container_status s, tm_error *err)
{
    if (!tm_hooks_any(&a->spec->hooks, k))
        return 0;
    _cleanup_free_ char *json = state_json(a, pid, s);
    if (!json)
        return tm_error_set(err, ENOMEM, "cannot describe the container for its %s hooks",
                            tm_hook_kind_name(k));
    return tm_hooks_run(&a->spec->hooks, k, json, err);
}

int tm_init_hooks_before_pivot(const struct tm_init_args *a, pid_t pid, tm_error *err)
{
    const struct tm_hooks *h = &a->spec->hooks;
    if (tm_hooks_any(h, TM_HOOK_PRESTART) || tm_hooks_any(h, TM_HOOK_CREATE_RUNTIME)) {
        struct tm_sync_msg m;
        /* The runtime answers GO, or fails create and kills us. */
        if (tm_sync_send(a->sync_fd, TM_SYNC_HOOKS, 0, 0, NULL) < 0 || tm_sync_recv(a->sync_fd, &m) < 0 ||
            m.type != TM_SYNC_GO)
            _exit(1);
    }
    /* Still before pivot_root: the path resolves on the host, as the spec wants. */
    return run_own(a, pid, TM_HOOK_CREATE_CONTAINER, TM_CONTAINER_CREATING, err);
}

int tm_init_hooks_start(const struct tm_init_args *a, pid_t pid, tm_error *err)
{
    return run_own(a, pid, TM_HOOK_START_CONTAINER, TM_CONTAINER_CREATED, err);
}
