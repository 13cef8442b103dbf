/* TM_ECALL_MAIN: run the application's main(argc, argv).
 *
 * The argument block is read once; argv and its strings are copied onto the
 * trusted stack, so main never sees a host pointer. Output goes to a host
 * buffer (tm_print), checked here once.
 * TODO(issue 3): replaced by general ecall marshalling; output by ocalls. */
#include "teemate_enclave.h"
#include "tm_ecall.h"
#include "tm_runtime.h"

struct tm_main_argv {
    char *pointers[TM_MAIN_MAX_ARGS + 1];
    char strings[TM_MAIN_MAX_ARG_BYTES];
};

static int tm_main_argv_copy_in(struct tm_main_argv *out, uint64_t argc, uint64_t argv)
{
    if (argc > TM_MAIN_MAX_ARGS || !tm_host_range_is_outside(argv, argc * sizeof(uint64_t)))
        return -1;
    size_t used = 0;
    for (uint64_t i = 0; i < argc; i++) {
        uint64_t string;
        tm_host_copy_in(&string, argv + i * sizeof(uint64_t), sizeof string);
        long len = tm_host_copy_string_in(out->strings + used, sizeof out->strings - used, string);
        if (len < 0)
            return -1;
        out->pointers[i] = out->strings + used;
        used += (size_t)len + 1;
    }
    out->pointers[argc] = NULL;
    return 0;
}

struct tm_entry_result tm_ecall_main(uint64_t args_address)
{
    struct tm_entry_result bad = { .status = TM_STATUS_BAD_ARGUMENTS };
    struct tm_ecall_main_args args;
    if (!tm_host_range_is_outside(args_address, sizeof args))
        return bad;
    tm_host_copy_in(&args, args_address, sizeof args);

    struct tm_main_argv argv;
    if (tm_main_argv_copy_in(&argv, args.argc, args.argv) < 0)
        return bad;
    if (!tm_host_range_is_outside(args.output, args.output_size))
        return bad;

    struct tm_ecall_context context = {
        .output = args.output,
        .output_size = args.output_size,
    };
    struct tm_thread_data *td = tm_thread_current();
    td->ecall_context = (uintptr_t)&context;
    int value = main((int)args.argc, argv.pointers);
    td->ecall_context = 0;

    tm_host_copy_out(args_address + offsetof(struct tm_ecall_main_args, output_len),
                     &context.output_len, sizeof context.output_len);
    return (struct tm_entry_result){ .status = TM_STATUS_OK, .value = value };
}
