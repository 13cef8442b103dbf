/* A container's specification: what the OCI runtime-spec's config.json says
 * (spec_parse.c reads it with jansson), or what `teemate run` builds from its
 * options (spec_default.c). One struct for both, so there is one creation path.
 * Everything is owned by the spec and freed by tm_spec_free. */
#ifndef TM_CONTAINER_SPEC_H
#define TM_CONTAINER_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container/cgroup.h"
#include "util/error.h"

#define TM_ANNOTATION_ENCLAVE "org.teemate.enclave"
#define TM_ANNOTATION_ENCLAVE_MEMORY "org.teemate.enclave.memory"
/* How containerd's and CRI-O's CRI mark a pod's sandbox container ("sandbox"):
 * it never attaches to an enclave, even with the pod's enclave annotation. */
#define TM_ANNOTATION_CRI_CONTAINER_TYPE "io.kubernetes.cri.container-type"
#define TM_ANNOTATION_CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"
/* PATH of the default spec, and where init looks when the spec sets none. */
#define TM_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Namespaces a container can have (runtime-spec linux.namespaces). */
enum tm_ns_type {
    TM_NS_PID, TM_NS_MOUNT, TM_NS_UTS, TM_NS_IPC, TM_NS_NET, TM_NS_CGROUP, TM_NS_USER,
    TM_NS_COUNT
};

struct tm_ns_spec {
    bool enabled;              /* listed in config.json */
    char *path;                /* join this one (setns) instead of creating; NULL: create */
};

/* linux.uidMappings / gidMappings: ids [container_id, +size) inside are
 * [host_id, +size) on the host. */
struct tm_id_mapping {
    uint32_t container_id, host_id, size;
};

struct tm_mount_spec {
    char *destination;         /* absolute, inside the container */
    char *type;                /* "proc", "tmpfs", "bind", ...; NULL = bind when options say so */
    char *source;
    unsigned long flags;       /* MS_* from options (MS_BIND, MS_REC, MS_RDONLY, ...) */
    unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/MS_SHARED (|MS_REC), 0 none */
    char *data;                /* options that are not flags, comma-joined ("mode=755,size=65536k") */
};

struct tm_device_spec {        /* linux.devices */
    char *path;
    char type;                 /* 'c', 'b', 'u', 'p' */
    int64_t major, minor;
    uint32_t file_mode;        /* 0: 0666 */
    uint32_t uid, gid;
};

struct tm_rlimit_spec {
    int resource;              /* RLIMIT_* */
    uint64_t soft, hard;
};

/* An annotation, or a sysctl ("net.ipv4.ping_group_range" = "0 0"). */
struct tm_key_value {
    char *key, *value;
};

/* linux.seccomp, as libseccomp wants it (seccomp.c applies it). */
struct tm_seccomp_arg {
    unsigned int index;
    uint64_t value, value_two;
    int op;                    /* enum scmp_compare */
};

struct tm_seccomp_rule {
    char **names;
    size_t nnames;
    uint32_t action;           /* SCMP_ACT_* (errno / trace values folded in) */
    struct tm_seccomp_arg *args;
    size_t nargs;
};

struct tm_seccomp_spec {
    uint32_t default_action;
    char **architectures;      /* "SCMP_ARCH_X86_64", ... */
    size_t narchitectures;
    struct tm_seccomp_rule *rules;
    size_t nrules;
    unsigned int flags;        /* SECCOMP_FILTER_FLAG_* the spec asks for that we honour */
};

/* config.json's hooks, by kind, in the runtime-spec's order of events. */
enum tm_hook_kind {
    TM_HOOK_PRESTART, TM_HOOK_CREATE_RUNTIME, TM_HOOK_CREATE_CONTAINER, TM_HOOK_START_CONTAINER,
    TM_HOOK_POSTSTART, TM_HOOK_POSTSTOP,
    TM_HOOK_KINDS
};

struct tm_hook {
    char *path;                /* absolute */
    char **args;               /* NULL-terminated (argv, args[0] included); NULL: { path } */
    size_t nargs;
    char **env;                /* NULL-terminated; NULL: the runtime's environment (as runc) */
    size_t nenv;
    int timeout;               /* seconds, > 0; 0: none */
};

struct tm_hooks {
    struct tm_hook *list[TM_HOOK_KINDS];
    size_t n[TM_HOOK_KINDS];
};

struct tm_container_spec {
    char *oci_version;

    /* root */
    char *root_path;           /* as written; relative = to the bundle. NULL: no new root (run) */
    bool root_readonly;

    /* process */
    bool terminal;
    char **args;               /* NULL-terminated, nargs entries */
    size_t nargs;
    char **env;                /* NULL-terminated */
    size_t nenv;
    char *cwd;                 /* absolute; default "/" */
    uid_t uid;
    gid_t gid;
    gid_t *additional_gids;
    size_t nadditional_gids;
    bool has_umask;
    mode_t umask;
    bool no_new_privileges;
    /* capability sets as bit masks (bit n = capability n); all-zero = none */
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    struct tm_rlimit_spec *rlimits;
    size_t nrlimits;
    bool has_oom_score_adj;
    int oom_score_adj;
    char *apparmor_profile;    /* parsed so it is not silently lost; not applied (no AppArmor here) */
    char *selinux_label;       /* same */

    char *hostname;            /* NULL: keep (a new UTS namespace copies the host's) */
    char *domainname;

    struct tm_mount_spec *mounts;
    size_t nmounts;

    /* linux */
    struct tm_ns_spec namespaces[TM_NS_COUNT];
    /* With a user namespace (both required then, as runc): written to the
     * new namespace's uid_map/gid_map, or describing the one joined. */
    struct tm_id_mapping *uid_mappings, *gid_mappings;
    size_t nuid_mappings, ngid_mappings;
    char *cgroups_path;        /* NULL: chosen from the id */
    struct tm_cgroup_limits resources;
    struct tm_device_spec *devices;
    size_t ndevices;
    struct tm_key_value *sysctls;
    size_t nsysctls;
    char **masked_paths;
    size_t nmasked_paths;
    char **readonly_paths;
    size_t nreadonly_paths;
    unsigned long rootfs_propagation;  /* MS_* ; 0: MS_SLAVE|MS_REC as runc */
    bool has_seccomp;
    struct tm_seccomp_spec seccomp;

    struct tm_key_value *annotations;
    size_t nannotations;
    /* From the annotations: the shared enclave to attach to (NULL: plain
     * container) and its slot's memory cap in bytes (0: the whole slot). */
    char *enclave;
    uint64_t enclave_memory;

    struct tm_hooks hooks;
};

/* Parse config.json's text (len bytes, need not be NUL-terminated). Unknown
 * fields are ignored as the spec says; wrong types, bad values and features we
 * cannot honour (time namespaces) are -EINVAL with the JSON path in the
 * message ("process.args[2]: expected a string"). */
int tm_spec_parse(const char *json, size_t len, struct tm_container_spec *spec, tm_error *err);

/* Read and parse DIR/config.json. */
int tm_spec_load_bundle(const char *bundle, struct tm_container_spec *spec, tm_error *err);

/* The runtime-spec's default configuration (runc spec): rootfs "rootfs",
 * args ["sh"], the usual mounts, namespaces, capabilities and masked paths.
 * As JSON text (malloc'd) for `teemate spec`, and as a spec for `teemate run`. */
char *tm_spec_default_json(void);
int tm_spec_default(struct tm_container_spec *spec, tm_error *err);

/* (spec_parse_idmap.c) Who the user namespace's root (uid and gid 0) is on
 * the host: the mappings' image of 0, or 0 and 0 without a user namespace. */
uid_t tm_spec_host_root_uid(const struct tm_container_spec *spec);
gid_t tm_spec_host_root_gid(const struct tm_container_spec *spec);

/* Value of an annotation, or NULL. */
const char *tm_spec_annotation(const struct tm_container_spec *spec, const char *key);

void tm_spec_free(struct tm_container_spec *spec);

/* (seccomp.c) Load the filter into this thread. Last step before exec. */
int tm_seccomp_apply(const struct tm_seccomp_spec *s, tm_error *err);

/* "CAP_SYS_ADMIN" -> 21; -EINVAL if unknown. */
int tm_capability_from_name(const char *name);

#endif
