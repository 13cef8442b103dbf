/* The store's enclave image: its three ecalls (kv_abi.h) forwarding to the
 * entry points (kv_entry.h), and its layout. One server per container slot:
 * the slot holds the whole data set (and the ecall copies of each batch). */
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

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tm_print("the key-value store's image: run it with `teemate kv serve`\n");
    return 2;
}
