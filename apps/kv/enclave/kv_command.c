/* The command table and processCommand: lookup (container commands such as
 * CLIENT have their subcommands as "client|setname" entries), arity, AUTH,
 * maxmemory, MULTI queueing, then the call. Errors are Redis 7.0's texts; a
 * command refused while a MULTI is open makes its EXEC fail (EXECABORT). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "kv_server.h"

const struct kv_command *const kv_command_tables[] = {
    kv_string_commands, kv_list_commands, kv_set_commands, kv_zset_commands, kv_hash_commands,
    kv_key_commands, kv_connection_commands, kv_server_commands, kv_command_commands,
    kv_transaction_commands, kv_persist_commands, NULL,
};

static const struct kv_dict_type kv_commands_type = { NULL };

void kv_commands_init(struct kv_server *s)
{
    s->commands = kv_dict_new(&kv_commands_type);
    for (int t = 0; kv_command_tables[t]; t++)
        for (const struct kv_command *cmd = kv_command_tables[t]; cmd->name; cmd++) {
            struct kv_dict_entry *e = kv_dict_add(s->commands, cmd->name, strlen(cmd->name), NULL);
            if (e)
                e->v.ptr = (void *)cmd;
        }
}

/* Top-level commands (COMMAND COUNT). */
size_t kv_command_count(void)
{
    size_t n = 0;
    for (int t = 0; kv_command_tables[t]; t++)
        for (const struct kv_command *cmd = kv_command_tables[t]; cmd->name; cmd++)
            if (!strchr(cmd->name, '|'))
                n++;
    return n;
}

static const struct kv_command *kv_command_find(const char *name, size_t len)
{
    char lower[64];
    if (len >= sizeof lower)
        return NULL;
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    struct kv_dict_entry *e = kv_dict_find(kv_server()->commands, lower, len);
    return e ? e->v.ptr : NULL;
}

/* NULL when unknown; *unknown_sub when argv[0] is a container and argv[1]
 * names no subcommand of it. A container without its subcommand is itself
 * (arity -2: the arity error). */
const struct kv_command *kv_command_lookup(struct kv_client *c, bool *unknown_sub)
{
    *unknown_sub = false;
    const struct kv_command *cmd = kv_command_find(c->argv[0]->data, c->argv[0]->len);
    if (!cmd || !(cmd->flags & KV_CMD_CONTAINER) || c->argc < 2)
        return cmd;
    char full[64];
    int n = snprintf(full, sizeof full, "%s|%.*s", cmd->name, (int)c->argv[1]->len,
                     c->argv[1]->data);
    const struct kv_command *sub = NULL;
    if (n > 0 && (size_t)n < sizeof full && memchr(c->argv[1]->data, '\0', c->argv[1]->len) == NULL)
        sub = kv_command_find(full, (size_t)n);
    if (!sub)
        *unknown_sub = true;
    return sub;
}

bool kv_over_maxmemory(void)
{
    const struct kv_server *s = kv_server();
    return s->config.maxmemory && s->mem.used > s->config.maxmemory;
}

bool kv_mem_would_exhaust(uint64_t more)
{
    const struct kv_server *s = kv_server();
    uint64_t max = s->config.maxmemory;
    return max && s->mem.used + more > max + max / 8 + (16ULL << 20);
}

void kv_reject(struct kv_client *c, const char *msg)
{
    if (c->flags & KV_CLIENT_MULTI)
        c->flags |= KV_CLIENT_DIRTY_EXEC;
    kv_server()->stat_rejected++;
    kv_reply_error(c, msg);
}

/* A refused EXEC ends the transaction, if any, and its WATCHes (Redis's
 * execCommandAbort, even outside MULTI): "-EXECABORT Transaction discarded
 * because of: " and the error, its '-' off. */
static void kv_refuse(struct kv_client *c, const struct kv_command *cmd, const char *msg)
{
    if (strcmp(cmd->name, "exec") != 0) {
        kv_reject(c, msg);
        return;
    }
    kv_server()->stat_rejected++;
    kv_multi_discard(c);
    kv_unwatch_all(c);
    kv_reply_errorf(c, "-EXECABORT Transaction discarded because of: %s", msg + (msg[0] == '-'));
}

static void kv_reject_unknown(struct kv_client *c)
{
    /* "'%.*s' " per argument until 128 characters of them */
    char args[512];
    size_t len = 0;
    for (int i = 1; i < c->argc && len < 128; i++) {
        int n = snprintf(args + len, sizeof args - len, "'%.*s' ", (int)(128 - len),
                         c->argv[i]->data);
        if (n < 0)
            break;
        len += (size_t)n < sizeof args - len ? (size_t)n : sizeof args - len - 1;
    }
    args[len] = '\0';
    char msg[768];
    snprintf(msg, sizeof msg, "unknown command '%.128s', with args beginning with: %s",
             c->argv[0]->data, args);
    kv_reject(c, msg);
}

static void kv_reject_unknown_sub(struct kv_client *c)
{
    char upper[64];
    size_t n = c->argv[0]->len < sizeof upper - 1 ? c->argv[0]->len : sizeof upper - 1;
    for (size_t i = 0; i < n; i++)
        upper[i] = (char)toupper((unsigned char)c->argv[0]->data[i]);
    upper[n] = '\0';
    char msg[256];
    snprintf(msg, sizeof msg, "unknown subcommand '%.128s'. Try %s HELP.", c->argv[1]->data,
             upper);
    kv_reject(c, msg);
}

void kv_command_call(struct kv_client *c, const struct kv_command *cmd)
{
    struct kv_server *s = kv_server();
    c->core->last_cmd = cmd;
    cmd->proc(c);
    s->stat_commands++;
}

void kv_command_process(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    bool unknown_sub;
    const struct kv_command *cmd = kv_command_lookup(c, &unknown_sub);
    if (!cmd) {
        if (unknown_sub)
            kv_reject_unknown_sub(c);
        else
            kv_reject_unknown(c);
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != c->argc) || c->argc < -cmd->arity || !cmd->proc) {
        char msg[160];
        snprintf(msg, sizeof msg, "wrong number of arguments for '%s' command", cmd->name);
        kv_refuse(c, cmd, msg);
        return;
    }
    if (!(c->flags & KV_CLIENT_AUTHENTICATED) && s->config.pass_len &&
        !(cmd->flags & KV_CMD_NOAUTH)) {
        kv_refuse(c, cmd, "-NOAUTH Authentication required.");
        return;
    }
    if (s->config.maxmemory) {
        bool deny = cmd->flags & KV_CMD_DENYOOM;
        if (cmd->proc && strcmp(cmd->name, "exec") == 0)
            deny = c->core->queued_flags & KV_CMD_DENYOOM;
        /* queueing may take memory without end: refuse it too (but never
         * EXEC, DISCARD or QUIT) */
        if ((c->flags & KV_CLIENT_MULTI) && !(cmd->flags & KV_CMD_NOMULTI))
            deny = true;
        if (deny && kv_over_maxmemory()) {
            kv_refuse(c, cmd, "-OOM command not allowed when used memory > 'maxmemory'.");
            return;
        }
    }
    /* Redis refuses writes (and PING) while the last background save failed */
    bool writes = (cmd->flags & KV_CMD_WRITE) ||
                  (strcmp(cmd->name, "exec") == 0 && (c->core->queued_flags & KV_CMD_WRITE));
    if ((writes || strcmp(cmd->name, "ping") == 0) && kv_save_denies_writes()) {
        kv_refuse(c, cmd, KV_ERR_MISCONF);
        return;
    }
    if ((c->flags & KV_CLIENT_MULTI) && !(cmd->flags & KV_CMD_NOMULTI)) {
        kv_multi_queue(c, cmd);
        kv_reply_status(c, "QUEUED");
        return;
    }
    kv_command_call(c, cmd);
}
