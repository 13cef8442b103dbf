/* Server commands: INFO (the sections redis-cli, redis-benchmark and people
 * read), CONFIG GET/SET/RESETSTAT, DBSIZE, FLUSHDB, FLUSHALL, TIME, DEBUG
 * SLEEP 0, SHUTDOWN. COMMAND is in kv_cmd_command.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_server.h"

#define KV_VERSION "7.0.15"

static void kv_bytes_human(char *buf, size_t cap, uint64_t n)
{
    double d = (double)n;
    if (n < 1024)
        snprintf(buf, cap, "%lluB", (unsigned long long)n);
    else if (n < 1024ULL * 1024)
        snprintf(buf, cap, "%.2fK", d / 1024);
    else if (n < 1024ULL * 1024 * 1024)
        snprintf(buf, cap, "%.2fM", d / (1024.0 * 1024));
    else if (n < 1024ULL * 1024 * 1024 * 1024)
        snprintf(buf, cap, "%.2fG", d / (1024.0 * 1024 * 1024));
    else
        snprintf(buf, cap, "%.2fT", d / (1024.0 * 1024 * 1024 * 1024));
}

static struct kv_str *kv_catf(struct kv_str *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static struct kv_str *kv_catf(struct kv_str *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return s;
    return kv_str_append(s, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static bool kv_info_wants(struct kv_client *c, const char *section, bool is_default)
{
    if (c->argc == 1)
        return is_default;
    for (int j = 1; j < c->argc; j++) {
        const struct kv_str *a = c->argv[j];
        if (kv_str_is(a, section) || kv_str_is(a, "all") || kv_str_is(a, "everything") ||
            (is_default && kv_str_is(a, "default")))
            return true;
    }
    return false;
}

static struct kv_str *kv_info_section(struct kv_str *s, int *sections, const char *title)
{
    if ((*sections)++)
        s = kv_str_append(s, "\r\n", 2);
    return kv_catf(s, "# %s\r\n", title);
}

static void kv_cmd_info(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    const struct kv_config *cfg = &s->config;
    struct kv_str *o = kv_str_new("", 0);
    int sections = 0;
    int64_t uptime = (s->now_ms - s->start_ms) / 1000;
    if (s->mem.used > s->mem_peak)
        s->mem_peak = s->mem.used;
    if (kv_info_wants(c, "server", true)) {
        o = kv_info_section(o, &sections, "Server");
        o = kv_catf(o,
                    "redis_version:%s\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
                    "redis_build_id:0\r\nredis_mode:standalone\r\nos:TeeMate enclave\r\n"
                    "arch_bits:64\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\n"
                    "gcc_version:0.0.0\r\n",
                    KV_VERSION);
        o = kv_catf(o,
                    "process_id:%llu\r\nprocess_supervised:no\r\nrun_id:%016llx%016llx00000000\r\n"
                    "tcp_port:%u\r\nserver_time_usec:%lld\r\nuptime_in_seconds:%lld\r\n"
                    "uptime_in_days:%lld\r\nhz:%u\r\nconfigured_hz:%u\r\nlru_clock:0\r\n"
                    "executable:teemate\r\nconfig_file:\r\nio_threads_active:0\r\n",
                    (unsigned long long)cfg->pid, (unsigned long long)s->hash_seed[0] ^ 0x5a5a,
                    (unsigned long long)s->start_ms, cfg->port, (long long)s->now_us,
                    (long long)uptime, (long long)(uptime / 86400), cfg->hz, cfg->hz);
    }
    if (kv_info_wants(c, "clients", true)) {
        o = kv_info_section(o, &sections, "Clients");
        o = kv_catf(o,
                    "connected_clients:%zu\r\ncluster_connections:0\r\nmaxclients:10000\r\n"
                    "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\n"
                    "blocked_clients:0\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                    s->client_count);
    }
    if (kv_info_wants(c, "memory", true)) {
        char used[32], peak[32], max[32];
        kv_bytes_human(used, sizeof used, s->mem.used);
        kv_bytes_human(peak, sizeof peak, s->mem_peak);
        kv_bytes_human(max, sizeof max, cfg->maxmemory);
        o = kv_info_section(o, &sections, "Memory");
        o = kv_catf(o,
                    "used_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\n"
                    "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n",
                    s->mem.used, used, kv_platform_rss(), s->mem_peak, peak);
        o = kv_catf(o,
                    "maxmemory:%llu\r\nmaxmemory_human:%s\r\nmaxmemory_policy:noeviction\r\n"
                    "mem_allocator:teemate-slab\r\nmem_slabs_bytes:%zu\r\n",
                    (unsigned long long)cfg->maxmemory, max, s->mem.chunks_bytes);
    }
    if (kv_info_wants(c, "persistence", true)) {
        o = kv_info_section(o, &sections, "Persistence");
        kv_save_info(&o);
    }
    if (kv_info_wants(c, "stats", true)) {
        o = kv_info_section(o, &sections, "Stats");
        o = kv_catf(o,
                    "total_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
                    "instantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:%llu\r\n"
                    "total_net_output_bytes:%llu\r\nrejected_connections:0\r\n",
                    (unsigned long long)s->stat_connections, (unsigned long long)s->stat_commands,
                    (unsigned long long)s->stat_net_in, (unsigned long long)s->stat_net_out);
        o = kv_catf(o,
                    "expired_keys:%llu\r\nevicted_keys:0\r\nkeyspace_hits:%llu\r\n"
                    "keyspace_misses:%llu\r\nlatest_fork_usec:%llu\r\ntotal_forks:%llu\r\n"
                    "unexpected_error_replies:0\r\ntotal_error_replies:%llu\r\n",
                    (unsigned long long)s->stat_expired, (unsigned long long)s->stat_hits,
                    (unsigned long long)s->stat_misses,
                    (unsigned long long)s->persist.latest_fork_usec,
                    (unsigned long long)(s->persist.bgsaves_ok + s->persist.bgsaves_err),
                    (unsigned long long)s->stat_error_replies);
    }
    if (kv_info_wants(c, "replication", true)) {
        o = kv_info_section(o, &sections, "Replication");
        o = kv_catf(o, "role:master\r\nconnected_slaves:0\r\n");
    }
    /* Redis's default sections in its order; no CPU (the enclave has no
     * rusage of its own) nor Commandstats/Latencystats (not counted here) */
    if (kv_info_wants(c, "modules", true))
        o = kv_info_section(o, &sections, "Modules");
    if (kv_info_wants(c, "errorstats", true)) {
        o = kv_info_section(o, &sections, "Errorstats");
        for (uint32_t i = 0; i < s->nerrstats; i++)
            o = kv_catf(o, "errorstat_%s:count=%llu\r\n", s->errstats[i].code,
                        (unsigned long long)s->errstats[i].count);
    }
    if (kv_info_wants(c, "cluster", true)) {
        o = kv_info_section(o, &sections, "Cluster");
        o = kv_catf(o, "cluster_enabled:0\r\n");
    }
    if (kv_info_wants(c, "keyspace", true)) {
        o = kv_info_section(o, &sections, "Keyspace");
        for (int i = 0; i < s->dbnum; i++) {
            size_t keys = kv_dict_size(s->db[i].keys);
            if (keys)
                o = kv_catf(o, "db%d:keys=%zu,expires=%zu,avg_ttl=0\r\n", i, keys,
                            kv_dict_size(s->db[i].expires));
        }
    }
    kv_reply_bulk_str(c, o);
    kv_str_free(o);
}

/* ---- CONFIG */
enum kv_param_kind { KV_PARAM_U64, KV_PARAM_U32, KV_PARAM_STR, KV_PARAM_FIXED, KV_PARAM_PASS };
struct kv_param {
    const char *name;
    enum kv_param_kind kind;
    size_t offset;           /* in struct kv_config */
    const char *fixed;
    bool settable;           /* CONFIG SET (maxmemory: a memory value; requirepass) */
};

#define KV_OFF(f) offsetof(struct kv_config, f)
static const struct kv_param kv_params[] = {
    { "maxmemory", KV_PARAM_U64, KV_OFF(maxmemory), NULL, true },
    { "maxmemory-policy", KV_PARAM_FIXED, 0, "noeviction", false },
    { "databases", KV_PARAM_U32, KV_OFF(databases), NULL, false },
    { "port", KV_PARAM_U32, KV_OFF(port), NULL, false },
    { "bind", KV_PARAM_STR, KV_OFF(bind), NULL, false },
    { "dir", KV_PARAM_STR, KV_OFF(dir), NULL, false },
    { "requirepass", KV_PARAM_PASS, 0, NULL, true },
    { "hz", KV_PARAM_U32, KV_OFF(hz), NULL, false },
    { "proto-max-bulk-len", KV_PARAM_U64, KV_OFF(proto_max_bulk_len), NULL, false },
    { "client-query-buffer-limit", KV_PARAM_U64, KV_OFF(client_query_buffer_limit), NULL, false },
    { "save", KV_PARAM_STR, KV_OFF(save), NULL, false },
    { "dbfilename", KV_PARAM_STR, KV_OFF(dbfilename), NULL, false },
    { "appendonly", KV_PARAM_FIXED, 0, "no", false },
    { "timeout", KV_PARAM_FIXED, 0, "0", false },
};

static void kv_param_reply(struct kv_client *c, const struct kv_param *p)
{
    const struct kv_config *cfg = &kv_server()->config;
    const char *base = (const char *)cfg;
    kv_reply_bulk(c, p->name, strlen(p->name));
    switch (p->kind) {
    case KV_PARAM_U64: {
        uint64_t v;
        memcpy(&v, base + p->offset, sizeof v);
        kv_reply_bulk_int(c, (int64_t)v);
        break;
    }
    case KV_PARAM_U32: {
        uint32_t v;
        memcpy(&v, base + p->offset, sizeof v);
        kv_reply_bulk_int(c, v);
        break;
    }
    case KV_PARAM_STR:
        kv_reply_bulk(c, base + p->offset, strlen(base + p->offset));
        break;
    case KV_PARAM_FIXED:
        kv_reply_bulk(c, p->fixed, strlen(p->fixed));
        break;
    case KV_PARAM_PASS:
        kv_reply_bulk(c, cfg->pass, cfg->pass_len);
        break;
    }
}

static void kv_cmd_config_get(struct kv_client *c)
{
    size_t n = sizeof kv_params / sizeof kv_params[0];
    void *len = kv_reply_deferred_len(c);
    int64_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = kv_params[i].name;
        for (int j = 2; j < c->argc; j++) {
            const struct kv_str *pat = c->argv[j];
            if (kv_glob_match(pat->data, pat->len, name, strlen(name), true)) {
                kv_param_reply(c, &kv_params[i]);
                count += 2;
                break;
            }
        }
    }
    kv_reply_set_deferred_len(c, len, count);
}

/* memtoull: digits and an optional unit (b, k, kb, m, mb, g, gb). */
static bool kv_parse_memory(const struct kv_str *s, uint64_t *out)
{
    const char *p = s->data;
    size_t len = s->len, digits = 0;
    while (digits < len && isdigit((unsigned char)p[digits]))
        digits++;
    if (!digits || digits > 19)
        return false;
    const char *u = p + digits;
    uint64_t mul;
    if (!*u || !strcasecmp(u, "b"))
        mul = 1;
    else if (!strcasecmp(u, "k"))
        mul = 1000;
    else if (!strcasecmp(u, "kb"))
        mul = 1024;
    else if (!strcasecmp(u, "m"))
        mul = 1000 * 1000;
    else if (!strcasecmp(u, "mb"))
        mul = 1024 * 1024;
    else if (!strcasecmp(u, "g"))
        mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(u, "gb"))
        mul = 1024ULL * 1024 * 1024;
    else
        return false;
    if (strlen(p) != len)
        return false;
    uint64_t v = strtoull(p, NULL, 10);
    if (__builtin_mul_overflow(v, mul, out))
        return false;
    return true;
}

static const struct kv_param *kv_param_find(const struct kv_str *name)
{
    for (size_t i = 0; i < sizeof kv_params / sizeof kv_params[0]; i++)
        if (kv_str_is(name, kv_params[i].name))
            return &kv_params[i];
    return NULL;
}

/* All or nothing, as Redis 7: every pair is checked before any is applied.
 * A new requirepass asks new connections for it; those already in stay in. */
static void kv_cmd_config_set(struct kv_client *c)
{
    if (c->argc % 2) {
        kv_reply_error(c, "wrong number of arguments for 'config|set' command");
        return;
    }
    struct kv_config *cfg = &kv_server()->config;
    uint64_t maxmemory = cfg->maxmemory;
    const struct kv_str *pass = NULL;
    for (int j = 2; j < c->argc; j += 2) {
        const struct kv_param *p = kv_param_find(c->argv[j]);
        if (!p) {
            kv_reply_errorf(c, "Unknown option or number of arguments for CONFIG SET - '%s'",
                            c->argv[j]->data);
            return;
        }
        for (int k = 2; k < j; k += 2)
            if (kv_param_find(c->argv[k]) == p) {
                kv_reply_errorf(c, "CONFIG SET failed (possibly related to argument '%s') - "
                                   "duplicate parameter", c->argv[j]->data);
                return;
            }
        if (!p->settable) {
            kv_reply_errorf(c, "CONFIG SET failed (possibly related to argument '%s') - can't "
                               "set immutable config", c->argv[j]->data);
            return;
        }
        if (p->kind == KV_PARAM_PASS) {
            pass = c->argv[j + 1];
            if (pass->len >= sizeof cfg->pass) {
                kv_reply_errorf(c, "CONFIG SET failed (possibly related to argument '%s') - "
                                   "longer than %zu bytes", c->argv[j]->data, sizeof cfg->pass - 1);
                return;
            }
        } else if (!kv_parse_memory(c->argv[j + 1], &maxmemory)) {
            kv_reply_errorf(c, "CONFIG SET failed (possibly related to argument '%s') - "
                               "argument must be a memory value", c->argv[j]->data);
            return;
        }
    }
    cfg->maxmemory = maxmemory;
    if (pass) {
        memcpy(cfg->pass, pass->data, pass->len);
        cfg->pass[pass->len] = '\0';
        cfg->pass_len = (uint32_t)pass->len;
    }
    kv_reply_ok(c);
}

static void kv_cmd_config_resetstat(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    s->stat_commands = s->stat_connections = s->stat_rejected = s->stat_expired = 0;
    s->stat_hits = s->stat_misses = s->stat_net_in = s->stat_net_out = 0;
    s->stat_error_replies = 0;
    s->nerrstats = 0;
    s->mem_peak = s->mem.used;
    kv_reply_ok(c);
}

/* ---- keyspace-wide */
static void kv_cmd_dbsize(struct kv_client *c) { kv_reply_int(c, (int64_t)kv_dict_size(c->db->keys)); }

static bool kv_flush_flags(struct kv_client *c)
{
    if (c->argc > 2 ||
        (c->argc == 2 && !kv_str_is(c->argv[1], "sync") && !kv_str_is(c->argv[1], "async"))) {
        kv_reply_syntax_error(c);
        return false;
    }
    return true;
}

static void kv_cmd_flushdb(struct kv_client *c)
{
    if (!kv_flush_flags(c))
        return;
    kv_db_empty(c, c->db_index);
    kv_reply_ok(c);
}

static void kv_cmd_flushall(struct kv_client *c)
{
    if (!kv_flush_flags(c))
        return;
    kv_db_empty(c, -1);
    kv_reply_ok(c);
}

static void kv_cmd_time(struct kv_client *c)
{
    int64_t us = kv_server()->now_us;
    kv_reply_array(c, 2);
    kv_reply_bulk_int(c, us / 1000000);
    kv_reply_bulk_int(c, us % 1000000);
}

static void kv_cmd_debug(struct kv_client *c)
{
    if (kv_str_is(c->argv[1], "sleep") && c->argc == 3) {
        double t = strtod(c->argv[2]->data, NULL);
        if ((long long)(t * 1000000) == 0) {
            kv_reply_ok(c);
            return;
        }
        /* the store never blocks its one thread: only the no-op form */
        kv_reply_error(c, "DEBUG SLEEP is only supported with 0 here");
        return;
    }
    if (kv_str_is(c->argv[1], "set-active-expire") && c->argc == 3) {
        /* as Redis: atoi, so anything but a leading non-zero number is "off" */
        kv_server()->active_expire_off = atoi(c->argv[2]->data) == 0;
        kv_reply_ok(c);
        return;
    }
    kv_reply_errorf(c, "unknown subcommand or wrong number of arguments for '%.128s'. Try DEBUG HELP.",
                    c->argv[1]->data);
}

static void kv_cmd_shutdown(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    bool nosave = false, save = false, force = false;
    for (int j = 1; j < c->argc; j++) {
        const struct kv_str *a = c->argv[j];
        if (kv_str_is(a, "abort")) {
            kv_reply_error(c, "No shutdown in progress.");
            return;
        }
        if (!kv_str_is(a, "nosave") && !kv_str_is(a, "save") && !kv_str_is(a, "now") &&
            !kv_str_is(a, "force")) {
            kv_reply_syntax_error(c);
            return;
        }
        nosave |= kv_str_is(a, "nosave");
        save |= kv_str_is(a, "save");
        force |= kv_str_is(a, "force");
    }
    if (nosave && save) {
        kv_reply_syntax_error(c);
        return;
    }
    /* Redis saves on SHUTDOWN when save points are set, or when told to */
    if ((save || (!nosave && s->persist.npoints > 0)) && kv_save_now(true) < 0 && !force) {
        kv_reply_error(c, "Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    /* no reply: the host closes every connection and exits */
    s->shutdown = true;
}

#define W KV_CMD_WRITE
const struct kv_command kv_server_commands[] = {
    { "info", kv_cmd_info, -1, 0, 0, 0, 0, "server",
      "Returns information and statistics about the server." },
    { "config", NULL, -2, KV_CMD_CONTAINER, 0, 0, 0, "server",
      "A container for server configuration commands." },
    { "config|get", kv_cmd_config_get, -3, 0, 0, 0, 0, "server",
      "Returns the effective values of configuration parameters." },
    { "config|set", kv_cmd_config_set, -4, 0, 0, 0, 0, "server",
      "Sets configuration parameters in-flight." },
    { "config|resetstat", kv_cmd_config_resetstat, 2, 0, 0, 0, 0, "server",
      "Resets the server's statistics." },
    { "dbsize", kv_cmd_dbsize, 1, KV_CMD_READONLY | KV_CMD_FAST, 0, 0, 0, "server",
      "Returns the number of keys in the database." },
    { "flushdb", kv_cmd_flushdb, -1, W, 0, 0, 0, "server", "Remove all keys from the current database." },
    { "flushall", kv_cmd_flushall, -1, W, 0, 0, 0, "server", "Removes all keys from all databases." },
    { "time", kv_cmd_time, 1, KV_CMD_FAST, 0, 0, 0, "server", "Returns the server time." },
    { "debug", kv_cmd_debug, -2, 0, 0, 0, 0, "server", "A container for debugging commands." },
    { "shutdown", kv_cmd_shutdown, -1, 0, 0, 0, 0, "server",
      "Synchronously saves the database(s) to disk and shuts down the Redis server." },
    { .name = NULL },
};
