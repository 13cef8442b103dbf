/* kvh_conf: redis.conf as Redis reads it for the options the store has:
 * defaults, units, quoting, overrides, and each bad line's error naming the
 * file and line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness.h"
#include "kvh.h"

static int parse(struct kvh_settings *s, const char *text, tm_error *err)
{
    kvh_settings_default(s);
    return kvh_conf_parse(s, text, strlen(text), "t.conf", err);
}

static void test_defaults(void)
{
    struct kvh_settings s;
    kvh_settings_default(&s);
    CHECK_EQ_INT(s.port, 6379);
    CHECK_EQ_INT(s.nbind, 1);
    CHECK(!strcmp(s.bind[0], "127.0.0.1"));
    CHECK_EQ_INT(s.databases, 16);
    CHECK_EQ_INT(s.hz, 10);
    CHECK_EQ_INT(s.maxmemory, 0);
    CHECK(!s.has_pass);
    CHECK_EQ_INT(s.loglevel, KVH_LOG_NOTICE);
    CHECK_EQ_INT(s.maxclients, 10000);
}

static void test_memory_units(void)
{
    static const struct { const char *text; uint64_t v; } good[] = {
        { "0", 0 }, { "100", 100 }, { "100b", 100 }, { "1k", 1000 }, { "1kb", 1024 },
        { "1K", 1000 }, { "1KB", 1024 }, { "100mb", 100ULL << 20 }, { "100m", 100000000 },
        { "1gb", 1ULL << 30 }, { "2G", 2000000000 }, { "1Gb", 1ULL << 30 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v = 7;
        CHECK(kvh_parse_memory(good[i].text, &v));
        CHECK_EQ_INT(v, good[i].v);
    }
    static const char *bad[] = { "", "-1", "1x", "1 gb", "gb", "1tb", "1.5gb", " 1", "99999999999999999999",
                                 "99999999999gb" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        if (kvh_parse_memory(bad[i], &v))
            fprintf(stderr, "  accepted '%s'\n", bad[i]), tm_test_current_failed = 1;
    }
}

static void test_good_file(void)
{
    char dir[] = "/tmp/kvh-conf-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char text[1024];
    snprintf(text, sizeof text,
             "# a comment\n"
             "\n"
             "   port 7000   \n"
             "bind 127.0.0.1 ::1\r\n"
             "DIR %s\n"
             "requirepass \"p@ss word\\x41\\n\"\n"
             "maxmemory 100mb\n"
             "maxmemory-policy noeviction\n"
             "databases 4\n"
             "hz 1000\n"
             "timeout 30\n"
             "loglevel warning\n"
             "logfile \"\"\n"
             "daemonize no\n"
             "save 900 1\n"
             "save \"\"\n"
             "save 3600 1 300 100\n"
             "save 60 10000\n"
             "dbfilename snap.rdb\n"
             "stop-writes-on-bgsave-error no\n"
             "appendonly no\n"
             "protected-mode yes\n"
             "maxclients 100\n"
             "unixsocket '/tmp/it''s'\n",
             dir);
    /* that last line is unbalanced in Redis: a closing quote must end the word */
    struct kvh_settings s;
    tm_error err = { 0 };
    CHECK(parse(&s, text, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "t.conf:24:");
    CHECK_STR_CONTAINS(err.msg, "Unbalanced quotes");
    char *last = strstr(text, "unixsocket");
    snprintf(last, 64, "unixsocket '/tmp/it\\'s'\n");
    memset(&err, 0, sizeof err);
    REQUIRE(parse(&s, text, &err) == 0);
    CHECK_EQ_INT(s.port, 7000);
    CHECK_EQ_INT(s.nbind, 2);
    CHECK(!strcmp(s.bind[0], "127.0.0.1") && !strcmp(s.bind[1], "::1"));
    CHECK(!strcmp(s.dir, dir));
    CHECK(s.has_pass);
    CHECK_EQ_INT(s.pass_len, 11);
    CHECK(!memcmp(s.pass, "p@ss wordA\n", 11));
    CHECK_EQ_INT(s.maxmemory, 100ULL << 20);
    CHECK_EQ_INT(s.databases, 4);
    CHECK_EQ_INT(s.hz, 500);   /* clamped as Redis does */
    CHECK_EQ_INT(s.timeout, 30);
    CHECK_EQ_INT(s.loglevel, KVH_LOG_WARNING);
    CHECK(!strcmp(s.logfile, ""));
    CHECK_EQ_INT(s.maxclients, 100);
    CHECK(!strcmp(s.unixsocket, "/tmp/it's"));
    CHECK(!strcmp(s.save, "3600 1 300 100 60 10000"));   /* "" reset, then points added */
    CHECK(!strcmp(s.dbfilename, "snap.rdb"));
    CHECK(!s.stop_writes_on_bgsave_error);
    struct kv_config c;
    kvh_settings_to_config(&s, &c);
    CHECK_EQ_INT(c.port, 7000);
    CHECK_EQ_INT(c.databases, 4);
    CHECK_EQ_INT(c.pass_len, 11);
    CHECK(!strcmp(c.bind, "127.0.0.1 ::1"));
    CHECK_EQ_INT(c.proto_max_bulk_len, 512ULL << 20);
    rmdir(dir);
}

/* Flags go through kvh_conf_set after the file: they win; the first --bind
 * replaces the file's list, later ones add. */
static void test_overrides(void)
{
    struct kvh_settings s;
    tm_error err = { 0 };
    REQUIRE(parse(&s, "port 7000\nbind 10.0.0.1\nrequirepass x\n", &err) == 0);
    bool bind_seen = false;
    char *a1[] = { "port", "7001" }, *a2[] = { "bind", "127.0.0.1" }, *a3[] = { "bind", "::1" },
         *a4[] = { "requirepass", "" };
    CHECK(kvh_conf_set(&s, 2, a1, &bind_seen, &err) == 0);
    CHECK(kvh_conf_set(&s, 2, a2, &bind_seen, &err) == 0);
    CHECK(kvh_conf_set(&s, 2, a3, &bind_seen, &err) == 0);
    CHECK(kvh_conf_set(&s, 2, a4, &bind_seen, &err) == 0);
    CHECK_EQ_INT(s.port, 7001);
    CHECK_EQ_INT(s.nbind, 2);
    CHECK(!strcmp(s.bind[0], "127.0.0.1") && !strcmp(s.bind[1], "::1"));
    CHECK(!s.has_pass);
}

static void test_bad_lines(void)
{
    static const struct { const char *line; const char *reason; } bad[] = {
        { "foo bar", "Bad directive or wrong number of arguments" },
        { "port", "Bad directive or wrong number of arguments" },
        { "port 1 2", "Bad directive or wrong number of arguments" },
        { "port abc", "argument couldn't be parsed into an integer" },
        { "port 70000", "argument must be between 0 and 65535 inclusive" },
        { "port -1", "argument must be between 0 and 65535 inclusive" },
        { "maxmemory 1tb", "argument must be a memory value" },
        { "maxmemory -5", "argument must be a memory value" },
        { "maxmemory-policy allkeys-lru", "only noeviction is supported" },
        { "databases 0", "argument must be between 1 and 1024 inclusive" },
        { "loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning" },
        { "daemonize yes", "daemonize yes is not supported" },
        { "daemonize maybe", "argument must be 'yes' or 'no'" },
        { "appendonly 1", "argument must be 'yes' or 'no'" },
        { "dir /nonexistent/kvh", "can't chdir to '/nonexistent/kvh': No such file or directory" },
        { "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified." },
        { "requirepass \"open", "Unbalanced quotes in configuration line" },
        { "timeout x", "argument couldn't be parsed into an integer" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], where[300];
        snprintf(text, sizeof text, "# ok\nport 6380\n%s\n", bad[i].line);
        snprintf(where, sizeof where, "t.conf:3: '%s': %s", bad[i].line, bad[i].reason);
        struct kvh_settings s;
        tm_error err = { 0 };
        CHECK(parse(&s, text, &err) < 0);
        CHECK_STR_CONTAINS(err.msg, where);
        CHECK(!strchr(err.msg, '\n'));   /* one line */
    }
}

static void test_load_file(void)
{
    char path[] = "/tmp/kvh-conf-file-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const char text[] = "port 6390\nmaxmemory 1gb\nbogus 1\n";
    REQUIRE(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    struct kvh_settings s;
    kvh_settings_default(&s);
    tm_error err = { 0 };
    CHECK(kvh_conf_load(&s, path, &err) < 0);
    char where[128];
    snprintf(where, sizeof where, "%s:3: 'bogus 1': Bad directive", path);
    CHECK_STR_CONTAINS(err.msg, where);
    CHECK_EQ_INT(s.port, 6390);
    unlink(path);
    memset(&err, 0, sizeof err);
    CHECK(kvh_conf_load(&s, "/nonexistent/redis.conf", &err) == -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/redis.conf");
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_memory_units);
    RUN(test_good_file);
    RUN(test_overrides);
    RUN(test_bad_lines);
    RUN(test_load_file);
    TEST_EXIT();
}
