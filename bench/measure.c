/* Measurement throughput next to plain SHA-256 on the same machine, same run.
 *
 *   measure [--size-mib N] [--runs R] [--out DIR] [--image PATH]
 *
 * Times tm_measure_layout over N MiB of fully measured REG pages and EVP SHA-256
 * over the same N MiB in one buffer (median of R runs each), optionally the
 * measurement of an enclave image, and writes DIR/measure.json and
 * DIR/measure.md (default DIR: bench/results). Target: within 2x of SHA-256. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "enclave/image.h"
#include "enclave/measure.h"
#include "sgx_arch.h"
#include "util/cleanup.h"
#include "util/file.h"

#define TARGET_RATIO 2.0
#define DEFAULT_IMAGE "build/examples/hello.elf"

struct options {
    unsigned size_mib;
    unsigned runs;
    const char *out_dir;
    const char *image;       /* NULL: DEFAULT_IMAGE if it exists */
};

struct image_result {
    const char *path;
    uint64_t added_bytes, measured_bytes;
    double seconds;
};

struct results {
    double measure_s, sha_s;       /* medians */
    uint64_t data_bytes, hashed_bytes;
    bool have_image;
    struct image_result image;
};

/* xorshift64*: incompressible-looking content without a slow RNG. */
static void fill_random(uint8_t *buf, size_t len)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i + 8 <= len; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t v = x * 0x2545F4914F6CDD1DULL;
        memcpy(buf + i, &v, 8);
    }
}

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = 2 * SGX_PAGE_SIZE;
    while (p < v)
        p <<= 1;
    return p;
}

static int time_measure_once(const struct tm_layout *layout, double *out, tm_error *err)
{
    uint8_t md[32];
    double t0 = tm_bench_now_s();
    int ret = tm_measure_layout(layout, NULL, NULL, md, err);
    *out = tm_bench_now_s() - t0;
    return ret;
}

static int time_sha256_once(const uint8_t *buf, size_t len, double *out, tm_error *err)
{
    uint8_t md[32];
    unsigned n;
    double t0 = tm_bench_now_s();
    int ok = EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
    *out = tm_bench_now_s() - t0;
    return ok ? 0 : tm_error_openssl(err, EIO, "SHA-256 failed");
}

/* Runs alternate between the two, so drift in machine load hits both alike;
 * run 0 is an untimed warm-up of each. */
static int time_both(const struct tm_layout *layout, const uint8_t *buf, size_t len,
                     unsigned runs, struct results *res, tm_error *err)
{
    double tm[runs + 1], ts[runs + 1];
    for (unsigned r = 0; r <= runs; r++) {
        int ret = time_measure_once(layout, &tm[r], err);
        if (ret == 0)
            ret = time_sha256_once(buf, len, &ts[r], err);
        if (ret < 0)
            return ret;
    }
    res->measure_s = tm_bench_median(tm + 1, runs);
    res->sha_s = tm_bench_median(ts + 1, runs);
    return 0;
}

static int bench_synthetic(const struct options *o, struct results *res, tm_error *err)
{
    size_t len = (size_t)o->size_mib << 20;
    _cleanup_free_ uint8_t *buf = malloc(len);
    if (!buf)
        return tm_error_set(err, ENOMEM, "cannot allocate %u MiB", o->size_mib);
    fill_random(buf, len);

    struct tm_page_range range = {
        .offset = 0, .size = len, .secinfo_flags = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W,
        .data = buf, .data_len = len, .measured = true, .kind = TM_RANGE_SEGMENT,
    };
    struct tm_layout layout = {
        .settings = { .version = TM_LAYOUT_VERSION, .enclave_size = pow2_at_least(len),
                      .ssa_frame_pages = 1 },
        .nranges = 1, .ranges = &range,
    };
    uint64_t pages = len / SGX_PAGE_SIZE;
    res->data_bytes = len;
    /* ECREATE + per page one EADD block and 16 x (64-byte header + 256 bytes). */
    res->hashed_bytes = 64 + pages * (64 + 16 * (64 + SGX_EEXTEND_CHUNK));

    return time_both(&layout, buf, len, o->runs, res, err);
}

static int bench_image(const struct options *o, struct results *res, tm_error *err)
{
    const char *path = o->image;
    if (!path) {
        if (access(DEFAULT_IMAGE, R_OK) != 0)
            return 0;   /* nothing to measure: reported as skipped */
        path = DEFAULT_IMAGE;
    }
    _cleanup_image_ struct tm_image *image = NULL;
    int ret = tm_image_load(path, &image, err);   /* its messages name the path */
    if (ret < 0)
        return ret;
    res->image.path = path;
    res->image.added_bytes = tm_layout_added_bytes(&image->layout);
    res->image.measured_bytes = tm_layout_measured_bytes(&image->layout);
    double t[o->runs];
    for (unsigned r = 0; ret == 0 && r < o->runs; r++)
        ret = time_measure_once(&image->layout, &t[r], err);
    if (ret == 0)
        res->image.seconds = tm_bench_median(t, o->runs);
    res->have_image = ret == 0;
    return ret;
}

static double mibps(uint64_t bytes, double s)
{
    return s > 0 ? (double)bytes / MIB / s : 0;
}

static json_t *results_json(const struct options *o, const struct results *r, const char *cpu)
{
    double m = mibps(r->data_bytes, r->measure_s), s = mibps(r->data_bytes, r->sha_s);
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:b, s:i, s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:b}",
        "benchmark", "measure", "cpu", cpu, "openssl", OpenSSL_version(OPENSSL_VERSION),
        "sha_ni", tm_bench_cpu_flag("sha_ni"), "size_mib", (int)o->size_mib, "runs", (int)o->runs,
        "data_bytes", (json_int_t)r->data_bytes, "hashed_bytes", (json_int_t)r->hashed_bytes,
        "measure_seconds_median", r->measure_s, "sha256_seconds_median", r->sha_s,
        "measure_mib_per_s", m, "sha256_mib_per_s", s, "ratio", m > 0 ? s / m : 0,
        "hashed_bytes_factor", (double)r->hashed_bytes / (double)r->data_bytes,
        "target_ratio", TARGET_RATIO, "meets_target", m > 0 && s / m <= TARGET_RATIO);
    if (!j)
        return NULL;
    json_t *img = r->have_image
        ? json_pack("{s:s, s:I, s:I, s:f, s:f}", "path", r->image.path,
                    "added_bytes", (json_int_t)r->image.added_bytes,
                    "measured_bytes", (json_int_t)r->image.measured_bytes,
                    "seconds_median", r->image.seconds,
                    "measured_mib_per_s", mibps(r->image.measured_bytes, r->image.seconds))
        : json_null();
    json_object_set_new(j, "image", img ? img : json_null());
    return j;
}

/* The table, as Markdown: printed and written to measure.md. */
static char *results_markdown(const struct options *o, const struct results *r, const char *cpu)
{
    double m = mibps(r->data_bytes, r->measure_s), s = mibps(r->data_bytes, r->sha_s);
    double ratio = m > 0 ? s / m : 0;
    double factor = (double)r->hashed_bytes / (double)r->data_bytes;
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    if (!f)
        return NULL;
    fprintf(f, "# Measurement throughput\n\n");
    fprintf(f, "CPU: %s (SHA-NI: %s); %s; %u MiB, median of %u runs.\n\n", cpu,
            tm_bench_cpu_flag("sha_ni") ? "yes" : "no", OpenSSL_version(OPENSSL_VERSION), o->size_mib,
            o->runs);
    fprintf(f, "| what | median time | MiB/s of enclave data |\n|---|---:|---:|\n");
    fprintf(f, "| plain SHA-256 (EVP, one buffer) | %.1f ms | %.0f |\n", r->sha_s * 1e3, s);
    fprintf(f, "| tm_measure_layout (all pages measured) | %.1f ms | %.0f |\n",
            r->measure_s * 1e3, m);
    fprintf(f, "\nratio = SHA-256 / measurement throughput = **%.2f** (target <= %.1f: %s)\n",
            ratio, TARGET_RATIO, ratio <= TARGET_RATIO ? "met" : "NOT met");
    fprintf(f, "\nMeasurement hashes %.4fx the data (64-byte header per 256-byte chunk, "
            "plus one 64-byte EADD block per page), so %.2f is the floor; the measurement "
            "hashes at %.0f MiB/s of SHA-256 input, %.0f%% of plain SHA-256.\n",
            factor, factor, m * factor, s > 0 ? 100 * m * factor / s : 0);
    if (r->have_image)
        fprintf(f, "\nImage %s: %.1f KiB added, %.1f KiB measured, measured in %.3f ms "
                "(%.0f MiB/s of measured data).\n", r->image.path,
                (double)r->image.added_bytes / 1024, (double)r->image.measured_bytes / 1024,
                r->image.seconds * 1e3, mibps(r->image.measured_bytes, r->image.seconds));
    else
        fprintf(f, "\nImage: skipped (no %s; pass --image PATH).\n", DEFAULT_IMAGE);
    fclose(f);
    return md;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "size-mib", required_argument, NULL, 's' }, { "runs", required_argument, NULL, 'r' },
        { "out", required_argument, NULL, 'o' },      { "image", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },           { 0, 0, 0, 0 },
    };
    *o = (struct options){ .size_mib = 64, .runs = 5, .out_dir = "bench/results" };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 's' && parse_uint(optarg, 1, 16384, &o->size_mib) == 0)
            continue;
        if (c == 'r' && parse_uint(optarg, 1, 1000, &o->runs) == 0)
            continue;
        if (c == 'o' || c == 'i') {
            *(c == 'o' ? &o->out_dir : &o->image) = optarg;
            continue;
        }
        fprintf(stderr, "usage: %s [--size-mib 1..16384] [--runs 1..1000] [--out DIR] "
                "[--image PATH]\n", argv[0]);
        return -1;
    }
    return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    struct results res = { 0 };
    tm_error err = { 0 };
    char cpu[256];
    tm_bench_cpu_model(cpu, sizeof(cpu));
    int ret = bench_synthetic(&o, &res, &err);
    if (ret == 0)
        ret = bench_image(&o, &res, &err);
    if (ret < 0) {
        fprintf(stderr, "measure: %s\n", err.msg);
        return 1;
    }
    _cleanup_free_ char *md = results_markdown(&o, &res, cpu);
    json_t *j = results_json(&o, &res, cpu);
    if (!md || !j) {
        fprintf(stderr, "measure: out of memory\n");
        json_decref(j);
        return 1;
    }
    fputs(md, stdout);
    ret = tm_bench_write_results(o.out_dir, "measure", md, j, &err);
    json_decref(j);
    if (ret < 0) {
        fprintf(stderr, "measure: %s\n", err.msg);
        return 1;
    }
    printf("\nwrote %s/measure.json and %s/measure.md\n", o.out_dir, o.out_dir);
    return 0;
}
