/* Clients: made when the host reports a connection, fed the bytes it reads,
 * freed when it goes. Each keeps its query buffer (a partial command waits
 * for the next batch), its reply buffer, its name and MULTI/WATCH state. */
#include <stdio.h>
#include <string.h>

#include "kv_server.h"

static const struct kv_dict_type kv_clients_type = { NULL };

struct kv_client *kv_client_find(uint64_t id)
{
    struct kv_server *s = kv_server();
    if (!s->clients_by_id)
        return NULL;
    struct kv_dict_entry *e = kv_dict_find(s->clients_by_id, &id, sizeof id);
    return e ? e->v.ptr : NULL;
}

/* addrs: "ADDR LADDR" as the host gives them. */
struct kv_client *kv_client_new(uint64_t id, const char *addrs, size_t len)
{
    struct kv_server *s = kv_server();
    if (!s->clients_by_id)
        s->clients_by_id = kv_dict_new(&kv_clients_type);
    struct kv_client *c = kv_calloc(sizeof *c);
    struct kv_client_core *cc = kv_calloc(sizeof *cc);
    c->id = id;
    c->core = cc;
    c->db = &s->db[0];
    c->db_index = 0;
    cc->query = kv_str_new("", 0);
    cc->bulk_len = -1;
    cc->ctime_ms = cc->last_ms = s->now_ms;
    const char *sp = memchr(addrs, ' ', len);
    size_t alen = sp ? (size_t)(sp - addrs) : len;
    size_t llen = sp ? len - alen - 1 : 0;
    snprintf(cc->addr, sizeof cc->addr, "%.*s", (int)alen, addrs);
    snprintf(cc->laddr, sizeof cc->laddr, "%.*s", (int)llen, sp ? sp + 1 : "");
    /* a NUL or space in the host's text would break CLIENT LIST's format */
    for (char *p = cc->addr; *p; p++)
        if (*p == ' ' || *p == '\n' || *p == '\r')
            *p = '?';
    for (char *p = cc->laddr; *p; p++)
        if (*p == ' ' || *p == '\n' || *p == '\r')
            *p = '?';
    if (!s->config.pass_len)
        c->flags |= KV_CLIENT_AUTHENTICATED;
    struct kv_dict_entry *e = kv_dict_add(s->clients_by_id, &id, sizeof id, NULL);
    e->v.ptr = c;
    cc->prev = s->clients_tail;
    if (s->clients_tail)
        s->clients_tail->core->next = c;
    else
        s->clients_head = c;
    s->clients_tail = c;
    s->client_count++;
    s->stat_connections++;
    return c;
}

void kv_client_reset_argv(struct kv_client *c)
{
    for (int i = 0; i < c->argc; i++)
        kv_str_free(c->argv[i]);   /* a command may have taken one: NULL */
    c->argc = 0;
}

static void kv_client_unlink_write(struct kv_client *c)
{
    if (!(c->flags & KV_CLIENT_PENDING_WRITE))
        return;
    struct kv_server *s = kv_server();
    struct kv_client *prev = NULL;
    for (struct kv_client *w = s->write_head; w; prev = w, w = w->core->write_next) {
        if (w != c)
            continue;
        if (prev)
            prev->core->write_next = w->core->write_next;
        else
            s->write_head = w->core->write_next;
        if (s->write_tail == c)
            s->write_tail = prev;
        break;
    }
    c->flags &= ~KV_CLIENT_PENDING_WRITE;
}

void kv_client_free(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    struct kv_client_core *cc = c->core;
    kv_multi_discard(c);
    kv_unwatch_all(c);
    kv_client_unlink_write(c);
    kv_dict_delete(s->clients_by_id, &c->id, sizeof c->id);
    if (cc->prev)
        cc->prev->core->next = cc->next;
    else
        s->clients_head = cc->next;
    if (cc->next)
        cc->next->core->prev = cc->prev;
    else
        s->clients_tail = cc->prev;
    s->client_count--;
    kv_client_reset_argv(c);
    kv_free(c->argv);
    kv_str_free(cc->query);
    kv_free(cc->out);
    kv_str_free(cc->name);
    kv_free(cc->queued);
    kv_free(cc->watched);
    kv_free(cc);
    kv_free(c);
}

/* Drops what was parsed, so the buffer holds only the unparsed tail. */
static void kv_client_trim_query(struct kv_client *c)
{
    struct kv_client_core *cc = c->core;
    if (!cc->qpos)
        return;
    size_t left = cc->query->len - cc->qpos;
    memmove(cc->query->data, cc->query->data + cc->qpos, left);
    cc->query->len = (uint32_t)left;
    cc->query->data[left] = '\0';
    cc->qpos = 0;
    if (cc->query->cap > 64 * 1024 && left < cc->query->cap / 4) {
        struct kv_str *small = kv_str_new(cc->query->data, left);
        kv_str_free(cc->query);
        cc->query = small;
    }
}

/* The replies kept for one client beyond which it is closed (Redis's
 * client-output-buffer-limit, hard): the host stops reading a client whose
 * replies wait, so only one read's worth of pipelined commands (a 64 KB
 * chunk of GETs of a big value, say) can get there. Checked after every
 * command: the store's slot is maxmemory + a quarter + 64 MB, and the
 * buffer's growth must stay inside what maxmemory leaves of it. */
size_t kv_client_output_limit(void)
{
    uint64_t maxmemory = kv_server()->config.maxmemory;
    uint64_t limit = KV_CLIENT_OUTPUT_LIMIT_MAX;
    if (maxmemory && (16ULL << 20) + maxmemory / 16 < limit)
        limit = (16ULL << 20) + maxmemory / 16;
    return (size_t)limit;
}

void kv_client_feed(struct kv_client *c, const void *p, size_t len)
{
    struct kv_server *s = kv_server();
    struct kv_client_core *cc = c->core;
    if (c->flags & (KV_CLIENT_CLOSE_AFTER_REPLY | KV_CLIENT_CLOSE_ASAP))
        return;   /* what follows a QUIT or a protocol error is ignored */
    s->stat_net_in += len;
    cc->last_ms = s->now_ms;
    /* (a big one also when the enclave's slot could not take it) */
    if ((uint64_t)cc->query->len + len > s->config.client_query_buffer_limit ||
        (uint64_t)cc->query->len + len > UINT32_MAX - 64 ||
        (cc->query->len + len > (1U << 20) && kv_mem_would_exhaust((uint64_t)cc->query->len + len))) {
        /* Redis closes such a client without a reply */
        c->flags |= KV_CLIENT_CLOSE_ASAP;
        return;
    }
    cc->query = kv_str_append(cc->query, p, len);
    size_t out_limit = kv_client_output_limit();
    while (!(c->flags & (KV_CLIENT_CLOSE_AFTER_REPLY | KV_CLIENT_CLOSE_ASAP)) && !s->shutdown) {
        int r = kv_resp_parse(c);
        if (r <= 0)
            break;
        if (c->argc > 0)
            kv_command_process(c);
        kv_client_reset_argv(c);
        if (cc->out_len - cc->out_sent > out_limit)
            kv_client_schedule_close(c);   /* what it did not take is dropped */
    }
    kv_client_trim_query(c);
}

static void kv_client_flags_text(struct kv_client *c, char *buf)
{
    char *p = buf;
    if (c->flags & KV_CLIENT_MULTI)
        *p++ = 'x';
    if (c->flags & KV_CLIENT_DIRTY_CAS)
        *p++ = 'd';
    if (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY)
        *p++ = 'c';
    if (p == buf)
        *p++ = 'N';
    *p = '\0';
}

/* One line of CLIENT LIST / CLIENT INFO (networking.c catClientInfoString,
 * with the fields redis-cli and people read). */
void kv_client_list_line(struct kv_client *c, struct kv_client *who, struct kv_str **out)
{
    struct kv_server *s = kv_server();
    struct kv_client_core *cc = who->core;
    char flags[8];
    kv_client_flags_text(who, flags);
    const char *cmd = cc->last_cmd ? cc->last_cmd->name : "NULL";
    if (who == c && c->core->last_cmd == NULL)
        cmd = "NULL";
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "id=%llu addr=%s laddr=%s fd=-1 name=%s age=%lld idle=%lld flags=%s db=%d "
                     "sub=0 psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=0 multi-mem=0 "
                     "rbs=%zu rbp=0 obl=0 oll=0 omem=%zu tot-mem=%zu events=r cmd=%s user=default "
                     "redir=-1 resp=2\n",
                     (unsigned long long)who->id, cc->addr, cc->laddr,
                     cc->name ? cc->name->data : "", (long long)((s->now_ms - cc->ctime_ms) / 1000),
                     (long long)((s->now_ms - cc->last_ms) / 1000), flags, who->db_index,
                     (who->flags & KV_CLIENT_MULTI) ? cc->queued_count : -1,
                     (size_t)(cc->query->len - cc->qpos), (size_t)(cc->query->cap - cc->query->len),
                     cc->out_cap, cc->out_len - cc->out_sent,
                     kv_usable(cc) + kv_usable(who) + cc->out_cap + cc->query->cap, cmd);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    *out = kv_str_append(*out, line, (size_t)n);
}
