/* Function records under the state directory (fn_record.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fn_record.h"
#include "tm_ecall.h"
#include "util/cleanup.h"
#include "util/file.h"
#include "util/state_dir.h"

int fn_name_check(const char *name, tm_error *err)
{
    size_t n = strlen(name);
    bool ok = n >= 1 && n <= FN_NAME_MAX && name[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-';
    if (!ok)
        return tm_error_set(err, EINVAL, "function name '%s': 1 to %d of A-Z a-z 0-9 _ -, not starting with '-'",
                            name, FN_NAME_MAX);
    return 0;
}

const char *fn_mode_name(enum fn_mode mode)
{
    switch (mode) {
    case FN_MODE_TEEMATE: return "teemate";
    case FN_MODE_STRAWMAN: return "strawman";
    case FN_MODE_STRAWMAN_EDMM: return "strawman-edmm";
    default: return "native";
    }
}

int fn_mode_parse(const char *text, enum fn_mode *mode)
{
    if (!strcmp(text, "native"))
        *mode = FN_MODE_NATIVE;
    else if (!strcmp(text, "teemate"))
        *mode = FN_MODE_TEEMATE;
    else if (!strcmp(text, "strawman"))
        *mode = FN_MODE_STRAWMAN;
    else if (!strcmp(text, "strawman-edmm"))
        *mode = FN_MODE_STRAWMAN_EDMM;
    else
        return -EINVAL;
    return 0;
}

void fn_enclave_name(const char *name, char buf[64])
{
    snprintf(buf, 64, "fn-%s", name);
}

static char fn_record_root[4096];   /* "": <state dir>/functions */

void fn_record_set_root(const char *dir)
{
    snprintf(fn_record_root, sizeof fn_record_root, "%s", dir);
}

int fn_record_dir(const char *name, bool create, char *buf, size_t len, tm_error *err)
{
    char root[4200];
    if (fn_record_root[0]) {
        snprintf(root, sizeof root, "%s", fn_record_root);
    } else {
        int r = tm_state_dir(root, sizeof root - 16, err);
        if (r < 0)
            return r;
        strcat(root, "/functions");
    }
    if ((size_t)snprintf(buf, len, "%s", root) >= len)
        return tm_error_set(err, ENAMETOOLONG, "state directory path too long");
    if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
        return tm_error_sys(err, "%s", buf);
    if (name && (size_t)snprintf(buf, len, "%s/%s", root, name) >= len)
        return tm_error_set(err, ENAMETOOLONG, "state directory path too long");
    return 0;
}

void fn_record_script_path(const char *dir, const struct fn_record *rec, uint32_t i, char *buf,
                           size_t len)
{
    snprintf(buf, len, "%s/%u-%s", dir, i, rec->scripts[i]);
}

#define FN_RECORD_SEALED "code.sealed"

int fn_record_save(const struct fn_record *rec, const char *const *texts, const size_t *lens,
                   const void *sealed, size_t sealed_len, tm_error *err)
{
    char dir[4200], path[4400];
    int r = fn_record_dir(rec->name, true, dir, sizeof dir, err);
    if (r < 0)
        return r;
    if (mkdir(dir, 0700) < 0)
        return errno == EEXIST ? tm_error_set(err, EEXIST, "function '%s' exists (teemate fn rm first)", rec->name)
                               : tm_error_sys(err, "%s", dir);
    json_t *scripts = json_array();
    for (uint32_t i = 0; i < rec->nscripts; i++) {
        json_array_append_new(scripts, json_string(rec->scripts[i]));
        if (rec->mode != FN_MODE_TEEMATE) {
            fn_record_script_path(dir, rec, i, path, sizeof path);
            if ((r = tm_file_write(path, texts[i], lens[i], 0600, err)) < 0) {
                json_decref(scripts);
                return r;
            }
        }
    }
    if (rec->mode == FN_MODE_TEEMATE) {
        snprintf(path, sizeof path, "%s/" FN_RECORD_SEALED, dir);
        if ((r = tm_file_write(path, sealed, sealed_len, 0600, err)) < 0) {
            json_decref(scripts);
            return r;
        }
    }
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "name", rec->name, "mode",
                          fn_mode_name(rec->mode), "memory", (json_int_t)rec->memory, "timeout_ms",
                          (json_int_t)rec->timeout_ms, "instances", (json_int_t)rec->instances,
                          "scripts", scripts);
    _cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    if (!text)
        return tm_error_set(err, ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/function.json", dir);
    return tm_file_write(path, text, strlen(text), 0600, err);
}

int fn_record_load(const char *name, struct fn_record *rec, tm_error *err)
{
    char dir[4200], path[4400];
    int r = fn_name_check(name, err);
    if (r < 0 || (r = fn_record_dir(name, false, dir, sizeof dir, err)) < 0)
        return r;
    snprintf(path, sizeof path, "%s/function.json", dir);
    if (access(path, F_OK) != 0)
        return tm_error_set(err, ENOENT, "no function '%s'", name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    const char *mode = NULL;
    json_int_t memory = 0, timeout = 0, instances = 0;
    json_t *scripts = NULL;
    memset(rec, 0, sizeof *rec);
    if (!j || json_unpack(j, "{s:s, s:I, s:I, s?I, s:o}", "mode", &mode, "memory", &memory,
                          "timeout_ms", &timeout, "instances", &instances, "scripts", &scripts) < 0 ||
        fn_mode_parse(mode, &rec->mode) < 0 || !json_is_array(scripts) ||
        json_array_size(scripts) == 0 || json_array_size(scripts) > FN_MAX_SCRIPTS ||
        memory < 0 || timeout < 0 || instances < 0 || instances > UINT32_MAX) {
        json_decref(j);
        return tm_error_set(err, EINVAL, "%s: not a function record", path);
    }
    snprintf(rec->name, sizeof rec->name, "%s", name);
    rec->memory = (uint64_t)memory;
    rec->timeout_ms = (uint64_t)timeout;
    rec->instances = (uint32_t)instances;
    rec->nscripts = (uint32_t)json_array_size(scripts);
    for (uint32_t i = 0; i < rec->nscripts; i++) {
        const char *s = json_string_value(json_array_get(scripts, i));
        if (!s || !*s || strlen(s) > FN_MAX_SCRIPT_NAME || strchr(s, '/')) {
            json_decref(j);
            return tm_error_set(err, EINVAL, "%s: bad script name", path);
        }
        snprintf(rec->scripts[i], sizeof rec->scripts[i], "%s", s);
    }
    json_decref(j);
    return 0;
}

int fn_record_sealed_read(const char *name, void **blob, size_t *len, tm_error *err)
{
    char dir[4200], path[4400];
    int r = fn_record_dir(name, false, dir, sizeof dir, err);
    if (r < 0)
        return r;
    snprintf(path, sizeof path, "%s/" FN_RECORD_SEALED, dir);
    return tm_file_read(path, TM_ECALL_MAX_IN, (uint8_t **)blob, len, err);
}

static int fn_record_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fn_record_list(char ***names, size_t *count, tm_error *err)
{
    char dir[4200];
    *names = NULL;
    *count = 0;
    int r = fn_record_dir(NULL, false, dir, sizeof dir, err);
    if (r < 0)
        return r;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : tm_error_sys(err, "%s", dir);
    char **v = NULL;
    size_t n = 0;
    struct dirent *e;
    tm_error ignore;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || fn_name_check(e->d_name, &ignore) < 0)
            continue;
        char **nv = realloc(v, (n + 1) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, fn_record_cmp);
    *names = v;
    *count = n;
    return 0;
}

int fn_record_remove(const char *name, tm_error *err)
{
    char dir[4200], path[4600];
    int r = fn_name_check(name, err);
    if (r < 0 || (r = fn_record_dir(name, false, dir, sizeof dir, err)) < 0)
        return r;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? tm_error_set(err, ENOENT, "no function '%s'", name)
                               : tm_error_sys(err, "%s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    if (rmdir(dir) < 0)
        return tm_error_sys(err, "%s", dir);
    return 0;
}
