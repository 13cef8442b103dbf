/* Running a JS function from the host: natively (fn_native.c, the runtime in
 * this process) or in a shared enclave through an attachment (fn_enclave.c).
 * The same calls, the same results. Return 0 or -errno with err filled. */
#ifndef FN_HOST_H
#define FN_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "fn_abi.h"
#include "fn_services.h"
#include "enclave/enclave.h"
#include "shared/attach.h"
#include "util/error.h"

/* One script of a function: libraries first, the function last. */
struct fn_source {
    const char *name;   /* for messages: "main.js" */
    const char *text;
    size_t len;
};

/* FN_ECALL_LOAD's input for n scripts; *wire is malloc'ed. */
int fn_sources_pack(const struct fn_source *src, size_t n, void **wire, size_t *len, tm_error *err);

/* The same from files (each named by its base name). */
int fn_sources_read(char *const *paths, size_t n, void **wire, size_t *len, tm_error *err);

/* What main(params) gave: a JSON object, either the result (ok) or an error
 * result {"error": ...}. json is malloc'ed and NUL-terminated. */
struct fn_result {
    bool ok;
    char *json;
    size_t len;
};
void fn_result_free(struct fn_result *r);

/* Load: -EINVAL when a script does not compile (err: Duktape's message with
 * its line; *error_json, when not NULL, gets the error JSON, malloc'ed);
 * -EEXIST when code is loaded already. */
/* Run: 0 with a result (ok or an error result), or -errno when it could not
 * run (-ENOENT: nothing loaded). */

/* Natively: services used directly, the instance in this process. */
void fn_native_init(const struct fn_services *services);
int fn_native_load(const void *wire, size_t len, char **error_json, tm_error *err);
int fn_native_run(const struct fn_run_request *req, const char *params, struct fn_result *result,
                  tm_error *err);
void fn_native_stats(struct fn_stats *stats);
/* As the runs above, with env (a JSON object, NULL: none) merged into the
 * function's process.env first, and req->flags (FN_RUN_BOOT_ONLY). */
int fn_native_run_env(const struct fn_run_request *req, const char *env, const char *params,
                      struct fn_result *result, tm_error *err);

/* In a shared enclave (thread 0 of the attachment; its slot holds the
 * instance); services reached through the ocall hook. */
int fn_enclave_load(struct tm_attachment *a, const struct fn_services *services, const void *wire,
                    size_t len, char **error_json, tm_error *err);
int fn_enclave_run(struct tm_attachment *a, const struct fn_services *services,
                   const struct fn_run_request *req, const char *params, struct fn_result *result,
                   tm_error *err);
int fn_enclave_stats(struct tm_attachment *a, struct fn_stats *stats, tm_error *err);

/* The same on either an attachment (teemate) or a private enclave built in
 * this process (strawman): exactly one of the two is set. */
struct fn_target {
    struct tm_attachment *attachment;
    const struct tm_enclave *enclave;
};
int fn_target_load(const struct fn_target *t, const struct fn_services *services, const void *wire,
                   size_t len, char **error_json, tm_error *err);
int fn_target_run(const struct fn_target *t, const struct fn_services *services,
                  const struct fn_run_request *req, const char *params, struct fn_result *result,
                  tm_error *err);
int fn_target_run_env(const struct fn_target *t, const struct fn_services *services,
                      const struct fn_run_request *req, const char *env, const char *params,
                      struct fn_result *result, tm_error *err);
int fn_target_stats(const struct fn_target *t, struct fn_stats *stats, tm_error *err);
/* As fn_target_load, and the enclave seals the scripts it compiled (MRENCLAVE
 * policy): *sealed (malloc'ed, *sealed_len bytes) is what the host may keep. */
int fn_target_load_seal(const struct fn_target *t, const struct fn_services *services,
                        const void *wire, size_t len, void **sealed, size_t *sealed_len,
                        char **error_json, tm_error *err);
/* Load from such a blob (unsealed and compiled inside); -EBADMSG when it does
 * not authenticate (nothing is loaded then). */
int fn_target_load_sealed(const struct fn_target *t, const struct fn_services *services,
                          const void *blob, size_t len, char **error_json, tm_error *err);

/* The strawman mode (fn_strawman.c): every invoke builds a fresh enclave
 * from the image sized for one instance (the image's own regions, one
 * thread, no slots, its global heap grown by the memory limit and committed
 * before EINIT, as an SGX1 enclave must), compiles the scripts inside it
 * (FN_ECALL_LOAD), runs once, and destroys it. Times in ms. The EDMM
 * strawman is the same enclave but only the image and its TCS are added
 * before EINIT: the heap is added as it grows (EAUG + EACCEPT, SGX2). */
struct fn_strawman_stats {
    double sign_ms;          /* SIGSTRUCT with the development key (a real platform ships it) */
    double create_ms, add_ms, init_ms;   /* the build: ECREATE, EADD+EEXTEND, EINIT */
    uint64_t pages_added;
    uint64_t enclave_size;
    double load_ms;          /* FN_ECALL_LOAD: the first entry and the compile */
    double heap_ms;          /* the instance's heap create + bytecode load (inside) */
    double code_ms;          /* of heap_ms: the bytecode load */
    double run_ms;           /* FN_ECALL_RUN less heap_ms */
    double destroy_ms;
    uint64_t expand_pages;   /* EDMM: heap pages added on demand */
    double expand_ms;        /* EDMM: the time their EAUG + EACCEPT took */
    uint64_t epc_pages;      /* every page the enclave held at its end */
};
/* The teemate mode (fn_shared_image.c): fn.elf for `instances` concurrent
 * instances (1..FN_MAX_INSTANCES) of `memory` bytes of JS heap each (a slot
 * each), its TCSs and FN_SHARED_HEAP of global heap added on demand; and an
 * image as an unlinked file to hand teemated. */
#define FN_DEFAULT_INSTANCES 64
#define FN_MAX_INSTANCES 255   /* + teemated's own TCS: the layout's 256 */
#define FN_SHARED_HEAP (256ULL << 20)
int fn_shared_image(const struct tm_image *base, uint32_t instances, uint64_t memory,
                    struct tm_image **out, tm_error *err);

/* The one-instance image of base (*out: free with tm_image_free). */
int fn_strawman_image(const struct tm_image *base, uint64_t memory, bool heap_on_demand,
                      struct tm_image **out, tm_error *err);
/* A strawman enclave that outlives one run (`fn serve`): image_path's
 * one-instance image (*image, which *e borrows) signed with the development
 * key and built; the caller destroys *e, then frees *image. */
int fn_strawman_build(const char *image_path, uint64_t memory, bool heap_on_demand,
                      struct tm_image **image, struct tm_enclave **e, tm_error *err);
/* A script that does not compile is -EINVAL with err as fn_native_load's. */
int fn_strawman_invoke(const char *image_path, uint64_t memory, const struct fn_services *services,
                       const void *wire, size_t len, const struct fn_run_request *req,
                       const char *params, struct fn_result *result, struct fn_strawman_stats *st,
                       tm_error *err);
int fn_strawman_edmm_invoke(const char *image_path, uint64_t memory, const struct fn_services *services,
                            const void *wire, size_t len, const struct fn_run_request *req,
                            const char *params, struct fn_result *result,
                            struct fn_strawman_stats *st, tm_error *err);

/* Shared by both: the ecall's (or the native call's) answer as a result. */
int fn_host_finish_load(int rc, char *out, size_t out_len, char **error_json, tm_error *err);
/* FN_ECALL_RUN's input and output around a runner of ecall (FN_ECALL_RUN,
 * then FN_ECALL_RESULT for a large result) in the enclave or here: *rc is
 * its answer. */
typedef int (*fn_host_runner)(void *ctx, uint32_t ecall, const void *in, size_t in_len, void *out,
                              size_t out_cap, int *rc, size_t *out_len, tm_error *err);
int fn_host_run(const struct fn_run_request *req, const char *params, fn_host_runner runner,
                void *ctx, struct fn_result *result, tm_error *err);
int fn_host_run_env(const struct fn_run_request *req, const char *env, const char *params,
                    fn_host_runner runner, void *ctx, struct fn_result *result, tm_error *err);

#endif
