/* The container state store (state.c, oci_json.c) and the lifecycle verbs
 * (lifecycle.c) against stand-in inits: forked children of this test. Runs
 * unprivileged in a mkdtemp state root; no cgroups are touched (the states
 * here have no cgroup path). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/container.h"
#include "container/state.h"
#include "harness.h"

static char root[64];

static void state_for(struct tm_container_state *st, const char *id, pid_t pid)
{
    memset(st, 0, sizeof(*st));
    snprintf(st->id, sizeof(st->id), "%s", id);
    st->pid = pid;
    st->pid_start = tm_proc_start_time(pid);
    snprintf(st->bundle, sizeof(st->bundle), "/b/%s", id);
    snprintf(st->rootfs, sizeof(st->rootfs), "/b/%s/rootfs", id);
    snprintf(st->created, sizeof(st->created), "2026-01-02T03:04:05.000000000Z");
}

/* Make the container's directory and state (as create would); lock dropped. */
static void make_container(const struct tm_container_state *st)
{
    tm_error err = { 0 };
    int lock = tm_state_create(root, st->id, &err);
    REQUIRE(lock >= 0);
    CHECK_EQ_INT(tm_state_save(root, st, &err), 0);
    close(lock);
}

static void make_fifo(const char *id)
{
    char path[4096];
    tm_error err;
    REQUIRE(tm_state_path(root, id, "exec.fifo", path, sizeof(path), &err) == 0);
    REQUIRE(mkfifo(path, 0600) == 0);
}

static bool exists(const char *id, const char *name)
{
    char path[4096];
    tm_error err;
    struct stat st;
    return tm_state_path(root, id, name, path, sizeof(path), &err) == 0 && lstat(path, &st) == 0;
}

/* Entries in ROOT/ID besides . and .. */
static int entries(const char *id)
{
    char path[4096];
    tm_error err;
    if (tm_state_path(root, id, NULL, path, sizeof(path), &err) < 0)
        return -1;
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return d ? n : -1;
}

static pid_t spawn_sleeper(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    REQUIRE(pid > 0);
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_id_check(void)
{
    tm_error err;
    char longest[TM_CONTAINER_ID_MAX + 2];
    memset(longest, 'a', TM_CONTAINER_ID_MAX);
    longest[TM_CONTAINER_ID_MAX] = '\0';
    CHECK_EQ_INT(tm_state_id_check("web-1", &err), 0);
    CHECK_EQ_INT(tm_state_id_check("a.b_c+D9", &err), 0);
    CHECK_EQ_INT(tm_state_id_check("...", &err), 0);
    CHECK_EQ_INT(tm_state_id_check(longest, &err), 0);
    longest[TM_CONTAINER_ID_MAX] = 'a';
    longest[TM_CONTAINER_ID_MAX + 1] = '\0';
    const char *bad[] = { "", ".", "..", "a/b", "a b", "x\n", "caf\xc3\xa9", "a:b", longest };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(tm_state_id_check(bad[i], &err), -EINVAL);
        CHECK_STR_CONTAINS(err.msg, "invalid container id");
    }
    CHECK_EQ_INT(tm_state_id_check(NULL, &err), -EINVAL);
}

static void test_root_and_paths(void)
{
    tm_error err;
    char buf[64];
    CHECK(!strcmp(tm_state_root("/x"), "/x"));
    CHECK(tm_state_root(NULL)[0] == '/');
    CHECK_EQ_INT(tm_state_path("/r", "id", "state.json", buf, sizeof(buf), &err), 0);
    CHECK(!strcmp(buf, "/r/id/state.json"));
    CHECK_EQ_INT(tm_state_path("/r", "id", NULL, buf, sizeof(buf), &err), 0);
    CHECK(!strcmp(buf, "/r/id"));
    CHECK_EQ_INT(tm_state_path("/r", "id", "state.json", buf, 10, &err), -ENAMETOOLONG);
}

static void test_round_trip(void)
{
    tm_error err = { 0 };
    struct tm_container_state st, back;
    struct tm_key_value an[2] = { { "org.teemate.enclave", "kv" }, { "a", "b \"quoted\"" } };
    state_for(&st, "trip", getpid());
    st.annotations = an;
    st.nannotations = 2;
    snprintf(st.cgroup_path, sizeof(st.cgroup_path), "/teemate/trip");
    snprintf(st.enclave, sizeof(st.enclave), "kv");
    st.owner = 1234;
    make_container(&st);
    REQUIRE(tm_state_load(root, "trip", &back, &err) == 0);
    CHECK(!strcmp(back.id, "trip"));
    CHECK_EQ_INT(back.pid, getpid());
    CHECK_EQ_INT(back.pid_start, st.pid_start);
    CHECK(!strcmp(back.bundle, st.bundle));
    CHECK(!strcmp(back.rootfs, st.rootfs));
    CHECK(!strcmp(back.cgroup_path, "/teemate/trip"));
    CHECK(!strcmp(back.created, st.created));
    CHECK(!strcmp(back.enclave, "kv"));
    CHECK_EQ_INT(back.owner, 1234);
    REQUIRE(back.nannotations == 2);
    CHECK(!strcmp(back.annotations[0].key, "org.teemate.enclave"));
    CHECK(!strcmp(back.annotations[1].value, "b \"quoted\""));
    tm_state_clear(&back);
    CHECK_EQ_INT(back.nannotations, 0);
    CHECK(!back.creating);
    CHECK_EQ_INT(entries("trip"), 2);   /* state.json and lock: no temporary file left */
    CHECK_EQ_INT(tm_state_remove(root, "trip", &err), 0);
    CHECK(!exists("trip", NULL));

    /* A creation's record: the flag and its creator round-trip too. */
    state_for(&st, "trip", 0);
    st.creating = true;
    st.creator = getpid();
    st.creator_start = tm_proc_start_time(getpid());
    make_container(&st);
    REQUIRE(tm_state_load(root, "trip", &back, &err) == 0);
    CHECK(back.creating);
    CHECK_EQ_INT(back.creator, getpid());
    CHECK_EQ_INT(back.creator_start, st.creator_start);
    tm_state_clear(&back);
    CHECK_EQ_INT(tm_state_remove(root, "trip", &err), 0);
}

static void test_create_twice_and_missing(void)
{
    tm_error err = { 0 };
    int lock = tm_state_create(root, "twice", &err);
    REQUIRE(lock >= 0);
    close(lock);
    CHECK_EQ_INT(tm_state_create(root, "twice", &err), -EEXIST);
    CHECK(!strcmp(err.msg, "container \"twice\" already exists"));
    CHECK_EQ_INT(tm_state_create(root, "a/b", &err), -EINVAL);

    struct tm_container_state st;
    CHECK_EQ_INT(tm_state_load(root, "nope", &st, &err), -ENOENT);
    CHECK(!strcmp(err.msg, "container \"nope\" does not exist"));
    CHECK_EQ_INT(tm_state_lock(root, "nope", &err), -ENOENT);
    CHECK(!strcmp(err.msg, "container \"nope\" does not exist"));
    CHECK_EQ_INT(tm_state_remove(root, "nope", &err), -ENOENT);
    /* A directory without state.json (a creation killed before its first
     * save) loads as a creating record with only its id. */
    CHECK_EQ_INT(tm_state_load(root, "twice", &st, &err), 0);
    CHECK(st.creating && !strcmp(st.id, "twice") && st.pid == 0 && !st.cgroup_path[0]);
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_STOPPED);
    tm_state_clear(&st);
    CHECK_EQ_INT(tm_state_remove(root, "twice", &err), 0);
    /* The lock of a removed container is refused too. */
    CHECK_EQ_INT(tm_state_lock(root, "twice", &err), -ENOENT);
}

/* 0 when another process took the container's lock within a second. */
static int lock_in_child(const char *id)
{
    pid_t pid = fork();
    if (pid == 0) {
        tm_error err;
        alarm(1);
        _exit(tm_state_lock(root, id, &err) >= 0 ? 0 : 1);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The lock excludes other processes, and a child forked while it was held
 * (an init, cloned and parked) does not keep it once the holder lets go. */
static void test_lock(void)
{
    tm_error err = { 0 };
    int lock = tm_state_create(root, "locked", &err);
    REQUIRE(lock >= 0);
    CHECK_EQ_INT(lock_in_child("locked"), 128 + SIGALRM);
    pid_t parked = spawn_sleeper();
    close(lock);
    CHECK_EQ_INT(lock_in_child("locked"), 0);
    reap(parked);
    CHECK_EQ_INT(tm_state_remove(root, "locked", &err), 0);
}

static void test_malformed(void)
{
    tm_error err = { 0 };
    char path[4096];
    int lock = tm_state_create(root, "bad", &err);
    REQUIRE(lock >= 0);
    close(lock);
    REQUIRE(tm_state_path(root, "bad", "state.json", path, sizeof(path), &err) == 0);
    const char *texts[] = { "{", "[]", "{\"id\":\"bad\"}", "{\"id\":\"bad\",\"pid\":\"1\"}",
                            "{\"id\":\"other\",\"pid\":1,\"pid_start\":1,\"bundle\":\"\",\"rootfs\":\"\","
                            "\"cgroup_path\":\"\",\"created\":\"\",\"enclave\":\"\",\"owner\":0}" };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        FILE *f = fopen(path, "w");
        REQUIRE(f);
        fputs(texts[i], f);
        fclose(f);
        struct tm_container_state st;
        CHECK_EQ_INT(tm_state_load(root, "bad", &st, &err), -EINVAL);
        CHECK_STR_CONTAINS(err.msg, path);
        CHECK_STR_CONTAINS(err.msg, "malformed");
    }
    CHECK_EQ_INT(tm_state_remove(root, "bad", &err), 0);
}

static void test_list_sorted(void)
{
    tm_error err = { 0 };
    char **ids;
    size_t n;
    char empty[128];
    snprintf(empty, sizeof(empty), "%s/absent", root);
    CHECK_EQ_INT(tm_state_list(empty, &ids, &n, &err), 0);
    CHECK_EQ_INT(n, 0);
    const char *names[] = { "web", "b", "a-2", "a" };
    for (size_t i = 0; i < 4; i++) {
        struct tm_container_state st;
        state_for(&st, names[i], getpid());
        make_container(&st);
    }
    /* A creation that died before its first save is listed all the same. */
    int lock = tm_state_create(root, "creating", &err);
    REQUIRE(lock >= 0);
    close(lock);
    REQUIRE(tm_state_list(root, &ids, &n, &err) == 0);
    CHECK_EQ_INT(n, 5);
    const char *want[] = { "a", "a-2", "b", "creating", "web" };
    for (size_t i = 0; i < n && i < 5; i++)
        CHECK(!strcmp(ids[i], want[i]));
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ_INT(tm_state_remove(root, names[i], &err), 0);
    CHECK_EQ_INT(tm_state_remove(root, "creating", &err), 0);
}

/* A child renames itself to a comm full of ") ": a parser that splits at the
 * first ')' would read the wrong field. */
static void test_proc_start_time(void)
{
    int go[2];
    REQUIRE(pipe(go) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        if (read(go[0], &c, 1) == 1)
            prctl(PR_SET_NAME, ") 1 2 ) 3 4 5", 0, 0, 0);
        for (;;)
            pause();
    }
    REQUIRE(pid > 0);
    uint64_t before = tm_proc_start_time(pid);
    CHECK(before != 0);
    CHECK(before >= tm_proc_start_time(getpid()));
    REQUIRE(write(go[1], "g", 1) == 1);
    char comm[64] = "", path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    for (int i = 0; i < 1000 && !strstr(comm, ") 1 2"); i++) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(comm, sizeof(comm), f))
                comm[0] = '\0';
            fclose(f);
        }
        usleep(1000);
    }
    CHECK_STR_CONTAINS(comm, ") 1 2 ) 3");
    CHECK_EQ_INT(tm_proc_start_time(pid), before);
    reap(pid);
    CHECK_EQ_INT(tm_proc_start_time(pid), 0);
    CHECK_EQ_INT(tm_proc_start_time(0), 0);
    close(go[0]);
    close(go[1]);
}

static void test_status(void)
{
    tm_error err = { 0 };
    struct tm_container_state st;
    /* Creating while its creator lives; a creation whose creator is gone has stopped. */
    state_for(&st, "creating", 0);
    st.creating = true;
    st.creator = getpid();
    st.creator_start = tm_proc_start_time(getpid());
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_CREATING);
    st.creator_start++;
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_STOPPED);
    st.creating = false;
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_STOPPED);   /* pid 0: no init */

    pid_t pid = spawn_sleeper();
    state_for(&st, "live", pid);
    make_container(&st);
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_RUNNING);
    make_fifo("live");
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_CREATED);

    /* A pid whose start time is not ours: reused, so our init is gone. */
    struct tm_container_state reused = st;
    reused.pid_start++;
    CHECK_EQ_INT(tm_state_status(root, &reused), TM_CONTAINER_STOPPED);

    /* Exited but not reaped: a zombie has stopped. */
    kill(pid, SIGKILL);
    siginfo_t si;
    REQUIRE(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_STOPPED);
    waitpid(pid, NULL, 0);
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_STOPPED);
    CHECK_EQ_INT(tm_state_remove(root, "live", &err), 0);
}

static void test_oci_json(void)
{
    struct tm_container_state st;
    struct tm_key_value an = { "k", "v" };
    state_for(&st, "json", getpid());
    st.annotations = &an;
    st.nannotations = 1;
    char *text = tm_state_oci_json(&st, TM_CONTAINER_RUNNING);
    REQUIRE(text);
    CHECK(strstr(text, "\n  \"ociVersion\": \"1.0.2\",\n") != NULL);   /* runc's indentation */
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    free(text);
    REQUIRE(j);
    CHECK(!strcmp(json_string_value(json_object_get(j, "ociVersion")), "1.0.2"));
    CHECK(!strcmp(json_string_value(json_object_get(j, "id")), "json"));
    CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "running"));
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "pid")), getpid());
    CHECK(!strcmp(json_string_value(json_object_get(j, "bundle")), "/b/json"));
    CHECK(!strcmp(json_string_value(json_object_get(j, "rootfs")), "/b/json/rootfs"));
    CHECK(!strcmp(json_string_value(json_object_get(j, "created")), st.created));
    CHECK(!strcmp(json_string_value(json_object_get(j, "owner")), ""));
    CHECK(!strcmp(json_string_value(json_object_get(json_object_get(j, "annotations"), "k")), "v"));
    json_decref(j);

    text = tm_state_oci_json(&st, TM_CONTAINER_STOPPED);
    REQUIRE(text);
    j = json_loads(text, 0, &jerr);
    free(text);
    REQUIRE(j);
    CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "stopped"));
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "pid")), 0);
    json_decref(j);
    CHECK(!strcmp(tm_container_status_name(TM_CONTAINER_CREATED), "created"));
    CHECK(!strcmp(tm_container_status_name(TM_CONTAINER_CREATING), "creating"));
}

/* ---- lifecycle against stand-in inits ---- */

/* An init parked as create leaves it: blocked opening exec.fifo for writing,
 * then one byte, then it "execs" (here: waits to be killed). */
static pid_t spawn_parked(const char *id, bool write_byte)
{
    char fifo[4096];
    tm_error err;
    REQUIRE(tm_state_path(root, id, "exec.fifo", fifo, sizeof(fifo), &err) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(fifo, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            _exit(2);
        if (!write_byte)
            _exit(3);
        if (write(fd, "0", 1) != 1)
            _exit(4);
        close(fd);
        for (;;)
            pause();
    }
    REQUIRE(pid > 0);
    return pid;
}

static void test_start(void)
{
    tm_error err = { 0 };
    struct tm_container_state st;
    CHECK_EQ_INT(tm_container_start(root, "nope", &err), -ENOENT);
    CHECK(!strcmp(err.msg, "container \"nope\" does not exist"));

    state_for(&st, "s", 0);
    make_container(&st);
    make_fifo("s");
    pid_t pid = spawn_parked("s", true);
    st.pid = pid;
    st.pid_start = tm_proc_start_time(pid);
    CHECK_EQ_INT(tm_state_save(root, &st, &err), 0);
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_CREATED);
    CHECK_EQ_INT(tm_container_start(root, "s", &err), 0);
    CHECK(!exists("s", "exec.fifo"));
    CHECK_EQ_INT(tm_state_status(root, &st), TM_CONTAINER_RUNNING);
    CHECK_EQ_INT(tm_container_start(root, "s", &err), -EINVAL);
    CHECK(!strcmp(err.msg, "cannot start an already running container"));
    reap(pid);
    CHECK_EQ_INT(tm_container_start(root, "s", &err), -EINVAL);
    CHECK(!strcmp(err.msg, "cannot start a container that has stopped"));

    /* An init that dies before its byte: start says so instead of hanging. */
    make_fifo("s");
    pid = spawn_parked("s", false);
    st.pid = pid;
    st.pid_start = tm_proc_start_time(pid);
    CHECK_EQ_INT(tm_state_save(root, &st, &err), 0);
    CHECK_EQ_INT(tm_container_start(root, "s", &err), -EINVAL);
    CHECK(!strcmp(err.msg, "cannot start a container that has stopped"));
    waitpid(pid, NULL, 0);

    /* One that dies without ever opening the fifo: no hang either. */
    pid = fork();
    if (pid == 0) {
        usleep(200 * 1000);
        _exit(0);
    }
    REQUIRE(pid > 0);
    st.pid = pid;
    st.pid_start = tm_proc_start_time(pid);
    CHECK_EQ_INT(tm_state_save(root, &st, &err), 0);
    CHECK_EQ_INT(tm_container_start(root, "s", &err), -EINVAL);
    waitpid(pid, NULL, 0);

    /* One that goes on past its byte and then fails (an exec that failed):
     * start waits for the fifo's end, not just the byte, and reports what
     * init left in init.error; so does a later start. */
    make_fifo("s");
    char fifo[4096], error[4096];
    static const char msg[] = "container init: exec /x: Exec format error";
    REQUIRE(tm_state_path(root, "s", "exec.fifo", fifo, sizeof(fifo), &err) == 0);
    REQUIRE(tm_state_path(root, "s", "init.error", error, sizeof(error), &err) == 0);
    pid = fork();
    if (pid == 0) {
        int fd = open(fifo, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1)
            _exit(2);
        usleep(100 * 1000);   /* a start that returned at the byte has returned by now */
        int e = open(error, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        _exit(e >= 0 && write(e, msg, sizeof(msg) - 1) == (ssize_t)sizeof(msg) - 1 ? 127 : 3);
    }
    REQUIRE(pid > 0);
    st.pid = pid;
    st.pid_start = tm_proc_start_time(pid);
    CHECK_EQ_INT(tm_state_save(root, &st, &err), 0);
    CHECK_EQ_INT(tm_container_start(root, "s", &err), -EIO);
    CHECK(!strcmp(err.msg, msg));
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127);
    CHECK_EQ_INT(tm_container_start(root, "s", &err), -EIO);
    CHECK(!strcmp(err.msg, msg));
    CHECK_EQ_INT(tm_state_remove(root, "s", &err), 0);
}

static void test_kill(void)
{
    tm_error err = { 0 };
    struct tm_container_state st;
    CHECK_EQ_INT(tm_container_kill(root, "nope", SIGTERM, false, &err), -ENOENT);
    CHECK(!strcmp(err.msg, "container \"nope\" does not exist"));
    pid_t pid = spawn_sleeper();
    state_for(&st, "k", pid);
    make_container(&st);
    CHECK_EQ_INT(tm_container_kill(root, "k", 0, false, &err), 0);
    CHECK_EQ_INT(tm_container_kill(root, "k", 999, false, &err), -EINVAL);
    CHECK_EQ_INT(tm_container_kill(root, "k", SIGTERM, false, &err), 0);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    CHECK_EQ_INT(tm_container_kill(root, "k", SIGTERM, false, &err), -EINVAL);
    CHECK(!strcmp(err.msg, "container not running"));
    CHECK_EQ_INT(tm_container_delete(root, "k", false, &err), 0);
}

static void test_delete(void)
{
    tm_error err = { 0 };
    struct tm_container_state st;
    CHECK_EQ_INT(tm_container_delete(root, "nope", true, &err), -ENOENT);
    CHECK(!strcmp(err.msg, "container \"nope\" does not exist"));

    pid_t pid = spawn_sleeper();
    state_for(&st, "d", pid);
    make_container(&st);
    CHECK_EQ_INT(tm_container_delete(root, "d", false, &err), -EBUSY);
    CHECK(!strcmp(err.msg, "cannot delete container d that is not stopped: running"));
    CHECK(exists("d", "state.json"));
    CHECK_EQ_INT(tm_container_delete(root, "d", true, &err), 0);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(!exists("d", NULL));

    /* Created (parked before exec): deleted without --force, as runc does. */
    pid = spawn_sleeper();
    state_for(&st, "d", pid);
    make_container(&st);
    make_fifo("d");
    CHECK_EQ_INT(tm_container_delete(root, "d", false, &err), 0);
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(!exists("d", NULL));

    /* A creation that died with its init parked: stopped, so delete (no
     * --force needed) kills the init it recorded. */
    pid = spawn_sleeper();
    state_for(&st, "d", pid);
    st.creating = true;
    st.creator = pid;
    st.creator_start = st.pid_start + 1;   /* not a live process's */
    make_container(&st);
    CHECK_EQ_INT(tm_container_delete(root, "d", false, &err), 0);
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(!exists("d", NULL));

    /* Killed before its first save (a lock, no state.json), or between the
     * mkdir and the lock (an empty directory): delete removes both. */
    int lock = tm_state_create(root, "d", &err);
    REQUIRE(lock >= 0);
    close(lock);
    CHECK_EQ_INT(tm_container_delete(root, "d", false, &err), 0);
    CHECK(!exists("d", NULL));
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/d", root);
    REQUIRE(mkdir(dir, 0711) == 0);
    CHECK_EQ_INT(tm_container_delete(root, "d", false, &err), 0);
    CHECK(!exists("d", NULL));
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/teemate-state-test.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_id_check);
    RUN(test_root_and_paths);
    RUN(test_round_trip);
    RUN(test_create_twice_and_missing);
    RUN(test_lock);
    RUN(test_malformed);
    RUN(test_list_sorted);
    RUN(test_proc_start_time);
    RUN(test_status);
    RUN(test_oci_json);
    RUN(test_start);
    RUN(test_kill);
    RUN(test_delete);
    rmdir(root);
    TEST_EXIT();
}
