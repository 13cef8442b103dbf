/* teemate list: the containers under the state root, as runc lists them. */
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_oci.h"
#include "container/state.h"

static const char usage[] =
    "Usage: teemate list [--format table|json] [--quiet]\n\n"
    "List the containers under the state root (--root) with their init's pid,\n"
    "status, bundle, creation time and owner. A creation that died half-way\n"
    "(its runtime killed) is listed as stopped; 'teemate delete' removes it.\n\n"
    "Options:\n"
    "  --format, -f FORMAT   table (default) or json (an array of states, as\n"
    "                        'teemate state' prints them, owner filled in)\n"
    "  --quiet, -q           print the ids only\n";

enum { COL_ID, COL_PID, COL_STATUS, COL_BUNDLE, COL_CREATED, COL_OWNER, NCOLS };

struct row {
    char *col[NCOLS];
};

static void owner_name(uid_t uid, char *buf, size_t len)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "#%u", (unsigned)uid);
}

/* As Go's tabwriter does it for runc: cells padded to their column's widest
 * plus 3, at least 12; the last column is not padded. */
static void print_table(struct row *rows, size_t n)
{
    static const char *header[NCOLS] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
    size_t width[NCOLS];
    for (int c = 0; c < NCOLS; c++) {
        width[c] = strlen(header[c]);
        for (size_t r = 0; r < n; r++)
            if (strlen(rows[r].col[c]) > width[c])
                width[c] = strlen(rows[r].col[c]);
        width[c] = width[c] + 3 < 12 ? 12 : width[c] + 3;
    }
    for (size_t r = 0; r <= n; r++)
        for (int c = 0; c < NCOLS; c++) {
            const char *cell = r == 0 ? header[c] : rows[r - 1].col[c];
            if (c == NCOLS - 1)
                printf("%s\n", cell);
            else
                printf("%-*s", (int)width[c], cell);
        }
}

/* One container's state object (its owner's name filled in), or NULL when
 * it went away meanwhile or cannot be read (said on stderr). */
static json_t *container_json(const char *root, const char *id)
{
    tm_error err = { 0 };
    struct tm_container_state st;
    if (tm_state_load(root, id, &st, &err) < 0) {
        if (err.code != ENOENT)
            fprintf(stderr, "teemate: warning: %s\n", err.msg);
        return NULL;
    }
    char owner[64];
    owner_name(st.owner, owner, sizeof(owner));
    char *text = tm_state_oci_json(&st, tm_state_status(root, &st));
    tm_state_clear(&st);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (j)
        json_object_set_new(j, "owner", json_string(owner));
    return j;
}

static char *field(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    char *s = NULL;
    if (json_is_integer(v)) {
        if (asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
            s = NULL;
    } else {
        s = strdup(json_is_string(v) ? json_string_value(v) : "");
    }
    return s;
}

int tm_cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    bool json = false, quiet = false;
    int c;
    while ((c = tm_cli_getopt("list", argc, argv, "f:qh", opts)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "table") && strcmp(optarg, "json"))
                return tm_cli_usage("list", "--format takes table or json");
            json = !strcmp(optarg, "json");
            break;
        case 'q': quiet = true; break;
        case 'h': return fputs(usage, stdout), 0;
        default: return TM_EXIT_USAGE;
        }
    }
    if (optind < argc)
        return tm_cli_usage("list", "takes no arguments ('%s')", argv[optind]);

    tm_error err = { 0 };
    const char *root = tm_cli_oci_root();
    char **ids;
    size_t n;
    if (tm_state_list(root, &ids, &n, &err) < 0)
        return tm_cli_fail(&err);
    json_t *all = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = container_json(root, ids[i]);
        if (j)
            json_array_append_new(all, j);
        free(ids[i]);
    }
    free(ids);
    size_t count = json_array_size(all);
    int ret = 0;
    if (json) {
        char *text = json_dumps(all, JSON_INDENT(2));
        if (text)
            puts(text);
        free(text);
    } else if (quiet) {
        for (size_t i = 0; i < count; i++)
            puts(json_string_value(json_object_get(json_array_get(all, i), "id")));
    } else {
        struct row *rows = calloc(count ? count : 1, sizeof(*rows));
        static const char *keys[NCOLS] = { "id", "pid", "status", "bundle", "created", "owner" };
        for (size_t i = 0; rows && i < count; i++)
            for (int k = 0; k < NCOLS; k++)
                if (!(rows[i].col[k] = field(json_array_get(all, i), keys[k])))
                    ret = -ENOMEM;
        if (rows && ret == 0)
            print_table(rows, count);
        for (size_t i = 0; rows && i < count; i++)
            for (int k = 0; k < NCOLS; k++)
                free(rows[i].col[k]);
        if (!rows || ret < 0)
            ret = tm_error_set(&err, ENOMEM, "list: out of memory");
        free(rows);
    }
    json_decref(all);
    return ret < 0 ? tm_cli_fail(&err) : 0;
}
