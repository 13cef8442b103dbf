/* A tiny test harness. Each check that fails prints where and why; each test
 * prints one line the runner counts: "ok - NAME", "not ok - NAME", or
 * "skip - NAME: reason". */
#ifndef TM_TEST_HARNESS_H
#define TM_TEST_HARNESS_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tm_test_failures;   /* failed tests in this binary */
static int tm_test_current_failed;
static const char *tm_test_skip_reason;
static jmp_buf tm_test_abort;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            tm_test_current_failed = 1;                                               \
        }                                                                             \
    } while (0)

/* Like CHECK, but the rest of the test cannot go on without it. */
#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "  %s:%d: requirement failed: %s\n", __FILE__, __LINE__, #cond); \
            tm_test_current_failed = 1;                                                 \
            longjmp(tm_test_abort, 1);                                                  \
        }                                                                               \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                             \
    do {                                                                               \
        long long tm_a_ = (long long)(a), tm_b_ = (long long)(b);                      \
        if (tm_a_ != tm_b_) {                                                          \
            fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__,      \
                    __LINE__, #a, #b, tm_a_, tm_b_);                                   \
            tm_test_current_failed = 1;                                                \
        }                                                                              \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                \
    do {                                                                               \
        const char *tm_h_ = (hay), *tm_n_ = (needle);                                  \
        if (!tm_h_ || !strstr(tm_h_, tm_n_)) {                                         \
            fprintf(stderr, "  %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,    \
                    __LINE__, tm_h_ ? tm_h_ : "(null)", tm_n_);                        \
            tm_test_current_failed = 1;                                                \
        }                                                                              \
    } while (0)

/* Mark the running test skipped, with the reason printed. */
#define SKIP(reason)                        \
    do {                                    \
        tm_test_skip_reason = (reason);     \
        longjmp(tm_test_abort, 1);          \
    } while (0)

static inline void tm_test_run(const char *name, void (*fn)(void))
{
    tm_test_current_failed = 0;
    tm_test_skip_reason = NULL;
    if (setjmp(tm_test_abort) == 0)
        fn();
    if (tm_test_skip_reason && !tm_test_current_failed)
        printf("skip - %s: %s\n", name, tm_test_skip_reason);
    else if (tm_test_current_failed) {
        printf("not ok - %s\n", name);
        tm_test_failures++;
    } else
        printf("ok - %s\n", name);
    fflush(stdout);
}

#define RUN(fn) tm_test_run(#fn, fn)
#define TEST_EXIT() return tm_test_failures ? 1 : 0

#endif
