/* The action protocol's body parsing (apps/functions/host/fn_serve_proto.c):
 * the statuses and OpenWhisk's texts for each refusal, base64 by RFC 4648's
 * vectors, main's alias, and /run's keys as __OW_* env values. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "fn_serve_proto.h"

#define S(lit) lit, sizeof lit - 1

static void test_base64_rfc4648(void)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    char out[16];
    for (size_t i = 0; i < 7; i++) {
        long n = fn_action_base64_decode(enc[i], strlen(enc[i]), out, sizeof out);
        CHECK_EQ_INT(n, (long)strlen(plain[i]));
        CHECK(n >= 0 && memcmp(out, plain[i], (size_t)n) == 0);
    }
    CHECK_EQ_INT(fn_action_base64_decode(S("Zm9v\nYmFy"), out, sizeof out), 6);   /* line breaks */
    CHECK_EQ_INT(fn_action_base64_decode(S("Zm9vYg"), out, sizeof out), 4);       /* no padding */
    CHECK_EQ_INT(fn_action_base64_decode(S("Zm9v!"), out, sizeof out), -1);
    CHECK_EQ_INT(fn_action_base64_decode(S("Zg==Zg"), out, sizeof out), -1);      /* data after '=' */
    CHECK_EQ_INT(fn_action_base64_decode(S("Z"), out, sizeof out), -1);           /* a lone sextet */
    CHECK_EQ_INT(fn_action_base64_decode(S("Zm9vYmFy"), out, 5), -1);             /* no room */
}

static void test_init(void)
{
    struct fn_action_init in;
    const char *e = NULL;
    REQUIRE(fn_action_init_parse(S("{\"value\":{\"main\":\"go\",\"code\":\"function go(){}\","
                                   "\"env\":{\"A\":\"x\",\"B\":2}}}"), &in, &e) == 0);
    CHECK(!strcmp(in.main, "go") && !strcmp(in.code, "function go(){}") && in.code_len == 15);
    CHECK(in.env && !strcmp(in.env, "{\"A\":\"x\",\"B\":\"2\"}"));   /* as process.env holds them */
    fn_action_init_free(&in);
    REQUIRE(fn_action_init_parse(S("{\"value\":{\"main\":\"main\",\"binary\":true,\"code\":\"eCgp\"}}"),
                                 &in, &e) == 0);
    CHECK(!strcmp(in.code, "x()") && !in.env);
    fn_action_init_free(&in);
    CHECK_EQ_INT(fn_action_init_parse(S("{\"value\":{\"code\":\"x\"}}"), &in, &e), 403);
    CHECK(!strcmp(e, "Missing main/no code to execute."));
    CHECK_EQ_INT(fn_action_init_parse(S("{\"value\":{\"main\":\"main\",\"code\":\"\"}}"), &in, &e), 403);
    CHECK_EQ_INT(fn_action_init_parse(S("{\"value\":{\"main\":\"main\",\"code\":3}}"), &in, &e), 403);
    CHECK_EQ_INT(fn_action_init_parse(S("[1]"), &in, &e), 400);
    CHECK(!strcmp(e, "Bad request."));
    CHECK_EQ_INT(fn_action_init_parse(S("{\"value\":{\"main\":\"a b\",\"code\":\"x\"}}"), &in, &e), 502);
    CHECK_EQ_INT(fn_action_init_parse(S("{\"value\":{\"main\":\"m\",\"code\":\"x\\u0000y\"}}"), &in, &e), 400);   /* jansson refuses NUL */
    CHECK_EQ_INT(fn_action_init_parse(S("{\"value\":{\"main\":\"m\",\"binary\":true,\"code\":\"%%\"}}"), &in, &e), 502);
    CHECK_STR_CONTAINS(e, "Initialization has failed due to: ");
}

static void test_run(void)
{
    struct fn_action_run run;
    const char *e = NULL;
    REQUIRE(fn_action_run_parse(S("{\"value\":{\"a\":[1]},\"action_name\":\"/ns/f\",\"deadline\":\"1765000000123\","
                                  "\"activation_id\":\"id\"}"), &run, &e) == 0);
    CHECK(!strcmp(run.params, "{\"a\":[1]}"));
    CHECK(!strcmp(run.env, "{\"__OW_ACTION_NAME\":\"/ns/f\",\"__OW_DEADLINE\":\"1765000000123\","
                           "\"__OW_ACTIVATION_ID\":\"id\"}"));
    CHECK(run.deadline_ms == 1765000000123LL);
    fn_action_run_free(&run);
    REQUIRE(fn_action_run_parse(S("{}"), &run, &e) == 0);   /* no value: empty params */
    CHECK(!strcmp(run.params, "{}") && run.deadline_ms == 0);
    fn_action_run_free(&run);
    CHECK_EQ_INT(fn_action_run_parse(S("{\"value\":[1]}"), &run, &e), 400);
    CHECK_EQ_INT(fn_action_run_parse(S("{\"value\":"), &run, &e), 400);
    CHECK_EQ_INT(fn_action_run_parse(S("{\"a\":1,\"a\":2}"), &run, &e), 400);   /* duplicate keys */
}

static void test_main_alias(void)
{
    char buf[128];
    CHECK(fn_action_main_alias("main", buf, sizeof buf) == 0 && buf[0] == '\0');
    CHECK(fn_action_main_alias("handler", buf, sizeof buf) == 0 && !strcmp(buf, "\nvar main = handler;\n"));
    CHECK(fn_action_main_alias("1x", buf, sizeof buf) < 0);
    CHECK(fn_action_main_alias("a;b", buf, sizeof buf) < 0);
    CHECK(fn_action_main_alias("", buf, sizeof buf) < 0);
}

int main(void)
{
    RUN(test_base64_rfc4648);
    RUN(test_init);
    RUN(test_run);
    RUN(test_main_alias);
    TEST_EXIT();
}
