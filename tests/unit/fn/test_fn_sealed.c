/* A function's sealed code (FN_ECALL_LOAD_SEAL / FN_ECALL_LOAD_SEALED) on
 * private sim enclaves of fn.elf: the blob never holds the code in the clear;
 * a fresh enclave of the same image takes it up and runs it; every byte of
 * the header and a spread of payload bytes flipped, a truncated or extended
 * blob, and a blob offered to another image are each refused with -EBADMSG
 * and leave nothing loaded (the run after them finds no code). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon_fixture.h"
#include "enclave/devkey.h"
#include "fn_host.h"

static const char marker_js[] =
    "var secret = 'sealed-unit-marker-7f3a';\n"
    "function main(p) { return { len: secret.length, n: p.n }; }\n";

struct fn_private {
    struct tm_image *image;
    struct sgx_sigstruct ss;
};

/* fn.elf for one instance of memory bytes, heap on demand, signed. */
static void private_image(uint64_t memory, struct fn_private *p)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    char path[256], key[4200];
    snprintf(path, sizeof path, "%s/apps/functions/fn.elf", build);
    tm_error err = { 0 };
    struct tm_image *base = NULL;
    int r = tm_image_load(path, &base, &err);
    if (r == 0)
        r = fn_strawman_image(base, memory, true, &p->image, &err);
    if (r == 0)
        r = tm_devkey_sign(p->image, &p->ss, key, sizeof key, &err);
    tm_image_free(base);
    if (r < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(r == 0);
}

static struct tm_enclave *private_enclave(const struct fn_private *p)
{
    const struct tm_backend_ops *ops;
    struct tm_enclave *e = NULL;
    tm_error err = { 0 };
    int r = tm_backend_select(TM_BACKEND_SIM, &ops, &err);
    if (r == 0)
        r = tm_enclave_build(p->image, &p->ss, ops, &e, &err);
    if (r < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(r == 0);
    return e;
}

static const struct fn_services services = { .log_fd = 2 };

/* load_sealed of blob[0..len) with byte at (if < len) flipped: its errno. */
static int load_sealed(struct tm_enclave *e, const uint8_t *blob, size_t len, size_t at)
{
    uint8_t *copy = malloc(len ? len : 1);
    REQUIRE(copy != NULL);
    memcpy(copy, blob, len);
    if (at < len)
        copy[at] ^= 0x01;
    tm_error err = { 0 };
    int r = fn_target_load_sealed(&(struct fn_target){ .enclave = e }, &services, copy, len, NULL, &err);
    free(copy);
    return r;
}

/* main({"n": n}) in e: its JSON (malloc'ed), or NULL with *r = -errno. */
static char *run(struct tm_enclave *e, int n, int *r)
{
    char params[32];
    snprintf(params, sizeof params, "{\"n\":%d}", n);
    struct fn_run_request req = { .timeout_ms = 5000, .memory_limit = 8U << 20 };
    struct fn_result res = { 0 };
    tm_error err = { 0 };
    *r = fn_target_run(&(struct fn_target){ .enclave = e }, &services, &req, params, &res, &err);
    return *r == 0 ? res.json : NULL;
}

static void test_sealed_code(void)
{
    struct fn_private img = { 0 }, other = { 0 };
    private_image(8U << 20, &img);
    private_image(12U << 20, &other);   /* another layout: another MRENCLAVE */

    struct fn_source src = { "main.js", marker_js, strlen(marker_js) };
    void *wire = NULL, *blob = NULL;
    size_t wire_len, len = 0;
    tm_error err = { 0 };
    REQUIRE(fn_sources_pack(&src, 1, &wire, &wire_len, &err) == 0);
    struct tm_enclave *a = private_enclave(&img);
    int r = fn_target_load_seal(&(struct fn_target){ .enclave = a }, &services, wire, wire_len, &blob,
                                &len, NULL, &err);
    if (r < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(r == 0);
    CHECK_EQ_INT(len, wire_len + FN_SEALED_OVERHEAD);
    CHECK(memmem(blob, len, "sealed-unit-marker", 18) == NULL);
    CHECK(memmem(blob, len, "function main", 13) == NULL);
    /* the sealing enclave: it authenticates (then finds its code loaded) */
    CHECK_EQ_INT(load_sealed(a, blob, len, SIZE_MAX), -EEXIST);
    tm_enclave_destroy(a);

    /* a fresh enclave of the same image: every tampered form refused */
    struct tm_enclave *b = private_enclave(&img);
    int refused = 0, tried = 0;
    for (size_t at = 0; at < len; at += at < FN_SEALED_OVERHEAD ? 1 : 13) {
        tried++;
        refused += load_sealed(b, blob, len, at) == -EBADMSG;
    }
    tried += 4;
    refused += load_sealed(b, blob, len - 1, SIZE_MAX) == -EBADMSG;
    refused += load_sealed(b, blob, FN_SEALED_OVERHEAD, SIZE_MAX) == -EBADMSG;
    refused += load_sealed(b, blob, 10, SIZE_MAX) == -EBADMSG;
    uint8_t *longer = calloc(1, len + 1);
    REQUIRE(longer != NULL);
    memcpy(longer, blob, len);
    refused += load_sealed(b, longer, len + 1, SIZE_MAX) == -EBADMSG;
    free(longer);
    CHECK_EQ_INT(refused, tried);
    CHECK(tried > FN_SEALED_OVERHEAD + 10);
    char *json = run(b, 1, &r);
    CHECK_EQ_INT(r, -ENOENT);   /* nothing of them was loaded */
    free(json);
    CHECK_EQ_INT(load_sealed(b, blob, len, SIZE_MAX), 0);
    json = run(b, 2, &r);
    CHECK_EQ_INT(r, 0);
    CHECK_STR_CONTAINS(json, "{\"len\":23,\"n\":2}");
    free(json);
    tm_enclave_destroy(b);

    /* another image cannot unseal it */
    struct tm_enclave *c = private_enclave(&other);
    CHECK_EQ_INT(load_sealed(c, blob, len, SIZE_MAX), -EBADMSG);
    json = run(c, 3, &r);
    CHECK_EQ_INT(r, -ENOENT);
    free(json);
    tm_enclave_destroy(c);

    free(blob);
    free(wire);
    tm_image_free(img.image);
    tm_image_free(other.image);
}

int main(void)
{
    fixture_init("fn-sealed");
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    char path[256];
    snprintf(path, sizeof path, "%s/apps/functions/fn.elf", build);
    if (access(path, R_OK) != 0) {
        printf("skip - test_fn_sealed: %s is not built\n", path);
        return 0;
    }
    RUN(test_sealed_code);
    fixture_finish();
    TEST_EXIT();
}
