/* The process `exec` runs, as runc builds it: config.json's process with
 * the command line's changes (command, --cwd, --env appended, --user,
 * --additional-gids, --cap added to the bounding, effective and permitted
 * sets, --tty, --no-new-privs), or a runtime-spec process document
 * (--process) in its place. The rest of the spec (namespaces, seccomp, the
 * enclave annotation) stays config.json's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/exec.h"
#include "container/spec_internal.h"
#include "util/cleanup.h"
#include "util/file.h"

#define PROCESS_FILE_MAX (1 << 20)

static void replace_strings(char ***v, size_t *n, char **with, size_t nwith)
{
    tm_spec_free_strings(*v, *n);
    *v = with;
    *n = nwith;
}

/* The process document's fields in place of config.json's. Capabilities and
 * rlimits the document leaves out stay the container's (libcontainer's rule). */
static void take_process(struct tm_container_spec *spec, struct tm_container_spec *p, bool has_caps)
{
    spec->terminal = p->terminal;
    replace_strings(&spec->args, &spec->nargs, p->args, p->nargs);
    replace_strings(&spec->env, &spec->nenv, p->env, p->nenv);
    p->args = p->env = NULL;
    p->nargs = p->nenv = 0;
    free(spec->cwd);
    spec->cwd = p->cwd;
    p->cwd = NULL;
    spec->uid = p->uid;
    spec->gid = p->gid;
    free(spec->additional_gids);
    spec->additional_gids = p->additional_gids;
    spec->nadditional_gids = p->nadditional_gids;
    p->additional_gids = NULL;
    spec->has_umask = p->has_umask;
    spec->umask = p->umask;
    spec->no_new_privileges = p->no_new_privileges;
    if (has_caps) {
        spec->cap_bounding = p->cap_bounding;
        spec->cap_effective = p->cap_effective;
        spec->cap_permitted = p->cap_permitted;
        spec->cap_inheritable = p->cap_inheritable;
        spec->cap_ambient = p->cap_ambient;
    }
    if (p->nrlimits) {
        free(spec->rlimits);
        spec->rlimits = p->rlimits;
        spec->nrlimits = p->nrlimits;
        p->rlimits = NULL;
    }
    if (p->has_oom_score_adj) {
        spec->has_oom_score_adj = true;
        spec->oom_score_adj = p->oom_score_adj;
    }
    if (p->apparmor_profile) {
        free(spec->apparmor_profile);
        spec->apparmor_profile = TM_STEAL(p->apparmor_profile);
    }
    if (p->selinux_label) {
        free(spec->selinux_label);
        spec->selinux_label = TM_STEAL(p->selinux_label);
    }
}

static int read_process_file(struct tm_container_spec *spec, const char *path, tm_error *err)
{
    _cleanup_free_ uint8_t *data = NULL;
    size_t len;
    int ret = tm_file_read(path, PROCESS_FILE_MAX, &data, &len, err);
    if (ret < 0)
        return tm_error_prefix(err, "process file %s", path);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, len, 0, &jerr);
    if (!doc)
        return tm_error_set(err, EINVAL, "process file %s: not JSON: %s (line %d)", path, jerr.text, jerr.line);
    struct tm_container_spec p = { 0 };
    if (!json_is_object(doc))
        ret = tm_error_set(err, EINVAL, "process file %s: expected a JSON object", path);
    else if ((ret = tm_spec_parse_process(doc, &p, err)) < 0)
        tm_error_prefix(err, "process file %s", path);
    else
        take_process(spec, &p, json_object_get(doc, "capabilities") != NULL);
    json_decref(doc);
    tm_spec_free(&p);
    return ret;
}

static char **copy_strings(char *const *v, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            tm_spec_free_strings(out, i);
            return NULL;
        }
    return out;
}

static int parse_id(const char *text, const char *what, uint32_t *out, tm_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno || v > UINT32_MAX || text[0] == '-')
        return tm_error_set(err, EINVAL, "parsing %s as int for %s failed: strconv.Atoi: parsing \"%s\": invalid syntax",
                            text, what, text);   /* runc's words */
    *out = (uint32_t)v;
    return 0;
}

static int parse_user(struct tm_container_spec *spec, const char *user, tm_error *err)
{
    char uid[64];
    snprintf(uid, sizeof uid, "%.*s", (int)strcspn(user, ":"), user);
    const char *colon = strchr(user, ':');
    uint32_t v;
    if (colon) {
        if (parse_id(colon + 1, "gid", &v, err) < 0)
            return -err->code;
        spec->gid = v;
    }
    if (parse_id(uid, "uid", &v, err) < 0)
        return -err->code;
    spec->uid = v;
    return 0;
}

/* --cap: as runc 1.1, into bounding, effective and permitted (and ambient,
 * which the kernel takes only for an inheritable one); an unknown name is a
 * warning. */
static void add_caps(struct tm_container_spec *spec, char *const *caps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = tm_capability_from_name(caps[i]);
        if (c < 0) {
            fprintf(stderr, "teemate: warning: ignoring unknown or unavailable capability %s\n", caps[i]);
            continue;
        }
        uint64_t bit = UINT64_C(1) << c;
        spec->cap_bounding |= bit;
        spec->cap_effective |= bit;
        spec->cap_permitted |= bit;
        if (spec->cap_inheritable & bit)
            spec->cap_ambient |= bit;
    }
}

static int apply_options(struct tm_container_spec *spec, const struct tm_exec_options *o, tm_error *err)
{
    char **args = copy_strings(o->args, o->nargs);
    char **env = calloc(spec->nenv + o->nenv + 1, sizeof *env);
    if (!args || !env) {
        tm_spec_free_strings(args, o->nargs);
        free(env);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    replace_strings(&spec->args, &spec->nargs, args, o->nargs);
    memcpy(env, spec->env, spec->nenv * sizeof *env);
    free(spec->env);
    spec->env = env;
    for (size_t i = 0; i < o->nenv; i++)
        if (!(env[spec->nenv] = strdup(o->env[i])))
            return tm_error_set(err, ENOMEM, "out of memory");
        else
            spec->nenv++;
    if (o->cwd) {
        free(spec->cwd);
        if (!(spec->cwd = strdup(o->cwd)))
            return tm_error_set(err, ENOMEM, "out of memory");
    }
    if (o->user && parse_user(spec, o->user, err) < 0)
        return -err->code;
    if (o->nadditional_gids) {
        gid_t *g = realloc(spec->additional_gids, (spec->nadditional_gids + o->nadditional_gids) * sizeof *g);
        if (!g)
            return tm_error_set(err, ENOMEM, "out of memory");
        memcpy(g + spec->nadditional_gids, o->additional_gids, o->nadditional_gids * sizeof *g);
        spec->additional_gids = g;
        spec->nadditional_gids += o->nadditional_gids;
    }
    add_caps(spec, o->caps, o->ncaps);
    spec->terminal = o->tty;
    if (o->no_new_privs)
        spec->no_new_privileges = true;
    return 0;
}

int tm_exec_spec(const char *bundle, const struct tm_exec_options *o, struct tm_container_spec *spec,
                 char **entry, tm_error *err)
{
    *entry = NULL;
    if (o->process_label)
        return tm_error_set(err, ENOTSUP, "selinux label is specified in config, but selinux is disabled or not supported");
    if (o->apparmor)
        return tm_error_set(err, ENOTSUP, "apparmor profile %s cannot be applied: teemate has no AppArmor support",
                            o->apparmor);
    int ret = tm_spec_load_bundle(bundle, spec, err);
    if (ret < 0)
        return ret;
    if (!(*entry = strdup(spec->args[0])))
        return tm_error_set(err, ENOMEM, "out of memory");
    ret = o->process_file ? read_process_file(spec, o->process_file, err) : apply_options(spec, o, err);
    if (ret < 0)
        return ret;
    if (!spec->nargs)
        return tm_error_set(err, EINVAL, "process args cannot be empty");
    if (!spec->cwd || !*spec->cwd)
        return tm_error_set(err, EINVAL, "Cwd property must not be empty");
    if (spec->cwd[0] != '/')
        return tm_error_set(err, EINVAL, "Cwd must be an absolute path");
    return 0;
}
