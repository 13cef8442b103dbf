/* The store's enclave image: its ecalls (kv_abi.h) forwarding to the
 * entry points (kv_entry.h), and its layout. One server per container slot:
 * the slot holds the whole data set (and the ecall copies of each batch). */
#include <string.h>

#include "kv_entry.h"
#include "teemate_enclave.h"

/* A slot of 2 GiB holds the benchmark's million keys of up to 1000 bytes
 * with room; a handful of slots for a server and its snapshot children
 * (issue 13). Stacks are small: the store does not recurse deeply (glob
 * matching bounds its own nesting). */
TM_ENCLAVE_LAYOUT(.enclave_size = TM_GiB(16), .tcs_count = 8, .nssa = 2, .ssa_frame_pages = 1,
                  .stack_size = TM_KiB(256), .heap_size = TM_MiB(4), .slot_count = 4,
                  .slot_size = TM_GiB(2));

TM_ECALL(kv_ecall_start, KV_ECALL_START)
{
    return kv_start(in, in_len, out, out_cap, out_len);
}

TM_ECALL(kv_ecall_batch, KV_ECALL_BATCH)
{
    return kv_batch(in, in_len, out, out_cap, out_len);
}

TM_ECALL(kv_ecall_info, KV_ECALL_INFO)
{
    return kv_info(in, in_len, out, out_cap, out_len);
}

TM_ECALL(kv_ecall_snapshot_write, KV_ECALL_SNAPSHOT_WRITE)
{
    return kv_snapshot_write(in, in_len, out, out_cap, out_len);
}

TM_ECALL(kv_ecall_snapshot_done, KV_ECALL_SNAPSHOT_DONE)
{
    return kv_snapshot_done(in, in_len, out, out_cap, out_len);
}

TM_ECALL(kv_ecall_load, KV_ECALL_LOAD)
{
    return kv_load(in, in_len, out, out_cap, out_len);
}

TM_ECALL(kv_ecall_export, KV_ECALL_EXPORT)
{
    return kv_export(in, in_len, out, out_cap, out_len);
}

TM_ECALL(kv_ecall_import, KV_ECALL_IMPORT)
{
    return kv_import(in, in_len, out, out_cap, out_len);
}

/* `teemate enclave run kv.elf -- CMD...`: runs one inline command line in a
 * throwaway store inside the enclave and prints its reply (a check that the
 * store works in an enclave without the host side). */
int main(int argc, char **argv)
{
    if (argc < 2) {
        tm_print("usage: CMD [ARGS...] (one inline command; `teemate kv serve` serves)\n");
        return 2;
    }
    struct kv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.databases = 16;
    cfg.hz = 10;
    cfg.proto_max_bulk_len = 512ULL << 20;
    cfg.client_query_buffer_limit = 1ULL << 30;
    size_t len;
    if (kv_start(&cfg, sizeof cfg, NULL, 0, &len) < 0)
        return 1;
    static uint8_t in[4096], out[8192];
    struct kv_batch_in head = { 0, 2, 0 };
    struct kv_client_in rec = { 1, KV_IN_NEW, 0 };
    size_t off = sizeof head;
    memcpy(in + off, &rec, sizeof rec);
    off += sizeof rec;
    size_t n = 0;
    char *line = (char *)in + off + sizeof rec;
    for (int i = 1; i < argc; i++) {
        size_t l = strlen(argv[i]);
        if (n + l + 3 > sizeof in - off - sizeof rec - 8)
            return 2;
        memcpy(line + n, argv[i], l);
        n += l;
        line[n++] = i + 1 < argc ? ' ' : '\r';
    }
    line[n++] = '\n';
    rec = (struct kv_client_in){ 1, KV_IN_DATA, (uint32_t)n };
    memcpy(in + off, &rec, sizeof rec);
    off += KV_RECORD_SIZE(n);
    memcpy(in, &head, sizeof head);
    if (kv_batch(in, off, out, sizeof out - 1, &len) < 0)
        return 1;
    struct kv_batch_out bo;
    memcpy(&bo, out, sizeof bo);
    size_t o = sizeof bo;
    for (uint32_t i = 0; i < bo.count; i++) {
        struct kv_client_out r;
        memcpy(&r, out + o, sizeof r);
        char *text = (char *)out + o + sizeof r;
        char save = text[r.len];
        text[r.len] = '\0';
        tm_print(text);
        text[r.len] = save;
        o += KV_RECORD_SIZE(r.len);
    }
    return 0;
}
