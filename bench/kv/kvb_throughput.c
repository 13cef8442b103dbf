/* One redis-benchmark run: the unmodified tool, the same flags for every
 * target (-c 50, -r 1000000, -d BYTES, -P 1 or 16), its --csv parsed. */
#include <stdio.h>
#include <string.h>

#include "bench_proc.h"
#include "kvb.h"

/* -n per test: a run of the default set stays within 10 minutes on two
 * shared cores (about 3 with -n 100000). Values above 100 bytes move ~10x the bytes per request: half
 * the requests; LRANGE_100 (100 values per reply) and MSET (10 keys per
 * request) a tenth at those sizes. Never fewer than 100. */
unsigned kvb_requests(const char *test, unsigned bytes, unsigned requests)
{
    unsigned n = requests;
    if (bytes > 100)
        n = !strcmp(test, "lrange_100") || !strcmp(test, "mset") ? n / 10 : n / 2;
    return n < 100 ? 100 : n;
}

bool kvb_benchmark(unsigned port, const char *test, unsigned requests, unsigned pipeline,
                   unsigned bytes, struct kvb_run *run)
{
    char p[16], n[16], pl[16], d[16], r[16], c[16], limit[16];
    snprintf(limit, sizeof limit, "%u", KVB_RUN_TIMEOUT);
    snprintf(p, sizeof p, "%u", port);
    snprintf(n, sizeof n, "%u", requests);
    snprintf(pl, sizeof pl, "%u", pipeline);
    snprintf(d, sizeof d, "%u", bytes);
    snprintf(r, sizeof r, "%u", KVB_KEYSPACE);
    snprintf(c, sizeof c, "%u", KVB_CLIENTS);
    char *argv[] = { "timeout", limit, "redis-benchmark", "-p", p, "--csv", "-n", n, "-c", c,
                     "-P", pl, "-r", r, "-d", d, "-t", (char *)test, NULL };
    char out[8192];
    if (tm_bench_run(argv, NULL, out, sizeof out) != 0)
        return false;
    bool got = false;
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        double rps, avg, mn, p50, p95, p99;
        if (sscanf(line, "\"%127[^\"]\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\",\"%lf\"", name, &rps,
                   &avg, &mn, &p50, &p95, &p99) != 7 || strstr(name, "needed to"))
            continue;   /* the header, or LRANGE's LPUSH fill */
        if (run->n == KVB_MAX_TESTS)
            break;
        struct kvb_result *res = &run->r[run->n++];
        char *sp = strchr(name, ' ');
        if (sp)
            *sp = '\0';
        snprintf(res->test, sizeof res->test, "%.31s", name);
        res->requests = requests;
        res->rps = rps, res->p50 = p50, res->p99 = p99;
        got = true;
    }
    return got;
}

const struct kvb_result *kvb_find(const struct kvb_run *run, const char *test)
{
    for (unsigned i = 0; i < run->n; i++)
        if (!strcmp(run->r[i].test, test))
            return &run->r[i];
    return NULL;
}
