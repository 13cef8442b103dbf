/* The functions enclave image: the JS runtime's ecalls (fn_abi.h) and its
 * layout. One function per enclave; each container's instance lives in its
 * slot. main(argc, argv) = NAME SOURCE [PARAMS]: loads SOURCE if nothing is
 * loaded yet and prints main(PARAMS)'s result (for `teemate attach`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fn_runtime.h"
#include "teemate_enclave.h"

/* A slot holds an instance at OpenWhisk's default memory limit (256 MiB of
 * JS heap) with room for the ecall copies; stacks fit Duktape's recursion
 * limits (fn_duk_config.h); the global heap holds the bytecode. */
TM_ENCLAVE_LAYOUT(.enclave_size = TM_GiB(4), .tcs_count = 8, .nssa = 2, .ssa_frame_pages = 1,
                  .stack_size = TM_KiB(512), .heap_size = TM_MiB(32), .slot_count = 8,
                  .slot_size = TM_MiB(320));

TM_ECALL(fn_ecall_load, FN_ECALL_LOAD)
{
    return fn_code_load(in, in_len, out, out_cap, out_len);
}

TM_ECALL(fn_ecall_run, FN_ECALL_RUN)
{
    return fn_instance_run(in, in_len, out, out_cap, out_len);
}

TM_ECALL(fn_ecall_result, FN_ECALL_RESULT)
{
    return fn_instance_result(out, out_cap, out_len);
}

TM_ECALL(fn_ecall_stats, FN_ECALL_STATS)
{
    if (out_cap < sizeof(struct fn_stats))
        return -EINVAL;
    fn_instance_stats(out);
    *out_len = sizeof(struct fn_stats);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        tm_print("usage: NAME SOURCE [PARAMS]\n");
        return 2;
    }
    size_t cap = 64 * 1024, len = 0;
    char *out = malloc(cap + 1);
    if (!out)
        return 1;
    if (!fn_code_current()) {
        struct fn_script s = { 4, (uint32_t)strlen(argv[1]) };
        size_t in_len = sizeof s + 4 + s.source_len;
        char *in = malloc(in_len);
        if (!in)
            return 1;
        memcpy(in, &s, sizeof s);
        memcpy(in + sizeof s, "main", 4);
        memcpy(in + sizeof s + 4, argv[1], s.source_len);
        int r = fn_code_load(in, in_len, out, cap, &len);
        free(in);
        if (r != FN_RESULT_OK && r != -EEXIST) {
            out[len] = '\0';
            tm_print(r == FN_RESULT_ERROR ? out : "load failed");
            tm_print("\n");
            return 1;
        }
    }
    const char *params = argc == 3 ? argv[2] : "{}";
    struct fn_run_request req = { 0 };
    size_t in_len = sizeof req + strlen(params);
    char *in = malloc(in_len);
    if (!in)
        return 1;
    memcpy(in, &req, sizeof req);
    memcpy(in + sizeof req, params, in_len - sizeof req);
    int r = fn_instance_run(in, in_len, out, cap, &len);
    free(in);
    if (r == FN_RESULT_PENDING) {   /* larger than cap: fetch it whole */
        uint64_t n;
        memcpy(&n, out, sizeof n);
        free(out);
        if (!(out = malloc(n + 1)))
            return 1;
        r = fn_instance_result(out, n, &len);
    }
    if (r < 0)
        return tm_print("run failed\n"), 1;
    out[len] = '\0';
    tm_print(out);
    tm_print("\n");
    return r == FN_RESULT_OK ? 0 : 1;
}
