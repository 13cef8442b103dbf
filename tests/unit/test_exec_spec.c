/* exec's process (exec_process.c): config.json's process with the command
 * line's changes as runc makes them, a --process document in its place
 * (keeping the container's capabilities and rlimits when it names none), and
 * runc's errors for bad input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container/exec.h"
#include "harness.h"
#include "util/cleanup.h"

static char dir[] = "/tmp/teemate-test-exec.XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

#define CAP_KILL_BIT (UINT64_C(1) << 5)
#define CAP_SYS_ADMIN_BIT (UINT64_C(1) << 21)

static const char config[] =
    "{\"process\": {\"args\": [\"hello\", \"--state\"], \"env\": [\"PATH=/bin\"], \"cwd\": \"/\","
    " \"user\": {\"uid\": 0, \"gid\": 0}, \"noNewPrivileges\": false,"
    " \"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"],"
    " \"permitted\": [\"CAP_KILL\"], \"inheritable\": [\"CAP_SYS_ADMIN\"]},"
    " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]},"
    " \"root\": {\"path\": \"rootfs\"}}";

static void test_options(void)
{
    char *args[] = { "sh", "-c", "id" }, *env[] = { "A=1" }, *caps[] = { "CAP_SYS_ADMIN", "CAP_BOGUS" };
    gid_t gids[] = { 5, 6 };
    struct tm_exec_options o = { .args = args, .nargs = 3, .env = env, .nenv = 1, .cwd = "/tmp",
                                 .user = "1000:1001", .additional_gids = gids, .nadditional_gids = 2,
                                 .caps = caps, .ncaps = 2, .tty = true, .no_new_privs = true };
    struct tm_container_spec s;
    _cleanup_free_ char *entry = NULL;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_exec_spec(dir, &o, &s, &entry, &err), 0);
    CHECK(entry && !strcmp(entry, "hello"));
    CHECK(s.nargs == 3 && !strcmp(s.args[0], "sh") && !s.args[3]);
    CHECK(s.nenv == 2 && !strcmp(s.env[0], "PATH=/bin") && !strcmp(s.env[1], "A=1") && !s.env[2]);
    CHECK(!strcmp(s.cwd, "/tmp") && s.uid == 1000 && s.gid == 1001);
    CHECK(s.nadditional_gids == 2 && s.additional_gids[1] == 6);
    /* added to bounding, effective, permitted; ambient only as it is inheritable; the unknown one ignored */
    CHECK(s.cap_bounding == (CAP_KILL_BIT | CAP_SYS_ADMIN_BIT) && s.cap_effective == s.cap_bounding &&
          s.cap_permitted == s.cap_bounding && s.cap_ambient == CAP_SYS_ADMIN_BIT);
    CHECK(s.terminal && s.no_new_privileges && s.nrlimits == 1);
    tm_spec_free(&s);
}

static void test_process_file(void)
{
    write_file("p.json", "{\"args\": [\"ls\"], \"cwd\": \"/x\", \"terminal\": true, \"user\": {\"uid\": 7, \"gid\": 8}}");
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/p.json", dir);
    struct tm_exec_options o = { .process_file = path };
    struct tm_container_spec s;
    _cleanup_free_ char *entry = NULL;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_exec_spec(dir, &o, &s, &entry, &err), 0);
    CHECK(s.nargs == 1 && !strcmp(s.args[0], "ls") && s.nenv == 0 && !strcmp(s.cwd, "/x"));
    CHECK(s.terminal && s.uid == 7 && s.gid == 8);
    /* no capabilities or rlimits in the document: the container's */
    CHECK(s.cap_effective == CAP_KILL_BIT && s.nrlimits == 1);
    tm_spec_free(&s);

    write_file("bad.json", "{\"args\": [");
    snprintf(path, sizeof path, "%s/bad.json", dir);
    free(TM_STEAL(entry));
    CHECK(tm_exec_spec(dir, &o, &s, &entry, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "bad.json: not JSON");
    tm_spec_free(&s);
}

static void test_errors(void)
{
    static const struct {
        struct tm_exec_options o;
        const char *msg;
    } cases[] = {
        { { .nargs = 0 }, "process args cannot be empty" },
        { { .user = "1000:x" }, "parsing x as int for gid failed" },
        { { .user = "-1" }, "parsing -1 as int for uid failed" },
        { { .cwd = "tmp" }, "Cwd must be an absolute path" },
        { { .apparmor = "p" }, "no AppArmor support" },
        { { .process_label = "l" }, "selinux is disabled or not supported" },
    };
    char *args[] = { "true" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tm_exec_options o = cases[i].o;
        if (i > 0) {
            o.args = args;
            o.nargs = 1;
        }
        struct tm_container_spec s;
        _cleanup_free_ char *entry = NULL;
        tm_error err = { 0 };
        CHECK(tm_exec_spec(dir, &o, &s, &entry, &err) < 0);
        CHECK_STR_CONTAINS(err.msg, cases[i].msg);
        tm_spec_free(&s);
    }
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    write_file("config.json", config);
    RUN(test_options);
    RUN(test_process_file);
    RUN(test_errors);
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    TEST_EXIT();
}
