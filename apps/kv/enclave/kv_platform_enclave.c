/* The store's platform inside the enclave: the store is anchored in the
 * container slot this thread serves (tm_slot_root), so every attached server
 * process has its own, and a snapshot child finds its parent's; malloc lands
 * in that slot; randomness from RDRAND, never from the host. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "kv_server.h"
#include "sgx_arch.h"
#include "teemate_enclave.h"

/* A private enclave (teemate enclave run) has no slot: one store for the enclave. */
static struct kv_server *kv_no_slot_root;

struct kv_server *kv_platform_root(void)
{
    void *root = tm_slot_root();
    return root ? root : (tm_slot_current() < 0 ? kv_no_slot_root : NULL);
}

void kv_platform_set_root(struct kv_server *s)
{
    if (tm_slot_current() >= 0)
        tm_slot_set_root(s);
    else
        kv_no_slot_root = s;
}

uint64_t kv_platform_random_u64(void) { return tm_random_u64(); }
void *kv_platform_alloc(size_t n) { return malloc(n); }
void *kv_platform_realloc(void *p, size_t n) { return realloc(p, n); }
void kv_platform_free(void *p) { free(p); }

void *kv_platform_alloc_aligned(size_t align, size_t n)
{
    void *p;
    return posix_memalign(&p, align, n) ? NULL : p;
}

/* The slot's committed pages: what the store takes of the enclave's memory. */
size_t kv_platform_rss(void) { return tm_slot_committed(); }

/* Persistence in the enclave: a snapshot child is attached to this same
 * enclave and reads its parent's slot in place; files are sealed; file
 * calls are ocalls. */
const struct kv_server *kv_platform_snapshot_parent(void) { return tm_slot_parent_root(); }
bool kv_platform_seals(void) { return true; }

long kv_platform_host_call(uint32_t number, const void *in, size_t in_len, void *out,
                           size_t out_cap, size_t *out_len)
{
    size_t got = 0;
    long r = tm_ocall_app(number, in, in_len, out, out_cap, &got);
    if (out_len)
        *out_len = got;
    return r;
}

/* Sealing keys as tm_seal derives them (trusted/crypto/tm_seal.c): the key
 * depends on INIT, DEBUG and MODE64BIT (a debug enclave never gets a
 * production enclave's key) and, with MRSIGNER policy, on the signer and
 * product, not on MRENCLAVE: a signed upgrade of kv.elf reads the files. */
#define KV_SEAL_ATTRIBUTE_MASK (SGX_ATTR_INIT | SGX_ATTR_DEBUG | SGX_ATTR_MODE64BIT)
#define KV_SEAL_MISC_MASK 0xF0000000U

int kv_platform_seal_identity(struct kv_seal_keyreq *req)
{
    struct sgx_report self;
    int r = tm_report(NULL, NULL, &self);
    if (r < 0)
        return r;
    memcpy(req->cpu_svn, self.body.cpu_svn, sizeof req->cpu_svn);
    req->isv_svn = self.body.isv_svn;
    return 0;
}

int kv_platform_seal_key(const struct kv_seal_keyreq *req, uint8_t key[16])
{
    struct sgx_keyrequest kr;
    memset(&kr, 0, sizeof kr);
    kr.key_name = SGX_KEY_SEAL;
    kr.key_policy = req->policy;
    kr.isv_svn = req->isv_svn;
    memcpy(kr.cpu_svn, req->cpu_svn, sizeof kr.cpu_svn);
    kr.attribute_mask.flags = KV_SEAL_ATTRIBUTE_MASK;
    memcpy(kr.key_id, req->key_id, sizeof kr.key_id);
    kr.misc_mask = KV_SEAL_MISC_MASK;
    int r = tm_getkey(&kr, key);
    mbedtls_platform_zeroize(&kr, sizeof kr);
    /* -EACCES, -EINVAL: SVNs above ours or a policy this enclave cannot
     * have made: a file that is not ours to read */
    return r == -EACCES || r == -EINVAL ? -EBADMSG : r;
}

/* The host's files through the ecall's scratch buffer: transfers are cut to
 * what it holds (halved on -E2BIG; 60 KiB fits the default 64 KiB). */
#define KV_FILE_OCALL_MAX (60U * 1024)
#define KV_FILE_OCALL_MIN 512U

long kv_platform_file_read(void *p, size_t n)
{
    size_t step = n < KV_FILE_OCALL_MAX ? n : KV_FILE_OCALL_MAX;
    for (;;) {
        uint64_t want = step;
        size_t got = 0;
        long r = tm_ocall_app(KV_OCALL_FILE_READ, &want, sizeof want, p, step, &got);
        if (r == -E2BIG && step > KV_FILE_OCALL_MIN) {
            step /= 2;
            continue;
        }
        if (r < 0)
            return r;
        if ((size_t)r != got)
            return -EIO;   /* the host's count and its bytes disagree */
        return r;
    }
}

int kv_platform_file_write(const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t step = KV_FILE_OCALL_MAX;
    while (n) {
        size_t len = n < step ? n : step;
        long r = tm_ocall_app(KV_OCALL_FILE_WRITE, b, len, NULL, 0, NULL);
        if (r == -E2BIG && step > KV_FILE_OCALL_MIN) {
            step /= 2;
            continue;
        }
        if (r < 0)
            return (int)r;
        b += len;
        n -= len;
    }
    return 0;
}
