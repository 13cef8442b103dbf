/* tm_spec_for_run: the spec `teemate run -- ARGS` builds from its options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container/spec_run.h"
#include "harness.h"

static char *argv_sh[] = { "sh", "-c", "echo hi", NULL };

static struct tm_run_options defaults(void)
{
    return (struct tm_run_options){ .args = argv_sh, .nargs = 3, .memory_max = -1, .pids_max = -1 };
}

static void test_host_root(void)
{
    tm_error err = { 0 };
    struct tm_container_spec spec;
    struct tm_run_options o = defaults();
    REQUIRE(tm_spec_for_run(&o, &spec, &err) == 0);
    CHECK_EQ_INT(spec.nargs, 3);
    CHECK(!strcmp(spec.args[2], "echo hi") && spec.args[3] == NULL);
    CHECK(!spec.terminal);
    CHECK(spec.root_path == NULL);
    CHECK(!spec.root_readonly);
    REQUIRE(spec.nmounts == 1);   /* the host's root: only a new /proc */
    CHECK(!strcmp(spec.mounts[0].destination, "/proc"));
    CHECK(spec.nmasked_paths > 0);
    for (int t = 0; t < TM_NS_COUNT; t++)
        CHECK_EQ_INT(spec.namespaces[t].enabled, t != TM_NS_USER);
    CHECK(!strcmp(spec.hostname, "teemate"));
    CHECK_EQ_INT(spec.resources.memory_max, -1);
    CHECK_EQ_INT(spec.resources.pids_max, -1);
    CHECK_EQ_INT(spec.resources.cpu_quota, -1);
    CHECK(spec.enclave == NULL);
    CHECK(tm_spec_annotation(&spec, TM_ANNOTATION_ENCLAVE) == NULL);
    tm_spec_free(&spec);
}

static void test_options(void)
{
    tm_error err = { 0 };
    struct tm_container_spec spec;
    struct tm_run_options o = defaults();
    o.rootfs = "/tmp/../tmp";
    o.hostname = "box";
    o.host_network = true;
    o.memory_max = 64 << 20;
    o.pids_max = 10;
    o.cpus = 0.5;
    o.enclave = "kv";
    o.enclave_memory = 16 << 20;
    REQUIRE(tm_spec_for_run(&o, &spec, &err) == 0);
    CHECK(spec.root_path && !strcmp(spec.root_path, "/tmp"));
    CHECK(spec.nmounts > 1);   /* a root of its own keeps the default mounts */
    CHECK(!spec.namespaces[TM_NS_NET].enabled);
    CHECK(spec.namespaces[TM_NS_PID].enabled);
    CHECK(!strcmp(spec.hostname, "box"));
    CHECK_EQ_INT(spec.resources.memory_max, 64 << 20);
    CHECK_EQ_INT(spec.resources.pids_max, 10);
    CHECK_EQ_INT(spec.resources.cpu_quota, 50000);
    CHECK_EQ_INT(spec.resources.cpu_period, 100000);
    CHECK(spec.enclave && !strcmp(spec.enclave, "kv"));
    CHECK_EQ_INT(spec.enclave_memory, 16 << 20);
    const char *a = tm_spec_annotation(&spec, TM_ANNOTATION_ENCLAVE);
    CHECK(a && !strcmp(a, "kv"));
    a = tm_spec_annotation(&spec, TM_ANNOTATION_ENCLAVE_MEMORY);
    CHECK(a && !strcmp(a, "16777216"));
    tm_spec_free(&spec);
}

static void test_refused(void)
{
    tm_error err = { 0 };
    struct tm_container_spec spec;
    struct tm_run_options o = defaults();
    o.nargs = 0;
    CHECK_EQ_INT(tm_spec_for_run(&o, &spec, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "no program");
    o = defaults();
    o.cpus = 0.001;
    CHECK_EQ_INT(tm_spec_for_run(&o, &spec, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "--cpus");
    o = defaults();
    o.rootfs = "/nonexistent/rootfs";
    CHECK_EQ_INT(tm_spec_for_run(&o, &spec, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/rootfs");
}

int main(void)
{
    RUN(test_host_root);
    RUN(test_options);
    RUN(test_refused);
    TEST_EXIT();
}
