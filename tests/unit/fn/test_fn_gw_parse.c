/* The gateway's own parsing (gw_parse.c): the /api/v1/namespaces/... path,
 * boolean query flags and list ranges with OpenWhisk's 400 texts, and an
 * action's PUT body (exec, limits, key/value lists, the mode annotation,
 * the version bump over the old entity). */
#include <errno.h>
#include <string.h>

#include "../harness.h"
#include "gw_parse.h"

static int split(const char *url, struct gw_path *p, char *buf)
{
    strcpy(buf, url);
    return gw_path_split(buf, p);
}

static void test_paths(void)
{
    char b[256];
    struct gw_path p;
    REQUIRE(split("/api/v1/namespaces/_/actions", &p, b) == 0);
    CHECK(!strcmp(p.ns, "_") && !strcmp(p.collection, "actions") && !p.entity && !p.sub);
    REQUIRE(split("/api/v1/namespaces/guest/actions/hello", &p, b) == 0);
    CHECK(!strcmp(p.ns, "guest") && !strcmp(p.entity, "hello") && !p.sub);
    REQUIRE(split("/api/v1/namespaces/_/actions/", &p, b) == 0);
    CHECK(p.entity == NULL);   /* an empty entity: the collection */
    REQUIRE(split("/api/v1/namespaces/_/activations/abc/result", &p, b) == 0);
    CHECK(!strcmp(p.entity, "abc") && !strcmp(p.sub, "result"));
    static const char *const bad[] = {
        "/", "/api/v1/namespaces/", "/api/v1/namespaces/_", "/api/v1/namespaces//actions",
        "/api/v1/namespaces/_/a/b/c/d", "/api/v2/namespaces/_/actions", "/api/v1/namespaces/_/actions//x",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(split(bad[i], &p, b), -ENOENT);
}

static void test_flags(void)
{
    char msg[256];
    bool v = false;
    CHECK(gw_flag_parse("blocking", NULL, true, &v, msg, sizeof msg) == 0 && v);
    CHECK(gw_flag_parse("blocking", "true", false, &v, msg, sizeof msg) == 0 && v);
    CHECK(gw_flag_parse("blocking", "FALSE", true, &v, msg, sizeof msg) == 0 && !v);
    CHECK(gw_flag_parse("blocking", "yes", false, &v, msg, sizeof msg) == 0 && v);
    CHECK_EQ_INT(gw_flag_parse("blocking", "maybe", false, &v, msg, sizeof msg), -EINVAL);
    CHECK(!strcmp(msg, "The query parameter 'blocking' was malformed:\n'maybe' is not a valid Boolean value"));
    CHECK_EQ_INT(gw_flag_parse("result", "", false, &v, msg, sizeof msg), -EINVAL);
}

static void test_content_types(void)
{
    CHECK(gw_content_type_json("application/json"));
    CHECK(gw_content_type_json("Application/JSON; charset=utf-8"));
    CHECK(gw_content_type_json(" application/json ;x=y"));
    CHECK(!gw_content_type_json(NULL));
    CHECK(!gw_content_type_json("text/plain"));
    CHECK(!gw_content_type_json("application/jsonx"));
    CHECK(!gw_content_type_json("application/x-www-form-urlencoded"));
}

static void test_unescape(void)
{
    static const struct { const char *in, *out; } v[] = {
        { "a%20b", "a b" }, { "%41%62", "Ab" }, { "a%00b", "a%00b" }, { "%", "%" }, { "%4", "%4" },
        { "%zz", "%zz" }, { "100%", "100%" }, { "%2F", "/" }, { "%C3%A9", "\xc3\xa9" }, { "+", "+" },
    };
    char b[64];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        strcpy(b, v[i].in);
        CHECK_EQ_INT(gw_unescape(b), strlen(v[i].out));
        CHECK(!strcmp(b, v[i].out));
    }
}

static void test_ranges(void)
{
    char msg[256];
    size_t l, s;
    CHECK(gw_range_parse(NULL, NULL, "actions", &l, &s, msg, sizeof msg) == 0 && l == 30 && s == 0);
    CHECK(gw_range_parse("0", "5", "actions", &l, &s, msg, sizeof msg) == 0 && l == 200 && s == 5);
    CHECK_EQ_INT(gw_range_parse("201", NULL, "activations", &l, &s, msg, sizeof msg), -EINVAL);
    CHECK(!strcmp(msg, "The value '201' is not in the range of 0 to 200 for activations."));
    CHECK_EQ_INT(gw_range_parse("1x", NULL, "actions", &l, &s, msg, sizeof msg), -EINVAL);
    CHECK(!strcmp(msg, "The value '1x' is not an integer for actions."));
    CHECK_EQ_INT(gw_range_parse(NULL, "-1", "actions", &l, &s, msg, sizeof msg), -EINVAL);
    CHECK(!strcmp(msg, "The value '-1' is not greater than or equal to 0 for actions."));
    CHECK_EQ_INT(gw_range_parse("99999999999999999999", NULL, "actions", &l, &s, msg, sizeof msg), -EINVAL);
}

static json_t *parse(const char *body, json_t *old, enum fn_mode *mode, char *msg)
{
    json_t *b = json_loads(body, JSON_ALLOW_NUL, NULL);
    REQUIRE(b != NULL);
    json_t *a = gw_action_parse("act", b, old, 1234, mode, msg, 256);
    json_decref(b);
    return a;
}

static void test_actions(void)
{
    char msg[256];
    enum fn_mode mode;
    json_t *a = parse("{\"exec\":{\"kind\":\"nodejs:default\",\"code\":\"function main(){}\"},"
                      "\"annotations\":[{\"key\":\"teemate-mode\",\"value\":\"native\"}],"
                      "\"limits\":{\"timeout\":5000}}", NULL, &mode, msg);
    REQUIRE(a != NULL);
    CHECK_EQ_INT(mode, FN_MODE_NATIVE);
    CHECK(!strcmp(json_string_value(json_object_get(a, "version")), "0.0.1"));
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(a, "limits"), "timeout")), 5000);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(a, "limits"), "memory")), 256);
    CHECK_EQ_INT(json_integer_value(json_object_get(a, "updated")), 1234);
    /* an update keeps what the body leaves out, bumps the version */
    json_t *b = parse("{\"limits\":{\"memory\":128}}", a, &mode, msg);
    REQUIRE(b != NULL);
    CHECK(!strcmp(json_string_value(json_object_get(b, "version")), "0.0.2"));
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(b, "limits"), "timeout")), 5000);
    CHECK_EQ_INT(mode, FN_MODE_NATIVE);
    json_decref(b);
    json_decref(a);
    static const struct { const char *body, *msg; } bad[] = {
        { "[]", "The request content was malformed:\nexpected an object" },
        { "{}", "The request content was malformed:\nexec must be an object with kind and code" },
        { "{\"exec\":{\"kind\":\"python:3\",\"code\":\"x\"}}", "kind 'python:3' is not supported" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\",\"binary\":true}}", "only plain code" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\",\"main\":\"other\"}}", "only plain code" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"a\\u0000b\"}}", "NUL character" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"limits\":{\"timeout\":99}}", "Timeout must be" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"limits\":{\"timeout\":\"1\"}}", "Timeout must be" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"limits\":{\"memory\":1024}}", "Memory 1024 MB is outside" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"parameters\":{}}", "arrays of {key, value}" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"annotations\":[{\"key\":1,\"value\":2}]}", "arrays of {key, value}" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"annotations\":[{\"key\":\"teemate-mode\",\"value\":\"sgx\"}]}", "annotation teemate-mode 'sgx'" },
        { "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"x\"},\"annotations\":[{\"key\":\"teemate-mode\",\"value\":7}]}", "(not a string)" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        a = parse(bad[i].body, NULL, &mode, msg);
        CHECK(a == NULL);
        json_decref(a);
        CHECK_STR_CONTAINS(msg, bad[i].msg);
    }
}

int main(void)
{
    RUN(test_paths);
    RUN(test_flags);
    RUN(test_content_types);
    RUN(test_unescape);
    RUN(test_ranges);
    RUN(test_actions);
    TEST_EXIT();
}
