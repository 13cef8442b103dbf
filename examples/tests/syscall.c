/* A raw system call inside the enclave is a fault (#UD on SGX hardware,
 * trapped by the sim), reported as "enclave made a system call" and never
 * executed: the host must never see LEAK on its standard output.
 *   ecall 16 and main(): write(1, "LEAK\n", 5) through the SYSCALL instruction. */
#include "layout.h"

TM_TEST_LAYOUT();

static long raw_write(long fd, const void *buf, long len)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(1L /* SYS_write */), "D"(fd), "S"(buf), "d"(len)
                     : "rcx", "r11", "memory");
    return ret;
}

TM_ECALL(leak, 16)
{
    return (int)raw_write(1, "LEAK\n", 5);
}

int main(__attribute__((unused)) int argc, __attribute__((unused)) char **argv)
{
    return (int)raw_write(1, "LEAK\n", 5);
}
