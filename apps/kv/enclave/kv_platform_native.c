/* The store's platform natively (unit tests, the fuzz target, the host's
 * --no-enclave engine): one store per process, the C library's allocator,
 * randomness from the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "kv_entry.h"
#include "kv_server.h"

static struct kv_server *kv_native_root;

struct kv_server *kv_platform_root(void) { return kv_native_root; }
void kv_platform_set_root(struct kv_server *s) { kv_native_root = s; }

uint64_t kv_platform_random_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != sizeof v)
        abort();   /* no seed, no keyed hash: refuse to run on a guessable one */
    return v;
}

void *kv_platform_alloc(size_t n) { return malloc(n); }
void *kv_platform_realloc(void *p, size_t n) { return realloc(p, n); }
void kv_platform_free(void *p) { free(p); }

void *kv_platform_alloc_aligned(size_t align, size_t n)
{
    void *p;
    return posix_memalign(&p, align, n) ? NULL : p;
}

size_t kv_platform_rss(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Persistence natively: a snapshot child is a fork(2) with its own copy of
 * the store; files are plain (nothing to seal them with); the host serves
 * the file calls through the function it registered. */
const struct kv_server *kv_platform_snapshot_parent(void) { return kv_native_root; }
bool kv_platform_seals(void) { return false; }

static kv_host_call_fn kv_native_host;

void kv_platform_native_set_host(kv_host_call_fn fn) { kv_native_host = fn; }

long kv_platform_host_call(uint32_t number, const void *in, size_t in_len, void *out,
                           size_t out_cap, size_t *out_len)
{
    if (out_len)
        *out_len = 0;
    if (!kv_native_host)
        return -ENOSYS;
    return kv_native_host(number, in, in_len, out, out_cap, out_len);
}

/* No EGETKEY natively: sealing works only with a key a test set, from which
 * each request's key is derived as EGETKEY would (another key_id, another
 * key). Nothing in the server sets one. */
static bool kv_native_has_seal_key;
static uint8_t kv_native_seal_key[16];

void kv_platform_set_test_seal_key(const uint8_t key[16])
{
    kv_native_has_seal_key = key != NULL;
    if (key)
        memcpy(kv_native_seal_key, key, sizeof kv_native_seal_key);
    else
        mbedtls_platform_zeroize(kv_native_seal_key, sizeof kv_native_seal_key);
}

int kv_platform_seal_identity(struct kv_seal_keyreq *req)
{
    if (!kv_native_has_seal_key)
        return -ENOTSUP;
    memset(req->cpu_svn, 0, sizeof req->cpu_svn);
    req->isv_svn = 0;
    return 0;
}

int kv_platform_seal_key(const struct kv_seal_keyreq *req, uint8_t key[16])
{
    if (!kv_native_has_seal_key)
        return -ENOTSUP;
    uint8_t digest[32];
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    int r = mbedtls_sha256_starts_ret(&c, 0);
    if (r == 0)
        r = mbedtls_sha256_update_ret(&c, kv_native_seal_key, sizeof kv_native_seal_key);
    if (r == 0)
        r = mbedtls_sha256_update_ret(&c, req->key_id, sizeof req->key_id);
    if (r == 0)
        r = mbedtls_sha256_update_ret(&c, req->cpu_svn, sizeof req->cpu_svn);
    uint8_t tail[4] = { (uint8_t)req->isv_svn, (uint8_t)(req->isv_svn >> 8),
                        (uint8_t)req->policy, (uint8_t)(req->policy >> 8) };
    if (r == 0)
        r = mbedtls_sha256_update_ret(&c, tail, sizeof tail);
    if (r == 0)
        r = mbedtls_sha256_finish_ret(&c, digest);
    mbedtls_sha256_free(&c);
    if (r == 0)
        memcpy(key, digest, 16);
    mbedtls_platform_zeroize(digest, sizeof digest);
    return r == 0 ? 0 : -EIO;
}

/* The host's files for the current persistence call: its own functions
 * (apps/kv/host/kvh_files.c), the same that serve the enclave's ocalls. */
static long (*kv_native_file_read)(void *p, size_t n);
static int (*kv_native_file_write)(const void *p, size_t n);

void kv_platform_set_files(long (*read_fn)(void *p, size_t n),
                           int (*write_fn)(const void *p, size_t n))
{
    kv_native_file_read = read_fn;
    kv_native_file_write = write_fn;
}

long kv_platform_file_read(void *p, size_t n)
{
    return kv_native_file_read ? kv_native_file_read(p, n) : -EBADF;
}

int kv_platform_file_write(const void *p, size_t n)
{
    return kv_native_file_write ? kv_native_file_write(p, n) : -EBADF;
}
