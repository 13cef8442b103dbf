/* tm_print: output to the host for the ecall in progress.
 * TODO(issue 3): an ocall instead of a host buffer given at entry. */
#include <string.h>

#include "teemate_enclave.h"
#include "tm_runtime.h"

int tm_print(const char *s)
{
    struct tm_ecall_context *context =
        (struct tm_ecall_context *)(uintptr_t)tm_thread_current()->ecall_context;
    if (context == NULL)
        return -1;
    size_t len = strlen(s);
    uint64_t start = context->output_len;
    context->output_len += len;
    if (start >= context->output_size)
        return len == 0 ? 0 : -1;
    uint64_t room = context->output_size - start;
    size_t n = len < room ? len : (size_t)room;
    /* Inside [output, output + output_size), checked outside ELRANGE. */
    tm_host_copy_out(context->output + start, s, n);
    return n == len ? 0 : -1;
}
