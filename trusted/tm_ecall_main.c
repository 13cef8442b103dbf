/* TM_ECALL_MAIN: run the application's main(argc, argv).
 *
 * The input is the argument strings, each NUL-terminated, already copied into
 * the enclave; argv points into that copy, so main never sees a host pointer.
 * An image without main refuses the ecall (TM_STATUS_UNKNOWN_ECALL). */
#include <errno.h>

#include "teemate_enclave.h"
#include "tm_runtime.h"

/* Stands in for main in images that have none (a weak definition: a weak
 * undefined reference would cost a PLT entry, which images may not have). */
__attribute__((weak)) int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    tm_ecall_unwind(TM_STATUS_UNKNOWN_ECALL, 0);
}

int tm_ecall_main(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len)
{
    (void)out;
    (void)out_cap;
    (void)out_len;
    char *strings = (char *)in;
    if (in_len > TM_MAIN_MAX_ARG_BYTES || (in_len > 0 && strings[in_len - 1] != '\0'))
        tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);

    char *argv[TM_MAIN_MAX_ARGS + 1];
    int argc = 0;
    for (size_t i = 0; i < in_len; argc++) {
        if (argc == TM_MAIN_MAX_ARGS)
            tm_ecall_unwind(TM_STATUS_BAD_ARGUMENTS, 0);
        argv[argc] = strings + i;
        while (strings[i] != '\0')
            i++;
        i++;
    }
    argv[argc] = NULL;
    return main(argc, argv);
}
