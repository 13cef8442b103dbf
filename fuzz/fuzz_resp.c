/* libFuzzer target: the store's RESP parser and command dispatch, natively.
 * The input is split at its first byte's value into two clients' streams,
 * fed in chunks as the host would, with a small output buffer so replies
 * stay pending; the store must never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv_entry.h"

static uint8_t fuzz_out[4096];

static void fuzz_batch(uint64_t id, uint32_t flags, const uint8_t *p, size_t len)
{
    size_t in_len = sizeof(struct kv_batch_in) + KV_RECORD_SIZE(len);
    uint8_t *in = calloc(1, in_len);
    struct kv_batch_in head = { 1700000000000000ULL, 1, KV_BATCH_CRON };
    struct kv_client_in rec = { id, flags, (uint32_t)len };
    memcpy(in, &head, sizeof head);
    memcpy(in + sizeof head, &rec, sizeof rec);
    if (len)
        memcpy(in + sizeof head + sizeof rec, p, len);
    size_t out_len;
    kv_batch(in, in_len, fuzz_out, sizeof fuzz_out, &out_len);
    free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.databases = 16;
    cfg.hz = 10;
    cfg.proto_max_bulk_len = 1 << 20;
    cfg.client_query_buffer_limit = 1 << 20;
    cfg.maxmemory = size & 1 ? 64 * 1024 * 1024 : 0;
    if (size > 1 && data[1] & 1) {
        cfg.pass_len = 3;
        memcpy(cfg.pass, "pwd", 3);
    }
    size_t len;
    if (kv_start(&cfg, sizeof cfg, NULL, 0, &len) < 0)
        return 0;
    fuzz_batch(1, KV_IN_NEW, (const uint8_t *)"a:1 b:2", 7);
    fuzz_batch(2, KV_IN_NEW, (const uint8_t *)"a:3 b:2", 7);
    size_t split = size ? data[0] * size / 256 : 0;
    /* chunks of up to 61 bytes, alternating clients */
    size_t a = 1, b = split;
    while (a < split || b < size) {
        if (a < split) {
            size_t n = split - a < 61 ? split - a : 61;
            fuzz_batch(1, KV_IN_DATA, data + a, n);
            a += n;
        }
        if (b < size) {
            size_t n = size - b < 37 ? size - b : 37;
            fuzz_batch(2, KV_IN_DATA, data + b, n);
            b += n;
        }
    }
    for (int i = 0; i < 4; i++)   /* drain what stayed pending */
        fuzz_batch(1, 0, NULL, 0);
    fuzz_batch(1, KV_IN_GONE, NULL, 0);
    kv_stop();
    return 0;
}
