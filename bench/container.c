/* Plain-container creation: teemate against runc, side by side in one run.
 *
 *   container [--runs R] [--teemate PATH] [--runc PATH] [--out DIR]
 *
 * One bundle (a busybox root filesystem from scripts/make-rootfs.sh and the
 * config.json of `teemate spec`, with process.args ["/bin/true"] and no
 * terminal) is run by both runtimes, alternating, R times each (default 20),
 * through their command lines as an engine drives them:
 *   create   `RT --root DIR create --bundle B --pid-file F ID` until it exits
 *            (namespaces, cgroup, mounts, pivot_root: the container is made);
 *   start    `RT start ID` until it exits, then the container's exit reaped
 *            (this process is a child subreaper, so init is reparented here);
 *   delete   `RT delete ID`;
 *   run      `RT run --bundle B ID`: the four in one command.
 * Medians are printed with the ratio teemate / runc (below 1: teemate is
 * faster) and written to DIR/container.json and DIR/container.md (default
 * DIR: bench/results). Needs root; runc from Debian (scripts/setup.sh). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum { RT_TEEMATE, RT_RUNC, RUNTIMES };
enum { PHASE_CREATE, PHASE_START, PHASE_DELETE, PHASE_RUN, PHASES };
static const char *const phase_names[PHASES] = { "create", "start + exit", "delete", "run (all in one)" };
static const char *const phase_keys[PHASES] = { "create_ms", "start_ms", "delete_ms", "run_ms" };

struct runtime {
    const char *name;
    const char *exe;
    char root[256];              /* its --root */
    double *ms[PHASES];          /* per run */
};

/* Run argv with stdio on /dev/null; its exit status or -1. */
static int spawn_wait(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int read_pid(const char *path)
{
    FILE *f = fopen(path, "re");
    int pid = 0;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

static int time_phase(char *const argv[], double *ms)
{
    double t0 = tm_bench_now_s();
    int rc = spawn_wait(argv);
    *ms = (tm_bench_now_s() - t0) * 1e3;
    if (rc != 0)
        fprintf(stderr, "container: %s %s exited with %d\n", argv[0], argv[3], rc);
    return rc;
}

/* One create / start / delete cycle and one `run`. */
static int one_run(struct runtime *rt, const char *bundle, const char *tmp, unsigned i)
{
    char id[64], pidfile[512];
    snprintf(id, sizeof(id), "bench-%d-%u", (int)getpid(), i);
    snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", tmp, id);
    char *exe = (char *)rt->exe, *root = rt->root;
    char *create[] = { exe, "--root", root, "create", "--bundle", (char *)bundle, "--pid-file", pidfile, id, NULL };
    char *start[] = { exe, "--root", root, "start", id, NULL };
    char *delete[] = { exe, "--root", root, "delete", id, NULL };
    char *run[] = { exe, "--root", root, "run", "--bundle", (char *)bundle, id, NULL };
    if (time_phase(create, &rt->ms[PHASE_CREATE][i]) != 0)
        return -1;
    int init = read_pid(pidfile);
    double t0 = tm_bench_now_s();
    if (spawn_wait(start) != 0 || init <= 0 || waitpid(init, NULL, 0) != init) {
        fprintf(stderr, "container: %s start %s failed\n", rt->name, id);
        return -1;
    }
    rt->ms[PHASE_START][i] = (tm_bench_now_s() - t0) * 1e3;
    if (time_phase(delete, &rt->ms[PHASE_DELETE][i]) != 0)
        return -1;
    return time_phase(run, &rt->ms[PHASE_RUN][i]) == 0 ? 0 : -1;
}

static int make_bundle(const char *teemate, const char *bundle)
{
    char cmd[3 * 4096 + 64], path[4096 + 16];
    if (snprintf(cmd, sizeof(cmd), "scripts/make-rootfs.sh '%s/rootfs' && '%s' spec --bundle '%s'", bundle,
                 teemate, bundle) >= (int)sizeof(cmd) || system(cmd) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/config.json", bundle);
    json_error_t jerr;
    json_t *cfg = json_load_file(path, 0, &jerr);
    if (!cfg)
        return -1;
    json_t *process = json_object_get(cfg, "process");
    json_object_set_new(process, "terminal", json_false());
    json_object_set_new(process, "args", json_pack("[s]", "/bin/true"));
    int r = json_dump_file(cfg, path, JSON_INDENT(2));
    json_decref(cfg);
    return r;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "runs", required_argument, NULL, 'r' }, { "teemate", required_argument, NULL, 't' },
        { "runc", required_argument, NULL, 'c' }, { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' }, { 0 },
    };
    unsigned runs = 20;
    const char *out = "bench/results";
    struct runtime rts[RUNTIMES] = { { .name = "teemate", .exe = "build/teemate" },
                                     { .name = "runc", .exe = "/usr/sbin/runc" } };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (tm_bench_parse_uint(optarg, 1, 10000, &runs) < 0)
                return fprintf(stderr, "container: --runs takes 1 to 10000\n"), 2;
            break;
        case 't': rts[RT_TEEMATE].exe = optarg; break;
        case 'c': rts[RT_RUNC].exe = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            puts("Usage: container [--runs R] [--teemate PATH] [--runc PATH] [--out DIR]");
            return 0;
        default: return 2;
        }
    }
    if (geteuid() != 0)
        return fprintf(stderr, "container: needs root (namespaces, cgroups, pivot_root)\n"), 1;
    char teemate_abs[4096];
    if (!realpath(rts[RT_TEEMATE].exe, teemate_abs) || access(rts[RT_RUNC].exe, X_OK) < 0)
        return fprintf(stderr, "container: cannot find %s or %s (scripts/setup.sh installs runc)\n",
                       rts[RT_TEEMATE].exe, rts[RT_RUNC].exe), 1;
    rts[RT_TEEMATE].exe = teemate_abs;
    char tmp[] = "/tmp/teemate-bench-container.XXXXXX";
    if (!mkdtemp(tmp))
        return perror("mkdtemp"), 1;
    char bundle[512];
    snprintf(bundle, sizeof(bundle), "%s/bundle", tmp);
    if (make_bundle(teemate_abs, bundle) < 0)
        return fprintf(stderr, "container: cannot make the bundle in %s\n", bundle), 1;
    /* The containers' inits are reparented here when create exits. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    for (int r = 0; r < RUNTIMES; r++) {
        snprintf(rts[r].root, sizeof(rts[r].root), "%s/root-%s", tmp, rts[r].name);
        for (int p = 0; p < PHASES; p++)
            rts[r].ms[p] = calloc(runs, sizeof(double));
    }
    int failed = 0;
    for (unsigned i = 0; i < runs && !failed; i++)
        for (int k = 0; k < RUNTIMES && !failed; k++)   /* alternate which goes first */
            failed = one_run(&rts[(i + k) % RUNTIMES], bundle, tmp, i) < 0;
    if (failed)
        return fprintf(stderr, "container: a run failed; bundle left in %s\n", tmp), 1;

    char md[4096];
    size_t n = (size_t)snprintf(md, sizeof(md),
                                "Plain containers, busybox `/bin/true`, median of %u runs each, "
                                "through each runtime's CLI:\n\n| phase | teemate ms | runc ms | teemate / runc |\n"
                                "|---|---:|---:|---:|\n", runs);
    json_t *j = json_pack("{s:i, s:s}", "runs", runs, "runc", rts[RT_RUNC].exe);
    printf("%-18s %12s %12s %16s\n", "phase", "teemate ms", "runc ms", "teemate / runc");
    for (int p = 0; p < PHASES; p++) {
        double t = tm_bench_median(rts[RT_TEEMATE].ms[p], runs), r = tm_bench_median(rts[RT_RUNC].ms[p], runs);
        printf("%-18s %12.2f %12.2f %15.2fx\n", phase_names[p], t, r, t / r);
        n += (size_t)snprintf(md + n, sizeof(md) - n, "| %s | %.2f | %.2f | %.2fx |\n", phase_names[p], t, r, t / r);
        json_object_set_new(j, phase_keys[p], json_pack("{s:f, s:f, s:f}", "teemate", t, "runc", r, "ratio", t / r));
    }
    tm_error err = { 0 };
    int ret = tm_bench_write_results(out, "container", md, j, &err);
    json_decref(j);
    if (ret < 0)
        return fprintf(stderr, "container: %s\n", err.msg), 1;
    printf("results: %s/container.json, %s/container.md\n", out, out);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : 1;
}
