/* A teemate-mode action's shared enclave (fn-gw-<hash>) lives in teemated:
 * a daemon restart or an `enclave rm` takes it away while warm containers
 * of the action sit idle, attached to what is no longer the daemon's
 * enclave (its leases and slots unaccounted). Before a warm container is
 * reused the pool asks the daemon whether the container's init is still
 * attached to the action's enclave; before a new one is made, a gone
 * enclave is rebuilt from the action's sealed code (as fn_invoke's path
 * does). Other modes have no shared enclave: nothing to check. */
#include <errno.h>
#include <string.h>

#include "gw.h"
#include "gw_warm.h"

static bool gw_action_is_teemate(json_t *action)
{
    json_t *a;
    size_t i;
    json_array_foreach(json_object_get(action, "annotations"), i, a)
        if (!strcmp(json_string_value(json_object_get(a, "key")) ?: "", "teemate-mode"))
            return !strcmp(json_string_value(json_object_get(a, "value")) ?: "", "teemate");
    return true;   /* the default mode */
}

bool gw_warm_usable(struct gw *g, json_t *action, const struct gw_warm *w)
{
    const struct gw_hooks *h = &g->cfg.hooks;
    if (!h->enclave_attached || !gw_action_is_teemate(action))
        return true;
    struct fn_record rec = { 0 };
    gw_action_record_name(w->action, rec.name);
    /* < 0: the daemon does not answer; the run itself will tell */
    return h->enclave_attached(&rec, w->init) != 0;
}

int gw_enclave_ensure(struct gw *g, json_t *action, const char *name, tm_error *err)
{
    const struct gw_hooks *h = &g->cfg.hooks;
    if (!h->enclave_gone || !h->enclave_restore || !gw_action_is_teemate(action))
        return 0;
    struct fn_record rec = { 0 };
    char recname[FN_NAME_MAX + 1];
    gw_action_record_name(name, recname);
    snprintf(rec.name, sizeof rec.name, "%s", recname);
    if (!h->enclave_gone(&rec))
        return 0;
    int r = fn_record_load(recname, &rec, err);
    return r < 0 ? r : h->enclave_restore(&rec, err);
}
