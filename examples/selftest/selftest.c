/* Runtime self-test image: exercises what the trusted runtime promises an
 * application (relocated pointers, errno, the C locale, floating point after
 * a hostile FPU state, setjmp/longjmp, the heap, time, argv copies) and prints one line per
 * check. main returns the number of failed checks, so a host test needs only
 * the exit value; the output says which one failed. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

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

    /* The heap: sizes across the range, realloc keeping contents, alignment. */
    char *blocks[64];
    int heap_ok = 1;
    for (int i = 0; i < 64; i++) {
        blocks[i] = malloc((size_t)(i * 97) + 1);
        heap_ok &= blocks[i] != NULL && ((uintptr_t)blocks[i] & 15) == 0;
        if (blocks[i])
            memset(blocks[i], i, (size_t)(i * 97) + 1);
    }
    for (int i = 0; i < 64; i += 2)
        free(blocks[i]);
    for (int i = 1; i < 64; i += 2) {
        blocks[i] = realloc(blocks[i], (size_t)(i * 197) + 1);
        heap_ok &= blocks[i] != NULL && blocks[i][i * 97] == (char)i;
        free(blocks[i]);
    }
    void *aligned = NULL;
    heap_ok &= posix_memalign(&aligned, 4096, 100) == 0 && ((uintptr_t)aligned & 4095) == 0;
    free(aligned);
    int *zeros = calloc(1000, sizeof(int));
    heap_ok &= zeros != NULL && zeros[0] == 0 && zeros[999] == 0;
    free(zeros);
    volatile size_t huge = (size_t)-1, too_big = (size_t)1 << 40;   /* volatile: no compile-time warning */
    heap_ok &= calloc(huge, 16) == NULL && malloc(too_big) == NULL;
    void *all = malloc(200 * 1024);   /* the whole heap is free again: a big block fits */
    heap_ok &= all != NULL;
    free(all);
    check(heap_ok, "malloc, free, realloc, posix_memalign, calloc");

    struct timespec t0, t1;
    struct timeval tv;
    check(clock_gettime(CLOCK_MONOTONIC, &t0) == 0 && clock_gettime(CLOCK_MONOTONIC, &t1) == 0 &&
          (t1.tv_sec > t0.tv_sec || (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec)),
          "clock_gettime(CLOCK_MONOTONIC) through the clock ocall");
    check(time(NULL) > 1600000000 && gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 1600000000,
          "time() and gettimeofday()");
    check(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0) == -1 && errno == EINVAL,
          "unsupported clocks fail with EINVAL");

    check(argv[argc] == NULL, "argv is NULL-terminated");
    for (int i = 0; i < argc; i++) {
        snprintf(buf, sizeof buf, "argv[%d] = %s\n", i, argv[i]);
        tm_print(buf);
    }
    return failures;
}
