#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cleanup.h"
#include "util/clock.h"
#include "util/file.h"

double tm_bench_now_s(void)
{
    return tm_now_ms() / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double tm_bench_median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double tm_bench_percentile(double *v, unsigned n, double p)
{
    qsort(v, n, sizeof(*v), cmp_double);
    unsigned rank = (unsigned)ceil(p / 100.0 * n);
    return v[rank ? rank - 1 : 0];
}

void tm_bench_cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown");
    _cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            snprintf(out, len, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            return;
        }
    }
}

bool tm_bench_cpu_flag(const char *flag)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192], word[64];
    snprintf(word, sizeof(word), " %s", flag);
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5))
            continue;
        line[strcspn(line, "\n")] = ' ';
        for (char *p = strstr(line, word); p; p = strstr(p + 1, word))
            if (p[strlen(word)] == ' ')
                return true;
        return false;
    }
    return false;
}

static int mkdir_p(const char *dir, tm_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return tm_error_set(err, ENAMETOOLONG, "%s: path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return tm_error_sys(err, "cannot create %s", path);
        if (!(*p = c))
            return 0;
    }
}

int tm_bench_write_results(const char *dir, const char *name, const char *md, const json_t *j,
                           tm_error *err)
{
    char path[4096];
    int ret = mkdir_p(dir, err);
    _cleanup_free_ char *js = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    _cleanup_free_ char *line = NULL;
    if (ret == 0 && (!js || asprintf(&line, "%s\n", js) < 0)) {
        line = NULL;
        ret = tm_error_set(err, ENOMEM, "cannot format JSON");
    }
    if (ret == 0) {
        snprintf(path, sizeof(path), "%s/%s.json", dir, name);
        ret = tm_file_write(path, line, strlen(line), 0644, err);
    }
    if (ret == 0) {
        snprintf(path, sizeof(path), "%s/%s.md", dir, name);
        ret = tm_file_write(path, md, strlen(md), 0644, err);
    }
    return ret;
}

int tm_bench_write_file(const char *dir, const char *name, const char *text, tm_error *err)
{
    char path[4096];
    int ret = mkdir_p(dir, err);
    if (ret == 0 && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        ret = tm_error_set(err, ENAMETOOLONG, "%s/%s: path too long", dir, name);
    if (ret == 0)
        ret = tm_file_write(path, text, strlen(text), 0644, err);
    return ret;
}

int tm_bench_parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int tm_bench_pick(char *list, const char *const *table, unsigned n, bool *on, const char *prog,
                  const char *opt)
{
    memset(on, 0, n * sizeof *on);
    for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned i = 0;
        while (i < n && strcmp(w, table[i]))
            i++;
        if (i == n)
            return fprintf(stderr, "%s: %s: unknown name '%s'\n", prog, opt, w), -1;
        on[i] = true;
    }
    return 0;
}

int tm_bench_counts(char *list, unsigned lo, unsigned hi, unsigned max, unsigned *out, unsigned *n,
                    const char *prog, const char *opt)
{
    *n = 0;
    for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save))
        if (*n == max || tm_bench_parse_uint(w, lo, hi, &out[(*n)++]) < 0)
            return fprintf(stderr, "%s: %s takes up to %u counts of %u..%u\n", prog, opt, max, lo, hi), -1;
    return *n ? 0 : (fprintf(stderr, "%s: %s is empty\n", prog, opt), -1);
}
