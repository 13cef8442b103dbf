/* The store's life: made by the first KV_ECALL_START (settings checked),
 * reconfigured by later ones, freed natively by kv_stop; KV_ECALL_INFO. */
#include <errno.h>
#include <string.h>

#include "kv_entry.h"
#include "kv_server.h"

#if defined(__SANITIZE_ADDRESS__)
#define KV_UNDER_ASAN true
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KV_UNDER_ASAN true
#endif
#endif
#ifndef KV_UNDER_ASAN
#define KV_UNDER_ASAN false
#endif

#define KV_MIN_HZ 1
#define KV_MAX_HZ 500

uint64_t kv_random(void)
{
    struct kv_server *s = kv_server();
    uint64_t x = s->rng;   /* xorshift64*: RANDOMKEY, SPOP, sampling */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static int kv_config_check(const struct kv_config *cfg)
{
    if (cfg->databases < 1 || cfg->databases > KV_MAX_DATABASES)
        return -EINVAL;
    if (cfg->pass_len > KV_MAX_PASS)
        return -EINVAL;
    if (cfg->hz < KV_MIN_HZ || cfg->hz > KV_MAX_HZ)
        return -EINVAL;
    if (cfg->proto_max_bulk_len < 1024 || cfg->proto_max_bulk_len > ((uint64_t)1 << 31) ||
        cfg->client_query_buffer_limit < 1024 * 1024)
        return -EINVAL;
    if (!memchr(cfg->bind, '\0', sizeof cfg->bind) || !memchr(cfg->dir, '\0', sizeof cfg->dir) ||
        !memchr(cfg->save, '\0', sizeof cfg->save) ||
        !memchr(cfg->dbfilename, '\0', sizeof cfg->dbfilename))
        return -EINVAL;
    struct kv_persist points;
    if (!kv_save_parse_points(cfg->save, &points))
        return -EINVAL;
    return 0;
}

int kv_start(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out;
    (void)out_cap;
    *out_len = 0;
    if (in_len != sizeof(struct kv_config))
        return -EINVAL;
    struct kv_config cfg;
    memcpy(&cfg, in, sizeof cfg);
    int r = kv_config_check(&cfg);
    if (r < 0)
        return r;
    struct kv_server *s = kv_server();
    if (s) {
        /* a new host process on an existing store: the number of dbs stays */
        if (cfg.databases != s->config.databases)
            return -EINVAL;
        s->config = cfg;
        kv_save_parse_points(cfg.save, &s->persist);
        return 0;
    }
    s = kv_platform_alloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    memset(s, 0, sizeof *s);
    kv_mem_init(&s->mem, KV_UNDER_ASAN);   /* under ASan: let it see every block */
    s->config = cfg;
    s->hash_seed[0] = kv_platform_random_u64();
    s->hash_seed[1] = kv_platform_random_u64();
    s->rng = kv_platform_random_u64() | 1;
    s->epoch = 1;
    s->start_ms = (int64_t)(cfg.start_time_us / 1000);
    s->now_us = (int64_t)cfg.start_time_us;
    s->now_ms = s->start_ms;
    kv_platform_set_root(s);
    kv_db_init(s);
    kv_commands_init(s);
    kv_save_init(s);
    return 0;
}

void kv_stop(void)
{
    struct kv_server *s = kv_server();
    if (!s)
        return;
    while (s->clients_head)
        kv_client_free(s->clients_head);
    kv_dict_free(s->clients_by_id);
    kv_snapshot_end();
    kv_db_free_all(s);
    kv_dict_free(s->commands);
    kv_mem_destroy(&s->mem);
    kv_platform_set_root(NULL);
    kv_platform_free(s);
}

int kv_info(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)in;
    (void)in_len;
    *out_len = 0;
    struct kv_server *s = kv_server();
    if (!s)
        return -ENOENT;
    if (out_cap < sizeof(struct kv_info))
        return -EINVAL;
    struct kv_info info = {
        .clients = s->client_count,
        .keys = kv_keys_total(),
        .used_memory = s->mem.used,
        .commands = s->stat_commands,
    };
    memcpy(out, &info, sizeof info);
    *out_len = sizeof info;
    return 0;
}
