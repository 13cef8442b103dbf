/* The sim's keys, modelled on SGX: the per-machine root key (sim_root_key.c)
 * stands for the CPU's fused secrets; every EGETKEY/EREPORT key is
 * AES-128-CMAC under a key derived from it, over a derivation buffer filled as the SDM's EGETKEY
 * pseudocode fills TMP_KEYDEPENDENCIES. Sealing keys therefore survive
 * restarts, and only the target of a REPORT can derive the key that MACs it. */
#include "backend/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"

#define ROOT_KEY_SIZE 32

static int sha256_parts(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen,
                        const void *c, size_t clen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, a, alen) &&
             EVP_DigestUpdate(ctx, b, blen) && EVP_DigestUpdate(ctx, c, clen) &&
             EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

int tm_sim_keys_init(struct tm_sim_enclave *e, tm_error *err)
{
    struct tm_sim_key_source *k = &e->keys;
    int ret = tm_sim_root_key(k->root, err);
    if (ret < 0)
        return ret;
    /* CR_REPORT_KEYID is per boot on hardware: the kernel's boot id stands for the boot. */
    _cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, k->boot_id, sizeof(k->boot_id) - 1) : 0;
    k->boot_len = n > 0 ? (uint32_t)n : 0;
    __atomic_store_n(&k->derived, 0, __ATOMIC_RELEASE);
    return 0;
}

/* The CPU keys, derived on first use. Leaves run in signal handlers of any
 * thread, so no lock: a caller that finds them missing derives its own copy
 * and the first to claim the slot stores it (every copy is the same). */
static int cpu_keys(struct tm_sim_enclave *e, struct tm_sim_cpu_keys *out)
{
    struct tm_sim_key_source *k = &e->keys;
    if (__atomic_load_n(&k->derived, __ATOMIC_ACQUIRE) == 2) {
        *out = k->keys;
        return 0;
    }
    static const char cpu_label[] = "TeeMate sim CPU derivation key";
    static const char keyid_label[] = "TeeMate sim REPORT KEYID";
    uint8_t digest[32];
    int ret = 0;
    if (sha256_parts(digest, cpu_label, sizeof(cpu_label), k->root, sizeof(k->root), "", 0) < 0 ||
        sha256_parts(out->report_keyid, keyid_label, sizeof(keyid_label), k->root, sizeof(k->root),
                     k->boot_id, k->boot_len) < 0)
        ret = -EIO;   /* the leaf's caller turns it into #GP */
    memcpy(out->derivation, digest, sizeof(out->derivation));
    explicit_bzero(digest, sizeof(digest));
    uint32_t none = 0;
    if (ret == 0 && __atomic_compare_exchange_n(&k->derived, &none, 1, false, __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE)) {
        k->keys = *out;
        __atomic_store_n(&k->derived, 2, __ATOMIC_RELEASE);
    }
    return ret;
}

/* TMP_KEYDEPENDENCIES: everything a derived key depends on. */
struct key_dependencies {
    uint16_t key_name;
    uint16_t key_policy;
    uint16_t isv_prod_id;
    uint16_t isv_svn;
    uint16_t config_svn;
    uint8_t reserved[6];
    uint8_t isv_family_id[16];
    uint8_t isv_ext_prod_id[16];
    uint8_t owner_epoch[16];        /* zero: the sim has no owner epoch */
    struct sgx_attributes attributes;
    struct sgx_attributes attributes_mask;
    uint8_t mrenclave[32];
    uint8_t mrsigner[32];
    uint8_t key_id[32];
    uint8_t seal_key_fuses[16];     /* zero: the root key already stands for the fuses */
    uint8_t cpu_svn[16];
    uint32_t miscselect;
    uint32_t miscmask;
    uint8_t config_id[64];
} __attribute__((packed));

static int cmac(const uint8_t key[16], const void *data, size_t len, uint8_t out[16])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t outlen = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, 16, params) && EVP_MAC_update(ctx, data, len) &&
             EVP_MAC_final(ctx, out, &outlen, 16) && outlen == 16;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -EIO;
}

static int derive(const struct tm_sim_cpu_keys *keys, const struct key_dependencies *dep, uint8_t key[16])
{
    return cmac(keys->derivation, dep, sizeof(*dep), key);
}

static const uint8_t cpu_svn[16] = TM_SIM_CPUSVN;

/* A requested CPUSVN above the CPU's (as a 128-bit little-endian number). */
static bool cpusvn_beyond(const uint8_t req[16])
{
    for (int i = 15; i >= 0; i--)
        if (req[i] != cpu_svn[i])
            return req[i] > cpu_svn[i];
    return false;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

/* KEYPOLICY bits: MRENCLAVE, MRSIGNER, NOISVPRODID, CONFIGID, ISVFAMILYID, ISVEXTPRODID. */
#define KEYPOLICY_CONFIGID 0x8U
#define KEYPOLICY_ISVFAMILYID 0x10U
#define KEYPOLICY_ISVEXTPRODID 0x20U
#define KEYPOLICY_KSS (SGX_KEYPOLICY_NOISVPRODID | KEYPOLICY_CONFIGID | KEYPOLICY_ISVFAMILYID | \
                       KEYPOLICY_ISVEXTPRODID)
#define KEYPOLICY_ALL (SGX_KEYPOLICY_MRENCLAVE | SGX_KEYPOLICY_MRSIGNER | KEYPOLICY_KSS)

/* The identity parts of SEAL, PROVISION and PROVISION_SEAL keys, chosen by policy. */
static void dep_identity(struct key_dependencies *d, const struct tm_sim_enclave *e,
                         const struct sgx_keyrequest *kr, bool mrenclave, bool mrsigner)
{
    const struct sgx_secs *s = &e->state->secs;
    uint16_t p = kr->key_policy;
    if (mrenclave)
        memcpy(d->mrenclave, s->mrenclave, 32);
    if (mrsigner)
        memcpy(d->mrsigner, s->mrsigner, 32);
    d->isv_prod_id = p & SGX_KEYPOLICY_NOISVPRODID ? 0 : s->isv_prod_id;
    if (p & KEYPOLICY_CONFIGID)
        memcpy(d->config_id, s->config_id, 64);
    if (p & KEYPOLICY_ISVFAMILYID)
        memcpy(d->isv_family_id, e->state->isv_family_id, 16);
    if (p & KEYPOLICY_ISVEXTPRODID)
        memcpy(d->isv_ext_prod_id, e->state->isv_ext_prod_id, 16);
    d->isv_svn = kr->isv_svn;
    d->config_svn = kr->config_svn;
    d->key_policy = p;
    memcpy(d->cpu_svn, kr->cpu_svn, 16);
    d->attributes_mask = kr->attribute_mask;
    d->miscmask = ~kr->misc_mask;
}

int tm_sim_egetkey(struct tm_sim_enclave *e, const struct sgx_keyrequest *kr, uint8_t key[16])
{
    const struct sgx_secs *s = &e->state->secs;
    if (kr->reserved1 || !all_zero(kr->reserved2, sizeof(kr->reserved2)) || (kr->key_policy & ~KEYPOLICY_ALL))
        return TM_SIM_FAULT_GP;
    if ((kr->key_policy & KEYPOLICY_KSS) && !(s->attributes.flags & SGX_ATTR_KSS))
        return TM_SIM_FAULT_GP;

    struct key_dependencies d;
    memset(&d, 0, sizeof(d));
    d.key_name = kr->key_name;
    /* INIT and DEBUG always count; the rest as the enclave's mask asks. */
    d.attributes.flags = (kr->attribute_mask.flags | SGX_ATTR_INIT | SGX_ATTR_DEBUG) & s->attributes.flags;
    d.attributes.xfrm = kr->attribute_mask.xfrm & s->attributes.xfrm;
    d.miscselect = kr->misc_mask & s->miscselect;
    switch (kr->key_name) {
    case SGX_KEY_REPORT:
        /* The enclave's own report key: what EREPORT MACs reports targeted at it with. */
        d.attributes = s->attributes;
        d.miscselect = s->miscselect;
        memcpy(d.mrenclave, s->mrenclave, 32);
        memcpy(d.config_id, s->config_id, 64);
        d.config_svn = s->config_svn;
        memcpy(d.key_id, kr->key_id, 32);
        memcpy(d.cpu_svn, cpu_svn, 16);
        break;
    case SGX_KEY_SEAL:
    case SGX_KEY_PROVISION:
    case SGX_KEY_PROVISION_SEAL:
    case SGX_KEY_EINITTOKEN:
        if (kr->key_name == SGX_KEY_EINITTOKEN && !(s->attributes.flags & SGX_ATTR_EINITTOKENKEY))
            return SGX_INVALID_ATTRIBUTE;
        if ((kr->key_name == SGX_KEY_PROVISION || kr->key_name == SGX_KEY_PROVISION_SEAL) &&
            !(s->attributes.flags & SGX_ATTR_PROVISIONKEY))
            return SGX_INVALID_ATTRIBUTE;
        if (cpusvn_beyond(kr->cpu_svn))
            return SGX_INVALID_CPUSVN;
        if (kr->isv_svn > s->isv_svn || kr->config_svn > s->config_svn)
            return SGX_INVALID_ISVSVN;
        /* SEAL follows the policy; the others always bind MRSIGNER, never MRENCLAVE. */
        if (kr->key_name == SGX_KEY_SEAL)
            dep_identity(&d, e, kr, kr->key_policy & SGX_KEYPOLICY_MRENCLAVE,
                         kr->key_policy & SGX_KEYPOLICY_MRSIGNER);
        else
            dep_identity(&d, e, kr, false, true);
        if (kr->key_name == SGX_KEY_SEAL || kr->key_name == SGX_KEY_EINITTOKEN)
            memcpy(d.key_id, kr->key_id, 32);
        break;
    default:
        return SGX_INVALID_KEYNAME;
    }
    struct tm_sim_cpu_keys keys;
    int ret = cpu_keys(e, &keys);
    if (ret == 0)
        ret = derive(&keys, &d, key);
    explicit_bzero(&keys, sizeof(keys));
    explicit_bzero(&d, sizeof(d));
    return ret;
}

int tm_sim_ereport(struct tm_sim_enclave *e, const struct sgx_targetinfo *ti,
                   const uint8_t report_data[64], struct sgx_report *out)
{
    const struct sgx_secs *s = &e->state->secs;
    bool kss = s->attributes.flags & SGX_ATTR_KSS;
    struct sgx_report r;
    memset(&r, 0, sizeof(r));
    struct sgx_report_body *b = &r.body;
    memcpy(b->cpu_svn, cpu_svn, 16);
    b->miscselect = s->miscselect;
    if (kss) {
        memcpy(b->isv_ext_prod_id, e->state->isv_ext_prod_id, 16);
        memcpy(b->isv_family_id, e->state->isv_family_id, 16);
    }
    b->attributes = s->attributes;
    memcpy(b->mrenclave, s->mrenclave, 32);
    memcpy(b->mrsigner, s->mrsigner, 32);
    memcpy(b->config_id, s->config_id, 64);
    b->isv_prod_id = s->isv_prod_id;
    b->isv_svn = s->isv_svn;
    b->config_svn = s->config_svn;
    memcpy(b->report_data, report_data, 64);
    struct tm_sim_cpu_keys keys;
    int ret = cpu_keys(e, &keys);
    if (ret < 0)
        return ret;
    memcpy(r.key_id, keys.report_keyid, 32);

    /* The TARGET's report key: what its EGETKEY(REPORT, this KEYID) returns. */
    struct key_dependencies d;
    memset(&d, 0, sizeof(d));
    d.key_name = SGX_KEY_REPORT;
    d.attributes = ti->attributes;
    d.miscselect = ti->miscselect;
    memcpy(d.mrenclave, ti->measurement, 32);
    memcpy(d.config_id, ti->config_id, 64);
    d.config_svn = ti->config_svn;
    memcpy(d.key_id, r.key_id, 32);
    memcpy(d.cpu_svn, cpu_svn, 16);
    uint8_t report_key[16];
    ret = derive(&keys, &d, report_key);
    if (ret == 0)
        ret = cmac(report_key, &r.body, sizeof(r.body), r.mac);
    explicit_bzero(report_key, sizeof(report_key));
    explicit_bzero(&keys, sizeof(keys));
    if (ret == 0)
        memcpy(out, &r, sizeof(r));
    return ret;
}
