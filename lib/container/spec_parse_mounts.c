/* config.json's mounts: where, what and how each filesystem is mounted. */
#include <errno.h>
#include <stdlib.h>

#include "container/spec_internal.h"

static int parse_mount(json_t *m, const tm_jpath *at, struct tm_mount_spec *ms, tm_error *err)
{
    int r = tm_json_object_value(m, at, err);
    if (r >= 0 && (r = tm_json_get_string(m, at, "destination", &ms->destination, err)) == 0)
        return tm_json_missing(at, "destination", err);
    if (r < 0)
        return r;
    if (ms->destination[0] != '/') {
        tm_jpath p = tm_jpath_key(at, "destination");
        return tm_json_fail(err, &p, "must be an absolute path");
    }
    r = tm_json_get_string(m, at, "type", &ms->type, err);
    if (r >= 0)
        r = tm_json_get_string(m, at, "source", &ms->source, err);
    char **options = NULL;
    size_t n = 0;
    if (r >= 0)
        r = tm_json_get_strings(m, at, "options", TM_SPEC_MAX_ENTRIES, &options, &n, err);
    if (r >= 0) {
        tm_jpath p = tm_jpath_key(at, "options");
        r = tm_mount_options_parse(options, n, &ms->flags, &ms->propagation, &ms->data, &p, err);
    }
    tm_spec_free_strings(options, n);
    return r < 0 ? r : 0;
}

int tm_spec_parse_mounts(json_t *mounts, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = { "mounts" };
    size_t n = json_array_size(mounts);
    int r = TM_SPEC_ALLOC(spec->mounts, n, &at, err);
    for (size_t i = 0; r >= 0 && i < n; i++) {
        tm_jpath ip = tm_jpath_index(&at, i);
        spec->nmounts = i + 1;   /* counted before it is filled: tm_spec_free frees a half */
        r = parse_mount(json_array_get(mounts, i), &ip, &spec->mounts[i], err);
    }
    return r;
}
