/* The gateway's parts that need no server: OpenWhisk's entity-name rule,
 * the action -> record name mapping, the key (format, 0600, kept across
 * starts) and basic auth, the activation store (newest first, skip/limit,
 * name filter, bounded with the oldest file removed, reloaded in order). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../harness.h"
#include "gw.h"

static void test_entity_names(void)
{
    static const char *const good[] = { "a", "_", "hello", "a b", "x.y", "a@b", "a-", "a.", "a&b", "a&", "A_9 z-@.x" };
    static const char *const bad[] = { "", " a", "-a", ".a", "@a", "&a", "a ", "a/b", "a;b", "a$", "é", "a\tb" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_EQ_INT(gw_entity_name_check(good[i]), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(gw_entity_name_check(bad[i]), -EINVAL);
    char name[GW_ENTITY_NAME_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[GW_ENTITY_NAME_MAX] = '\0';
    CHECK_EQ_INT(gw_entity_name_check(name), 0);
    name[GW_ENTITY_NAME_MAX] = 'a', name[GW_ENTITY_NAME_MAX + 1] = '\0';
    CHECK_EQ_INT(gw_entity_name_check(name), -ENAMETOOLONG);
}

static void test_record_names(void)
{
    char a[FN_NAME_MAX + 1], b[FN_NAME_MAX + 1], c[FN_NAME_MAX + 1];
    tm_error err = { 0 };
    gw_action_record_name("hello world@x", a);
    gw_action_record_name("hello world@x", b);
    gw_action_record_name("hello world@y", c);
    CHECK(!strcmp(a, b));
    CHECK(strcmp(a, c));
    CHECK_EQ_INT(strlen(a), 3 + 32);
    CHECK_EQ_INT(fn_name_check(a, &err), 0);   /* any entity name gives a valid record name */
}

static void auth_header(const char *key, char *buf)
{
    strcpy(buf, "Basic ");
    EVP_EncodeBlock((unsigned char *)buf + 6, (const unsigned char *)key, (int)strlen(key));
}

static void test_key_and_auth(void)
{
    char dir[] = "/tmp/teemate-gw-test.XXXXXX", key[GW_KEY_MAX], again[GW_KEY_MAX], path[128],
         hdr[512];
    REQUIRE(mkdtemp(dir));
    tm_error err = { 0 };
    REQUIRE(gw_key_load_or_create(dir, key, sizeof key, &err) == 0);
    CHECK_EQ_INT(strlen(key), 36 + 1 + 64);
    CHECK(key[8] == '-' && key[14] == '4' && key[36] == ':');
    CHECK_EQ_INT(strspn(key + 37, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), 64);
    snprintf(path, sizeof path, "%s/auth.key", dir);
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    REQUIRE(gw_key_load_or_create(dir, again, sizeof again, &err) == 0);
    CHECK(!strcmp(key, again));
    auth_header(key, hdr);
    CHECK(gw_auth_check(key, hdr));
    hdr[strlen(hdr) - 2] ^= 1;
    CHECK(!gw_auth_check(key, hdr));
    auth_header("user:pass", hdr);
    CHECK(!gw_auth_check(key, hdr));
    CHECK(!gw_auth_check(key, NULL));
    CHECK(!gw_auth_check(key, "Bearer x"));
    CHECK(!gw_auth_check(key, "Basic "));
    unlink(path);
    rmdir(dir);
}

static json_t *activation(int i, const char *name)
{
    char id[33];
    snprintf(id, sizeof id, "%032x", i);
    return json_pack("{s:s, s:s, s:I}", "activationId", id, "name", name, "start", (json_int_t)(1000 + i));
}

static size_t count_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_store(void)
{
    char dir[] = "/tmp/teemate-gw-store.XXXXXX";
    REQUIRE(mkdtemp(dir));
    tm_error err = { 0 };
    struct gw_store *s;
    REQUIRE(gw_store_open(dir, 5, &s, &err) == 0);
    for (int i = 1; i <= 7; i++)
        CHECK_EQ_INT(gw_store_put(s, activation(i, i % 2 ? "odd" : "even")), 0);
    CHECK_EQ_INT(count_files(dir), 5);   /* 1 and 2 dropped, their files too */
    json_t *one = gw_store_get(s, "00000000000000000000000000000001");
    CHECK(one == NULL);
    json_t *l = gw_store_list(s, NULL, 0, 100);
    CHECK_EQ_INT(json_array_size(l), 5);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(l, 0), "start")), 1007);
    json_decref(l);
    l = gw_store_list(s, NULL, 1, 2);
    CHECK_EQ_INT(json_array_size(l), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(l, 0), "start")), 1006);
    json_decref(l);
    l = gw_store_list(s, "odd", 0, 100);
    CHECK_EQ_INT(json_array_size(l), 3);   /* 7, 5, 3 */
    json_decref(l);
    gw_store_close(s);
    REQUIRE(gw_store_open(dir, 5, &s, &err) == 0);   /* reloaded, oldest first */
    json_t *seven = gw_store_get(s, "00000000000000000000000000000007");
    CHECK(seven != NULL);
    json_decref(seven);
    CHECK_EQ_INT(gw_store_put(s, activation(8, "even")), 0);
    l = gw_store_list(s, NULL, 0, 100);
    CHECK_EQ_INT(json_array_size(l), 5);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(l, 4), "start")), 1004);
    json_decref(l);
    gw_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
    RUN(test_entity_names);
    RUN(test_record_names);
    RUN(test_key_and_auth);
    RUN(test_store);
    TEST_EXIT();
}
