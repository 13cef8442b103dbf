/* Activation records: the newest GW_ACTIVATIONS_MAX in memory (oldest
 * first), each also <dir>/<activationId>.json so that they outlive a restart;
 * the oldest one goes (memory and file) when a new one comes past the bound. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw.h"
#include "util/file.h"

struct gw_store {
    pthread_mutex_t lock;
    char dir[4096];
    json_t **v;            /* a ring of max: v[(head + i) % max], i < n */
    size_t max, head, n;
};

static double gw_start_of(json_t *a)
{
    return json_number_value(json_object_get(a, "start"));
}

static int gw_start_cmp(const void *x, const void *y)
{
    double a = gw_start_of(*(json_t *const *)x), b = gw_start_of(*(json_t *const *)y);
    return a < b ? -1 : a > b;
}

static void gw_store_path(const struct gw_store *s, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.json", s->dir, id);
}

static void gw_store_push(struct gw_store *s, json_t *a)
{
    if (s->n == s->max) {   /* the oldest goes */
        json_t *old = s->v[s->head];
        char path[4200];
        gw_store_path(s, json_string_value(json_object_get(old, "activationId")), path, sizeof path);
        unlink(path);
        json_decref(old);
        s->v[s->head] = a;
        s->head = (s->head + 1) % s->max;
        return;
    }
    s->v[(s->head + s->n++) % s->max] = a;
}

int gw_store_open(const char *dir, size_t max, struct gw_store **out, tm_error *err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return tm_error_sys(err, "%s", dir);
    struct gw_store *s = calloc(1, sizeof *s);
    json_t **loaded = NULL;
    size_t nl = 0, cap = 0;
    if (!s || !(s->v = calloc(max, sizeof *s->v))) {
        free(s);
        return tm_error_set(err, ENOMEM, "out of memory");
    }
    pthread_mutex_init(&s->lock, NULL);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->max = max;
    DIR *d = opendir(dir);
    if (!d) {
        gw_store_close(s);
        return tm_error_sys(err, "%s", dir);
    }
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l != 32 + 5 || strcmp(e->d_name + 32, ".json"))
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_t *a = json_load_file(path, 0, NULL);
        if (!json_is_object(a) || !json_is_string(json_object_get(a, "activationId"))) {
            json_decref(a);   /* a torn write: not a record */
            unlink(path);
            continue;
        }
        if (nl == cap) {
            cap = cap ? cap * 2 : 64;
            json_t **nv = realloc(loaded, cap * sizeof *nv);
            if (!nv) {
                json_decref(a);
                break;
            }
            loaded = nv;
        }
        loaded[nl++] = a;
    }
    closedir(d);
    if (nl)
        qsort(loaded, nl, sizeof *loaded, gw_start_cmp);
    for (size_t i = 0; i < nl; i++)
        gw_store_push(s, loaded[i]);
    free(loaded);
    *out = s;
    return 0;
}

void gw_store_close(struct gw_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        json_decref(s->v[(s->head + i) % s->max]);
    pthread_mutex_destroy(&s->lock);
    free(s->v);
    free(s);
}

int gw_store_put(struct gw_store *s, json_t *a)
{
    char path[4200], tmp[4300];
    gw_store_path(s, json_string_value(json_object_get(a, "activationId")), path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int r = json_dump_file(a, tmp, JSON_COMPACT) == 0 && rename(tmp, path) == 0 ? 0 : -errno;
    pthread_mutex_lock(&s->lock);
    gw_store_push(s, a);   /* served from memory even if the disk failed */
    pthread_mutex_unlock(&s->lock);
    return r;
}

json_t *gw_store_get(struct gw_store *s, const char *id)
{
    json_t *found = NULL;
    pthread_mutex_lock(&s->lock);
    for (size_t i = s->n; i-- > 0 && !found;) {
        json_t *a = s->v[(s->head + i) % s->max];
        if (!strcmp(json_string_value(json_object_get(a, "activationId")), id))
            found = json_incref(a);
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

json_t *gw_store_list(struct gw_store *s, const char *name, size_t skip, size_t limit)
{
    json_t *list = json_array();
    pthread_mutex_lock(&s->lock);
    for (size_t i = s->n; i-- > 0 && json_array_size(list) < limit;) {
        json_t *a = s->v[(s->head + i) % s->max];
        if (name && strcmp(json_string_value(json_object_get(a, "name")), name))
            continue;
        if (skip) {
            skip--;
            continue;
        }
        json_array_append(list, a);
    }
    pthread_mutex_unlock(&s->lock);
    return list;
}
