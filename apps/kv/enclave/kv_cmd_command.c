/* COMMAND and its subcommands (COUNT, LIST, INFO, DOCS), built from the
 * command tables: enough for redis-cli and redis-benchmark and for people.
 * Entries are in Redis 7.0's RESP2 shapes (maps as flat arrays). */
#include <string.h>

#include "kv_server.h"

static void kv_reply_cstr(struct kv_client *c, const char *s) { kv_reply_bulk(c, s, strlen(s)); }

static size_t kv_subcommands(const struct kv_command *cmd, const struct kv_command **out, size_t cap)
{
    size_t n = 0, len = strlen(cmd->name);
    for (int t = 0; kv_command_tables[t]; t++)
        for (const struct kv_command *s = kv_command_tables[t]; s->name; s++)
            if (strncmp(s->name, cmd->name, len) == 0 && s->name[len] == '|' && n < cap)
                out[n++] = s;
    return n;
}

static void kv_command_flags(struct kv_client *c, const struct kv_command *cmd)
{
    const char *names[6];
    int n = 0;
    if (cmd->flags & KV_CMD_WRITE)
        names[n++] = "write";
    if (cmd->flags & KV_CMD_READONLY)
        names[n++] = "readonly";
    if (cmd->flags & KV_CMD_DENYOOM)
        names[n++] = "denyoom";
    if (cmd->flags & KV_CMD_NOAUTH)
        names[n++] = "no_auth";
    if (cmd->flags & KV_CMD_NOMULTI)
        names[n++] = "no_multi";
    if (cmd->flags & KV_CMD_FAST)
        names[n++] = "fast";
    kv_reply_array(c, n);
    for (int i = 0; i < n; i++)
        kv_reply_status(c, names[i]);
}

/* [name, arity, flags, first key, last key, step, acl categories, tips,
 *  key specs, subcommands] */
static void kv_command_info_entry(struct kv_client *c, const struct kv_command *cmd)
{
    kv_reply_array(c, 10);
    kv_reply_cstr(c, cmd->name);
    kv_reply_int(c, cmd->arity);
    kv_command_flags(c, cmd);
    kv_reply_int(c, cmd->first_key);
    kv_reply_int(c, cmd->last_key);
    kv_reply_int(c, cmd->key_step);
    kv_reply_array(c, 0);
    kv_reply_array(c, 0);
    kv_reply_array(c, 0);
    const struct kv_command *subs[32];
    size_t n = (cmd->flags & KV_CMD_CONTAINER) ? kv_subcommands(cmd, subs, 32) : 0;
    kv_reply_array(c, (int64_t)n);
    for (size_t i = 0; i < n; i++)
        kv_command_info_entry(c, subs[i]);
}

static void kv_command_docs_entry(struct kv_client *c, const struct kv_command *cmd)
{
    kv_reply_cstr(c, cmd->name);
    const struct kv_command *subs[32];
    size_t n = (cmd->flags & KV_CMD_CONTAINER) ? kv_subcommands(cmd, subs, 32) : 0;
    kv_reply_array(c, n ? 8 : 6);
    kv_reply_cstr(c, "summary");
    kv_reply_cstr(c, cmd->summary ? cmd->summary : "");
    kv_reply_cstr(c, "since");
    kv_reply_cstr(c, "1.0.0");
    kv_reply_cstr(c, "group");
    kv_reply_cstr(c, cmd->group ? cmd->group : "generic");
    if (n) {
        kv_reply_cstr(c, "subcommands");
        kv_reply_array(c, (int64_t)n * 2);
        for (size_t i = 0; i < n; i++)
            kv_command_docs_entry(c, subs[i]);
    }
}

static bool kv_top_level(const struct kv_command *cmd) { return strchr(cmd->name, '|') == NULL; }

/* The top-level command an argument names, NULL if none. */
static const struct kv_command *kv_command_named(const struct kv_str *name)
{
    for (int t = 0; kv_command_tables[t]; t++)
        for (const struct kv_command *cmd = kv_command_tables[t]; cmd->name; cmd++)
            if (kv_top_level(cmd) && kv_str_is(name, cmd->name))
                return cmd;
    return NULL;
}

static void kv_cmd_command(struct kv_client *c)
{
    kv_reply_array(c, (int64_t)kv_command_count());
    for (int t = 0; kv_command_tables[t]; t++)
        for (const struct kv_command *cmd = kv_command_tables[t]; cmd->name; cmd++)
            if (kv_top_level(cmd))
                kv_command_info_entry(c, cmd);
}

static void kv_cmd_command_count(struct kv_client *c) { kv_reply_int(c, (int64_t)kv_command_count()); }

static void kv_cmd_command_list(struct kv_client *c)
{
    if (c->argc > 2) {
        kv_reply_syntax_error(c);   /* FILTERBY is not supported */
        return;
    }
    void *len = kv_reply_deferred_len(c);
    int64_t n = 0;
    for (int t = 0; kv_command_tables[t]; t++)
        for (const struct kv_command *cmd = kv_command_tables[t]; cmd->name; cmd++, n++)
            kv_reply_cstr(c, cmd->name);
    kv_reply_set_deferred_len(c, len, n);
}

static void kv_cmd_command_info(struct kv_client *c)
{
    if (c->argc == 2) {
        kv_cmd_command(c);
        return;
    }
    kv_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        const struct kv_command *cmd = kv_command_named(c->argv[j]);
        if (cmd)
            kv_command_info_entry(c, cmd);
        else
            kv_reply_null_array(c);
    }
}

static void kv_cmd_command_docs(struct kv_client *c)
{
    if (c->argc == 2) {
        kv_reply_array(c, (int64_t)kv_command_count() * 2);
        for (int t = 0; kv_command_tables[t]; t++)
            for (const struct kv_command *cmd = kv_command_tables[t]; cmd->name; cmd++)
                if (kv_top_level(cmd))
                    kv_command_docs_entry(c, cmd);
        return;
    }
    void *len = kv_reply_deferred_len(c);
    int64_t n = 0;
    for (int j = 2; j < c->argc; j++) {
        const struct kv_command *cmd = kv_command_named(c->argv[j]);
        if (cmd) {
            kv_command_docs_entry(c, cmd);
            n += 2;
        }
    }
    kv_reply_set_deferred_len(c, len, n);
}

const struct kv_command kv_command_commands[] = {
    { "command", kv_cmd_command, -1, KV_CMD_CONTAINER, 0, 0, 0, "server",
      "Returns detailed information about all commands." },
    { "command|count", kv_cmd_command_count, 2, 0, 0, 0, 0, "server",
      "Returns a count of commands." },
    { "command|list", kv_cmd_command_list, -2, 0, 0, 0, 0, "server",
      "Returns a list of command names." },
    { "command|info", kv_cmd_command_info, -2, 0, 0, 0, 0, "server",
      "Returns information about one, multiple or all commands." },
    { "command|docs", kv_cmd_command_docs, -2, 0, 0, 0, 0, "server",
      "Returns documentary information about one, multiple or all commands." },
    { .name = NULL },
};
