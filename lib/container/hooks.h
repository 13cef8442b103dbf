/* OCI hooks (runtime-spec config.md#posix-platform-hooks): programs
 * config.json names for container events, each given the container's state
 * JSON on stdin. Where each kind runs and what its failure does:
 *   prestart, createRuntime  runtime's namespaces, in create once init has
 *                            made its mounts, before pivot_root: failure
 *                            fails create (nothing left behind)
 *   createContainer          container's namespaces (run by init), same
 *                            moment, path resolved on the host: same
 *   startContainer           container's namespaces (init), in start before
 *                            the process is exec'd: failure fails start
 *   poststart                runtime's, once start has the process exec'd:
 *                            failure is a warning
 *   poststop                 runtime's, in delete once the container is
 *                            gone: failure is a warning
 * The post* hooks run in later CLI processes than create: create keeps the
 * hooks in ROOT/ID/hooks.json for them. */
#ifndef TM_CONTAINER_HOOKS_H
#define TM_CONTAINER_HOOKS_H

#include <stddef.h>

#include "container/spec.h"
#include "util/error.h"

/* "prestart", "createRuntime", ... (config.json's names). */
const char *tm_hook_kind_name(enum tm_hook_kind k);

static inline bool tm_hooks_any(const struct tm_hooks *h, enum tm_hook_kind k)
{
    return h->n[k] > 0;
}

/* Run the hooks of kind k in order, each with state_json on stdin; the first
 * that fails (exit status not 0, killed, not started, or still running at its
 * timeout: then SIGKILLed) stops the rest: -errno with "error running KIND
 * hook #I: ..." (runc's words). */
int tm_hooks_run(const struct tm_hooks *h, enum tm_hook_kind k, const char *state_json, tm_error *err);
/* poststart and poststop: every hook runs; each failure is a warning on stderr. */
void tm_hooks_run_warn(const struct tm_hooks *h, enum tm_hook_kind k, const char *state_json);

/* ROOT/ID/hooks.json: written by create when there are post* hooks; read
 * back (absent: no hooks) by start and delete. */
int tm_hooks_save(const char *root, const char *id, const struct tm_hooks *h, tm_error *err);
int tm_hooks_load(const char *root, const char *id, struct tm_hooks *h, tm_error *err);

void tm_hooks_free(struct tm_hooks *h);

#endif
