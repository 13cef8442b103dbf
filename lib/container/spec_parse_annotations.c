/* config.json's annotations, and the two of ours in them: which shared
 * enclave the container attaches to, and its memory cap. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_internal.h"
#include "daemon/client.h"
#include "util/size.h"

/* Whether this is a pod's sandbox (pause) container, as the CRI runtimes
 * mark it: containerd's pod_annotations pass a pod's annotations to the
 * sandbox as well as to the pod's containers, and only those attach. */
static bool is_pod_sandbox(const struct tm_container_spec *spec)
{
    const char *containerd = tm_spec_annotation(spec, TM_ANNOTATION_CRI_CONTAINER_TYPE);
    const char *crio = tm_spec_annotation(spec, TM_ANNOTATION_CRIO_CONTAINER_TYPE);
    return (containerd && !strcmp(containerd, "sandbox")) || (crio && !strcmp(crio, "sandbox"));
}

static int parse_enclave(struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = { "annotations" };
    if (is_pod_sandbox(spec))
        return 0;
    const char *name = tm_spec_annotation(spec, TM_ANNOTATION_ENCLAVE);
    const char *memory = tm_spec_annotation(spec, TM_ANNOTATION_ENCLAVE_MEMORY);
    if (name) {
        tm_jpath p = tm_jpath_key(&at, TM_ANNOTATION_ENCLAVE);
        /* teemated's rule for names, so what parses here can be attached to. */
        if (!tm_enclave_name_valid(name))
            return tm_json_fail(err, &p,
                                "\"%.100s\" is not an enclave name (1 to %d of A-Z a-z 0-9 _ . -, "
                                "not starting with '.' or '-')", name, TM_ENCLAVE_NAME_MAX);
        if (!(spec->enclave = strdup(name)))
            return tm_error_set(err, ENOMEM, "%s: out of memory", p.s);
    }
    if (memory) {
        tm_jpath p = tm_jpath_key(&at, TM_ANNOTATION_ENCLAVE_MEMORY);
        /* A cap without an enclave is most likely a misspelt enclave key. */
        if (!name)
            return tm_json_fail(err, &p, "given without %s", TM_ANNOTATION_ENCLAVE);
        if (tm_parse_size(memory, UINT64_MAX, &spec->enclave_memory) < 0 ||
            spec->enclave_memory == 0)
            return tm_json_fail(err, &p, "\"%.100s\" is not a size above 0 (such as \"64m\")",
                                memory);
    }
    return 0;
}

int tm_spec_parse_annotations(json_t *obj, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = { "annotations" };
    int r = tm_json_string_map(obj, &at, &spec->annotations, &spec->nannotations, err);
    return r < 0 ? r : parse_enclave(spec, err);
}

const char *tm_spec_annotation(const struct tm_container_spec *spec, const char *key)
{
    for (size_t i = 0; i < spec->nannotations; i++)
        if (spec->annotations[i].key && !strcmp(spec->annotations[i].key, key))
            return spec->annotations[i].value;
    return NULL;
}
