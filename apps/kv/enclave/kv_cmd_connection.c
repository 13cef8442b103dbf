/* Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO (RESP2 only),
 * CLIENT ID/GETNAME/SETNAME/LIST/INFO/KILL. The password check takes the
 * same time whatever the input (no early exit on the first differing byte). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kv_server.h"

#define KV_VERSION "7.0.15"

static void kv_cmd_ping(struct kv_client *c)
{
    if (c->argc > 2) {
        kv_reply_error(c, "wrong number of arguments for 'ping' command");
        return;
    }
    if (c->argc == 1)
        kv_reply_raw(c, "+PONG\r\n", 7);
    else
        kv_reply_bulk_str(c, c->argv[1]);
}

static void kv_cmd_echo(struct kv_client *c) { kv_reply_bulk_str(c, c->argv[1]); }

static void kv_cmd_quit(struct kv_client *c)
{
    kv_reply_ok(c);
    c->flags |= KV_CLIENT_CLOSE_AFTER_REPLY;
}

static void kv_cmd_select(struct kv_client *c)
{
    int64_t id;
    if (!kv_arg_range(c, c->argv[1], INT_MIN, INT_MAX, NULL, &id))
        return;
    struct kv_server *s = kv_server();
    if (id < 0 || id >= s->dbnum) {
        kv_reply_error(c, "DB index is out of range");
        return;
    }
    c->db = &s->db[id];
    c->db_index = (int)id;
    kv_reply_ok(c);
}

static bool kv_password_matches(const struct kv_str *given)
{
    const struct kv_config *cfg = &kv_server()->config;
    /* compare over the whole configured length, whatever was given */
    unsigned diff = given->len != cfg->pass_len;
    for (uint32_t i = 0; i < cfg->pass_len; i++)
        diff |= (unsigned char)cfg->pass[i] ^
                (unsigned char)(i < given->len ? given->data[i] : (char)~cfg->pass[i]);
    return diff == 0;
}

/* ACLAuthenticateUser for the one user, "default". */
static bool kv_authenticate(struct kv_client *c, const struct kv_str *user, const struct kv_str *pass)
{
    const struct kv_config *cfg = &kv_server()->config;
    if (user->len != 7 || memcmp(user->data, "default", 7) != 0)
        return false;
    if (cfg->pass_len && !kv_password_matches(pass))
        return false;
    c->flags |= KV_CLIENT_AUTHENTICATED;
    return true;
}

static void kv_cmd_auth(struct kv_client *c)
{
    if (c->argc > 3) {
        kv_reply_syntax_error(c);
        return;
    }
    const struct kv_config *cfg = &kv_server()->config;
    if (c->argc == 2 && !cfg->pass_len) {
        kv_reply_error(c, "AUTH <password> called without any password configured for the "
                          "default user. Are you sure your configuration is correct?");
        return;
    }
    struct kv_str *def = kv_str_new("default", 7);
    bool ok = kv_authenticate(c, c->argc == 2 ? def : c->argv[1], c->argv[c->argc - 1]);
    kv_str_free(def);
    if (ok)
        kv_reply_ok(c);
    else
        kv_reply_error(c, "-WRONGPASS invalid username-password pair or user is disabled.");
}

static bool kv_set_name(struct kv_client *c, const struct kv_str *name)
{
    for (uint32_t i = 0; i < name->len; i++)
        if (name->data[i] < '!' || name->data[i] > '~') {
            kv_reply_error(c, "Client names cannot contain spaces, newlines or special characters.");
            return false;
        }
    kv_str_free(c->core->name);
    c->core->name = name->len ? kv_str_dup(name) : NULL;
    return true;
}

static void kv_cmd_hello(struct kv_client *c)
{
    int j = 1;
    if (c->argc >= 2) {
        int64_t ver;
        if (!kv_str_to_int64(c->argv[j++], &ver)) {
            kv_reply_error(c, "Protocol version is not an integer or out of range");
            return;
        }
        if (ver != 2) {   /* RESP3 is not spoken here */
            kv_reply_error(c, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    const struct kv_str *user = NULL, *pass = NULL, *name = NULL;
    for (; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (kv_str_is(c->argv[j], "auth") && more >= 2) {
            user = c->argv[j + 1];
            pass = c->argv[j + 2];
            j += 2;
        } else if (kv_str_is(c->argv[j], "setname") && more) {
            name = c->argv[++j];
        } else {
            kv_reply_errorf(c, "Syntax error in HELLO option '%s'", c->argv[j]->data);
            return;
        }
    }
    if (user && !kv_authenticate(c, user, pass)) {
        kv_reply_error(c, "-WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    if (!(c->flags & KV_CLIENT_AUTHENTICATED)) {
        kv_reply_error(c, "-NOAUTH HELLO must be called with the client already authenticated, "
                          "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                          "authenticate the client and select the RESP protocol version at the "
                          "same time");
        return;
    }
    if (name && !kv_set_name(c, name))
        return;
    kv_reply_array(c, 14);
    kv_reply_bulk(c, "server", 6);
    kv_reply_bulk(c, "redis", 5);
    kv_reply_bulk(c, "version", 7);
    kv_reply_bulk(c, KV_VERSION, strlen(KV_VERSION));
    kv_reply_bulk(c, "proto", 5);
    kv_reply_int(c, 2);
    kv_reply_bulk(c, "id", 2);
    kv_reply_int(c, (int64_t)c->id);
    kv_reply_bulk(c, "mode", 4);
    kv_reply_bulk(c, "standalone", 10);
    kv_reply_bulk(c, "role", 4);
    kv_reply_bulk(c, "master", 6);
    kv_reply_bulk(c, "modules", 7);
    kv_reply_array(c, 0);
}

static void kv_cmd_client_id(struct kv_client *c) { kv_reply_int(c, (int64_t)c->id); }

static void kv_cmd_client_getname(struct kv_client *c)
{
    if (c->core->name)
        kv_reply_bulk_str(c, c->core->name);
    else
        kv_reply_null(c);
}

static void kv_cmd_client_setname(struct kv_client *c)
{
    if (kv_set_name(c, c->argv[2]))
        kv_reply_ok(c);
}

static void kv_cmd_client_info(struct kv_client *c)
{
    struct kv_str *out = kv_str_new("", 0);
    kv_client_list_line(c, c, &out);
    kv_reply_bulk_str(c, out);
    kv_str_free(out);
}

static void kv_cmd_client_list(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    bool none = false;
    uint64_t *ids = NULL;
    int nids = 0;
    if (c->argc == 4 && kv_str_is(c->argv[2], "type")) {
        const struct kv_str *t = c->argv[3];
        if (kv_str_is(t, "normal"))
            none = false;
        else if (kv_str_is(t, "master") || kv_str_is(t, "replica") || kv_str_is(t, "slave") ||
                 kv_str_is(t, "pubsub"))
            none = true;
        else {
            kv_reply_errorf(c, "Unknown client type '%s'", t->data);
            return;
        }
    } else if (c->argc > 3 && kv_str_is(c->argv[2], "id")) {
        ids = kv_alloc((size_t)(c->argc - 3) * sizeof *ids);
        for (int j = 3; j < c->argc; j++) {
            int64_t id;
            if (!kv_str_to_int64(c->argv[j], &id) || id <= 0) {
                kv_reply_error(c, "Invalid client ID");
                kv_free(ids);
                return;
            }
            ids[nids++] = (uint64_t)id;
        }
    } else if (c->argc != 2) {
        kv_reply_syntax_error(c);
        return;
    }
    struct kv_str *out = kv_str_new("", 0);
    if (ids) {
        for (int i = 0; i < nids; i++) {
            struct kv_client *who = kv_client_find(ids[i]);
            if (who)
                kv_client_list_line(c, who, &out);
        }
    } else if (!none) {
        for (struct kv_client *who = s->clients_head; who; who = who->core->next)
            kv_client_list_line(c, who, &out);
    }
    kv_reply_bulk_str(c, out);
    kv_str_free(out);
    kv_free(ids);
}

static void kv_kill(struct kv_client *c, struct kv_client *victim)
{
    if (victim == c)
        c->flags |= KV_CLIENT_CLOSE_AFTER_REPLY_PENDING;
    else
        kv_client_schedule_close(victim);
}

static void kv_cmd_client_kill(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    const struct kv_str *addr = NULL, *laddr = NULL;
    uint64_t id = 0;
    bool skipme = true, type_none = false;
    if (c->argc == 3) {
        addr = c->argv[2];
        skipme = false;
    } else {
        for (int i = 2; i < c->argc; i += 2) {
            bool more = c->argc > i + 1;
            const struct kv_str *opt = c->argv[i];
            if (kv_str_is(opt, "id") && more) {
                int64_t v;
                if (!kv_arg_range(c, c->argv[i + 1], 1, INT64_MAX,
                                  "client-id should be greater than 0", &v))
                    return;
                id = (uint64_t)v;
            } else if (kv_str_is(opt, "type") && more) {
                const struct kv_str *t = c->argv[i + 1];
                if (kv_str_is(t, "normal"))
                    type_none = false;
                else if (kv_str_is(t, "master") || kv_str_is(t, "replica") ||
                         kv_str_is(t, "slave") || kv_str_is(t, "pubsub"))
                    type_none = true;
                else {
                    kv_reply_errorf(c, "Unknown client type '%s'", t->data);
                    return;
                }
            } else if (kv_str_is(opt, "addr") && more) {
                addr = c->argv[i + 1];
            } else if (kv_str_is(opt, "laddr") && more) {
                laddr = c->argv[i + 1];
            } else if (kv_str_is(opt, "user") && more) {
                /* every client is Redis's "default" user (no ACLs here) */
                const struct kv_str *u = c->argv[i + 1];
                if (u->len != 7 || memcmp(u->data, "default", 7) != 0) {
                    kv_reply_errorf(c, "No such user '%s'", u->data);
                    return;
                }
            } else if (kv_str_is(opt, "skipme") && more) {
                if (kv_str_is(c->argv[i + 1], "yes"))
                    skipme = true;
                else if (kv_str_is(c->argv[i + 1], "no"))
                    skipme = false;
                else {
                    kv_reply_syntax_error(c);
                    return;
                }
            } else {
                kv_reply_syntax_error(c);
                return;
            }
        }
    }
    int64_t killed = 0;
    for (struct kv_client *who = s->clients_head; who && !type_none; who = who->core->next) {
        if (addr && strcmp(who->core->addr, addr->data) != 0)
            continue;
        if (laddr && strcmp(who->core->laddr, laddr->data) != 0)
            continue;
        if (id && who->id != id)
            continue;
        if (who == c && skipme)
            continue;
        if (who->flags & (KV_CLIENT_CLOSE_ASAP))
            continue;
        kv_kill(c, who);
        killed++;
    }
    if (c->argc == 3) {
        if (killed == 0)
            kv_reply_error(c, "No such client");
        else
            kv_reply_ok(c);
    } else {
        kv_reply_int(c, killed);
    }
    if (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY_PENDING) {
        c->flags &= ~KV_CLIENT_CLOSE_AFTER_REPLY_PENDING;
        c->flags |= KV_CLIENT_CLOSE_AFTER_REPLY;
    }
}

#define F KV_CMD_FAST
const struct kv_command kv_connection_commands[] = {
    { "ping", kv_cmd_ping, -1, F, 0, 0, 0, "connection", "Returns the server's liveliness response." },
    { "echo", kv_cmd_echo, 2, F, 0, 0, 0, "connection", "Returns the given string." },
    { "quit", kv_cmd_quit, -1, KV_CMD_NOAUTH | KV_CMD_NOMULTI | F, 0, 0, 0, "connection",
      "Closes the connection." },
    { "select", kv_cmd_select, 2, F, 0, 0, 0, "connection", "Changes the selected database." },
    { "auth", kv_cmd_auth, -2, KV_CMD_NOAUTH | F, 0, 0, 0, "connection",
      "Authenticates the connection." },
    { "hello", kv_cmd_hello, -1, KV_CMD_NOAUTH | F, 0, 0, 0, "connection",
      "Handshakes with the Redis server." },
    { "client", NULL, -2, KV_CMD_CONTAINER, 0, 0, 0, "connection", "A container for client connection commands." },
    { "client|id", kv_cmd_client_id, 2, F, 0, 0, 0, "connection",
      "Returns the unique client ID of the connection." },
    { "client|getname", kv_cmd_client_getname, 2, F, 0, 0, 0, "connection",
      "Returns the name of the connection." },
    { "client|setname", kv_cmd_client_setname, 3, F, 0, 0, 0, "connection",
      "Sets the connection name." },
    { "client|info", kv_cmd_client_info, 2, F, 0, 0, 0, "connection",
      "Returns information about the connection." },
    { "client|list", kv_cmd_client_list, -2, 0, 0, 0, 0, "connection",
      "Lists open connections." },
    { "client|kill", kv_cmd_client_kill, -3, 0, 0, 0, 0, "connection",
      "Terminates open connections." },
    { .name = NULL },
};
