/* The sim's keys: the per-machine root key file (0600, created once even by
 * racing processes, refused when exposed), the state directory, local
 * attestation (a REPORT verifies only with its target's report key) and
 * sealing keys (bound by policy, stable across processes and restarts). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sim_builder.h"
#include "util/hex.h"
#include "util/state_dir.h"

static struct tm_image *image_a, *image_b;
static struct sgx_sigstruct ss_a, ss_b;

static void root_key_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", getenv("TEEMATE_STATE_DIR"), TM_SIM_ROOT_KEY_FILE);
}

/* ---- state directory ---- */

static void test_state_dir(void)
{
    char saved[256], dir[512], want[512];
    snprintf(saved, sizeof(saved), "%s", getenv("TEEMATE_STATE_DIR"));
    tm_error err = { 0 };
    snprintf(want, sizeof(want), "%s/nested/deeper", saved);
    setenv("TEEMATE_STATE_DIR", want, 1);
    CHECK_EQ_INT(tm_state_dir(dir, sizeof(dir), &err), 0);
    CHECK(strcmp(dir, want) == 0);
    struct stat st;
    CHECK(stat(want, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    CHECK_EQ_INT(tm_state_dir(dir, sizeof(dir), &err), 0);   /* existing: fine */

    /* Without TEEMATE_STATE_DIR: root's or the user's XDG state directory. */
    unsetenv("TEEMATE_STATE_DIR");
    snprintf(want, sizeof(want), "%s/xdg", saved);
    setenv("XDG_STATE_HOME", want, 1);
    if (geteuid() == 0) {
        char small[8];
        CHECK_EQ_INT(tm_state_dir(small, sizeof(small), &err), -ENAMETOOLONG);
        CHECK_STR_CONTAINS(err.msg, "too long");
    } else {
        CHECK_EQ_INT(tm_state_dir(dir, sizeof(dir), &err), 0);
        CHECK_STR_CONTAINS(dir, "/xdg/teemate");
    }
    unsetenv("XDG_STATE_HOME");

    /* A file where the directory should be. */
    snprintf(want, sizeof(want), "%s/file", saved);
    int fd = open(want, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    close(fd);
    setenv("TEEMATE_STATE_DIR", want, 1);
    CHECK_EQ_INT(tm_state_dir(dir, sizeof(dir), &err), -ENOTDIR);
    setenv("TEEMATE_STATE_DIR", saved, 1);
}

/* ---- root key ---- */

static void test_root_key_file(void)
{
    uint8_t k1[32], k2[32];
    tm_error err = { 0 };
    REQUIRE(tm_sim_root_key(k1, &err) == 0);
    REQUIRE(tm_sim_root_key(k2, &err) == 0);
    CHECK(memcmp(k1, k2, 32) == 0);
    char path[512];
    root_key_path(path, sizeof(path));
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);
    CHECK_EQ_INT(st.st_size, 32);

    /* Readable by others: refused, with what to do about it. */
    REQUIRE(chmod(path, 0644) == 0);
    CHECK_EQ_INT(tm_sim_root_key(k2, &err), -EACCES);
    CHECK_STR_CONTAINS(err.msg, "accessible by group or others (mode 0644)");
    REQUIRE(chmod(path, 0640) == 0);
    CHECK_EQ_INT(tm_sim_root_key(k2, &err), -EACCES);
    REQUIRE(chmod(path, 0600) == 0);

    /* The wrong size: refused, not replaced. */
    REQUIRE(truncate(path, 31) == 0);
    CHECK_EQ_INT(tm_sim_root_key(k2, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "31 bytes, not 32");
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK_EQ_INT(write(fd, k1, 32), 32);
    close(fd);
    CHECK_EQ_INT(tm_sim_root_key(k2, &err), 0);
    CHECK(memcmp(k1, k2, 32) == 0);
}

static void test_root_key_race(void)
{
    char saved[256], fresh[512];
    snprintf(saved, sizeof(saved), "%s", getenv("TEEMATE_STATE_DIR"));
    snprintf(fresh, sizeof(fresh), "%s/race", saved);
    setenv("TEEMATE_STATE_DIR", fresh, 1);

    enum { N = 8 };
    int gun[2], out[2];
    REQUIRE(pipe(gun) == 0 && pipe(out) == 0);
    pid_t pids[N];
    fflush(NULL);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char c;
            uint8_t key[32];
            tm_error cerr;
            close(gun[1]);
            if (read(gun[0], &c, 1) < 0 || tm_sim_root_key(key, &cerr) < 0)
                _exit(1);
            _exit(write(out[1], key, 32) == 32 ? 0 : 1);   /* 32 bytes: atomic in a pipe */
        }
    }
    close(gun[0]);
    close(gun[1]);   /* all at once, into a directory with no key yet */
    close(out[1]);
    uint8_t keys[N][32];
    int got = 0;
    for (int i = 0; i < N; i++) {
        int status;
        REQUIRE(waitpid(pids[i], &status, 0) == pids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    while (got < N && read(out[0], keys[got], 32) == 32)
        got++;
    close(out[0]);
    CHECK_EQ_INT(got, N);
    uint8_t disk[32];
    tm_error err = { 0 };
    REQUIRE(tm_sim_root_key(disk, &err) == 0);
    for (int i = 0; i < got; i++)
        CHECK(memcmp(keys[i], disk, 32) == 0);
    /* No temporary files left behind. */
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = %s", fresh, TM_SIM_ROOT_KEY_FILE);
    CHECK_EQ_INT(system(cmd), 0);
    setenv("TEEMATE_STATE_DIR", saved, 1);
}

/* ---- local attestation ---- */

static int cmac(const uint8_t key[16], const void *data, size_t len, uint8_t out[16])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
                            OSSL_PARAM_construct_end() };
    size_t n = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, 16, params) && EVP_MAC_update(ctx, data, len) &&
             EVP_MAC_final(ctx, out, &n, 16) && n == 16;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

static struct sgx_targetinfo targetinfo_of(const struct tm_sim_enclave *e)
{
    struct sgx_targetinfo ti;
    memset(&ti, 0, sizeof(ti));
    memcpy(ti.measurement, e->state->secs.mrenclave, 32);
    ti.attributes = e->state->secs.attributes;
    ti.miscselect = e->state->secs.miscselect;
    return ti;
}

/* What the verifying enclave v does with a report: EGETKEY(REPORT, its KEYID), CMAC. */
static bool report_verifies(struct tm_sim_enclave *v, const struct sgx_report *r)
{
    struct sgx_keyrequest kr;
    memset(&kr, 0, sizeof(kr));
    kr.key_name = SGX_KEY_REPORT;
    memcpy(kr.key_id, r->key_id, 32);
    uint8_t key[16], mac[16];
    if (tm_sim_egetkey(v, &kr, key) != 0 || cmac(key, &r->body, sizeof(r->body), mac) < 0)
        return false;
    return memcmp(mac, r->mac, 16) == 0;
}

static void test_report_verifies_only_at_target(void)
{
    _cleanup_sim_ struct tm_sim_enclave *a = NULL;
    _cleanup_sim_ struct tm_sim_enclave *b = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_build(image_a, &ss_a, &a, &err) == 0);
    REQUIRE(sb_build(image_b, &ss_b, &b, &err) == 0);

    uint8_t data[64];
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(i * 3);
    struct sgx_targetinfo ti = targetinfo_of(b);
    struct sgx_report r;
    REQUIRE(tm_sim_ereport(a, &ti, data, &r) == 0);
    /* The body is the reporting enclave's identity and the caller's data. */
    CHECK(memcmp(r.body.mrenclave, a->state->secs.mrenclave, 32) == 0);
    CHECK(memcmp(r.body.mrsigner, a->state->secs.mrsigner, 32) == 0);
    CHECK(memcmp(r.body.report_data, data, 64) == 0);
    CHECK_EQ_INT(r.body.isv_prod_id, 7);
    CHECK_EQ_INT(r.body.isv_svn, 3);
    CHECK(r.body.attributes.flags & SGX_ATTR_INIT);
    static const uint8_t svn[16] = TM_SIM_CPUSVN;
    CHECK(memcmp(r.body.cpu_svn, svn, 16) == 0);

    CHECK(report_verifies(b, &r));    /* the target can check it */
    CHECK(!report_verifies(a, &r));   /* no one else can, not even the reporter */
    struct sgx_report t = r;
    t.body.report_data[0] ^= 1;
    CHECK(!report_verifies(b, &t));
    t = r;
    t.body.isv_svn++;
    CHECK(!report_verifies(b, &t));

    /* A report for a itself verifies at a; the KEYID is the same each time. */
    struct sgx_report self;
    ti = targetinfo_of(a);
    REQUIRE(tm_sim_ereport(a, &ti, data, &self) == 0);
    CHECK(report_verifies(a, &self));
    CHECK(memcmp(self.key_id, r.key_id, 32) == 0);
    /* TARGETINFO that does not describe b exactly: b cannot verify. */
    ti = targetinfo_of(b);
    ti.attributes.flags &= ~SGX_ATTR_INIT;
    REQUIRE(tm_sim_ereport(a, &ti, data, &t) == 0);
    CHECK(!report_verifies(b, &t));
}

/* ---- EGETKEY ---- */

static int seal_key(struct tm_sim_enclave *e, uint16_t policy, uint8_t key[16])
{
    struct sgx_keyrequest kr;
    memset(&kr, 0, sizeof(kr));
    kr.key_name = SGX_KEY_SEAL;
    kr.key_policy = policy;
    kr.isv_svn = e->state->secs.isv_svn;
    kr.attribute_mask.flags = ~0ULL;
    kr.attribute_mask.xfrm = 0;
    kr.misc_mask = ~0U;
    return tm_sim_egetkey(e, &kr, key);
}

static void test_seal_key_policies(void)
{
    _cleanup_sim_ struct tm_sim_enclave *a = NULL;
    _cleanup_sim_ struct tm_sim_enclave *a2 = NULL;
    _cleanup_sim_ struct tm_sim_enclave *b = NULL;
    _cleanup_sim_ struct tm_sim_enclave *c = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_build(image_a, &ss_a, &a, &err) == 0);
    REQUIRE(sb_build(image_a, &ss_a, &a2, &err) == 0);   /* a second instance of a */
    REQUIRE(sb_build(image_b, &ss_b, &b, &err) == 0);
    /* image_a signed by someone else. */
    _cleanup_key_ EVP_PKEY *other = NULL;
    REQUIRE(tm_key_generate(&other, &err) == 0);
    struct sgx_sigstruct ss_c;
    REQUIRE(sb_sign(image_a, other, NULL, &ss_c) == 0);
    REQUIRE(sb_build(image_a, &ss_c, &c, &err) == 0);

    uint8_t ka[16], ka2[16], kb[16], kc[16];
    REQUIRE(seal_key(a, SGX_KEYPOLICY_MRENCLAVE, ka) == 0);
    REQUIRE(seal_key(a2, SGX_KEYPOLICY_MRENCLAVE, ka2) == 0);
    REQUIRE(seal_key(b, SGX_KEYPOLICY_MRENCLAVE, kb) == 0);
    REQUIRE(seal_key(c, SGX_KEYPOLICY_MRENCLAVE, kc) == 0);
    CHECK(memcmp(ka, ka2, 16) == 0);   /* same enclave: same key, whichever instance */
    CHECK(memcmp(ka, kb, 16) != 0);    /* another enclave: another key */
    CHECK(memcmp(ka, kc, 16) == 0);    /* same code, other signer: MRENCLAVE alone binds it, as on SGX */

    REQUIRE(seal_key(a, SGX_KEYPOLICY_MRSIGNER, ka) == 0);
    REQUIRE(seal_key(b, SGX_KEYPOLICY_MRSIGNER, kb) == 0);
    REQUIRE(seal_key(c, SGX_KEYPOLICY_MRSIGNER, kc) == 0);
    CHECK(memcmp(ka, kb, 16) == 0);    /* same signer and product: shared */
    CHECK(memcmp(ka, kc, 16) != 0);    /* another signer */

    /* Different policies, KEYIDs, and older ISVSVNs give different keys. */
    uint8_t k[16];
    REQUIRE(seal_key(a, SGX_KEYPOLICY_MRSIGNER | SGX_KEYPOLICY_MRENCLAVE, k) == 0);
    CHECK(memcmp(k, ka, 16) != 0);
    struct sgx_keyrequest kr;
    memset(&kr, 0, sizeof(kr));
    kr.key_name = SGX_KEY_SEAL;
    kr.key_policy = SGX_KEYPOLICY_MRSIGNER;
    kr.isv_svn = 2;
    REQUIRE(tm_sim_egetkey(a, &kr, k) == 0);
    CHECK(memcmp(k, ka, 16) != 0);
}

static void test_egetkey_refusals(void)
{
    _cleanup_sim_ struct tm_sim_enclave *a = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_build(image_a, &ss_a, &a, &err) == 0);
    struct sgx_keyrequest kr, base;
    memset(&base, 0, sizeof(base));
    base.key_name = SGX_KEY_SEAL;
    base.key_policy = SGX_KEYPOLICY_MRENCLAVE;
    uint8_t k[16];
    kr = base, kr.isv_svn = 4;   /* the enclave's ISVSVN is 3 */
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), SGX_INVALID_ISVSVN);
    kr = base, kr.cpu_svn[15] = 1;
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), SGX_INVALID_CPUSVN);
    kr = base, kr.key_name = 9;
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), SGX_INVALID_KEYNAME);
    kr = base, kr.key_name = SGX_KEY_PROVISION;
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), SGX_INVALID_ATTRIBUTE);
    kr = base, kr.key_name = SGX_KEY_EINITTOKEN;
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), SGX_INVALID_ATTRIBUTE);
    kr = base, kr.reserved2[10] = 1;
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), TM_SIM_FAULT_GP);
    kr = base, kr.key_policy = 0x40;
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), TM_SIM_FAULT_GP);
    kr = base, kr.key_policy = SGX_KEYPOLICY_NOISVPRODID;   /* KSS only */
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), TM_SIM_FAULT_GP);
    kr = base, kr.isv_svn = 3;
    CHECK_EQ_INT(tm_sim_egetkey(a, &kr, k), 0);
}

/* ---- stability across processes and restarts ---- */

static void seal_keys_hex(struct tm_sim_enclave *a, char out[2 * 33 + 1])
{
    uint8_t k1[16], k2[16];
    if (seal_key(a, SGX_KEYPOLICY_MRENCLAVE, k1) != 0 || seal_key(a, SGX_KEYPOLICY_MRSIGNER, k2) != 0) {
        strcpy(out, "error");
        return;
    }
    tm_hex(out, k1, 16);
    out[32] = ' ';
    tm_hex(out + 33, k2, 16);
}

/* `test_sim_keys --seal-child KEY.pem`: a fresh process builds enclave a with
 * the signing key from disk and prints its two sealing keys. */
static int seal_child(const char *key_path)
{
    tm_error err = { 0 };
    _cleanup_key_ EVP_PKEY *key = NULL;
    struct tm_image *image = sb_image(65536);
    struct sgx_sigstruct ss;
    struct tm_sim_enclave *e = NULL;
    if (!image || tm_key_load(key_path, &key, &err) < 0 || sb_sign(image, key, NULL, &ss) < 0 ||
        sb_build(image, &ss, &e, &err) < 0) {
        fprintf(stderr, "seal child: %s\n", err.msg);
        return 1;
    }
    char hex[2 * 33 + 1];
    seal_keys_hex(e, hex);
    printf("%s\n", hex);
    tm_sim_destroy(e);
    tm_image_free(image);
    return 0;
}

static void run_seal_child(const char *key_path, char out[2 * 33 + 1])
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl("/proc/self/exe", "test_sim_keys", "--seal-child", key_path, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[128] = "";
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    buf[2 * 33] = '\0';
    memcpy(out, buf, 2 * 33 + 1);
}

static void test_seal_keys_survive_restarts(void)
{
    char key_path[512];
    snprintf(key_path, sizeof(key_path), "%s/signing.pem", getenv("TEEMATE_STATE_DIR"));
    tm_error err = { 0 };
    REQUIRE(tm_key_save(sb_key, key_path, &err) == 0);
    _cleanup_sim_ struct tm_sim_enclave *a = NULL;
    REQUIRE(sb_build(image_a, &ss_a, &a, &err) == 0);
    char mine[2 * 33 + 1], first[2 * 33 + 1], second[2 * 33 + 1];
    seal_keys_hex(a, mine);
    /* Two fresh processes (exec: nothing inherited but the environment) read the root key from disk. */
    run_seal_child(key_path, first);
    run_seal_child(key_path, second);
    CHECK_EQ_INT(strlen(mine), 65);
    CHECK(strcmp(mine, first) == 0);
    CHECK(strcmp(first, second) == 0);

    /* Another machine (another root key): other sealing keys. */
    char root[512], moved[520];
    root_key_path(root, sizeof(root));
    snprintf(moved, sizeof(moved), "%s.saved", root);
    REQUIRE(rename(root, moved) == 0);
    char other[2 * 33 + 1];
    run_seal_child(key_path, other);
    CHECK(strlen(other) == 65 && strcmp(other, mine) != 0);
    REQUIRE(rename(moved, root) == 0);
    run_seal_child(key_path, other);
    CHECK(strcmp(other, mine) == 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--seal-child") == 0)
        return seal_child(argv[2]);
    sb_setup();
    image_a = sb_image(65536);
    image_b = sb_image(2 * 65536);
    if (!image_a || !image_b || sb_sign(image_a, sb_key, NULL, &ss_a) < 0 ||
        sb_sign(image_b, sb_key, NULL, &ss_b) < 0)
        return 2;
    RUN(test_state_dir);
    RUN(test_root_key_file);
    RUN(test_root_key_race);
    RUN(test_report_verifies_only_at_target);
    RUN(test_seal_key_policies);
    RUN(test_egetkey_refusals);
    RUN(test_seal_keys_survive_restarts);
    tm_image_free(image_a);
    tm_image_free(image_b);
    TEST_EXIT();
}
