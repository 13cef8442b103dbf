/* The functions application's ecalls and ocalls: the one contract between
 * apps/functions/enclave (inside) and apps/functions/host (outside). Numbers
 * of ecalls from 64 (the runtime's own stop at 16, examples use 16..63), of
 * ocalls in the application range of abi/tm_ecall.h.
 *
 * FN_ECALL_LOAD  in: the function's scripts, each a struct fn_script header
 *                followed by its name and its source (several: libraries
 *                first, e.g. mustache.js, the function last). Each is compiled
 *                once to Duktape bytecode, kept in the enclave-global heap for
 *                every instance. Value 0, or FN_RESULT_ERROR with out = the
 *                error JSON ({"error": "SyntaxError: ... (line N)", "line": N,
 *                "script": NAME}), or -errno (-EEXIST: code already loaded).
 * FN_ECALL_RUN   in: struct fn_run_request, env JSON (env_len), params JSON. Creates this
 *                slot's instance (its own Duktape heap) on first use, loads the
 *                bytecode into it without compiling, calls main(params). Value
 *                FN_RESULT_OK with out = the result JSON object, FN_RESULT_ERROR
 *                with out = {"error": "..."}, or -errno (-ENOENT: no code,
 *                -EBUSY: another thread of the container is running it).
 *                A result larger than out_cap (up to FN_MAX_RESULT) is kept:
 *                value FN_RESULT_PENDING with out = its length (uint64_t).
 * FN_ECALL_RESULT in: nothing; out: the kept result (out_cap >= its length).
 *                Value FN_RESULT_OK, or -ENOENT (none kept), -ENOBUFS.
 * FN_ECALL_STATS in: nothing; out: struct fn_stats of this slot's instance.
 * FN_ECALL_LOAD_SEAL  as FN_ECALL_LOAD, and on FN_RESULT_OK out = the same
 *                scripts sealed (tm_seal, MRENCLAVE policy: only this image
 *                unseals them), FN_SEALED_OVERHEAD + in_len bytes: what the
 *                host keeps on disk instead of the code.
 * FN_ECALL_LOAD_SEALED in: such a blob; unsealed inside, then as
 *                FN_ECALL_LOAD. -EBADMSG: it does not authenticate (tampered,
 *                sealed by another image or on another machine); nothing loaded. */
#ifndef FN_ABI_H
#define FN_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FN_ECALL_LOAD 64
#define FN_ECALL_RUN 65
#define FN_ECALL_STATS 66
#define FN_ECALL_RESULT 67
#define FN_ECALL_LOAD_SEAL 68
#define FN_ECALL_LOAD_SEALED 69

/* Bytes a sealed blob adds to what it seals (struct tm_sealed_header). */
#define FN_SEALED_OVERHEAD 104

#define FN_RESULT_OK 0
#define FN_RESULT_ERROR 1
#define FN_RESULT_PENDING 2

#define FN_MAX_SCRIPTS 8
#define FN_MAX_SCRIPT_NAME 64
#define FN_MAX_SOURCE (8U << 20)
#define FN_MAX_PARAMS (4U << 20)
/* The result room the host gives FN_ECALL_RUN (an enclave buffer in the
 * slot, zeroed per call: kept small); a larger result is fetched with
 * FN_ECALL_RESULT, up to FN_MAX_RESULT (beyond: an error result). */
#define FN_RUN_OUT (16U << 10)
#define FN_MAX_RESULT (8U << 20)

struct fn_script {
    uint32_t name_len;   /* bytes, no NUL; 1..FN_MAX_SCRIPT_NAME */
    uint32_t source_len; /* bytes, <= FN_MAX_SOURCE */
};

struct fn_run_request {
    uint64_t timeout_ms;    /* the run's time limit (0: FN_DEFAULT_TIMEOUT_MS) */
    uint64_t memory_limit;  /* bytes the instance's JS heap may hold (0: no cap of its own) */
    uint32_t env_len;       /* bytes of env JSON object between this and params (0: none) */
    uint32_t flags;         /* FN_RUN_* */
};
/* Make the instance and run its top level (with env), but call no main:
 * OpenWhisk's /init, which reports a throwing top level. Result {} or the
 * "Initialization has failed due to: ..." error. */
#define FN_RUN_BOOT_ONLY 1U
/* env's members are merged into the global process.env (OpenWhisk's __OW_*
 * values; Duktape has no process object of its own) before the top level
 * runs and before each main call. */

#define FN_DEFAULT_TIMEOUT_MS 60000   /* OpenWhisk's default */

struct fn_stats {
    uint64_t heap_bytes;      /* live bytes of this instance's Duktape heap */
    uint64_t heap_peak;
    uint64_t runs;            /* main() calls in this instance */
    uint64_t create_ns;       /* heap create + bytecode load, first run */
    uint64_t load_ns;         /* of create_ns: the bytecode loaded and its top level run */
};

/* Host services. Inputs are NUL-free strings of bounded length, checked by the
 * enclave before the ocall and by the host again. */
#define FN_OCALL_LOG 0x100        /* in: the line (no NUL); result 0 */
#define FN_OCALL_SLEEP 0x101      /* in: uint64_t ms; result 0 */
#define FN_OCALL_HTTP_GET 0x102   /* in: URL; out: the body; result: its full length */
#define FN_OCALL_STORE_PUT 0x103  /* in: struct fn_store_names, bucket, key, data; result 0 */
#define FN_OCALL_STORE_GET 0x104  /* in: struct fn_store_names, bucket, key; out: data;
                                   * result: its full length (> out_cap: too large) */

#define FN_MAX_LOG 4096
#define FN_MAX_URL 2048
#define FN_MAX_NAME 255            /* bucket or key */
#define FN_MAX_SLEEP_MS 600000
/* The largest HTTP body or stored object one call moves, and the ocall
 * scratch buffer the host gives FN_ECALL_RUN to carry it. */
#define FN_TRANSFER_MAX (1U << 20)
#define FN_SCRATCH_SIZE (FN_TRANSFER_MAX + (64U << 10))

struct fn_store_names {
    uint32_t bucket_len, key_len;
};

/* A bucket or key: 1..FN_MAX_NAME of [A-Za-z0-9._-], not "." or "..": never
 * a path of its own (no '/'), never a way up. Both sides check. */
static inline int fn_name_is_valid(const char *s, size_t len)
{
    if (len == 0 || len > FN_MAX_NAME || (len == 1 && s[0] == '.') ||
        (len == 2 && s[0] == '.' && s[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* An URL the HTTP service takes: "http://", then printable ASCII, no space. */
static inline int fn_url_is_valid(const char *s, size_t len)
{
    if (len <= 7 || len > FN_MAX_URL || memcmp(s, "http://", 7) != 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

#endif
