/* The runtime-spec's state of a container, as `teemate state` prints it and
 * engines (podman, containerd) parse it: the spec's fields plus runc's rootfs,
 * created and owner, in runc's order and indentation. */
#include <jansson.h>

#include "container/state.h"

#define TM_OCI_VERSION "1.0.2"

const char *tm_container_status_name(enum tm_container_status s)
{
    switch (s) {
    case TM_CONTAINER_CREATING: return "creating";
    case TM_CONTAINER_CREATED: return "created";
    case TM_CONTAINER_RUNNING: return "running";
    case TM_CONTAINER_STOPPED: return "stopped";
    case TM_CONTAINER_PAUSED: return "paused";
    }
    return "unknown";
}

char *tm_state_oci_json(const struct tm_container_state *st, enum tm_container_status s)
{
    json_t *annotations = json_object();
    for (size_t i = 0; annotations && i < st->nannotations; i++)
        json_object_set_new(annotations, st->annotations[i].key,
                            json_string(st->annotations[i].value));
    /* runc prints pid 0 once the container has stopped: the pid may be reused. */
    json_int_t pid = s == TM_CONTAINER_STOPPED ? 0 : st->pid;
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:o}",
                          "ociVersion", TM_OCI_VERSION, "id", st->id,
                          "status", tm_container_status_name(s), "pid", pid,
                          "bundle", st->bundle, "rootfs", st->rootfs[0] ? st->rootfs : "/",
                          "created", st->created, "owner", "", "annotations", annotations);
    if (!j)
        return NULL;
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    return text;
}
