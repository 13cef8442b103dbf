/* Go's duration syntax (runc's --interval): every unit, fractions, signs,
 * and what Go refuses. */
#include <errno.h>
#include <stdint.h>

#include "harness.h"
#include "util/duration.h"

static int64_t ns_of(const char *text)
{
    int64_t ns = -42;
    CHECK_EQ_INT(tm_duration_parse(text, &ns), 0);
    return ns;
}

static void test_accepted(void)
{
    CHECK(ns_of("0") == 0);
    CHECK(ns_of("-0") == 0);
    CHECK(ns_of("5s") == 5000000000);
    CHECK(ns_of("500ms") == 500000000);
    CHECK(ns_of("200ms") == 200000000);
    CHECK(ns_of("1m") == 60000000000);
    CHECK(ns_of("1h") == 3600000000000);
    CHECK(ns_of("7ns") == 7);
    CHECK(ns_of("3us") == 3000);
    CHECK(ns_of("3\xc2\xb5s") == 3000);   /* µ, U+00B5 */
    CHECK(ns_of("3\xce\xbcs") == 3000);   /* μ, U+03BC */
    CHECK(ns_of("1.5s") == 1500000000);
    CHECK(ns_of(".5s") == 500000000);
    CHECK(ns_of("1.s") == 1000000000);
    CHECK(ns_of("1h2m3.5s") == 3723500000000);
    CHECK(ns_of("1m1ms") == 60001000000);
    CHECK(ns_of("+2s") == 2000000000);
    CHECK(ns_of("-1s") == -1000000000);
    CHECK(ns_of("0.000000001s") == 1);
    CHECK(ns_of("2562047h47m16.854775807s") == INT64_MAX);
    CHECK(ns_of("-2562047h47m16.854775808s") == INT64_MIN);
}

static void test_refused(void)
{
    static const char *bad[] = { "", "5", "s", "-", "+", ".s", "1x", "1 s", "1s ", " 1s", "1S", "1sec",
                                 "1.2.3s", "--1s", "1s-2s", "0s0" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns = -42;
        int ret = tm_duration_parse(bad[i], &ns);
        if (ret != -EINVAL)
            fprintf(stderr, "  \"%s\": %d\n", bad[i], ret);
        CHECK(ret == -EINVAL && ns == -42);
    }
    int64_t ns;
    CHECK_EQ_INT(tm_duration_parse("2562047h47m16.854775808s", &ns), -ERANGE);
    CHECK_EQ_INT(tm_duration_parse("9999999999999999999999h", &ns), -ERANGE);
    CHECK_EQ_INT(tm_duration_parse("3000000h", &ns), -ERANGE);
}

int main(void)
{
    RUN(test_accepted);
    RUN(test_refused);
    TEST_EXIT();
}
