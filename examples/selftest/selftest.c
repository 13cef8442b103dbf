/* Runtime self-test image: exercises what the trusted runtime promises an
 * application (relocated pointers, errno, the C locale, floating point after
 * a hostile FPU state, setjmp/longjmp, argv copies) and prints one line per
 * check. main returns the number of failed checks, so a host test needs only
 * the exit value; the output says which one failed. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <teemate_enclave.h>

TM_ENCLAVE_LAYOUT(
    .enclave_size = TM_MiB(16),
    .tcs_count = 4,
    .nssa = 2,
    .ssa_frame_pages = 1,
    .stack_size = TM_KiB(64),
    .heap_size = TM_KiB(256),
    .slot_count = 4,
    .slot_size = TM_MiB(1),
);

static int failures;

static void check(int ok, const char *what)
{
    char line[160];
    snprintf(line, sizeof line, "%s %s\n", ok ? "ok" : "FAIL", what);
    tm_print(line);
    failures += !ok;
}

/* Pointers in initialised data: R_X86_64_RELATIVE relocations. */
static const char *const names[] = { "alpha", "beta", "gamma" };
static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }
static int (*const operations[])(int, int) = { add, mul };
static const char *writable_name = "delta";
/* Read through volatile indices so the compiler cannot fold the tables away. */
static volatile int two = 2, zero = 0, one = 1;

static int compare_ints(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static jmp_buf jump;

static void jump_back(void)
{
    longjmp(jump, 42);
}

int main(int argc, char **argv)
{
    const char *const *volatile writable = &writable_name;
    check(strcmp(names[two], "gamma") == 0 && strcmp(*writable, "delta") == 0,
          "relocated string pointers");
    check(operations[zero](6, 7) == 13 && operations[one](6, 7) == 42,
          "relocated function pointers");

    int values[] = { 5, 3, 9, 1 };
    qsort(values, 4, sizeof values[0], compare_ints);
    check(values[0] == 1 && values[3] == 9, "qsort with a callback");

    errno = 0;
    long big = strtol("99999999999999999999", NULL, 10);
    check(big == LONG_MAX && errno == ERANGE, "strtol overflow sets errno");

    check(strcmp(strerror(EINVAL), "Invalid argument") == 0, "strerror (C locale)");
    check(MB_CUR_MAX == 1, "MB_CUR_MAX is 1 (C locale)");

    char buf[64];
    snprintf(buf, sizeof buf, "%.17g %.3f %e", 1.0 / 3.0, 2.0 / 3.0, 1e300 * 10);
    check(strcmp(buf, "0.33333333333333331 0.667 1.000000e+301") == 0,
          "floating point formatting (FPU state reset at entry)");

    int landed = setjmp(jump);
    if (landed == 0)
        jump_back();
    check(landed == 42, "setjmp/longjmp");

    check(argv[argc] == NULL, "argv is NULL-terminated");
    for (int i = 0; i < argc; i++) {
        snprintf(buf, sizeof buf, "argv[%d] = %s\n", i, argv[i]);
        tm_print(buf);
    }
    return failures;
}
