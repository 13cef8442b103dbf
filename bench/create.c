/* Fresh-enclave build time across enclave sizes, split into phases.
 *
 *   create [--image PATH] [--backend sim|sgx|auto] [--runs R] [--max-mib N] [--out DIR]
 *
 * For each size from 16 MiB to --max-mib (default 1024), the image (default
 * build/examples/hello.elf) is given a layout whose heap fills the enclave,
 * as a conventional SGX1 enclave commits its whole heap before EINIT, and is
 * built from scratch R times (median): create (ECREATE), add+measure (EADD +
 * EEXTEND of every page), init (EINIT: signature and measurement checks), first
 * entry (EENTER, thread setup and self-relocation, EEXIT) and run (main).
 * Writes DIR/create.json and DIR/create.md (default DIR: bench/results). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_image.h"
#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "enclave/image.h"
#include "util/cleanup.h"

#define DEFAULT_IMAGE "build/examples/hello.elf"

enum { PHASE_CREATE, PHASE_ADD, PHASE_INIT, PHASE_ENTRY, PHASE_RUN, PHASES };
static const char *const phase_names[PHASES] = { "create", "add+measure", "init", "first entry", "run" };

struct row {
    unsigned size_mib;
    double ms[PHASES];        /* medians */
    double total_ms;
    uint64_t pages_added;
};

static long discard_output(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd, (void)buf;
    return (long)len;
}

static int build_once(const struct tm_image *image, const struct sgx_sigstruct *ss,
                      const struct tm_backend_ops *ops, double ms[PHASES], uint64_t *pages,
                      tm_error *err)
{
    _cleanup_enclave_ struct tm_enclave *e = NULL;
    int ret = tm_enclave_build(image, ss, ops, &e, err);
    if (ret < 0)
        return ret;
    uint64_t tcs = tm_enclave_tcs_offset(e, 0);
    static char packed[] = "hello.elf\0bench";
    struct tm_ecall_call ping = { .ecall = TM_ECALL_PING };
    struct tm_ecall_call run = { .ecall = TM_ECALL_MAIN, .in = packed, .in_len = sizeof(packed),
                                 .write = discard_output };
    double t0 = tm_bench_now_s();
    ret = tm_ecall(ops, e->be, e->base, e->size, tcs, &ping, err);
    double t1 = tm_bench_now_s();
    if (ret == 0)
        ret = tm_ecall(ops, e->be, e->base, e->size, tcs, &run, err);
    double t2 = tm_bench_now_s();
    ms[PHASE_CREATE] = e->stats.create_ms;
    ms[PHASE_ADD] = e->stats.add_ms;
    ms[PHASE_INIT] = e->stats.init_ms;
    ms[PHASE_ENTRY] = (t1 - t0) * 1e3;
    ms[PHASE_RUN] = (t2 - t1) * 1e3;
    *pages = e->stats.pages_added;
    return ret;
}

static int bench_size(const struct tm_image *base_image, const struct tm_backend_ops *ops,
                      unsigned runs, struct row *row, tm_error *err)
{
    _cleanup_image_ struct tm_image *image = NULL;
    struct sgx_sigstruct ss;
    char key_path[4200];
    int ret = tm_bench_image_heap_fill(base_image, (uint64_t)row->size_mib << 20, &image, err);
    if (ret == 0)
        ret = tm_devkey_sign(image, &ss, key_path, sizeof(key_path), err);
    double samples[PHASES][runs];
    for (unsigned r = 0; ret == 0 && r < runs; r++) {
        double ms[PHASES];
        ret = build_once(image, &ss, ops, ms, &row->pages_added, err);
        for (int p = 0; p < PHASES; p++)
            samples[p][r] = ms[p];
    }
    if (ret < 0)
        return ret;
    row->total_ms = 0;
    for (int p = 0; p < PHASES; p++) {
        row->ms[p] = tm_bench_median(samples[p], runs);
        row->total_ms += row->ms[p];
    }
    return 0;
}

static char *markdown(const struct row *rows, size_t n, const char *backend, const char *cpu,
                      unsigned runs)
{
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    if (!f)
        return NULL;
    fprintf(f, "# Fresh enclave build time\n\nBackend: %s; CPU: %s; median of %u runs; "
               "heap fills the enclave (SGX1-style), times in ms.\n\n| enclave | pages added |",
            backend, cpu, runs);
    for (int p = 0; p < PHASES; p++)
        fprintf(f, " %s |", phase_names[p]);
    fprintf(f, " total | MiB/s added |\n|---:|---:|");
    for (int p = 0; p <= PHASES + 1; p++)
        fprintf(f, "---:|");
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "| %u MiB | %llu |", rows[i].size_mib, (unsigned long long)rows[i].pages_added);
        for (int p = 0; p < PHASES; p++)
            fprintf(f, " %.3f |", rows[i].ms[p]);
        fprintf(f, " %.3f | %.0f |\n", rows[i].total_ms,
                rows[i].pages_added * 4096.0 / MIB / (rows[i].ms[PHASE_ADD] / 1e3));
    }
    fclose(f);
    return md;
}

static json_t *results_json(const struct row *rows, size_t n, const char *backend, const char *cpu,
                            unsigned runs)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:i, s:I, s:f}", "enclave_mib", (int)rows[i].size_mib, "pages_added",
                              (json_int_t)rows[i].pages_added, "total_ms", rows[i].total_ms);
        for (int p = 0; p < PHASES; p++)
            json_object_set_new(o, phase_names[p], json_real(rows[i].ms[p]));
        json_array_append_new(arr, o);
    }
    return json_pack("{s:s, s:s, s:i, s:o}", "backend", backend, "cpu", cpu, "runs", (int)runs,
                     "sizes", arr);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: create [--image PATH] [--backend sim|sgx|auto] [--runs 1..100] "
               "[--max-mib 16..65536] [--out DIR]\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "image", required_argument, NULL, 'i' }, { "backend", required_argument, NULL, 'b' },
        { "runs", required_argument, NULL, 'r' },  { "max-mib", required_argument, NULL, 'm' },
        { "out", required_argument, NULL, 'o' },   { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *image_path = DEFAULT_IMAGE, *out_dir = "bench/results";
    enum tm_backend_kind kind = TM_BACKEND_AUTO;
    unsigned runs = 3, max_mib = 1024;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'i': image_path = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'b':
            if (tm_backend_parse(optarg, &kind) < 0)
                return usage(stderr), 2;
            break;
        case 'r':
            runs = (unsigned)strtoul(optarg, &end, 10);
            if (*end || runs < 1 || runs > 100)
                return usage(stderr), 2;
            break;
        case 'm':
            max_mib = (unsigned)strtoul(optarg, &end, 10);
            if (*end || max_mib < 16 || max_mib > 65536)
                return usage(stderr), 2;
            break;
        case 'h': return usage(stdout), 0;
        default: return usage(stderr), 2;
        }
    }
    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL;
    const struct tm_backend_ops *ops;
    if (tm_image_load(image_path, &image, &err) < 0 || tm_backend_select(kind, &ops, &err) < 0) {
        fprintf(stderr, "create: %s\n", err.msg);
        return 1;
    }
    struct row rows[16];
    size_t n = 0;
    for (unsigned mib = 16; mib <= max_mib && n < 16; mib *= 2, n++) {
        rows[n].size_mib = mib;
        fprintf(stderr, "create: %u MiB enclave, %u runs...\n", mib, runs);
        if (bench_size(image, ops, runs, &rows[n], &err) < 0) {
            fprintf(stderr, "create: %u MiB: %s\n", mib, err.msg);
            return 1;
        }
    }
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof(cpu));
    _cleanup_free_ char *md = markdown(rows, n, ops->name, cpu, runs);
    json_t *j = results_json(rows, n, ops->name, cpu, runs);
    int ret = md && j ? tm_bench_write_results(out_dir, "create", md, j, &err)
                      : tm_error_set(&err, ENOMEM, "out of memory");
    json_decref(j);
    if (ret < 0) {
        fprintf(stderr, "create: %s\n", err.msg);
        return 1;
    }
    fputs(md, stdout);
    fprintf(stdout, "\nwrote %s/create.json and %s/create.md\n", out_dir, out_dir);
    return 0;
}
