/* The smallest TeeMate enclave application: formats a greeting with musl's
 * snprintf and prints it with tm_print (the write ocall). Entered with
 * TM_ECALL_MAIN and argv {"hello", "you"}, the host writes "hello, you\n" to
 * its standard output; main returns 1 if the write failed. */
#include <stdio.h>

#include <teemate_enclave.h>

/* 4 threads x (64 KiB stack + TCS + 2 SSA + thread data + guard) + 1 MiB heap
 * + 8 slots of 1 MiB: about 10 MiB of the 64 MiB ELRANGE. */
TM_ENCLAVE_LAYOUT(
    .enclave_size = TM_MiB(64),
    .tcs_count = 4,
    .nssa = 2,
    .ssa_frame_pages = 1,
    .stack_size = TM_KiB(64),
    .heap_size = TM_MiB(1),
    .slot_count = 8,
    .slot_size = TM_MiB(1),
);

int main(int argc, char **argv)
{
    char line[256];
    snprintf(line, sizeof line, "hello, %s\n", argc > 1 ? argv[1] : "world");
    return tm_print(line) == 0 ? 0 : 1;
}
