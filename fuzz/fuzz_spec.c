/* libFuzzer target: config.json comes from whoever wrote the bundle (an
 * engine, a user, a downloaded image's tooling); parsing it must refuse
 * garbage cleanly, leave a refused spec zeroed, and hand back only specs
 * whose promises hold. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec.h"
#include "daemon/client.h"

static void check_promises(const struct tm_container_spec *s)
{
    if (s->nargs < 1 || s->nargs > 4096 || !s->args || s->args[s->nargs] || !s->cwd ||
        s->cwd[0] != '/')
        abort();
    if (s->env && s->env[s->nenv])
        abort();
    for (size_t i = 0; i < s->nmounts; i++)
        if (!s->mounts[i].destination || s->mounts[i].destination[0] != '/')
            abort();
    if (s->enclave && !tm_enclave_name_valid(s->enclave))
        abort();
    if (s->enclave_memory && !s->enclave)
        abort();
    if (s->namespaces[TM_NS_USER].enabled)
        abort();
    if (s->resources.pids_max == 0 || s->resources.memory_max == 0)
        abort();
    for (size_t i = 0; i < s->seccomp.nrules; i++)
        for (size_t k = 0; k < s->seccomp.rules[i].nargs; k++)
            if (s->seccomp.rules[i].args[k].index > 5)
                abort();
    for (size_t i = 0; i < s->nannotations; i++)
        if (tm_spec_annotation(s, s->annotations[i].key) == NULL)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tm_container_spec zero;
    struct tm_container_spec spec;
    tm_error err = { 0 };
    if (tm_spec_parse((const char *)data, size, &spec, &err) == 0)
        check_promises(&spec);
    else if (memcmp(&spec, &zero, sizeof zero) || !err.msg[0])
        abort();
    tm_spec_free(&spec);
    tm_spec_free(&spec);   /* a freed spec is zero: a second free does nothing */
    return 0;
}
