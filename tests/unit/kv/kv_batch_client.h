/* A client of the native store through its public entry points (kv_entry.h:
 * the batch ecall's signature), for unit tests that check replies byte for
 * byte: kvt_start() makes the store, kvt_run(argv) sends one command as RESP
 * and returns every byte it replied. */
#ifndef KV_BATCH_CLIENT_H
#define KV_BATCH_CLIENT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "kv_abi.h"
#include "kv_entry.h"

#define KVT_CLIENT_ID 7
#define KVT_OUT_CAP (1u << 20)

static unsigned char kvt_out[KVT_OUT_CAP];
static char *kvt_reply;          /* the last command's reply, NUL-terminated */
static size_t kvt_reply_len;

/* One batch with one record for our client; appends its reply bytes.
 * Returns the record's KV_OUT_* flags, or -1. */
static int kvt_batch(uint32_t flags, const void *p, size_t len)
{
    size_t in_len = sizeof(struct kv_batch_in) + KV_RECORD_SIZE(len);
    unsigned char *in = calloc(1, in_len);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct kv_batch_in bi = {.now_us = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec,
                             .count = 1};
    struct kv_client_in ci = {.id = KVT_CLIENT_ID, .flags = flags, .len = (uint32_t)len};
    memcpy(in, &bi, sizeof bi);
    memcpy(in + sizeof bi, &ci, sizeof ci);
    if (len)
        memcpy(in + sizeof bi + sizeof ci, p, len);
    size_t out_len = 0;
    int rc = kv_batch(in, in_len, kvt_out, sizeof kvt_out, &out_len);
    free(in);
    if (rc != 0)
        return -1;
    struct kv_batch_out bo;
    memcpy(&bo, kvt_out, sizeof bo);
    size_t off = sizeof bo;
    int out_flags = 0;
    for (uint32_t i = 0; i < bo.count; i++) {
        struct kv_client_out co;
        memcpy(&co, kvt_out + off, sizeof co);
        if (co.id == KVT_CLIENT_ID) {
            kvt_reply = realloc(kvt_reply, kvt_reply_len + co.len + 1);
            memcpy(kvt_reply + kvt_reply_len, kvt_out + off + sizeof co, co.len);
            kvt_reply_len += co.len;
            kvt_reply[kvt_reply_len] = '\0';
            out_flags |= (int)co.flags;
        }
        off += KV_RECORD_SIZE(co.len);
    }
    return out_flags;
}

/* A fresh store (the previous one freed) and our client connected. */
static int kvt_start(void)
{
    kv_stop();
    struct kv_config cfg = {.databases = 16, .port = 6379, .hz = 10,
                            .proto_max_bulk_len = 512ull << 20,
                            .client_query_buffer_limit = 1ull << 30};
    size_t out_len;
    if (kv_start(&cfg, sizeof cfg, NULL, 0, &out_len) != 0)
        return -1;
    static const char addrs[] = "127.0.0.1:5000 127.0.0.1:6379";
    kvt_reply_len = 0;
    return kvt_batch(KV_IN_NEW, addrs, sizeof addrs - 1) < 0 ? -1 : 0;
}

/* Sends argv (argc strings; lens NULL: C strings) and returns the reply. */
static const char *kvt_runv(int argc, const char *const *argv, const size_t *lens)
{
    size_t cap = 32, n;
    for (int i = 0; i < argc; i++)
        cap += 32 + (lens ? lens[i] : strlen(argv[i]));
    char *req = malloc(cap);
    if (!req)
        abort();
    n = (size_t)sprintf(req, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        size_t l = lens ? lens[i] : strlen(argv[i]);
        n += (size_t)sprintf(req + n, "$%zu\r\n", l);
        memcpy(req + n, argv[i], l);
        n += l;
        memcpy(req + n, "\r\n", 2);
        n += 2;
    }
    kvt_reply_len = 0;
    if (kvt_reply)
        kvt_reply[0] = '\0';
    int f = kvt_batch(KV_IN_DATA, req, n);
    while (f >= 0 && (f & KV_OUT_PENDING))
        f = kvt_batch(0, NULL, 0);
    free(req);
    return kvt_reply ? kvt_reply : "";
}

#define KVT_RUN(...) \
    kvt_runv((int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
             (const char *const[]){__VA_ARGS__}, NULL)

/* CHECK that a command's reply is exactly `expected`. */
#define CHECK_REPLY(expected, ...)                                                    \
    do {                                                                              \
        const char *kvt_got_ = KVT_RUN(__VA_ARGS__);                                  \
        if (strcmp(kvt_got_, (expected)) != 0) {                                      \
            fprintf(stderr, "  %s:%d: %s: got \"%s\", expected \"%s\"\n", __FILE__,    \
                    __LINE__, #__VA_ARGS__, kvt_got_, (expected));                    \
            tm_test_current_failed = 1;                                               \
        }                                                                             \
    } while (0)

#endif
