/* What a gateway killed without its stop (SIGKILL, a crash) leaves behind,
 * written down so that the next start can clean up after it:
 *   <dir>/journal/containers/<id>       one marker per container it made,
 *                                       removed once the container is deleted;
 *   <dir>/journal/inflight/<aid>.json   one per activation accepted and not
 *                                       yet recorded (the job's name, action
 *                                       summary and queue time).
 * At start (gw_journal_recover) every container left is killed and deleted
 * and every activation left gets a record (whisk internal error), as
 * OpenWhisk reports the activations an invoker lost. One file per entry:
 * nothing to compact, and a torn entry is one entry lost, not the journal.
 * No fsync: the journal guards against the gateway's death, not the
 * machine's (the page cache outlives the process). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/container.h"
#include "gw.h"
#include "util/file.h"

static void gw_journal_path(const struct gw *g, const char *kind, const char *name, const char *ext,
                            char *buf, size_t len)
{
    snprintf(buf, len, "%s/journal/%s/%s%s", g->dir, kind, name, ext);
}

int gw_journal_open(struct gw *g, tm_error *err)
{
    static const char *const dirs[] = { "journal", "journal/containers", "journal/inflight" };
    char path[4300];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", g->dir, dirs[i]);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return tm_error_sys(err, "%s", path);
    }
    return 0;
}

void gw_journal_container(const struct gw *g, const char *id, bool on)
{
    char path[4400];
    gw_journal_path(g, "containers", id, "", path, sizeof path);
    if (!on) {
        unlink(path);
        return;
    }
    tm_error ignored = { 0 };
    if (tm_file_write(path, id, strlen(id), 0600, &ignored) < 0)
        fprintf(stderr, "teemate gateway: journal: %s (a crash would leave container %s)\n",
                ignored.msg, id);
}

void gw_journal_inflight(const struct gw *g, const struct gw_job *job, bool on)
{
    char path[4400];
    gw_journal_path(g, "inflight", job->activation_id, ".json", path, sizeof path);
    if (!on) {
        unlink(path);
        return;
    }
    /* the action without its code: what the record of a lost run shows */
    json_t *action = json_deep_copy(job->action);
    json_object_del(json_object_get(action, "exec"), "code");
    json_t *entry = json_pack("{s:s, s:s, s:f, s:o}", "activationId", job->activation_id, "name",
                              job->name, "queued_at", job->queued_at, "action",
                              action ?: json_object());
    char *text = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
    json_decref(entry);
    tm_error ignored = { 0 };
    if (!text || tm_file_write(path, text, strlen(text), 0600, &ignored) < 0)
        fprintf(stderr, "teemate gateway: journal: %s (a crash would lose activation %s)\n",
                text ? ignored.msg : "out of memory", job->activation_id);
    free(text);
}

/* The record of an activation the previous run lost, unless it got one. */
static void gw_journal_fail_one(struct gw *g, const char *path)
{
    json_t *e = json_load_file(path, 0, NULL);
    const char *id = json_string_value(json_object_get(e, "activationId"));
    const char *name = json_string_value(json_object_get(e, "name"));
    json_t *have = id ? gw_store_get(g->store, id) : NULL;
    json_t *action = json_object_get(e, "action");
    if (id && name && strlen(id) == 32 && strlen(name) <= GW_ENTITY_NAME_MAX && !have &&
        json_is_string(json_object_get(action, "version"))) {
        struct gw_job job = { .action = action,
                              .queued_at = json_number_value(json_object_get(e, "queued_at")) };
        memcpy(job.activation_id, id, 33);
        strcpy(job.name, name);
        gw_store_put(g->store, gw_activation_failed(g, &job, GW_MSG_LOST));
    }
    json_decref(have);
    json_decref(e);
    unlink(path);
}

/* Each entry of <dir>/journal/kind, by each(g, its path, its name). */
static void gw_journal_each(struct gw *g, const char *kind,
                            void (*each)(struct gw *g, const char *path, const char *name))
{
    char dir[4300], path[4600];
    snprintf(dir, sizeof dir, "%s/journal/%s", g->dir, kind);
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        each(g, path, e->d_name);
    }
    closedir(d);
}

static void gw_journal_kill_one(struct gw *g, const char *path, const char *id)
{
    tm_error err = { 0 };
    /* force: kills init (and what is left in its cgroup), then deletes */
    if (tm_container_delete(g->cfg.oci_root, id, true, &err) < 0 && err.code != ENOENT)
        fprintf(stderr, "teemate gateway: container %s of the previous run: %s\n", id, err.msg);
    else if (err.code != ENOENT)
        fprintf(stderr, "teemate gateway: removed container %s, left by the previous run\n", id);
    unlink(path);
}

static void gw_journal_fail_entry(struct gw *g, const char *path, const char *name)
{
    (void)name;
    gw_journal_fail_one(g, path);
}

int gw_journal_recover(struct gw *g, tm_error *err)
{
    int r = gw_journal_open(g, err);
    if (r < 0)
        return r;
    gw_journal_each(g, "containers", gw_journal_kill_one);
    gw_journal_each(g, "inflight", gw_journal_fail_entry);
    /* the warm containers' sockets of the previous run */
    char sock[4300], path[4600];
    snprintf(sock, sizeof sock, "%s/sock", g->dir);
    DIR *d = opendir(sock);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", sock, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    return 0;
}
