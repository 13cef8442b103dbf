/* The cgroup layer. Without root, against fake trees: mount tables of hybrid,
 * pure v2 and pure v1 hosts, every limit in the right file with the right
 * text, refusals that leave nothing behind, stats parsed. As root, on this
 * host: processes placed, a memory limit that OOM-kills, a pids limit that
 * refuses forks, and a teardown that leaves no process or directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/cgroup.h"
#include "harness.h"

#define MiB (1024 * 1024)
#define ALL_BITS (TM_CGROUP_MEMORY | TM_CGROUP_PIDS | TM_CGROUP_CPU | TM_CGROUP_CPUACCT)

/* ---- what a test holds, released after it even when a REQUIRE jumps out ---- */

static char tmp[64];                 /* the fake tree */
static char bpf_dir[512];             /* test_host_bpf_devices' v2 cgroup */
static struct tm_cgroup *live_cg[4];
static bool live_real[4];             /* destroy before freeing */
static pid_t live_pid[4];

static void keep_cg(struct tm_cgroup *cg, bool real)
{
    for (size_t i = 0; i < 4; i++)
        if (!live_cg[i]) {
            live_cg[i] = cg;
            live_real[i] = real;
            return;
        }
    abort();
}

static void keep_pid(pid_t pid)
{
    for (size_t i = 0; i < 4; i++)
        if (!live_pid[i]) {
            live_pid[i] = pid;
            return;
        }
    abort();
}

/* The test reaped pid itself. */
static void forget_pid(pid_t pid)
{
    for (size_t i = 0; i < 4; i++)
        if (live_pid[i] == pid)
            live_pid[i] = 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Orphaned grandchildren come to us (we are a subreaper): reap them. */
static void reap_orphans(void)
{
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(-1, NULL, WNOHANG);
        if (r < 0)
            return;
        if (r == 0)
            nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    }
}

static void cleanup_after_test(void)
{
    tm_error err;
    for (size_t i = 0; i < 4; i++) {
        if (live_cg[i] && live_real[i] && tm_cgroup_destroy(live_cg[i], &err) < 0)
            fprintf(stderr, "  cleanup: %s\n", err.msg);
        tm_cgroup_free(live_cg[i]);
        live_cg[i] = NULL;
    }
    for (size_t i = 0; i < 4; i++) {
        if (live_pid[i] > 0) {
            kill(live_pid[i], SIGKILL);
            waitpid(live_pid[i], NULL, 0);
        }
        live_pid[i] = 0;
    }
    reap_orphans();
    if (*bpf_dir && rmdir(bpf_dir) < 0)
        fprintf(stderr, "  cleanup: cannot remove %s: %s\n", bpf_dir, strerror(errno));
    *bpf_dir = '\0';
    if (*tmp)
        nftw(tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    *tmp = '\0';
}

#define RUN_CLEAN(fn)             \
    do {                          \
        RUN(fn);                  \
        cleanup_after_test();     \
    } while (0)

/* ---- fake trees ---- */

/* A formatted string in one of a few rotating buffers. */
static const char *vstr(const char *prefix, const char *fmt, va_list ap)
{
    static char bufs[16][512];
    static unsigned next;
    char *b = bufs[next++ % 16];
    int n = snprintf(b, sizeof bufs[0], "%s", prefix);
    vsnprintf(b + n, sizeof bufs[0] - (size_t)n, fmt, ap);
    return b;
}

static __attribute__((format(printf, 1, 2))) const char *str(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = vstr("", fmt, ap);
    va_end(ap);
    return s;
}

/* tmp/REL */
static __attribute__((format(printf, 1, 2))) const char *at(const char *fmt, ...)
{
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s/", tmp);
    va_list ap;
    va_start(ap, fmt);
    const char *s = vstr(prefix, fmt, ap);
    va_end(ap);
    return s;
}

static void fresh_tree(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/tm-cgroup-XXXXXX");
    REQUIRE(mkdtemp(tmp));
}

static void mk(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s", at("%s", rel));
    for (char *s = path + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    REQUIRE(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void put(const char *rel, const char *text)
{
    FILE *f = fopen(at("%s", rel), "w");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
}

/* The file's text, "(missing)" if there is none. */
static const char *get(const char *rel)
{
    static char bufs[4][256];
    static unsigned next;
    char *b = bufs[next++ % 4];
    FILE *f = fopen(at("%s", rel), "r");
    if (!f)
        return "(missing)";
    size_t n = fread(b, 1, sizeof bufs[0] - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static bool exists(const char *rel)
{
    struct stat st;
    return stat(at("%s", rel), &st) == 0;
}

#define CHECK_FILE(rel, text)                                                              \
    do {                                                                                   \
        const char *tm_got_ = get(rel);                                                    \
        if (strcmp(tm_got_, text)) {                                                       \
            fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    rel, tm_got_, text);                                                   \
            tm_test_current_failed = 1;                                                    \
        }                                                                                  \
    } while (0)

/* A directory standing in for a kernel cgroup: cgroup.procs plus the
 * (space-separated) files, all empty. mkdir in tmpfs makes none, and the
 * code never creates control files. */
static void fake_cgroup(const char *dir, const char *files)
{
    char list[512];
    mk(dir);
    put(str("%s/cgroup.procs", dir), "");
    snprintf(list, sizeof list, "%s", files);
    for (char *save, *f = strtok_r(list, " ", &save); f; f = strtok_r(NULL, " ", &save))
        put(str("%s/%s", dir, f), "");
}

#define V1_MEMORY "memory.limit_in_bytes memory.memsw.limit_in_bytes"
#define V1_CPU "cpu.cfs_period_us cpu.cfs_quota_us cpu.shares"
#define V2_FILES "cgroup.subtree_control memory.max memory.swap.max pids.max cpu.max cpu.weight"
#define V1_DEVICES "devices.allow devices.deny"
#define ALL_V2 "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc"

enum layout { HYBRID, PURE_V2, PURE_V1 };

static void v1_line(FILE *f, int id, const char *dir, const char *opts)
{
    fprintf(f, "%d 31 0:%d / %s/%s rw,nosuid,nodev,noexec,relatime shared:%d - cgroup cgroup rw,%s\n",
            id, id, tmp, dir, id, opts);
    mk(dir);
    if (!strcmp(opts, "cpuset")) {   /* the root has them all */
        put(str("%s/cpuset.cpus", dir), "0-1\n");
        put(str("%s/cpuset.mems", dir), "0\n");
    }
}

/* cpuset/REL and each directory above it, as the kernel makes them: empty
 * cpus and mems (copied down from the root by create). */
static void fake_cpuset(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s", rel);
    for (char *s = path;; s++) {
        if (*s && *s != '/')
            continue;
        char c = *s;
        *s = '\0';
        fake_cgroup(str("cpuset/%s", path), "cpuset.cpus cpuset.mems");
        if (!(*s = c))
            return;
    }
}

static void v2_line(FILE *f, int id, const char *dir, const char *controllers)
{
    fprintf(f, "%d 31 0:%d / %s/%s rw,nosuid,nodev,noexec,relatime shared:%d - cgroup2 cgroup2 rw,nsdelegate\n",
            id, id, tmp, dir, id);
    mk(dir);
    put(str("%s/cgroup.controllers", dir), controllers);
    put(str("%s/cgroup.subtree_control", dir), "");
}

/* A fake tree and its mountinfo; returns the mountinfo's path. Hybrid is
 * this kind of host: separate cpu and cpuacct, v2 with only hugetlb. Pure v1
 * is an older host: cpu,cpuacct and net_cls,net_prio co-mounted, no pids
 * controller. */
static const char *layout(enum layout which)
{
    fresh_tree();
    static char mi[128];   /* at()'s buffers rotate */
    snprintf(mi, sizeof mi, "%s", at("mountinfo"));
    FILE *f = fopen(mi, "w");
    REQUIRE(f);
    fprintf(f, "31 23 0:28 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n", tmp);
    if (which == HYBRID) {
        v1_line(f, 32, "cpu", "cpu");
        v1_line(f, 33, "cpuacct", "cpuacct");
        v1_line(f, 34, "cpuset", "cpuset");
        v1_line(f, 35, "memory", "memory");
        v1_line(f, 36, "devices", "devices");
        v1_line(f, 37, "pids", "pids");
        v1_line(f, 38, "systemd", "xattr,name=systemd");
        v2_line(f, 39, "unified", "hugetlb\n");
    } else if (which == PURE_V2) {
        v2_line(f, 32, "v2", "cpuset cpu io memory hugetlb pids rdma misc\n");
    } else {
        v1_line(f, 32, "memory", "memory");
        v1_line(f, 33, "cpu,cpuacct", "cpu,cpuacct");
        v1_line(f, 34, "blkio", "blkio");
        v1_line(f, 35, "devices", "devices");
        v1_line(f, 36, "net_cls,net_prio", "net_cls,net_prio");
        v1_line(f, 37, "hugetlb", "hugetlb");
    }
    fclose(f);
    return mi;
}

static struct tm_cgroup_host probe(enum layout which)
{
    struct tm_cgroup_host host;
    tm_error err;
    const char *mi = layout(which);
    REQUIRE(tm_cgroup_probe(mi, &host, &err) == 0);
    return host;
}

static const struct tm_cgroup_hierarchy *find(const struct tm_cgroup_host *host, const char *rel)
{
    for (size_t i = 0; i < host->n; i++)
        if (!strcmp(host->h[i].mount, at("%s", rel)))
            return &host->h[i];
    return NULL;
}

static struct tm_cgroup_limits typical_limits(void)
{
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    l.memory_max = 16 * MiB;
    l.memory_swap = 32 * MiB;
    l.pids_max = 8;
    l.cpu_quota = 50000;
    l.cpu_shares = 1024;
    return l;
}

/* tm_cgroup_create that must work; its error shown when it does not. */
static struct tm_cgroup *create_ok(const struct tm_cgroup_host *host, const char *path,
                                   const struct tm_cgroup_limits *l)
{
    struct tm_cgroup *cg = NULL;
    tm_error err;
    int ret = tm_cgroup_create(host, path, l, &cg, &err);
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    return cg;
}

/* ---- probing ---- */

static void test_probe_hybrid(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    CHECK_EQ_INT(host.n, 8);   /* every hierarchy, named ones too */
    const struct tm_cgroup_hierarchy *h;
    CHECK((h = find(&host, "cpuset")) && !h->v2 && h->controllers == TM_CGROUP_CPUSET);
    CHECK((h = find(&host, "devices")) && !h->v2 && h->controllers == TM_CGROUP_DEVICES);
    CHECK((h = find(&host, "systemd")) && !h->v2 && h->controllers == 0 && !strcmp(h->name, "name=systemd"));
    CHECK((h = find(&host, "cpu")) && !strcmp(h->name, "cpu"));
    CHECK((h = find(&host, "cpu")) && !h->v2 && h->controllers == TM_CGROUP_CPU);
    CHECK((h = find(&host, "cpuacct")) && !h->v2 && h->controllers == TM_CGROUP_CPUACCT);
    CHECK((h = find(&host, "memory")) && !h->v2 && h->controllers == TM_CGROUP_MEMORY);
    CHECK((h = find(&host, "pids")) && !h->v2 && h->controllers == TM_CGROUP_PIDS);
    CHECK((h = find(&host, "unified")) && h->v2 && h->controllers == TM_CGROUP_HUGETLB && !*h->name);
    char desc[512], want[512];
    tm_cgroup_host_describe(&host, desc, sizeof desc);
    snprintf(want, sizeof want,
             "cpu cpuacct cpuset memory devices pids name=systemd on v1, v2 at %s/unified (hugetlb)", tmp);
    CHECK_STR_CONTAINS(desc, want);
    CHECK_EQ_INT(strlen(desc), strlen(want));
}

/* Co-mounted cpu,cpuacct at an escaped path; odd lines skipped; a second
 * mount of a hierarchy ignored; a mount hidden by a later one forgotten. */
static void test_probe_odd_mountinfo(void)
{
    fresh_tree();
    const char *mi = at("mountinfo");
    FILE *f = fopen(mi, "w");
    REQUIRE(f);
    fprintf(f, "nonsense\n\n1 2 3:4 / /x rw - cgroup\n");
    fprintf(f, "1 2 3:4 / /no/separator rw cgroup cgroup rw,memory\n");
    fprintf(f, "40 31 0:40 / %s/cpu\\040and\\040acct rw shared:9 master:3 - cgroup cgroup rw,cpuacct,cpu\n", tmp);
    fprintf(f, "41 31 0:41 / %s/mem rw - cgroup cgroup rw,memory\n", tmp);
    fprintf(f, "42 31 0:41 / %s/mem-again rw - cgroup cgroup rw,memory\n", tmp);
    fprintf(f, "43 31 0:42 / %s/sd rw - cgroup cgroup rw,name=systemd\n", tmp);
    fprintf(f, "44 31 0:43 / relative rw - cgroup cgroup rw,pids\n");
    fprintf(f, "45 31 0:44 / %s/hidden rw - cgroup2 cgroup2 rw\n", tmp);
    fprintf(f, "46 31 0:45 / %s/hidden rw - tmpfs tmpfs rw\n", tmp);
    fclose(f);
    struct tm_cgroup_host host;
    tm_error err;
    REQUIRE(tm_cgroup_probe(mi, &host, &err) == 0);
    CHECK_EQ_INT(host.n, 3);
    const struct tm_cgroup_hierarchy *h;
    CHECK((h = find(&host, "cpu and acct")) && !h->v2 &&
          h->controllers == (TM_CGROUP_CPU | TM_CGROUP_CPUACCT) && !strcmp(h->name, "cpuacct,cpu"));
    CHECK((h = find(&host, "mem")) && h->controllers == TM_CGROUP_MEMORY);
    CHECK((h = find(&host, "sd")) && h->controllers == 0 && !strcmp(h->name, "name=systemd"));
    char desc[512];
    tm_cgroup_host_describe(&host, desc, sizeof desc);
    CHECK(!strcmp(desc, "cpuacct,cpu memory name=systemd on v1, no v2"));
    CHECK_EQ_INT(tm_cgroup_probe(at("no-such-file"), &host, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "no-such-file");
}

static void test_probe_pure_v2_and_v1(void)
{
    struct tm_cgroup_host host = probe(PURE_V2);
    CHECK_EQ_INT(host.n, 1);
    CHECK(host.h[0].v2 && host.h[0].controllers == (TM_CGROUP_CPUSET | TM_CGROUP_CPU | TM_CGROUP_BLKIO |
                                                     TM_CGROUP_MEMORY | TM_CGROUP_HUGETLB | TM_CGROUP_PIDS |
                                                     TM_CGROUP_RDMA | TM_CGROUP_MISC));
    char desc[512], want[512];
    tm_cgroup_host_describe(&host, desc, sizeof desc);
    snprintf(want, sizeof want, "v2 at %s/v2 (cpuset cpu io memory hugetlb pids rdma misc)", tmp);
    CHECK(!strcmp(desc, want));
    cleanup_after_test();

    host = probe(PURE_V1);
    CHECK_EQ_INT(host.n, 6);
    CHECK(find(&host, "cpu,cpuacct") &&
          find(&host, "cpu,cpuacct")->controllers == (TM_CGROUP_CPU | TM_CGROUP_CPUACCT));
    CHECK(find(&host, "net_cls,net_prio") &&
          find(&host, "net_cls,net_prio")->controllers == (TM_CGROUP_NET_CLS | TM_CGROUP_NET_PRIO));
    tm_cgroup_host_describe(&host, desc, sizeof desc);
    CHECK(!strcmp(desc, "memory cpu,cpuacct blkio devices net_cls,net_prio hugetlb on v1, no v2"));
    host.n = 0;
    tm_cgroup_host_describe(&host, desc, sizeof desc);
    CHECK(!strcmp(desc, "no cgroup hierarchies mounted"));
}

/* ---- creating, on fake trees ---- */

static void test_create_hybrid(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    fake_cgroup("memory/teemate/c1", V1_MEMORY);
    fake_cgroup("pids/teemate/c1", "pids.max");
    fake_cgroup("cpu/teemate/c1", V1_CPU);
    fake_cgroup("cpuacct/teemate/c1", "cpuacct.usage");
    fake_cgroup("unified/teemate/c1", "cgroup.subtree_control");
    fake_cgroup("devices/teemate/c1", V1_DEVICES);
    fake_cpuset("teemate/c1");
    struct tm_cgroup_limits l = typical_limits();
    struct tm_cgroup *cg = create_ok(&host, "/teemate/c1", &l);
    tm_error err;
    CHECK_EQ_INT(tm_cgroup_count(cg), 8);
    for (size_t i = 0; i < tm_cgroup_count(cg); i++)
        CHECK_STR_CONTAINS(tm_cgroup_dir(cg, i), "/teemate/c1");
    CHECK(tm_cgroup_dir(cg, 8) == NULL);
    CHECK(exists("systemd/teemate/c1"));   /* named hierarchies too */
    /* a new cpuset got the root's cpus and mems, down the path */
    CHECK_FILE("cpuset/teemate/cpuset.cpus", "0-1");
    CHECK_FILE("cpuset/teemate/c1/cpuset.cpus", "0-1");
    CHECK_FILE("cpuset/teemate/c1/cpuset.mems", "0");
    /* deny all went first, runc's ptmx rule last (the order: test_device_rules) */
    CHECK_FILE("devices/teemate/c1/devices.deny", "a *:* rwm");
    CHECK_FILE("devices/teemate/c1/devices.allow", "c 5:2 rwm");
    CHECK_FILE("memory/teemate/c1/memory.limit_in_bytes", "16777216");
    CHECK_FILE("memory/teemate/c1/memory.memsw.limit_in_bytes", "33554432");
    CHECK_FILE("pids/teemate/c1/pids.max", "8");
    CHECK_FILE("cpu/teemate/c1/cpu.cfs_period_us", "100000");
    CHECK_FILE("cpu/teemate/c1/cpu.cfs_quota_us", "50000");
    CHECK_FILE("cpu/teemate/c1/cpu.shares", "1024");
    CHECK_FILE("unified/cgroup.subtree_control", "+hugetlb");   /* all v2 has here */
    tm_cgroup_free(cg);

    /* No memsw file (swap accounting off): the memory limit alone. */
    fake_cgroup("memory/teemate/c2", "memory.limit_in_bytes");
    fake_cgroup("devices/teemate/c2", V1_DEVICES);
    fake_cpuset("teemate/c2");
    l = TM_CGROUP_LIMITS_NONE;
    l.memory_max = 16 * MiB;
    l.memory_swap = 16 * MiB;
    REQUIRE(tm_cgroup_create(&host, "/teemate/c2", &l, &cg, &err) == 0);
    CHECK_FILE("memory/teemate/c2/memory.limit_in_bytes", "16777216");
    CHECK(!exists("memory/teemate/c2/memory.memsw.limit_in_bytes"));
    CHECK(exists("pids/teemate/c2") && exists("unified/teemate/c2"));   /* placed everywhere */
    tm_cgroup_free(cg);
}

static void test_create_v2(void)
{
    struct tm_cgroup_host host = probe(PURE_V2);
    fake_cgroup("v2/teemate", "cgroup.subtree_control");
    fake_cgroup("v2/teemate/c1", V2_FILES);
    struct tm_cgroup_limits l = typical_limits();
    struct tm_cgroup *cg = create_ok(&host, "/teemate/c1", &l);
    tm_error err;
    CHECK_EQ_INT(tm_cgroup_count(cg), 1);
    CHECK(!strcmp(tm_cgroup_dir(cg, 0), at("v2/teemate/c1")));
    CHECK_FILE("v2/teemate/c1/memory.max", "16777216");
    CHECK_FILE("v2/teemate/c1/memory.swap.max", "16777216");   /* 32 MiB memory+swap - 16 MiB */
    CHECK_FILE("v2/teemate/c1/pids.max", "8");
    CHECK_FILE("v2/teemate/c1/cpu.max", "50000 100000");
    CHECK_FILE("v2/teemate/c1/cpu.weight", "39");
    CHECK_FILE("v2/cgroup.subtree_control", ALL_V2);
    CHECK_FILE("v2/teemate/cgroup.subtree_control", ALL_V2);
    CHECK_FILE("v2/teemate/c1/cgroup.subtree_control", "");   /* the leaf holds processes */
    tm_cgroup_free(cg);

    /* Period alone is "max PERIOD"; shares map onto weight's ends. */
    const struct { const char *path; uint64_t period, shares; const char *max, *weight; } cases[] = {
        { "/teemate/c2", 200000, 2, "max 200000", "1" },
        { "/teemate/c3", 0, 262144, "", "10000" },
    };
    for (size_t i = 0; i < 2; i++) {
        char dir[64];
        snprintf(dir, sizeof dir, "v2%s", cases[i].path);
        fake_cgroup(dir, V2_FILES);
        l = TM_CGROUP_LIMITS_NONE;
        l.cpu_period = cases[i].period;
        l.cpu_shares = cases[i].shares;
        REQUIRE(tm_cgroup_create(&host, cases[i].path, &l, &cg, &err) == 0);
        tm_cgroup_free(cg);
        CHECK_FILE(str("%s/cpu.max", dir), cases[i].max);
        CHECK_FILE(str("%s/cpu.weight", dir), cases[i].weight);
        CHECK_FILE(str("%s/memory.max", dir), "");
    }
}

/* tm_cgroup_update: only what is named changes, -1 lifts, the half of
 * cpu.max not named stays, v2's swap is what is above memory. */
static struct tm_cgroup_update no_update(void)
{
    struct tm_cgroup_update u;
    memset(&u, 0, sizeof u);
    return u;
}

static void test_update_v2(void)
{
    struct tm_cgroup_host host = probe(PURE_V2);
    fake_cgroup("v2/teemate", "cgroup.subtree_control");
    fake_cgroup("v2/teemate/u1", V2_FILES);
    struct tm_cgroup_limits l = typical_limits();
    struct tm_cgroup *cg = create_ok(&host, "/teemate/u1", &l);
    tm_error err;
    struct tm_cgroup_update u = no_update();
    u.memory = 64 * MiB;
    u.memory_swap = 128 * MiB;
    u.pids = -1;
    REQUIRE(tm_cgroup_update(cg, &u, &err) == 0);
    CHECK_FILE("v2/teemate/u1/memory.max", "67108864");
    CHECK_FILE("v2/teemate/u1/memory.swap.max", "67108864");
    CHECK_FILE("v2/teemate/u1/pids.max", "max");
    CHECK_FILE("v2/teemate/u1/cpu.max", "50000 100000");   /* not named: as created */
    u = no_update();
    u.memory_swap = 96 * MiB;   /* swap alone: above the memory limit in memory.max */
    u.cpu_quota = 20000;
    REQUIRE(tm_cgroup_update(cg, &u, &err) == 0);
    CHECK_FILE("v2/teemate/u1/memory.swap.max", "33554432");
    CHECK_FILE("v2/teemate/u1/cpu.max", "20000 100000");
    u = no_update();
    u.cpu_period = 50000;
    u.cpu_shares = 2;
    REQUIRE(tm_cgroup_update(cg, &u, &err) == 0);
    CHECK_FILE("v2/teemate/u1/cpu.max", "20000 50000");
    CHECK_FILE("v2/teemate/u1/cpu.weight", "1");
    u = no_update();
    u.cpu_quota = -1;
    u.memory = -1;
    u.memory_swap = -1;
    REQUIRE(tm_cgroup_update(cg, &u, &err) == 0);
    CHECK_FILE("v2/teemate/u1/cpu.max", "max 50000");
    CHECK_FILE("v2/teemate/u1/memory.max", "max");
    CHECK_FILE("v2/teemate/u1/memory.swap.max", "max");
    /* No io.weight in the fake: an error naming it, and the pids limit given with it not written. */
    u = no_update();
    u.blkio_weight = 500;
    u.pids = 9;
    CHECK_EQ_INT(tm_cgroup_update(cg, &u, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "a blkio weight: this host has no io.weight");
    CHECK_FILE("v2/teemate/u1/pids.max", "max");
    u = no_update();
    u.cpu_quota = 10;
    CHECK_EQ_INT(tm_cgroup_update(cg, &u, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "cpu quota 10 us is below 1000");
    tm_cgroup_free(cg);
}

static void test_update_v1(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    fake_cgroup("memory/teemate/u1", V1_MEMORY " memory.soft_limit_in_bytes");
    fake_cgroup("pids/teemate/u1", "pids.max");
    fake_cgroup("cpu/teemate/u1", V1_CPU);
    fake_cgroup("devices/teemate/u1", V1_DEVICES);
    fake_cpuset("teemate/u1");
    struct tm_cgroup_limits l = typical_limits();
    struct tm_cgroup *cg = create_ok(&host, "/teemate/u1", &l);
    tm_error err;
    struct tm_cgroup_update u = no_update();
    u.memory = 64 * MiB;
    u.memory_swap = 128 * MiB;
    u.memory_reservation = 8 * MiB;
    u.pids = 20;
    u.cpu_shares = 512;
    REQUIRE(tm_cgroup_update(cg, &u, &err) == 0);
    CHECK_FILE("memory/teemate/u1/memory.limit_in_bytes", "67108864");
    CHECK_FILE("memory/teemate/u1/memory.memsw.limit_in_bytes", "134217728");
    CHECK_FILE("memory/teemate/u1/memory.soft_limit_in_bytes", "8388608");
    CHECK_FILE("pids/teemate/u1/pids.max", "20");
    CHECK_FILE("cpu/teemate/u1/cpu.shares", "512");
    CHECK_FILE("cpu/teemate/u1/cpu.cfs_quota_us", "50000");   /* not named: as created */
    u = no_update();
    u.pids = -1;
    u.cpu_quota = -1;
    u.memory = -1;
    REQUIRE(tm_cgroup_update(cg, &u, &err) == 0);
    CHECK_FILE("pids/teemate/u1/pids.max", "max");
    CHECK_FILE("cpu/teemate/u1/cpu.cfs_quota_us", "-1");
    CHECK_FILE("memory/teemate/u1/memory.limit_in_bytes", "-1");
    u = no_update();
    u.memory = 64 * MiB;
    u.memory_swap = 32 * MiB;
    CHECK_EQ_INT(tm_cgroup_update(cg, &u, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "memory+swap limit 33554432 is below memory limit 67108864");
    tm_cgroup_free(cg);

    /* Swap accounting off: a swap limit is an error naming the file; nothing written. */
    fake_cgroup("memory/teemate/u2", "memory.limit_in_bytes");
    fake_cgroup("devices/teemate/u2", V1_DEVICES);
    fake_cpuset("teemate/u2");
    l = TM_CGROUP_LIMITS_NONE;
    cg = create_ok(&host, "/teemate/u2", &l);
    u = no_update();
    u.memory = 64 * MiB;
    u.memory_swap = 128 * MiB;
    CHECK_EQ_INT(tm_cgroup_update(cg, &u, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "a memory+swap limit: this host has no memory.memsw.limit_in_bytes");
    CHECK_FILE("memory/teemate/u2/memory.limit_in_bytes", "");
    tm_cgroup_free(cg);
}

static void test_update_controller_missing(void)
{
    struct tm_cgroup_host host = probe(PURE_V1);   /* no pids controller */
    fake_cgroup("memory/teemate/u1", V1_MEMORY);
    fake_cgroup("devices/teemate/u1", V1_DEVICES);
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    struct tm_cgroup *cg = create_ok(&host, "/teemate/u1", &l);
    tm_error err;
    struct tm_cgroup_update u = no_update();
    u.pids = 5;
    u.memory = 8 * MiB;
    CHECK_EQ_INT(tm_cgroup_update(cg, &u, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "a pids limit needs the pids controller, which this host lacks");
    CHECK_FILE("memory/teemate/u1/memory.limit_in_bytes", "");
    tm_cgroup_free(cg);
}

static void test_create_unsupported(void)
{
    struct tm_cgroup_host host = probe(PURE_V1);
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    l.memory_max = 16 * MiB;
    l.pids_max = 8;
    struct tm_cgroup *cg = NULL;
    tm_error err;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/teemate/c1", &l, &cg, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "pids");
    CHECK_STR_CONTAINS(err.msg, "memory cpu,cpuacct blkio devices net_cls,net_prio hugetlb on v1, no v2");
    CHECK(!exists("memory/teemate") && !exists("cpu,cpuacct/teemate"));
    CHECK(cg == NULL);
    cleanup_after_test();

    /* Only a v2 with hugetlb, as this host's unified hierarchy. */
    fresh_tree();
    FILE *f = fopen(at("mountinfo"), "w");
    REQUIRE(f);
    v2_line(f, 41, "unified", "hugetlb\n");
    fclose(f);
    REQUIRE(tm_cgroup_probe(at("mountinfo"), &host, &err) == 0);
    l = TM_CGROUP_LIMITS_NONE;
    l.cpu_shares = 512;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/teemate/c1", &l, &cg, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "cpu controller");
    CHECK_STR_CONTAINS(err.msg, "(hugetlb)");
    CHECK(!exists("unified/teemate"));
}

static void test_create_bad_input(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    struct tm_cgroup_limits none = TM_CGROUP_LIMITS_NONE;
    struct tm_cgroup *cg = NULL;
    tm_error err;
    char longpath[300];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    const char *paths[] = { NULL, "", "teemate/x", "/", "/teemate/", "//teemate", "/teemate//x",
                            "/teemate/../x", "/..", "/./x", "/teemate/.", "/a\nb", longpath };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int ret = tm_cgroup_create(&host, paths[i], &none, &cg, &err);
        if (ret != -EINVAL && ret != -ENAMETOOLONG)
            fprintf(stderr, "  path #%zu accepted: %d\n", i, ret);
        CHECK(ret == -EINVAL || ret == -ENAMETOOLONG);
    }
    struct tm_cgroup_limits bad[10];
    for (size_t i = 0; i < 10; i++)
        bad[i] = none;
    bad[0].memory_swap = 16 * MiB;                            /* swap without memory */
    bad[1].memory_max = 32 * MiB, bad[1].memory_swap = 16 * MiB; /* swap below memory */
    bad[2].cpu_quota = 999;
    bad[3].cpu_period = 999;
    bad[4].cpu_period = 2000000;
    bad[5].cpu_shares = 1;
    bad[6].cpu_shares = 262145;
    bad[7].memory_swappiness = 101;
    bad[8].blkio_weight = 5;
    struct tm_cgroup_unified up = { "../memory.max", "1" };
    bad[9].unified = &up, bad[9].nunified = 1;
    for (size_t i = 0; i < 10; i++) {
        CHECK_EQ_INT(tm_cgroup_create(&host, "/teemate/x", &bad[i], &cg, &err), -EINVAL);
        CHECK(*err.msg);
    }
    CHECK(cg == NULL);
    const char *hier[] = { "cpu", "cpuacct", "memory", "pids", "unified" };
    for (size_t i = 0; i < 5; i++)
        CHECK(!exists(str("%s/teemate", hier[i])));
}

/* A busy directory is not taken over; a failed write or an odd directory
 * undoes every directory made so far. */
static void test_create_refusals_undo(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    fake_cgroup("pids/teemate/c1", "pids.max");
    put("pids/teemate/c1/cgroup.procs", "42\n");
    fake_cpuset("teemate/c1");
    fake_cpuset("other/x");
    fake_cpuset("plain/x");
    struct tm_cgroup_limits none = TM_CGROUP_LIMITS_NONE;
    struct tm_cgroup *cg = NULL;
    tm_error err;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/teemate/c1", &none, &cg, &err), -EBUSY);
    CHECK_STR_CONTAINS(err.msg, "pids/teemate/c1");
    CHECK(!exists("cpu/teemate") && !exists("cpuacct/teemate") && !exists("memory/teemate"));
    CHECK(exists("pids/teemate/c1/cgroup.procs"));   /* not ours: left alone */

    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    l.memory_max = 16 * MiB;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/other/x", &l, &cg, &err), -ENOENT);
    char want[512];
    snprintf(want, sizeof want,
             "cannot write 16777216 to %s/memory/other/x/memory.limit_in_bytes: No such file or directory",
             tmp);
    CHECK(!strcmp(err.msg, want));
    if (strcmp(err.msg, want))
        fprintf(stderr, "  got: %s\n", err.msg);
    const char *hier[] = { "cpu", "cpuacct", "memory", "pids", "unified" };
    for (size_t i = 0; i < 5; i++)
        CHECK(!exists(str("%s/other", hier[i])));

    mk("unified/plain/x");   /* exists, but is no cgroup */
    CHECK(tm_cgroup_create(&host, "/plain/x", &none, &cg, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "not a usable cgroup");
    CHECK(!exists("memory/plain") && !exists("pids/plain") && exists("unified/plain/x"));
    CHECK(cg == NULL);
}

/* Every other limit on a pure v1 host, in runc's files and formats. */
static void test_create_v1_more(void)
{
    struct tm_cgroup_host host = probe(PURE_V1);
    fake_cgroup("memory/c", "memory.soft_limit_in_bytes memory.swappiness memory.oom_control");
    fake_cgroup("cpu,cpuacct/c", "cpu.rt_period_us cpu.rt_runtime_us");
    fake_cgroup("blkio/c", "blkio.weight blkio.leaf_weight blkio.weight_device blkio.leaf_weight_device "
                           "blkio.throttle.read_bps_device blkio.throttle.write_iops_device");
    fake_cgroup("devices/c", V1_DEVICES);
    fake_cgroup("net_cls,net_prio/c", "net_cls.classid net_prio.ifpriomap");
    fake_cgroup("hugetlb/c", "hugetlb.2MB.limit_in_bytes");
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    l.memory_reservation = 8 * MiB;
    l.memory_swappiness = 0;
    l.oom_kill_disable = true;
    l.cpu_rt_period = 1000000;
    l.cpu_rt_runtime = 950000;
    l.blkio_weight = 300;
    l.blkio_leaf_weight = 200;
    struct tm_cgroup_blkio_device wd = { 8, 0, 500, 400 }, rbps = { 8, 16, 1048576, 0 }, wiops = { 8, 0, 100, 0 };
    l.blkio_weight_device = &wd, l.nblkio_weight_device = 1;
    l.blkio_throttle[TM_BLKIO_READ_BPS] = &rbps, l.nblkio_throttle[TM_BLKIO_READ_BPS] = 1;
    l.blkio_throttle[TM_BLKIO_WRITE_IOPS] = &wiops, l.nblkio_throttle[TM_BLKIO_WRITE_IOPS] = 1;
    struct tm_cgroup_hugepage hp = { "2MB", 4 * MiB };
    l.hugepages = &hp, l.nhugepages = 1;
    l.net_classid = 0x100001;
    struct tm_cgroup_ifprio prio = { "eth0", 5 };
    l.net_prios = &prio, l.nnet_prios = 1;
    struct tm_cgroup_device_rule rule = { 'c', 7, -1, TM_CGROUP_DEV_READ, true };
    l.devices = &rule, l.ndevices = 1;
    struct tm_cgroup *cg = create_ok(&host, "/c", &l);
    tm_error err;
    tm_cgroup_free(cg);
    CHECK_FILE("memory/c/memory.soft_limit_in_bytes", "8388608");
    CHECK_FILE("memory/c/memory.swappiness", "0");
    CHECK_FILE("memory/c/memory.oom_control", "1");
    CHECK_FILE("cpu,cpuacct/c/cpu.rt_period_us", "1000000");
    CHECK_FILE("cpu,cpuacct/c/cpu.rt_runtime_us", "950000");
    CHECK_FILE("blkio/c/blkio.weight", "300");
    CHECK_FILE("blkio/c/blkio.leaf_weight", "200");
    CHECK_FILE("blkio/c/blkio.weight_device", "8:0 500");
    CHECK_FILE("blkio/c/blkio.leaf_weight_device", "8:0 400");
    CHECK_FILE("blkio/c/blkio.throttle.read_bps_device", "8:16 1048576");
    CHECK_FILE("blkio/c/blkio.throttle.write_iops_device", "8:0 100");
    CHECK_FILE("hugetlb/c/hugetlb.2MB.limit_in_bytes", "4194304");
    CHECK_FILE("net_cls,net_prio/c/net_cls.classid", "1048577");
    CHECK_FILE("net_cls,net_prio/c/net_prio.ifpriomap", "eth0 5");
    CHECK_FILE("devices/c/devices.deny", "a *:* rwm");

    /* BFQ's names when the kernel has only those */
    fake_cgroup("blkio/d", "blkio.bfq.weight blkio.bfq.weight_device");
    fake_cgroup("devices/d", V1_DEVICES);
    l = TM_CGROUP_LIMITS_NONE;
    l.blkio_weight = 10;
    wd.leaf_weight = 0;
    l.blkio_weight_device = &wd, l.nblkio_weight_device = 1;
    REQUIRE(tm_cgroup_create(&host, "/d", &l, &cg, &err) == 0);
    tm_cgroup_free(cg);
    CHECK_FILE("blkio/d/blkio.bfq.weight", "10");
    CHECK_FILE("blkio/d/blkio.bfq.weight_device", "8:0 500");

    /* no weight file at all: refused naming it, never ignored */
    fake_cgroup("blkio/e", "");
    fake_cgroup("devices/e", V1_DEVICES);
    l = TM_CGROUP_LIMITS_NONE;
    l.blkio_weight = 10;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/e", &l, &cg, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "blkio/e/blkio.weight");
}

static void test_create_v2_more(void)
{
    struct tm_cgroup_host host = probe(PURE_V2);
    fake_cgroup("v2/c", V2_FILES " cpuset.cpus cpuset.mems memory.low io.weight io.max hugetlb.2MB.max "
                                 "memory.high");
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    snprintf(l.cpuset_cpus, sizeof l.cpuset_cpus, "1");
    snprintf(l.cpuset_mems, sizeof l.cpuset_mems, "0");
    l.memory_reservation = 8 * MiB;
    l.blkio_weight = 1000;
    struct tm_cgroup_blkio_device wbps = { 8, 0, 2097152, 0 };
    l.blkio_throttle[TM_BLKIO_WRITE_BPS] = &wbps, l.nblkio_throttle[TM_BLKIO_WRITE_BPS] = 1;
    struct tm_cgroup_hugepage hp = { "2MB", 2 * MiB };
    l.hugepages = &hp, l.nhugepages = 1;
    struct tm_cgroup_unified u = { "memory.high", "12345678" };
    l.unified = &u, l.nunified = 1;
    struct tm_cgroup *cg = create_ok(&host, "/c", &l);
    tm_error err;
    tm_cgroup_free(cg);
    CHECK_FILE("v2/c/cpuset.cpus", "1");
    CHECK_FILE("v2/c/cpuset.mems", "0");
    CHECK_FILE("v2/c/memory.low", "8388608");
    CHECK_FILE("v2/c/io.weight", "default 10000");
    CHECK_FILE("v2/c/io.max", "8:0 wbps=2097152");
    CHECK_FILE("v2/c/hugetlb.2MB.max", "2097152");
    CHECK_FILE("v2/c/memory.high", "12345678");

    /* what v2 has no file for is refused before anything is made */
    l = TM_CGROUP_LIMITS_NONE;
    l.memory_swappiness = 60;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/d", &l, &cg, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "linux.resources.memory.swappiness");
    l = TM_CGROUP_LIMITS_NONE;
    l.cpu_rt_runtime = 1000;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/d", &l, &cg, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "realtime");
    CHECK(!exists("v2/d"));
}

/* The rules in the order they are written: deny all, the spec's, runc's. */
static void test_device_rules(void)
{
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    struct tm_cgroup_device_rule mine[] = {
        { 'c', 10, 200, TM_CGROUP_DEV_READ | TM_CGROUP_DEV_WRITE, true },
        { 'b', 8, -1, TM_CGROUP_DEV_MKNOD, false },
    };
    l.devices = mine, l.ndevices = 2;
    struct tm_cgroup_device_rule *r = NULL;
    size_t n = 0;
    tm_error err;
    REQUIRE(tm_cgroup_device_rules(&l, &r, &n, &err) == 0);
    const char *want[] = { "deny a *:* rwm", "allow c 10:200 rw", "deny b 8:* m",
                           "allow c *:* m", "allow b *:* m", "allow c 1:3 rwm", "allow c 1:8 rwm",
                           "allow c 1:7 rwm", "allow c 5:0 rwm", "allow c 1:5 rwm", "allow c 1:9 rwm",
                           "allow c 136:* rwm", "allow c 5:2 rwm" };
    CHECK_EQ_INT(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++) {
        char text[80], line[96];
        tm_cgroup_device_rule_format(&r[i], text, sizeof text);
        snprintf(line, sizeof line, "%s %s", r[i].allow ? "allow" : "deny", text);
        if (strcmp(line, want[i]))
            fprintf(stderr, "  rule %zu is \"%s\", expected \"%s\"\n", i, line, want[i]);
        CHECK(!strcmp(line, want[i]));
    }
    free(r);
}

/* No devices hierarchy and no v2: the rules cannot be applied, so no container. */
static void test_devices_nowhere(void)
{
    fresh_tree();
    FILE *f = fopen(at("mountinfo"), "w");
    REQUIRE(f);
    v1_line(f, 32, "memory", "memory");
    fclose(f);
    struct tm_cgroup_host host;
    tm_error err;
    REQUIRE(tm_cgroup_probe(at("mountinfo"), &host, &err) == 0);
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    struct tm_cgroup *cg = NULL;
    CHECK_EQ_INT(tm_cgroup_create(&host, "/c", &l, &cg, &err), -ENOTSUP);
    CHECK_STR_CONTAINS(err.msg, "device rules need");
    CHECK(!exists("memory/c") && cg == NULL);
}

static void test_self_path(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    put("cgroup", "9:name=systemd:/sd/x\n8:pids:/teemate/a\n2:cpuacct:/\n1:cpu:/teemate/a b\n0::/u/x\n");
    char path[64];
    tm_error err;
    const char *want[][2] = { { "systemd", "/sd/x" }, { "pids", "/teemate/a" }, { "cpuacct", "/" },
                              { "cpu", "/teemate/a b" }, { "unified", "/u/x" } };
    for (size_t i = 0; i < 5; i++) {
        const struct tm_cgroup_hierarchy *h = find(&host, want[i][0]);
        REQUIRE(h);
        CHECK(tm_cgroup_self_path(h, at("cgroup"), path, sizeof path, &err) == 0 && !strcmp(path, want[i][1]));
    }
    CHECK_EQ_INT(tm_cgroup_self_path(find(&host, "memory"), at("cgroup"), path, sizeof path, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "memory");
    CHECK_EQ_INT(tm_cgroup_self_path(find(&host, "pids"), at("cgroup"), path, 4, &err), -ENAMETOOLONG);
}

static void test_open(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    fake_cgroup("memory/teemate/c1", "");
    fake_cgroup("pids/teemate/c1", "");
    struct tm_cgroup *cg = NULL;
    tm_error err;
    REQUIRE(tm_cgroup_open(&host, "/teemate/c1", &cg, &err) == 0);
    CHECK_EQ_INT(tm_cgroup_count(cg), 2);
    CHECK(!strcmp(tm_cgroup_dir(cg, 0), at("memory/teemate/c1")));
    CHECK(!strcmp(tm_cgroup_dir(cg, 1), at("pids/teemate/c1")));
    tm_cgroup_free(cg);
    cg = NULL;
    CHECK_EQ_INT(tm_cgroup_open(&host, "/teemate/c9", &cg, &err), -ENOENT);
    CHECK_STR_CONTAINS(err.msg, "/teemate/c9");
    CHECK_EQ_INT(tm_cgroup_open(&host, "/teemate/../c1", &cg, &err), -EINVAL);
    CHECK(cg == NULL);
}

/* ---- reading, on fake trees ---- */

static void test_stats_v1(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    fake_cgroup("memory/c", "");
    fake_cgroup("pids/c", "");
    fake_cgroup("cpu/c", "");
    fake_cgroup("cpuacct/c", "");
    put("memory/c/memory.usage_in_bytes", "1234567\n");
    put("memory/c/memory.max_usage_in_bytes", "2345678\n");
    put("memory/c/memory.limit_in_bytes", "9223372036854771712\n");
    put("memory/c/memory.failcnt", "3\n");
    put("memory/c/memory.memsw.failcnt", "1\n");
    put("memory/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    put("pids/c/pids.current", "5\n");
    put("pids/c/pids.max", "max\n");
    put("pids/c/pids.events", "max 4\n");
    put("cpu/c/cpu.cfs_quota_us", "-1\n");
    put("cpu/c/cpu.cfs_period_us", "100000\n");
    put("cpuacct/c/cpuacct.usage", "987654321\n");
    struct tm_cgroup *cg = NULL;
    tm_error err;
    REQUIRE(tm_cgroup_open(&host, "/c", &cg, &err) == 0);
    keep_cg(cg, false);
    struct tm_cgroup_stats st;
    int ret = tm_cgroup_stats(cg, &st, &err);
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    CHECK_EQ_INT(st.have, ALL_BITS);
    CHECK(st.memory_current == 1234567 && st.memory_peak == 2345678);
    CHECK(st.memory_limit == UINT64_MAX);
    CHECK(st.memory_failcnt == 4 && st.memory_oom_kills == 2);   /* memory's 3 + memsw's 1 */
    CHECK(st.pids_current == 5 && st.pids_limit == UINT64_MAX && st.pids_refused == 4);
    CHECK(st.cpu_quota_us == UINT64_MAX && st.cpu_period_us == 100000);
    CHECK(st.cpu_usage_ns == 987654321);

    put("memory/c/memory.limit_in_bytes", "16777216\n");
    put("cpu/c/cpu.cfs_quota_us", "50000\n");
    unlink(at("memory/c/memory.oom_control"));   /* older kernels: no oom_kill count */
    REQUIRE(tm_cgroup_stats(cg, &st, &err) == 0);
    CHECK(st.memory_limit == 16777216 && st.cpu_quota_us == 50000 && st.memory_oom_kills == 0);

    put("pids/c/pids.current", "lots\n");
    CHECK_EQ_INT(tm_cgroup_stats(cg, &st, &err), -EIO);
    CHECK_STR_CONTAINS(err.msg, "pids/c/pids.current");
}

/* The v2 OOM watch on a fake tree: inotify sees plain files change as it
 * sees the kernel's; an OOM kill is oom_kill going up, the end is
 * "populated 0" or the file's removal. (v1's eventfd needs a kernel cgroup:
 * test_oci_events runs it.) */
static bool oom_ready(const struct tm_cgroup_oom_watch *w)
{
    struct pollfd p = { .fd = w->fd, .events = POLLIN };
    return poll(&p, 1, 2000) == 1;
}

static void test_oom_watch_v2(void)
{
    struct tm_cgroup_host host = probe(PURE_V2);
    fake_cgroup("v2/o", "");
    put("v2/o/memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
    put("v2/o/cgroup.events", "populated 1\nfrozen 0\n");
    struct tm_cgroup *cg = NULL;
    tm_error err;
    REQUIRE(tm_cgroup_open(&host, "/o", &cg, &err) == 0);
    keep_cg(cg, false);
    struct tm_cgroup_oom_watch w;
    REQUIRE(tm_cgroup_oom_watch(cg, &w, &err) == 0);
    uint64_t ooms;
    bool gone;
    CHECK(w.v2 && w.kills == 2);   /* kills before the watch are not news */
    put("v2/o/memory.events", "low 0\nhigh 0\nmax 5\noom 4\noom_kill 4\n");
    CHECK(oom_ready(&w));
    CHECK(tm_cgroup_oom_read(&w, &ooms, &gone, &err) == 0 && ooms == 2 && !gone);
    put("v2/o/memory.events", "low 0\nhigh 1\nmax 5\noom 4\noom_kill 4\n");   /* no new kill */
    CHECK(oom_ready(&w));
    CHECK(tm_cgroup_oom_read(&w, &ooms, &gone, &err) == 0 && ooms == 0 && !gone);
    put("v2/o/cgroup.events", "populated 1\nfrozen 1\n");
    CHECK(oom_ready(&w));
    CHECK(tm_cgroup_oom_read(&w, &ooms, &gone, &err) == 0 && ooms == 0 && !gone);
    put("v2/o/cgroup.events", "populated 0\nfrozen 0\n");
    CHECK(oom_ready(&w));
    CHECK(tm_cgroup_oom_read(&w, &ooms, &gone, &err) == 0 && gone);
    tm_cgroup_oom_unwatch(&w);
    CHECK(w.fd == -1);

    /* the cgroup removed: the kernel drops the watches (IN_IGNORED) */
    put("v2/o/cgroup.events", "populated 1\nfrozen 0\n");
    REQUIRE(tm_cgroup_oom_watch(cg, &w, &err) == 0);
    CHECK(unlink(at("v2/o/memory.events")) == 0);
    CHECK(oom_ready(&w));
    CHECK(tm_cgroup_oom_read(&w, &ooms, &gone, &err) == 0 && gone && ooms == 0);
    tm_cgroup_oom_unwatch(&w);

    /* no memory controller: ENOTSUP */
    struct tm_cgroup_host none = probe(PURE_V1);
    fake_cgroup("cpu,cpuacct/n", "");   /* no memory/n: no memory controller for it */
    struct tm_cgroup *cg2 = NULL;
    REQUIRE(tm_cgroup_open(&none, "/n", &cg2, &err) == 0);
    keep_cg(cg2, false);
    CHECK(tm_cgroup_oom_watch(cg2, &w, &err) == -ENOTSUP && w.fd == -1);
}

static void test_stats_v2(void)
{
    struct tm_cgroup_host host = probe(PURE_V2);
    fake_cgroup("v2/c", "");
    put("v2/c/memory.current", "4096\n");
    put("v2/c/memory.peak", "8192\n");
    put("v2/c/memory.max", "max\n");
    put("v2/c/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n");
    put("v2/c/pids.current", "3\n");
    put("v2/c/pids.max", "8\n");
    put("v2/c/pids.events", "max 11\n");
    put("v2/c/cpu.max", "50000 100000\n");
    put("v2/c/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    struct tm_cgroup *cg = NULL;
    tm_error err;
    REQUIRE(tm_cgroup_open(&host, "/c", &cg, &err) == 0);
    keep_cg(cg, false);
    struct tm_cgroup_stats st;
    int ret = tm_cgroup_stats(cg, &st, &err);
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    CHECK_EQ_INT(st.have, ALL_BITS);
    CHECK(st.memory_current == 4096 && st.memory_peak == 8192 && st.memory_limit == UINT64_MAX);
    CHECK(st.memory_failcnt == 7 && st.memory_oom_kills == 1);
    CHECK(st.pids_current == 3 && st.pids_limit == 8 && st.pids_refused == 11);
    CHECK(st.cpu_quota_us == 50000 && st.cpu_period_us == 100000);
    CHECK(st.cpu_usage_ns == 1500000);

    put("v2/c/cpu.max", "max 100000\n");
    put("v2/c/memory.max", "16777216\n");
    unlink(at("v2/c/memory.peak"));   /* before 5.19 */
    REQUIRE(tm_cgroup_stats(cg, &st, &err) == 0);
    CHECK(st.cpu_quota_us == UINT64_MAX && st.memory_limit == 16777216 && st.memory_peak == 0);
    put("v2/c/cpu.max", "50000\n");
    CHECK_EQ_INT(tm_cgroup_stats(cg, &st, &err), -EIO);
    CHECK_STR_CONTAINS(err.msg, "cpu.max");
}

static void test_pids_list(void)
{
    struct tm_cgroup_host host = probe(HYBRID);
    fake_cgroup("cpu/c", "");
    put("cpu/c/cgroup.procs", "12\n345\n");
    struct tm_cgroup *cg = NULL;
    tm_error err;
    REQUIRE(tm_cgroup_open(&host, "/c", &cg, &err) == 0);
    keep_cg(cg, false);
    pid_t *pids = NULL;
    size_t n = 0;
    REQUIRE(tm_cgroup_pids(cg, &pids, &n, &err) == 0);
    CHECK(n == 2 && pids[0] == 12 && pids[1] == 345);
    free(pids);
    put("cpu/c/cgroup.procs", "");
    REQUIRE(tm_cgroup_pids(cg, &pids, &n, &err) == 0);
    CHECK_EQ_INT(n, 0);
    free(pids);
    put("cpu/c/cgroup.procs", "12\nabc\n");
    CHECK_EQ_INT(tm_cgroup_pids(cg, &pids, &n, &err), -EIO);
}

/* ---- on this host, as root ---- */

static void need_host(struct tm_cgroup_host *host, unsigned need)
{
    if (geteuid() != 0)
        SKIP("needs root");
    tm_error err;
    REQUIRE(tm_cgroup_probe(NULL, host, &err) == 0);
    unsigned have = 0;
    for (size_t i = 0; i < host->n; i++)
        have |= host->h[i].controllers;
    static char why[700];
    char desc[600];
    tm_cgroup_host_describe(host, desc, sizeof desc);
    snprintf(why, sizeof why, "/sys/fs/cgroup lacks a controller this test needs (%s)", desc);
    if ((have & need) != need)
        SKIP(why);
}

/* create, skipping when this host (a container, say) does not let us. */
static struct tm_cgroup *create_or_skip(const struct tm_cgroup_host *host, const char *path,
                                        const struct tm_cgroup_limits *l)
{
    struct tm_cgroup *cg = NULL;
    tm_error err;
    int ret = tm_cgroup_create(host, path, l, &cg, &err);
    static char why[1100];
    snprintf(why, sizeof why, "cannot make cgroups here: %s", err.msg);
    if (ret == -EROFS || ret == -EACCES || ret == -EPERM)
        SKIP(why);
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    keep_cg(cg, true);
    return cg;
}

struct child {
    pid_t pid;
    int go;   /* write a byte: the child runs fn; close: it exits */
};

/* A child that waits on a pipe before running fn, so it can be placed first. */
static struct child spawn(void (*fn)(void *), void *arg)
{
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        char c;
        if (read(p[0], &c, 1) == 1 && fn)
            fn(arg);
        _exit(0);
    }
    close(p[0]);
    keep_pid(pid);
    return (struct child){ pid, p[1] };
}

static void go(struct child *c)
{
    CHECK(write(c->go, "g", 1) == 1);
    close(c->go);
}

/* The signal that ended pid (0 if it exited), reaped. */
static int wait_signal(pid_t pid)
{
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    forget_pid(pid);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* /proc/PID/cgroup puts pid at path in each hierarchy. */
static void check_placed(pid_t pid, const struct tm_cgroup_host *host, const char *path)
{
    char file[64], line[512];
    snprintf(file, sizeof file, "/proc/%d/cgroup", (int)pid);
    for (size_t i = 0; i < host->n; i++) {
        const struct tm_cgroup_hierarchy *h = &host->h[i];
        const char *name = h->v2 ? "" : h->controllers & TM_CGROUP_MEMORY ? "memory"
                                   : h->controllers & TM_CGROUP_PIDS     ? "pids"
                                   : h->controllers & TM_CGROUP_CPU      ? "cpu"
                                                                         : "cpuacct";
        FILE *f = fopen(file, "r");
        REQUIRE(f);
        bool found = false;
        while (!found && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            char *ctrls = strchr(line, ':'), *where = ctrls ? strchr(ctrls + 1, ':') : NULL;
            if (!where)
                continue;
            *ctrls++ = '\0';
            *where++ = '\0';
            bool match = h->v2 && !strcmp(line, "0") && !*ctrls;
            for (char *save, *c = h->v2 ? NULL : strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save))
                match |= !strcmp(c, name);
            if (match) {
                found = true;
                if (strcmp(where, path))
                    fprintf(stderr, "  %s: %s is in %s, not %s\n", file, *name ? name : "v2", where, path);
                CHECK(!strcmp(where, path));
            }
        }
        fclose(f);
        if (!found)
            fprintf(stderr, "  %s: no line for %s\n", file, *name ? name : "v2");
        CHECK(found);
    }
}

/* Nothing of the cgroup is left: its directories are gone, and so is the
 * parent, unless another run of this test is using it right now. */
static void check_gone(char dirs[][512], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        CHECK(stat(dirs[i], &st) < 0 && errno == ENOENT);
        *strrchr(dirs[i], '/') = '\0';
        if (stat(dirs[i], &st) < 0) {
            CHECK(errno == ENOENT);
            continue;
        }
        DIR *d = opendir(dirs[i]);
        bool shared = false;
        for (struct dirent *e; d && (e = readdir(d));)
            shared |= !strncmp(e->d_name, "cg-", 3) || !strncmp(e->d_name, "oom-", 4) ||
                      !strncmp(e->d_name, "bomb-", 5);
        if (d)
            closedir(d);
        if (!shared)
            fprintf(stderr, "  %s was left behind\n", dirs[i]);
        CHECK(shared);
    }
}

static size_t copy_dirs(const struct tm_cgroup *cg, char dirs[][512])
{
    size_t n = tm_cgroup_count(cg);
    for (size_t i = 0; i < n; i++)
        snprintf(dirs[i], 512, "%s", tm_cgroup_dir(cg, i));
    return n;
}

static void test_host_placement_and_limits(void)
{
    struct tm_cgroup_host host;
    need_host(&host, TM_CGROUP_MEMORY | TM_CGROUP_PIDS);
    bool cpu = false;
    for (size_t i = 0; i < host.n; i++)
        cpu |= !!(host.h[i].controllers & TM_CGROUP_CPU);
    char path[64];
    snprintf(path, sizeof path, "/teemate-test/cg-%d", (int)getpid());
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    l.memory_max = 32 * MiB;
    l.pids_max = 16;
    if (cpu)
        l.cpu_quota = 50000, l.cpu_period = 100000;
    struct tm_cgroup *cg = create_or_skip(&host, path, &l);
    struct child c = spawn(NULL, NULL);
    tm_error err;
    REQUIRE(tm_cgroup_add_pid(cg, c.pid, &err) == 0);
    check_placed(c.pid, &host, path);

    struct tm_cgroup_stats st;
    REQUIRE(tm_cgroup_stats(cg, &st, &err) == 0);
    CHECK(st.have & TM_CGROUP_MEMORY && st.memory_limit == 32 * MiB);
    CHECK(st.have & TM_CGROUP_PIDS && st.pids_limit == 16 && st.pids_current == 1);
    if (cpu)
        CHECK(st.have & TM_CGROUP_CPU && st.cpu_quota_us == 50000 && st.cpu_period_us == 100000);
    pid_t *pids = NULL;
    size_t n = 0;
    REQUIRE(tm_cgroup_pids(cg, &pids, &n, &err) == 0);
    CHECK(n == 1 && pids[0] == c.pid);
    free(pids);
    CHECK_EQ_INT(tm_cgroup_signal(cg, 0, &err), 1);

    char dirs[TM_CGROUP_MAX_HIERARCHIES][512];
    size_t ndirs = copy_dirs(cg, dirs);
    int ret = tm_cgroup_destroy(cg, &err);
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    CHECK_EQ_INT(wait_signal(c.pid), SIGKILL);
    close(c.go);
    check_gone(dirs, ndirs);
}

/* The v2 device program on this host's v2 hierarchy: a child in the cgroup
 * opens and makes device nodes in a tmp dir; what the rules deny is EPERM
 * whatever the node's mode, and for c 1:7 the later deny of "w" wins. */
struct dev_try {
    const char *what;
    const char *node;
    int flags;              /* open flags; -1: mknod node as c major:minor */
    unsigned major, minor;
    int want;               /* errno; 0: works */
};

static bool join_cgroup(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, "0", 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void try_devices(const struct dev_try *t, size_t n, int report)
{
    if (!join_cgroup(bpf_dir))
        _exit(3);
    for (size_t i = 0; i < n; i++) {
        int e = 0, fd;
        if (t[i].flags < 0)
            e = mknod(at("%s", t[i].node), S_IFCHR | 0666, makedev(t[i].major, t[i].minor)) < 0 ? errno : 0;
        else if ((fd = open(at("%s", t[i].node), t[i].flags | O_CLOEXEC)) < 0)
            e = errno;
        else
            close(fd);
        if (write(report, &e, sizeof e) != sizeof e)
            _exit(2);
    }
    _exit(0);
}

static void test_host_bpf_devices(void)
{
    if (geteuid() != 0)
        SKIP("needs root");
    struct tm_cgroup_host host;
    tm_error err;
    REQUIRE(tm_cgroup_probe(NULL, &host, &err) == 0);
    const struct tm_cgroup_hierarchy *v2 = NULL;
    for (size_t i = 0; i < host.n; i++)
        if (host.h[i].v2)
            v2 = &host.h[i];
    if (!v2)
        SKIP("no cgroup v2 hierarchy mounted");
    fresh_tree();
    const struct { const char *name; unsigned minor; } nodes[] = { { "null", 3 }, { "zero", 5 }, { "full", 7 } };
    for (size_t i = 0; i < 3; i++)
        REQUIRE(mknod(at("%s", nodes[i].name), S_IFCHR | 0666, makedev(1, nodes[i].minor)) == 0);
    snprintf(bpf_dir, sizeof bpf_dir, "%s/teemate-test-bpf-%d", v2->mount, (int)getpid());
    REQUIRE(mkdir(bpf_dir, 0755) == 0);
    const unsigned R = TM_CGROUP_DEV_READ, W = TM_CGROUP_DEV_WRITE, M = TM_CGROUP_DEV_MKNOD;
    const struct tm_cgroup_device_rule rules[] = {
        { 'a', -1, -1, R | W | M, false },
        { 'c', 1, 3, R | W | M, true },
        { 'c', 1, 5, R, true },
        { 'c', 1, 7, R | W | M, true },
        { 'c', 1, 7, W, false },
    };
    int fd = open(bpf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    int ret = tm_cgroup_bpf_devices_attach(fd, rules, sizeof rules / sizeof rules[0], &err);
    close(fd);
    if (ret == -EPERM || ret == -ENOSYS) {   /* a verifier refusal (EINVAL, EACCES) is a failure */
        static char reason[1100];
        snprintf(reason, sizeof reason, "bpf refused: %s", err.msg);
        SKIP(reason);
    }
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    const struct dev_try t[] = {
        { "null read-write", "null", O_RDWR, 0, 0, 0 },
        { "zero read", "zero", O_RDONLY, 0, 0, 0 },
        { "zero write", "zero", O_WRONLY, 0, 0, EPERM },
        { "full read", "full", O_RDONLY, 0, 0, 0 },
        { "full write (the later deny wins)", "full", O_WRONLY, 0, 0, EPERM },
        { "mknod c 1:3", "null2", -1, 1, 3, 0 },
        { "mknod c 1:9", "urandom", -1, 1, 9, EPERM },
    };
    size_t n = sizeof t / sizeof t[0];
    int report[2];
    REQUIRE(pipe2(report, O_CLOEXEC) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        try_devices(t, n, report[1]);
    keep_pid(pid);
    close(report[1]);
    for (size_t i = 0; i < n; i++) {
        int e = -1;
        CHECK(read(report[0], &e, sizeof e) == sizeof e);
        if (e != t[i].want)
            fprintf(stderr, "  %s: errno %d, expected %d\n", t[i].what, e, t[i].want);
        CHECK(e == t[i].want);
    }
    close(report[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    forget_pid(pid);
}

/* The same through tm_cgroup_create, as on a pure v2 host: a mount table
 * with only this host's v2 hierarchy, so the container's rules (deny all,
 * runc's defaults) go into a program on its v2 directory. */
static void test_host_v2_devices_by_create(void)
{
    if (geteuid() != 0)
        SKIP("needs root");
    struct tm_cgroup_host real;
    tm_error err;
    REQUIRE(tm_cgroup_probe(NULL, &real, &err) == 0);
    const struct tm_cgroup_hierarchy *v2 = NULL;
    for (size_t i = 0; i < real.n; i++)
        if (real.h[i].v2)
            v2 = &real.h[i];
    if (!v2)
        SKIP("no cgroup v2 hierarchy mounted");
    fresh_tree();
    FILE *f = fopen(at("mountinfo"), "w");
    REQUIRE(f);
    fprintf(f, "41 31 0:38 / %s rw,relatime - cgroup2 cgroup2 rw\n", v2->mount);
    fclose(f);
    struct tm_cgroup_host host;
    REQUIRE(tm_cgroup_probe(at("mountinfo"), &host, &err) == 0 && host.n == 1);
    REQUIRE(mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(mknod(at("vcs"), S_IFCHR | 0666, makedev(7, 0)) == 0);
    char path[64];
    snprintf(path, sizeof path, "/teemate-test/v2dev-%d", (int)getpid());
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    struct tm_cgroup_device_rule tty1 = { 'c', 4, 1, TM_CGROUP_DEV_READ, true };
    l.devices = &tty1, l.ndevices = 1;
    struct tm_cgroup *cg = NULL;
    int ret = tm_cgroup_create(&host, path, &l, &cg, &err);
    if (ret == -EPERM || ret == -ENOSYS) {
        static char reason[1100];
        snprintf(reason, sizeof reason, "bpf refused: %s", err.msg);
        SKIP(reason);
    }
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    keep_cg(cg, true);
    const struct dev_try t[] = {
        { "null (a default device)", "null", O_RDWR, 0, 0, 0 },
        { "vcs (not allowed)", "vcs", O_RDONLY, 0, 0, EPERM },
        { "mknod of any char device (runc's default)", "tty1", -1, 4, 1, 0 },
        { "tty1 read (the spec's rule)", "tty1", O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, 0, -1 },
        { "tty1 write", "tty1", O_WRONLY | O_NOCTTY | O_NONBLOCK, 0, 0, EPERM },
    };
    size_t n = sizeof t / sizeof t[0];
    int report[2];
    REQUIRE(pipe2(report, O_CLOEXEC) == 0);
    snprintf(bpf_dir, sizeof bpf_dir, "%s", tm_cgroup_dir(cg, 0));
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        try_devices(t, n, report[1]);
    *bpf_dir = '\0';   /* destroy removes it */
    keep_pid(pid);
    close(report[1]);
    for (size_t i = 0; i < n; i++) {
        int e = -2;
        CHECK(read(report[0], &e, sizeof e) == sizeof e);
        /* -1: the cgroup let it through; the tty driver may still say no */
        bool good = t[i].want == -1 ? e != EPERM : e == t[i].want;
        if (!good)
            fprintf(stderr, "  %s: errno %d, expected %d\n", t[i].what, e, t[i].want);
        CHECK(good);
    }
    close(report[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    forget_pid(pid);
}

static void touch_64_mib(void *arg)
{
    (void)arg;
    size_t len = 64 * MiB;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(2);
    for (size_t i = 0; i < len; i += 4096)
        p[i] = 1;
    _exit(0);
}

static void test_host_oom_kill(void)
{
    struct tm_cgroup_host host;
    need_host(&host, TM_CGROUP_MEMORY);
    char path[64];
    snprintf(path, sizeof path, "/teemate-test/oom-%d", (int)getpid());
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    l.memory_max = 16 * MiB;
    l.memory_swap = 16 * MiB;   /* no swap to escape into */
    struct tm_cgroup *cg = create_or_skip(&host, path, &l);
    struct child c = spawn(touch_64_mib, NULL);
    tm_error err;
    REQUIRE(tm_cgroup_add_pid(cg, c.pid, &err) == 0);
    go(&c);
    CHECK_EQ_INT(wait_signal(c.pid), SIGKILL);
    struct tm_cgroup_stats st;
    REQUIRE(tm_cgroup_stats(cg, &st, &err) == 0);
    CHECK(st.memory_oom_kills >= 1);
    /* v2's memory.events counts hitting max; 6.18's v1 failcnt stayed 0 here */
    for (size_t i = 0; i < host.n; i++)
        if (host.h[i].v2 && host.h[i].controllers & TM_CGROUP_MEMORY)
            CHECK(st.memory_failcnt >= 1);
    CHECK(st.memory_limit == 16 * MiB);
    char dirs[TM_CGROUP_MAX_HIERARCHIES][512];
    size_t ndirs = copy_dirs(cg, dirs);
    REQUIRE(tm_cgroup_destroy(cg, &err) == 0);
    check_gone(dirs, ndirs);
}

/* Forks children that pause until 64 attempts are made, then reports how
 * many were made and how many refused with EAGAIN. */
static void fork_bomb(void *arg)
{
    int report = *(int *)arg;
    int counts[2] = { 0, 0 };
    for (int i = 0; i < 64; i++) {
        pid_t pid = fork();
        if (pid == 0)
            for (;;)
                pause();
        if (pid > 0)
            counts[0]++;
        else if (errno == EAGAIN)
            counts[1]++;
    }
    if (write(report, counts, sizeof counts) != sizeof counts)
        _exit(3);
    for (;;)
        pause();
}

static void test_host_fork_bomb(void)
{
    struct tm_cgroup_host host;
    need_host(&host, TM_CGROUP_PIDS);
    char path[64];
    snprintf(path, sizeof path, "/teemate-test/bomb-%d", (int)getpid());
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    l.pids_max = 8;
    struct tm_cgroup *cg = create_or_skip(&host, path, &l);
    int report[2];
    REQUIRE(pipe2(report, O_CLOEXEC) == 0);
    struct child c = spawn(fork_bomb, &report[1]);
    close(report[1]);
    tm_error err;
    REQUIRE(tm_cgroup_add_pid(cg, c.pid, &err) == 0);
    go(&c);
    int counts[2] = { -1, -1 };
    CHECK(read(report[0], counts, sizeof counts) == sizeof counts);
    close(report[0]);
    CHECK(counts[0] <= 7);   /* the bomb itself is the eighth */
    CHECK(counts[1] > 0 && counts[0] + counts[1] == 64);
    struct tm_cgroup_stats st;
    REQUIRE(tm_cgroup_stats(cg, &st, &err) == 0);
    CHECK(st.pids_current >= 1 && st.pids_current <= 8);
    CHECK(st.pids_refused >= 1);
    char dirs[TM_CGROUP_MAX_HIERARCHIES][512];
    size_t ndirs = copy_dirs(cg, dirs);
    int ret = tm_cgroup_destroy(cg, &err);
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    CHECK_EQ_INT(wait_signal(c.pid), SIGKILL);
    check_gone(dirs, ndirs);
}

/* A spinning child is frozen and thawed: through the v1 freezer when the
 * host mounts one, and through cgroup v2 alone (the host's hierarchies cut
 * down to its v2 one), each checked against the kernel's own files. */
static void spin(void *arg)
{
    (void)arg;
    for (volatile unsigned long i = 0;; i++)
        ;
}

static char proc_state(pid_t pid)
{
    char file[64], buf[512];
    snprintf(file, sizeof file, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(file, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' ? paren[2] : '?';
}

static void freeze_on(const struct tm_cgroup_host *host, const char *what)
{
    char path[64];
    snprintf(path, sizeof path, "/teemate-test/freeze-%s-%d", what, (int)getpid());
    struct tm_cgroup_limits l = TM_CGROUP_LIMITS_NONE;
    struct tm_cgroup *cg = create_or_skip(host, path, &l);
    struct child c = spawn(spin, NULL);
    tm_error err;
    REQUIRE(tm_cgroup_add_pid(cg, c.pid, &err) == 0);
    go(&c);
    bool frozen = true;
    CHECK(tm_cgroup_frozen(cg, &frozen, &err) == 0 && !frozen);
    int ret = tm_cgroup_freeze(cg, true, &err);
    if (ret)
        fprintf(stderr, "  %s: %s\n", what, err.msg);
    CHECK(ret == 0);
    CHECK(tm_cgroup_frozen(cg, &frozen, &err) == 0 && frozen);
    CHECK(proc_state(c.pid) != 'R');   /* a spinner that is not running is frozen */
    CHECK(tm_cgroup_freeze(cg, true, &err) == 0);   /* again: no change, no error */
    CHECK(tm_cgroup_freeze(cg, false, &err) == 0);
    CHECK(tm_cgroup_frozen(cg, &frozen, &err) == 0 && !frozen);
    CHECK(tm_cgroup_freeze(cg, true, &err) == 0);   /* destroy of a frozen cgroup */
    char dirs[TM_CGROUP_MAX_HIERARCHIES][512];
    size_t ndirs = copy_dirs(cg, dirs);
    ret = tm_cgroup_destroy(cg, &err);
    if (ret)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    CHECK_EQ_INT(wait_signal(c.pid), SIGKILL);
    check_gone(dirs, ndirs);
}

static void test_host_freeze(void)
{
    struct tm_cgroup_host host;
    need_host(&host, 0);
    bool v1 = false;
    struct tm_cgroup_host v2only = { 0 };
    for (size_t i = 0; i < host.n; i++) {
        v1 |= !host.h[i].v2 && (host.h[i].controllers & TM_CGROUP_FREEZER);
        if (host.h[i].v2)
            v2only.h[v2only.n++] = host.h[i];
    }
    if (v1)
        freeze_on(&host, "v1");
    if (v2only.n)
        freeze_on(&v2only, "v2");
    if (!v1 && !v2only.n)
        SKIP("no freezer: neither a v1 freezer hierarchy nor cgroup v2");
}

int main(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);   /* fork-bomb grandchildren are reaped here */
    RUN_CLEAN(test_probe_hybrid);
    RUN_CLEAN(test_probe_odd_mountinfo);
    RUN_CLEAN(test_probe_pure_v2_and_v1);
    RUN_CLEAN(test_create_hybrid);
    RUN_CLEAN(test_create_v2);
    RUN_CLEAN(test_create_unsupported);
    RUN_CLEAN(test_update_v2);
    RUN_CLEAN(test_update_v1);
    RUN_CLEAN(test_update_controller_missing);
    RUN_CLEAN(test_create_bad_input);
    RUN_CLEAN(test_create_refusals_undo);
    RUN_CLEAN(test_create_v1_more);
    RUN_CLEAN(test_create_v2_more);
    RUN_CLEAN(test_device_rules);
    RUN_CLEAN(test_devices_nowhere);
    RUN_CLEAN(test_self_path);
    RUN_CLEAN(test_open);
    RUN_CLEAN(test_stats_v1);
    RUN_CLEAN(test_stats_v2);
    RUN_CLEAN(test_oom_watch_v2);
    RUN_CLEAN(test_pids_list);
    RUN_CLEAN(test_host_placement_and_limits);
    RUN_CLEAN(test_host_bpf_devices);
    RUN_CLEAN(test_host_v2_devices_by_create);
    RUN_CLEAN(test_host_oom_kill);
    RUN_CLEAN(test_host_fork_bomb);
    RUN_CLEAN(test_host_freeze);
    TEST_EXIT();
}
