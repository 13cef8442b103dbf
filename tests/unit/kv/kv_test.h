/* Drives the store natively through its entry points, as the host does: a
 * store with Redis's defaults, clients made by KV_IN_NEW records, bytes in,
 * reply bytes out. */
#ifndef KV_TEST_H
#define KV_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "kv_entry.h"

static uint64_t kvt_now_us = 1700000000000000ULL;   /* a fixed clock the tests move */
static uint8_t *kvt_out;
static size_t kvt_out_cap = 1 << 22;
static uint32_t kvt_last_flags;      /* the last record's flags for the client */
static uint32_t kvt_server_flags;

static void kvt_config(struct kv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->databases = 16;
    cfg->port = 6379;
    cfg->hz = 10;
    strcpy(cfg->bind, "127.0.0.1");
    strcpy(cfg->dir, "/tmp");
    cfg->proto_max_bulk_len = 512ULL << 20;
    cfg->client_query_buffer_limit = 1ULL << 30;
    cfg->pid = 1234;
    cfg->start_time_us = kvt_now_us;
}

static int kvt_start_with(const struct kv_config *cfg)
{
    size_t len;
    if (!kvt_out)
        kvt_out = malloc(kvt_out_cap);
    return kv_start(cfg, sizeof *cfg, NULL, 0, &len);
}

static int kvt_start(void)
{
    struct kv_config cfg;
    kvt_config(&cfg);
    return kvt_start_with(&cfg);
}

/* One batch with one record; the replies for `id` appended to *reply (a
 * malloc'ed NUL-terminated buffer, *reply_len bytes). Returns kv_batch's value. */
static int kvt_batch(uint64_t id, uint32_t flags, const void *data, size_t len, uint32_t bflags,
                     char **reply, size_t *reply_len)
{
    size_t in_len = sizeof(struct kv_batch_in) + KV_RECORD_SIZE(len);
    uint8_t *in = calloc(1, in_len);
    struct kv_batch_in head = { kvt_now_us, 1, bflags };
    struct kv_client_in rec = { id, flags, (uint32_t)len };
    memcpy(in, &head, sizeof head);
    memcpy(in + sizeof head, &rec, sizeof rec);
    if (len)
        memcpy(in + sizeof head + sizeof rec, data, len);
    size_t out_len = 0;
    int r = kv_batch(in, in_len, kvt_out, kvt_out_cap, &out_len);
    free(in);
    if (r < 0)
        return r;
    struct kv_batch_out bo;
    memcpy(&bo, kvt_out, sizeof bo);
    kvt_server_flags = bo.flags;
    size_t off = sizeof bo;
    for (uint32_t i = 0; i < bo.count; i++) {
        struct kv_client_out o;
        memcpy(&o, kvt_out + off, sizeof o);
        if (o.id == id && reply) {
            *reply = realloc(*reply, *reply_len + o.len + 1);
            memcpy(*reply + *reply_len, kvt_out + off + sizeof o, o.len);
            *reply_len += o.len;
            (*reply)[*reply_len] = '\0';
        }
        if (o.id == id)
            kvt_last_flags = o.flags;
        off += KV_RECORD_SIZE(o.len);
    }
    return r;
}

static void kvt_connect(uint64_t id)
{
    const char *addr = "127.0.0.1:40000 127.0.0.1:6379";
    kvt_batch(id, KV_IN_NEW, addr, strlen(addr), 0, NULL, NULL);
}

static void kvt_gone(uint64_t id) { kvt_batch(id, KV_IN_GONE, NULL, 0, 0, NULL, NULL); }

/* Sends raw bytes from client id; returns the replies (static buffer,
 * valid until the next call), whatever came back in that batch. */
static const char *kvt_raw(uint64_t id, const char *data, size_t len)
{
    static char *reply;
    size_t reply_len = 0;
    free(reply);
    reply = NULL;
    kvt_last_flags = 0;
    if (kvt_batch(id, KV_IN_DATA, data, len, 0, &reply, &reply_len) < 0)
        return "(batch failed)";
    return reply ? reply : "";
}

/* A command in RESP multibulk from a NULL-terminated list of words. */
static const char *kvt_cmdv(uint64_t id, const char *const *words)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int n = 0;
    while (words[n])
        n++;
    fprintf(f, "*%d\r\n", n);
    for (int i = 0; i < n; i++)
        fprintf(f, "$%zu\r\n%s\r\n", strlen(words[i]), words[i]);
    fclose(f);
    const char *r = kvt_raw(id, buf, len);
    free(buf);
    return r;
}

#define KVT(id, ...) kvt_cmdv((id), (const char *const[]){ __VA_ARGS__, NULL })

#endif
