/* The set/zset command script runner of tests/cli/test_kv_sets_vs_redis.sh:
 *   test_kv_zset_replay --native SCRIPT    replies of the store in this process
 *   test_kv_zset_replay --tcp PORT SCRIPT  replies of a server (redis-server)
 * each reply printed canonically (kv_replay.h) after "> the command line".
 * Without arguments it tests its own parsing and printing, and runs a short
 * script through the native store. */
#include "../harness.h"
#include "kv_replay.h"

static int replay(FILE *script, bool native, int port)
{
    struct rp_native n;
    struct rp_tcp t;
    if (native ? rp_native_start(&n) < 0 : rp_tcp_connect(&t, port) < 0) {
        fprintf(stderr, "cannot reach the store\n");
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, script) > 0) {
        lineno++;
        struct rp_cmd c;
        const char *err;
        if (!rp_cmd_parse(line, &c, &err)) {
            if (err) {
                fprintf(stderr, "script line %d: %s\n", lineno, err);
                rc = 2;
                break;
            }
            continue;
        }
        struct rp_buf req = { 0 }, out = { 0 };
        rp_cmd_resp(&c, &req);
        struct rp_reply *r = native ? rp_native_call(&n, req.p, req.len)
                                    : rp_tcp_call(&t, req.p, req.len);
        printf("> %s", line[strlen(line) - 1] == '\n' ? line : strcat(line, "\n"));
        if (r) {
            rp_reply_print(r, &out, 0, c.mode);
            fwrite(out.p, 1, out.len, stdout);
        } else {
            printf("(no reply)\n");
            rc = 1;
        }
        rp_reply_free(r);
        free(req.p);
        free(out.p);
        rp_cmd_free(&c);
        if (!r)
            break;
    }
    free(line);
    if (native)
        rp_native_stop(&n);
    else {
        close(t.fd);
        free(t.pending.p);
    }
    fflush(stdout);
    return rc;
}

static char *printed(const char *resp, enum rp_mode mode)
{
    struct rp_reply *r;
    struct rp_buf b = { 0 };
    if (rp_reply_parse(resp, strlen(resp), &r) != (long)strlen(resp))
        return strdup("(unparsed)");
    rp_reply_print(r, &b, 0, mode);
    rp_reply_free(r);
    return b.p;
}

static void test_script_line_parsing(void)
{
    struct rp_cmd c;
    const char *err;
    REQUIRE(rp_cmd_parse("!sort SADD s a\\sb \\x00\\xff \"\"\n", &c, &err));
    CHECK_EQ_INT(c.mode, RP_SORT);
    CHECK_EQ_INT(c.argc, 5);
    CHECK(c.argv[2].len == 3 && !memcmp(c.argv[2].p, "a b", 3));
    CHECK(c.argv[3].len == 2 && !memcmp(c.argv[3].p, "\0\xff", 2));
    CHECK_EQ_INT(c.argv[4].len, 0);
    rp_cmd_free(&c);
    CHECK(!rp_cmd_parse("# comment\n", &c, &err) && !err);
    CHECK(!rp_cmd_parse("GET \\q\n", &c, &err) && err);
}

static void test_reply_printing(void)
{
    char *s = printed("*3\r\n$1\r\nb\r\n$-1\r\n:3\r\n", RP_SORT);
    CHECK(!strcmp(s, "*3\n  $-1\n  $b\n  :3\n"));
    free(s);
    s = printed("*4\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n", RP_PAIRS);
    CHECK(!strcmp(s, "*4\n  $a\n  $2\n  $z\n  $1\n"));
    free(s);
    s = printed("$2\r\n\x01\\\r\n", RP_EXACT);
    CHECK(!strcmp(s, "$\\x01\\x5c\n"));
    free(s);
    s = printed("*2\r\n$1\r\nb\r\n$1\r\na\r\n", RP_LEN);
    CHECK(!strcmp(s, "*2 (elements not compared)\n"));
    free(s);
    struct rp_reply *r;
    CHECK_EQ_INT(rp_reply_parse("*2\r\n$1\r\na\r\n", 11, &r), 0);
}

static void test_native_store_answers(void)
{
    struct rp_native n;
    REQUIRE(rp_native_start(&n) == 0);
    static const char req[] = "*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n1.5\r\n$1\r\na\r\n"
                              "*3\r\n$6\r\nZSCORE\r\n$1\r\nz\r\n$1\r\na\r\n";
    struct rp_reply *r = rp_native_call(&n, req, sizeof(req) - 1);
    REQUIRE(r);
    CHECK(r->type == ':' && !strcmp(r->str, "1"));
    rp_reply_free(r);
    r = rp_native_call(&n, "", 0);
    REQUIRE(r);
    CHECK(r->type == '$' && !strcmp(r->str, "1.5"));
    rp_reply_free(r);
    rp_native_stop(&n);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--native")) {
        FILE *f = fopen(argv[2], "r");
        return f ? replay(f, true, 0) : 2;
    }
    if (argc == 4 && !strcmp(argv[1], "--tcp")) {
        FILE *f = fopen(argv[3], "r");
        return f ? replay(f, false, atoi(argv[2])) : 2;
    }
    RUN(test_script_line_parsing);
    RUN(test_reply_printing);
    RUN(test_native_store_answers);
    TEST_EXIT();
}
