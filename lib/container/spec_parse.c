/* config.json (runtime-spec 1.0.x, as runc 1.1 reads it): the document and
 * its top-level members; process, mounts, annotations and linux have their
 * own files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "container/spec_internal.h"
#include "util/cleanup.h"
#include "util/file.h"

#define HOSTNAME_MAX 64   /* sethostname/setdomainname refuse longer */

static const tm_jpath top = { "" };

static int parse_root(json_t *root, struct tm_container_spec *spec, tm_error *err)
{
    tm_jpath at = { "root" };
    int r = tm_json_get_string(root, &at, "path", &spec->root_path, err);
    if (r == 0)
        return tm_json_missing(&at, "path", err);
    if (r < 0)
        return r;
    r = tm_json_get_bool(root, &at, "readonly", &spec->root_readonly, err);
    return r < 0 ? r : 0;
}

static int get_name(json_t *doc, const char *key, char **out, tm_error *err)
{
    int r = tm_json_get_string(doc, &top, key, out, err);
    if (r > 0 && strlen(*out) > HOSTNAME_MAX) {
        tm_jpath p = tm_jpath_key(&top, key);
        return tm_json_fail(err, &p, "longer than %d bytes", HOSTNAME_MAX);
    }
    return r < 0 ? r : 0;
}

static int parse_document(json_t *doc, struct tm_container_spec *spec, tm_error *err)
{
    if (!json_is_object(doc))
        return tm_error_set(err, EINVAL, "expected a JSON object at the top level");
    spec->resources = TM_CGROUP_LIMITS_NONE;
    json_t *v;
    int r = tm_json_get_string(doc, &top, "ociVersion", &spec->oci_version, err);
    if (r >= 0 && (r = tm_json_get_object(doc, &top, "root", &v, err)) > 0)
        r = parse_root(v, spec, err);
    if (r < 0)
        return r;
    r = tm_json_get_object(doc, &top, "process", &v, err);
    if (r == 0)
        return tm_json_missing(&top, "process", err);
    if (r > 0)
        r = tm_spec_parse_process(v, spec, err);
    if (r >= 0)
        r = get_name(doc, "hostname", &spec->hostname, err);
    if (r >= 0)
        r = get_name(doc, "domainname", &spec->domainname, err);
    if (r >= 0 && (r = tm_json_get_array(doc, &top, "mounts", TM_SPEC_MAX_ENTRIES, &v, err)) > 0)
        r = tm_spec_parse_mounts(v, spec, err);
    if (r >= 0 && (r = tm_json_get_object(doc, &top, "hooks", &v, err)) > 0)
        r = tm_spec_parse_hooks(v, &spec->hooks, err);
    if (r >= 0 && (r = tm_json_get_object(doc, &top, "annotations", &v, err)) > 0)
        r = tm_spec_parse_annotations(v, spec, err);
    if (r >= 0 && (r = tm_json_get_object(doc, &top, "linux", &v, err)) > 0)
        r = tm_spec_parse_linux(v, spec, err);
    return r < 0 ? r : 0;
}

int tm_spec_parse(const char *json, size_t len, struct tm_container_spec *spec, tm_error *err)
{
    memset(spec, 0, sizeof *spec);
    if (len > TM_SPEC_MAX_FILE)
        return tm_error_set(err, EFBIG, "config is larger than %u bytes", TM_SPEC_MAX_FILE);
    json_error_t jerr;
    /* Duplicate keys would let two readers of one file see two configs. */
    _cleanup_json_ json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return tm_error_set(err, EINVAL, "invalid JSON at line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    int r = parse_document(doc, spec, err);
    if (r < 0)
        tm_spec_free(spec);
    return r;
}

/* Why tm_file_read failed, without the path it puts in front. */
static const char *read_failure(int code)
{
    switch (code) {
    case EFBIG: return "larger than 4 MiB";
    case EINVAL: return "not a regular file";
    case EIO: return "the file shrank while being read";
    default: return strerror(code);
    }
}

int tm_spec_load_bundle(const char *bundle, struct tm_container_spec *spec, tm_error *err)
{
    memset(spec, 0, sizeof *spec);
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/config.json", bundle) >= (int)sizeof path)
        return tm_error_set(err, ENAMETOOLONG, "bundle path too long: %.100s...", bundle);
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    tm_error read_err = { 0 };
    int r = tm_file_read(path, TM_SPEC_MAX_FILE, &data, &len, &read_err);
    if (r < 0)
        return tm_error_set(err, -r, "cannot read %s: %s", path, read_failure(-r));
    r = tm_spec_parse((const char *)data, len, spec, err);
    return r < 0 ? tm_error_prefix(err, "%s", path) : 0;
}
