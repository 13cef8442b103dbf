/* Inside the spec layer: typed access to jansson values with the JSON path
 * of each value in error messages, and the parts of config.json each
 * spec_parse_*.c file reads. Not for use outside lib/container/spec*.c and
 * seccomp.c. */
#ifndef TM_CONTAINER_SPEC_INTERNAL_H
#define TM_CONTAINER_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "container/spec.h"
#include "util/error.h"

/* What a hostile config.json can make us copy: jansson has allocated the
 * document already, these keep our copies proportional and small. */
#define TM_SPEC_MAX_ENTRIES 65536     /* entries of any list or object */
#define TM_SPEC_MAX_STRING 65536      /* bytes of any string */
#define TM_SPEC_MAX_ARGS 4096         /* process.args */
#define TM_SPEC_MAX_FILE (4u << 20)   /* config.json */

static inline void tm_json_decrefp(json_t **j)
{
    json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(tm_json_decrefp)))

/* A JSON path for messages: "linux.resources.memory.limit", "process.args[2]".
 * Too long a path is cut with "..." (it only ever names things). */
typedef struct {
    char s[256];
} tm_jpath;

tm_jpath tm_jpath_key(const tm_jpath *parent, const char *key);
tm_jpath tm_jpath_index(const tm_jpath *parent, size_t i);

/* "PATH: message" as -EINVAL. */
int tm_json_fail(tm_error *err, const tm_jpath *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Getters of obj[key] (obj a JSON object, at its path). Each returns 1 when
 * the member is there and was stored, 0 when it is absent or null (Go's
 * decoder, which runc uses, treats null as absent: *out is left alone), or a
 * negative error naming at.key. */
int tm_json_get_string(json_t *obj, const tm_jpath *at, const char *key, char **out, tm_error *err);
int tm_json_get_bool(json_t *obj, const tm_jpath *at, const char *key, bool *out, tm_error *err);
int tm_json_get_int(json_t *obj, const tm_jpath *at, const char *key, int64_t min, int64_t max,
                    int64_t *out, tm_error *err);
int tm_json_get_object(json_t *obj, const tm_jpath *at, const char *key, json_t **out,
                       tm_error *err);
/* At most max entries. */
int tm_json_get_array(json_t *obj, const tm_jpath *at, const char *key, size_t max, json_t **out,
                      tm_error *err);
/* An array of at most max strings, copied NULL-terminated into *out. */
int tm_json_get_strings(json_t *obj, const tm_jpath *at, const char *key, size_t max, char ***out,
                        size_t *n, tm_error *err);
/* -EINVAL "at.key: required". */
int tm_json_missing(const tm_jpath *at, const char *key, tm_error *err);

/* A value at its own path (array entries). */
int tm_json_string_value(json_t *v, const tm_jpath *path, char **out, tm_error *err);
int tm_json_object_value(json_t *v, const tm_jpath *path, tm_error *err);

/* ptr = a fresh zeroed array of n elements (NULL when n is 0); -ENOMEM
 * naming at when out of memory. */
#define TM_SPEC_ALLOC(ptr, n, at, err) \
    tm_spec_alloc_check((ptr) = (n) ? calloc((n), sizeof *(ptr)) : NULL, (n), (at), (err))
int tm_spec_alloc_check(const void *p, size_t n, const tm_jpath *at, tm_error *err);

void tm_spec_free_strings(char **v, size_t n);

/* An object of strings (annotations, linux.sysctl) into *out, *n pairs. */
int tm_json_string_map(json_t *obj, const tm_jpath *at, struct tm_key_value **out, size_t *n,
                       tm_error *err);
/* o must be an object with a string under key (-EINVAL naming the path otherwise). */
int tm_json_required_string(json_t *o, const tm_jpath *at, const char *key, char **out, tm_error *err);
/* An integer member that must be there: 0, or a negative error naming at.key
 * (missing, not an integer, out of [min, max]). */
int tm_json_required_int(json_t *o, const tm_jpath *at, const char *key, int64_t min, int64_t max,
                         int64_t *out, tm_error *err);

/* The parts of config.json, each into spec (spec_parse_*.c). */
int tm_spec_parse_process(json_t *process, struct tm_container_spec *spec, tm_error *err);
int tm_spec_parse_mounts(json_t *mounts, struct tm_container_spec *spec, tm_error *err);
int tm_spec_parse_annotations(json_t *annotations, struct tm_container_spec *spec, tm_error *err);
int tm_spec_parse_linux(json_t *linux_, struct tm_container_spec *spec, tm_error *err);
int tm_spec_parse_resources(json_t *resources, struct tm_cgroup_limits *lim, tm_error *err);
/* (spec_parse_idmap.c) linux.uidMappings and gidMappings, then runc's
 * checks of them against the user namespace. */
int tm_spec_parse_id_mappings(json_t *linux_, struct tm_container_spec *spec, tm_error *err);
int tm_spec_parse_devices(json_t *devices, struct tm_container_spec *spec, tm_error *err);
int tm_spec_parse_seccomp(json_t *seccomp, struct tm_seccomp_spec *s, tm_error *err);
/* (spec_parse_hooks.c) The hooks object (config.json's, or ROOT/ID/hooks.json). */
int tm_spec_parse_hooks(json_t *hooks, struct tm_hooks *h, tm_error *err);

/* (spec_mount_options.c) runc's parseMountOptions: options -> MS_* flags,
 * propagation and the comma-joined rest. *data is NULL when nothing is left. */
int tm_mount_options_parse(char **options, size_t n, unsigned long *flags,
                           unsigned long *propagation, char **data, const tm_jpath *at,
                           tm_error *err);
/* "rprivate" -> MS_PRIVATE|MS_REC; false when name is no propagation. */
bool tm_mount_propagation_from_name(const char *name, unsigned long *flags);

/* (seccomp.c) "SCMP_ARCH_X86_64" -> libseccomp's SCMP_ARCH_X86_64 token; 0 if unknown. */
uint32_t tm_seccomp_arch_from_name(const char *name);

/* The names each table of the parser accepts, one per i from 0 until NULL
 * (for `teemate features`): mount options (flags, propagations, "defaults"),
 * namespace types, seccomp actions and operators. */
const char *tm_mount_option_name(size_t i);
const char *tm_spec_namespace_name(size_t i);
const char *tm_seccomp_action_name(size_t i);
const char *tm_seccomp_operator_name(size_t i);

#endif
