/* Releasing a spec: everything it owns, then zeroes, so a second call (or
 * one on a spec that was never filled) does nothing. */
#include <stdlib.h>
#include <string.h>

#include "container/hooks.h"
#include "container/spec_internal.h"

static void free_seccomp(struct tm_seccomp_spec *s)
{
    tm_spec_free_strings(s->architectures, s->narchitectures);
    for (size_t i = 0; i < s->nrules; i++) {
        tm_spec_free_strings(s->rules[i].names, s->rules[i].nnames);
        free(s->rules[i].args);
    }
    free(s->rules);
}

void tm_spec_free(struct tm_container_spec *spec)
{
    if (!spec)
        return;
    free(spec->oci_version);
    free(spec->root_path);
    tm_spec_free_strings(spec->args, spec->nargs);
    tm_spec_free_strings(spec->env, spec->nenv);
    free(spec->cwd);
    free(spec->additional_gids);
    free(spec->rlimits);
    free(spec->apparmor_profile);
    free(spec->selinux_label);
    free(spec->hostname);
    free(spec->domainname);
    for (size_t i = 0; i < spec->nmounts; i++) {
        free(spec->mounts[i].destination);
        free(spec->mounts[i].type);
        free(spec->mounts[i].source);
        free(spec->mounts[i].data);
    }
    free(spec->mounts);
    for (size_t i = 0; i < TM_NS_COUNT; i++)
        free(spec->namespaces[i].path);
    free(spec->uid_mappings);
    free(spec->gid_mappings);
    free(spec->cgroups_path);
    tm_cgroup_limits_free(&spec->resources);
    for (size_t i = 0; i < spec->ndevices; i++)
        free(spec->devices[i].path);
    free(spec->devices);
    for (size_t i = 0; i < spec->nsysctls; i++) {
        free(spec->sysctls[i].key);
        free(spec->sysctls[i].value);
    }
    free(spec->sysctls);
    tm_spec_free_strings(spec->masked_paths, spec->nmasked_paths);
    tm_spec_free_strings(spec->readonly_paths, spec->nreadonly_paths);
    free_seccomp(&spec->seccomp);
    for (size_t i = 0; i < spec->nannotations; i++) {
        free(spec->annotations[i].key);
        free(spec->annotations[i].value);
    }
    free(spec->annotations);
    free(spec->enclave);
    tm_hooks_free(&spec->hooks);
    memset(spec, 0, sizeof *spec);
}
