/* `teemate features`: runc's features document (runtime-spec
 * features.md), naming what this runtime accepts. Every list comes from the
 * table the config.json parser itself uses, so the document cannot claim
 * what create would refuse. */
#include <ctype.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "container/container.h"
#include "container/spec_internal.h"

#define OCI_VERSION_MIN "1.0.0"
#define OCI_VERSION_MAX "1.0.2"

/* The runtime spec's seccomp architecture names; those libseccomp here
 * resolves are the ones we accept (seccomp.c). */
static const char *const spec_archs[] = {
    "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",       "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",      "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",
};

static int compare_strings(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* names(0), names(1), ... until NULL, as a sorted JSON array (runc sorts). */
static json_t *sorted(const char *(*names)(size_t))
{
    size_t n = 0;
    while (names(n))
        n++;
    json_t **items = calloc(n ? n : 1, sizeof *items);
    json_t *a = json_array();
    if (!items || !a) {
        free(items);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        items[i] = json_string(names(i));
    qsort(items, n, sizeof *items, compare_strings);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, items[i]);
    free(items);
    return a;
}

static const char *arch_name(size_t i)
{
    for (size_t j = 0; j < sizeof spec_archs / sizeof spec_archs[0]; j++)
        if (tm_seccomp_arch_from_name(spec_archs[j]) && i-- == 0)
            return spec_archs[j];
    return NULL;
}

/* Every capability libcap and this kernel know that config.json may name
 * (tm_capability_from_name), in number order as runc lists them. */
static json_t *capabilities(void)
{
    json_t *a = json_array();
    for (cap_value_t c = 0; a && c < (cap_value_t)cap_max_bits() && c <= 63; c++) {
        char *name = cap_to_name(c), upper[64];
        if (!name)
            continue;
        size_t i = 0;
        for (; name[i] && i < sizeof upper - 1; i++)
            upper[i] = (char)toupper((unsigned char)name[i]);
        upper[i] = '\0';
        cap_free(name);
        if (tm_capability_from_name(upper) == c)
            json_array_append_new(a, json_string(upper));
    }
    return a;
}

static json_t *annotations(const char *runtime_version)
{
    const struct scmp_version *v = seccomp_version();
    char seccomp[48];
    snprintf(seccomp, sizeof seccomp, "%u.%u.%u", v->major, v->minor, v->micro);
    return json_pack("{s:s, s:s}", "io.github.seccomp.libseccomp.version", seccomp,
                     "org.teemate.version", runtime_version);
}

char *tm_container_features_json(const char *runtime_version)
{
    /* hooks: every kind the runtime spec has (hooks.c). apparmorProfile and
     * selinuxLabel are parsed but not applied: both disabled. Cgroups are
     * managed through cgroupfs only, v1, v2 or hybrid (cgroup.h). */
    json_t *j = json_pack(
        "{s:s, s:s, s:[ssssss], s:o, s:{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o},"
        " s:{s:b}, s:{s:b}}, s:o}",
        "ociVersionMin", OCI_VERSION_MIN, "ociVersionMax", OCI_VERSION_MAX, "hooks", "prestart",
        "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
        "mountOptions", sorted(tm_mount_option_name),
        "linux",
        "namespaces", sorted(tm_spec_namespace_name),
        "capabilities", capabilities(),
        "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0,
        "seccomp", "enabled", 1, "actions", sorted(tm_seccomp_action_name),
        "operators", sorted(tm_seccomp_operator_name), "archs", sorted(arch_name),
        "apparmor", "enabled", 0,
        "selinux", "enabled", 0,
        "annotations", annotations(runtime_version));
    if (!j)
        return NULL;
    char *text = json_dumps(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    json_decref(j);
    return text;
}
