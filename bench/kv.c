/* bench/kv: issue 12's benchmark. For each value size, three fresh servers
 * side by side: Debian's redis-server (the real baseline: no persistence,
 * 127.0.0.1, a port of its own), `teemate kv serve --no-enclave` (the same
 * store without an enclave) and `teemate kv serve` (the store in its shared
 * enclave; root). Each gets the same data set (1 M keys of that size, loaded
 * with redis-cli --pipe, DBSIZE checked) and its memory is measured (INFO
 * used_memory, process RSS, the enclave slot's EPC pages); then the unmodified
 * redis-benchmark runs the 13 tests on them, interleaved test by test, -c 50,
 * -r 1000000, -d SIZE, at -P 1 and -P 16. Ratios to redis-server and PASS or
 * MISS against the targets (throughput >= 80%, p99 within 1.5x, memory per
 * key within 1.5x). Results: bench/results/kv.{json,md,svg} + kv-memory.svg.
 *
 *   build/bench/kv [--quick] [-n N] [--keys N] [--sizes B,B..] [--tests T,T..]
 *                  [--out DIR] [--teemate PATH] */
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "kvb.h"

const unsigned kvb_pipelines[KVB_PIPELINES] = { 1, 16 };

static const char kvb_usage[] =
    "usage: kv [--quick] [-n N] [--keys N] [--sizes B,B...] [--tests T,T...] [--out DIR]\n"
    "          [--teemate PATH]\n"
    "  -n N          requests per test at values <= 100 bytes (default 100000; bigger values:\n"
    "                N/2, LRANGE_100 and MSET N/10)\n"
    "  --keys N      keys of the data set loaded before the tests (default 1000000)\n"
    "  --sizes LIST  value sizes in bytes, redis-benchmark -d (default 3,1000; at most 4)\n"
    "  --tests LIST  redis-benchmark -t names (default: the 13 tests of issue 12)\n"
    "  --quick       set,get,incr, -n 2000, 10000 keys (a smoke run)\n"
    "  --out DIR     where kv.json, kv.md, kv.svg, kv-memory.svg go (default bench/results)\n"
    "  --teemate P   the teemate binary (default: next to this one)\n";

static int kvb_parse_sizes(const char *s, struct kvb_options *o)
{
    char list[128];
    if (strlen(s) >= sizeof list)
        return -1;
    snprintf(list, sizeof list, "%s", s);
    o->nsizes = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->nsizes == KVB_MAX_SIZES || tm_bench_parse_uint(tok, 1, 1 << 20, &o->sizes[o->nsizes]) < 0)
            return -1;
        o->nsizes++;
    }
    return o->nsizes ? 0 : -1;
}

static int kvb_parse_options(int argc, char **argv, struct kvb_options *o)
{
    *o = (struct kvb_options){ .requests = 100000, .keys = 1000000, .sizes = { 3, 1000 }, .nsizes = 2,
                               .tests = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,"
                                        "lrange_100,mset",
                               .out_dir = "bench/results" };
    bool n_set = false, keys_set = false, tests_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            o->quick = true;
        } else if (!strcmp(a, "-n") && v) {
            if (tm_bench_parse_uint(v, 100, 10000000, &o->requests) < 0)
                return fprintf(stderr, "kv: -n takes 100..10000000\n"), -1;
            n_set = true, i++;
        } else if (!strcmp(a, "--keys") && v) {
            if (tm_bench_parse_uint(v, 1, 10000000, &o->keys) < 0)
                return fprintf(stderr, "kv: --keys takes 1..10000000\n"), -1;
            keys_set = true, i++;
        } else if (!strcmp(a, "--sizes") && v) {
            if (kvb_parse_sizes(v, o) < 0)
                return fprintf(stderr, "kv: --sizes takes 1 to %d sizes of 1..1048576 bytes, "
                               "comma-separated\n", KVB_MAX_SIZES), -1;
            i++;
        } else if (!strcmp(a, "--tests") && v) {
            unsigned commas = 0;
            for (const char *c = v; *c; c++)
                commas += *c == ',';
            if (!*v || strlen(v) > 200 || commas >= KVB_MAX_TESTS ||
                strspn(v, "abcdefghijklmnopqrstuvwxyz_0123456789,") != strlen(v))
                return fprintf(stderr, "kv: --tests takes up to %d redis-benchmark -t names, "
                               "comma-separated\n", KVB_MAX_TESTS), -1;
            o->tests = v, tests_set = true, i++;
        } else if (!strcmp(a, "--out") && v) {
            o->out_dir = v, i++;
        } else if (!strcmp(a, "--teemate") && v) {
            o->teemate = v, i++;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(kvb_usage, stdout);
            return 1;
        } else {
            fprintf(stderr, "kv: unknown option or missing value: '%s' (--help)\n", a);
            return -1;
        }
    }
    if (o->quick) {
        o->requests = n_set ? o->requests : 2000;
        o->keys = keys_set ? o->keys : 10000;
        o->tests = tests_set ? o->tests : "set,get,incr";
    }
    return 0;
}

/* One value size: fresh servers, the data set into each (memory measured),
 * then every test on every target in turn, at each pipeline. */
static void kvb_run_size(const struct kvb_options *o, struct kvb_env *env, struct kvb_size *sz)
{
    struct kvb_server srv[KVB_TARGETS];
    for (int t = 0; t < KVB_TARGETS; t++) {
        sz->up[t] = kvb_server_start(env, t, &srv[t]);
        if (!sz->up[t])
            snprintf(sz->mem[t].why, sizeof sz->mem[t].why, "did not run");
    }
    for (int t = 0; t < KVB_TARGETS; t++)
        if (sz->up[t]) {
            fprintf(stderr, "kv: %u keys of %u bytes into %s\n", o->keys, sz->bytes, kvb_target_names[t]);
            kvb_memory_measure(env, t, &srv[t], o->keys, sz->bytes, &sz->mem[t]);
            if (!sz->mem[t].ran)
                fprintf(stderr, "kv: %s: %s\n", kvb_target_names[t], sz->mem[t].why);
        }
    for (int pi = 0; pi < KVB_PIPELINES; pi++) {
        char list[256];
        snprintf(list, sizeof list, "%s", o->tests);
        for (char *save = NULL, *test = strtok_r(list, ",", &save); test; test = strtok_r(NULL, ",", &save)) {
            unsigned n = kvb_requests(test, sz->bytes, o->requests);
            for (int t = 0; t < KVB_TARGETS; t++)
                if (sz->up[t]) {
                    fprintf(stderr, "kv: -d %u -P %u -n %u %s on %s\n", sz->bytes, kvb_pipelines[pi], n,
                            test, kvb_target_names[t]);
                    if (!kvb_benchmark(srv[t].port, test, n, kvb_pipelines[pi], sz->bytes, &sz->runs[pi][t]))
                        fprintf(stderr, "kv: redis-benchmark %s on %s gave no figures\n", test,
                                kvb_target_names[t]);
                }
        }
    }
    for (int t = KVB_TARGETS - 1; t >= 0; t--)
        kvb_server_stop(&srv[t]);
}

int main(int argc, char **argv)
{
    struct kvb_options o;
    int r = kvb_parse_options(argc, argv, &o);
    if (r != 0)
        return r < 0 ? 2 : 0;
    char exe[PATH_MAX], teemate[PATH_MAX + 16];
    if (!o.teemate) {   /* build/bench/kv -> build/teemate */
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[k > 0 ? k : 0] = '\0';
        snprintf(teemate, sizeof teemate, "%s/../teemate", dirname(exe));
        o.teemate = teemate;
    }
    signal(SIGPIPE, SIG_IGN);   /* a server that dies mid-load is an error, not our end */
    static struct kvb_env env;
    if (kvb_env_start(&env, o.teemate) < 0)
        return 1;
    static struct kvb_size sizes[KVB_MAX_SIZES];
    bool baseline = false;
    for (unsigned i = 0; i < o.nsizes; i++) {
        sizes[i].bytes = o.sizes[i];
        kvb_run_size(&o, &env, &sizes[i]);
        baseline |= sizes[i].up[KVB_REDIS];
        if (baseline && i + 1 < o.nsizes)
            kvb_report(&o, &env, sizes, i + 1, false);
    }
    kvb_env_stop(&env);
    if (!baseline) {
        fprintf(stderr, "kv: redis-server (the baseline) did not start\n");
        return 1;
    }
    return kvb_report(&o, &env, sizes, o.nsizes, true) < 0 ? 1 : 0;
}
