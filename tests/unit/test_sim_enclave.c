/* The sim backend's enclave memory and ENCLS leaves: ECREATE's SECS checks,
 * EADD/EEXTEND/EINIT as the CPU does them (EINIT refuses a SIGSTRUCT for
 * another image or a tampered one), page protections that follow the EPCM,
 * SGX2 (EAUG, EACCEPT, EMODPE, EACCEPTCOPY) and one enclave shared by several
 * processes (EPCM and TCS busy flags in shared memory). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "sim_builder.h"

#define PAGE SGX_PAGE_SIZE

static struct tm_image *image;
static struct sgx_sigstruct sigstruct;

/* ---- ECREATE ---- */

static void expect_ecreate_refused(const struct sgx_secs *secs, const char *needle)
{
    struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    CHECK_EQ_INT(tm_sim_ecreate(secs, &e, &err), -EINVAL);
    CHECK(e == NULL);
    CHECK_STR_CONTAINS(err.msg, needle);
}

static void test_ecreate_checks_secs(void)
{
    struct sgx_secs good, s;
    sb_secs(&good, image);
    s = good, s.size = 3 * PAGE;
    expect_ecreate_refused(&s, "not a power of two");
    s = good, s.size = PAGE;
    expect_ecreate_refused(&s, "at least two pages");
    s = good, s.ssa_frame_size = 0;
    expect_ecreate_refused(&s, "SSAFRAMESIZE");
    s = good, s.attributes.flags = 0;
    expect_ecreate_refused(&s, "MODE64BIT");
    s = good, s.attributes.flags |= SGX_ATTR_INIT;
    expect_ecreate_refused(&s, "INIT must be clear");
    s = good, s.attributes.flags |= 0x8;
    expect_ecreate_refused(&s, "reserved");
    s = good, s.attributes.xfrm = 1;
    expect_ecreate_refused(&s, "x87 and SSE");
    s = good, s.miscselect = 2;
    expect_ecreate_refused(&s, "EXINFO");
    s = good, s.config_svn = 1;
    expect_ecreate_refused(&s, "KSS");
    s = good, s.reserved4[7] = 1;
    expect_ecreate_refused(&s, "reserved fields");

    /* A good SECS: ELRANGE naturally aligned, all of it PROT_NONE, no EPC used. */
    struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    s = good, s.miscselect = SGX_MISC_EXINFO;
    REQUIRE(tm_sim_ecreate(&s, &e, &err) == 0);
    CHECK(e->base != 0);
    CHECK_EQ_INT(e->base & (e->size - 1), 0);
    CHECK_EQ_INT(e->state->secs.base, e->base);
    CHECK_EQ_INT(tm_sim_epc_pages(e), 0);
    CHECK_EQ_INT(probe_access((uintptr_t)e->base, 0), SIGSEGV);
    tm_sim_destroy(e);
}

/* ---- EADD / EEXTEND / EINIT ---- */

static void test_einit_accepts_its_sigstruct(void)
{
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    int ret = sb_build(image, &sigstruct, &e, &err);
    if (ret < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    const struct sgx_secs *secs = &e->state->secs;
    uint8_t mrsigner[32];
    tm_sigstruct_mrsigner(&sigstruct, mrsigner);
    CHECK(e->state->initialized);
    CHECK(memcmp(secs->mrenclave, sigstruct.body.enclave_hash, 32) == 0);
    CHECK(memcmp(secs->mrsigner, mrsigner, 32) == 0);
    CHECK_EQ_INT(secs->isv_prod_id, 7);
    CHECK_EQ_INT(secs->isv_svn, 3);
    CHECK(secs->attributes.flags & SGX_ATTR_INIT);
    /* Every page added is one EPC page. */
    CHECK_EQ_INT(tm_sim_epc_pages(e), tm_layout_added_bytes(&image->layout) / PAGE);
    CHECK_EQ_INT(tm_backend_sim.epc_pages((struct tm_backend_enclave *)e), tm_sim_epc_pages(e));
    /* The EPC holds the image's code. */
    const struct tm_page_range *code = NULL;
    for (size_t i = 0; i < image->layout.nranges; i++)
        if (image->layout.ranges[i].secinfo_flags & SGX_SECINFO_X)
            code = &image->layout.ranges[i];
    REQUIRE(code != NULL);
    CHECK(memcmp((uint8_t *)(uintptr_t)(e->base + code->offset), code->data, PAGE) == 0);

    /* A second EINIT, and any EADD after EINIT, are refused. */
    CHECK_EQ_INT(tm_sim_einit(e, &sigstruct, &err), -EPERM);
    CHECK_STR_CONTAINS(err.msg, "already initialised");
    uint64_t free_off = image->layout.regions.slots_offset;
    CHECK_EQ_INT(tm_sim_eadd(e, free_off, NULL, PAGE, SGX_SECINFO_REG | SGX_SECINFO_R, true, &err), -EPERM);
    CHECK_STR_CONTAINS(err.msg, "EADD after EINIT is refused, as on hardware");
}

static void test_einit_refuses_other_sigstructs(void)
{
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_create_and_add(image, &e, &err) == 0);

    /* Signed properly, but for another image. */
    struct tm_image *other = sb_image(2 * image->layout.settings.heap_size);
    REQUIRE(other != NULL);
    struct sgx_sigstruct ss;
    REQUIRE(sb_sign(other, sb_key, NULL, &ss) == 0);
    tm_image_free(other);
    CHECK_EQ_INT(tm_sim_einit(e, &ss, &err), -EKEYREJECTED);
    CHECK_STR_CONTAINS(err.msg, "EINIT: SIGSTRUCT is for MRENCLAVE ");
    CHECK_STR_CONTAINS(err.msg, ", the enclave measures ");
    CHECK(!e->state->initialized);

    /* The right SIGSTRUCT with one signed byte flipped. */
    ss = sigstruct;
    ss.body.isv_svn ^= 1;
    CHECK(tm_sim_einit(e, &ss, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "EINIT: SIGSTRUCT signature does not verify");
    ss = sigstruct;
    ss.header.date ^= 0x10;
    CHECK(tm_sim_einit(e, &ss, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "EINIT: SIGSTRUCT signature does not verify");

    /* Signed for a debug enclave: the attributes differ under the mask. */
    struct tm_sign_options o;
    tm_sign_options_default(&o);
    o.debug = true;
    REQUIRE(sb_sign(image, sb_key, &o, &ss) == 0);
    CHECK_EQ_INT(tm_sim_einit(e, &ss, &err), -EPERM);
    CHECK_STR_CONTAINS(err.msg, "ATTRIBUTEMASK");

    /* Refusals leave the enclave as it was: the right SIGSTRUCT still works. */
    err.msg[0] = '\0';
    CHECK_EQ_INT(tm_sim_einit(e, &sigstruct, &err), 0);
    CHECK(e->state->initialized);
}

static void expect_eadd_refused(struct tm_sim_enclave *e, uint64_t off, const void *src, uint64_t len,
                                uint64_t flags, int code, const char *needle)
{
    tm_error err = { 0 };
    uint64_t before = tm_sim_epc_pages(e);
    CHECK_EQ_INT(tm_sim_eadd(e, off, src, len, flags, true, &err), -code);
    CHECK_STR_CONTAINS(err.msg, needle);
    CHECK_EQ_INT(tm_sim_epc_pages(e), before);
}

static void test_eadd_checks(void)
{
    struct sgx_secs secs;
    sb_secs(&secs, image);
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    REQUIRE(tm_sim_ecreate(&secs, &e, &err) == 0);
    const uint64_t reg = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W;
    const uint64_t size = e->size;

    expect_eadd_refused(e, 100, NULL, PAGE, reg, EINVAL, "whole pages");
    expect_eadd_refused(e, 0, NULL, 100, reg, EINVAL, "whole pages");
    expect_eadd_refused(e, size - PAGE, NULL, 2 * PAGE, reg, EINVAL, "outside ELRANGE");
    expect_eadd_refused(e, size, NULL, PAGE, reg, EINVAL, "outside ELRANGE");
    expect_eadd_refused(e, 0, NULL, PAGE, SGX_SECINFO_REG | SGX_SECINFO_W, EINVAL, "writable but not readable");
    expect_eadd_refused(e, 0, NULL, PAGE, SGX_SECINFO_SECS | SGX_SECINFO_R, EINVAL, "neither PT_REG nor PT_TCS");
    expect_eadd_refused(e, 0, NULL, PAGE, SGX_SECINFO_TRIM | SGX_SECINFO_R, EINVAL, "neither PT_REG nor PT_TCS");
    expect_eadd_refused(e, 0, NULL, PAGE, reg | SGX_SECINFO_PENDING, EINVAL, "reserved");
    expect_eadd_refused(e, 0, NULL, PAGE, reg | (1ULL << 20), EINVAL, "reserved");

    CHECK_EQ_INT(tm_sim_eadd(e, 0, NULL, 2 * PAGE, reg, false, &err), 0);
    CHECK_EQ_INT(tm_sim_epc_pages(e), 2);
    expect_eadd_refused(e, PAGE, NULL, 2 * PAGE, reg, EEXIST, "already in the enclave");

    /* TCS contents, one broken field at a time. */
    static struct sgx_tcs good __attribute__((aligned(4096)));
    memset(&good, 0, sizeof(good));
    good.ossa = 8 * PAGE;
    good.nssa = 2;
    good.ofsbase = good.ogsbase = 12 * PAGE;
    good.fslimit = good.gslimit = 0xFFF;
    const uint64_t tcs = SGX_SECINFO_TCS, at = 4 * PAGE;
    struct sgx_tcs t;
    t = good, t.nssa = 0;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "NSSA");
    t = good, t.ossa += 8;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "page aligned");
    t = good, t.ofsbase += 1;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "page aligned");
    t = good, t.fslimit = 0xFFE;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "FSLIMIT");
    t = good, t.gslimit = 0;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "GSLIMIT");
    t = good, t.cssa = 1;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "CSSA");
    t = good, t.state = 1;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "STATE");
    t = good, t.flags = 2;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "FLAGS");
    t = good, t.reserved[100] = 1;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "reserved");
    t = good, t.ossa = size - PAGE;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "do not fit ELRANGE");
    t = good, t.ossa = size;
    expect_eadd_refused(e, at, &t, PAGE, tcs, EINVAL, "do not fit ELRANGE");
    expect_eadd_refused(e, at, NULL, PAGE, tcs, EINVAL, "TCS");   /* a zero page is no TCS */

    /* The good one, with R/W/X asked for: the CPU clears them. */
    CHECK_EQ_INT(tm_sim_eadd(e, at, &good, PAGE, tcs | SGX_SECINFO_R | SGX_SECINFO_W, true, &err), 0);
    struct tm_sim_epcm m = e->epcm[at / PAGE];
    CHECK(m.valid && m.type == SGX_PT_TCS && m.perm == 0);
    CHECK(tm_sim_tcs(e, at) != NULL);
    CHECK(tm_sim_tcs(e, 0) == NULL);
    CHECK_EQ_INT(tm_sim_tcs(e, at)->nssa, 2);
}

/* ---- page protections ---- */

static void test_elrange_follows_epcm(void)
{
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_build(image, &sigstruct, &e, &err) == 0);
    uint8_t *base = (uint8_t *)(uintptr_t)e->base;
    int checked = 0;
    for (size_t i = 0; i < image->layout.nranges; i++) {
        const struct tm_page_range *r = &image->layout.ranges[i];
        if (r->on_demand)
            continue;
        uint64_t f = r->secinfo_flags;
        volatile uint8_t *p = base + r->offset + r->size - PAGE;
        if ((f & SGX_SECINFO_PT_MASK) == SGX_SECINFO_TCS) {
            /* Enclave code cannot touch a TCS on hardware either. */
            CHECK_EQ_INT(probe_access((uintptr_t)p, 0), SIGSEGV);
        } else {
            CHECK_EQ_INT(probe_access((uintptr_t)p, 0), f & SGX_SECINFO_R ? 0 : SIGSEGV);
            CHECK_EQ_INT(probe_access((uintptr_t)p, 1), f & SGX_SECINFO_W ? 0 : SIGSEGV);
        }
        checked++;
    }
    CHECK(checked >= 5);
    /* Guard pages and on-demand slots are not in the enclave. */
    CHECK_EQ_INT(probe_access((uintptr_t)base + image->layout.regions.image_size, 0), SIGSEGV);
    CHECK_EQ_INT(probe_access((uintptr_t)base + image->layout.regions.slots_offset, 0), SIGSEGV);
    CHECK_EQ_INT(probe_access((uintptr_t)base + e->size - 1, 0), SIGSEGV);
}

/* ---- SGX2 ---- */

static struct sgx_secinfo secinfo(uint64_t flags)
{
    struct sgx_secinfo si;
    memset(&si, 0, sizeof(si));
    si.flags = flags;
    return si;
}

static void test_eaug_eaccept(void)
{
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_create_and_add(image, &e, &err) == 0);
    uint64_t slot = image->layout.regions.slots_offset;
    uint64_t lin = e->base + slot;
    CHECK_EQ_INT(tm_sim_eaug(e, slot, &err), -EPERM);
    CHECK_STR_CONTAINS(err.msg, "before EINIT");
    REQUIRE(tm_sim_einit(e, &sigstruct, &err) == 0);
    uint64_t pages = tm_sim_epc_pages(e);

    CHECK_EQ_INT(tm_sim_eaug(e, slot + 1, &err), -EINVAL);
    CHECK_EQ_INT(tm_sim_eaug(e, e->size, &err), -EINVAL);
    REQUIRE(tm_sim_eaug(e, slot, &err) == 0);
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages + 1);
    struct tm_sim_epcm m = e->epcm[slot / PAGE];
    CHECK(m.valid && m.pending && m.type == SGX_PT_REG && m.perm == (SGX_SECINFO_R | SGX_SECINFO_W));
    CHECK_EQ_INT(tm_sim_eaug(e, slot, &err), -EEXIST);
    /* Pending: not usable until EACCEPT. */
    CHECK_EQ_INT(probe_access((uintptr_t)lin, 0), SIGSEGV);

    const uint64_t rw = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W;
    struct sgx_secinfo si;
    si = secinfo(rw);   /* without PENDING: does not describe the page */
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(rw | SGX_SECINFO_PENDING | SGX_SECINFO_X);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(SGX_SECINFO_TCS | SGX_SECINFO_PENDING);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    si = secinfo(rw | SGX_SECINFO_PENDING);
    si.reserved[3] = 1;
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), TM_SIM_FAULT_GP);
    si = secinfo(rw | SGX_SECINFO_PENDING);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin + 8, &si), TM_SIM_FAULT_GP);
    CHECK_EQ_INT(tm_sim_eaccept(e, lin + PAGE, &si), TM_SIM_FAULT_PF);   /* never EAUG'd */
    CHECK_EQ_INT(tm_sim_eaccept(e, e->base - PAGE, &si), TM_SIM_FAULT_PF);
    CHECK(TM_SIM_IS_FAULT(TM_SIM_FAULT_PF) && TM_SIM_FAULT_VECTOR(TM_SIM_FAULT_PF) == 14);
    CHECK(!TM_SIM_IS_FAULT(-EINVAL));

    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), 0);
    m = e->epcm[slot / PAGE];
    CHECK(m.valid && !m.pending);
    CHECK_EQ_INT(probe_access((uintptr_t)lin, 1), 0);
    CHECK_EQ_INT(probe_access((uintptr_t)lin, 0), 0);
    CHECK_EQ_INT(((volatile uint8_t *)(uintptr_t)lin)[100], 0);   /* EAUG zeroes */
    ((volatile uint8_t *)(uintptr_t)lin)[100] = 0x5a;
    /* Accepting again with the old flags no longer matches. */
    CHECK_EQ_INT(tm_sim_eaccept(e, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);

    /* EMODPE extends permissions only. */
    si = secinfo(SGX_SECINFO_X);
    CHECK_EQ_INT(tm_sim_emodpe(e, lin, &si), 0);
    CHECK_EQ_INT(e->epcm[slot / PAGE].perm, SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X);
    si = secinfo(0);
    CHECK_EQ_INT(tm_sim_emodpe(e, lin, &si), 0);
    CHECK_EQ_INT(e->epcm[slot / PAGE].perm, SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X);
    CHECK_EQ_INT(tm_sim_emodpe(e, lin + PAGE, &si), TM_SIM_FAULT_PF);

    /* EACCEPTCOPY: a pending page gets a copy of an enclave page and its own permissions. */
    uint64_t slot2 = slot + PAGE;
    REQUIRE(tm_sim_eaug(e, slot2, &err) == 0);
    si = secinfo(SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X);
    CHECK_EQ_INT(tm_sim_eacceptcopy(e, e->base + slot2, e->base + slot2, &si), TM_SIM_FAULT_PF);
    si = secinfo(SGX_SECINFO_TCS);
    CHECK_EQ_INT(tm_sim_eacceptcopy(e, e->base + slot2, lin, &si), TM_SIM_FAULT_GP);
    si = secinfo(SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X);
    CHECK_EQ_INT(tm_sim_eacceptcopy(e, e->base + slot2, lin, &si), 0);
    CHECK_EQ_INT(((volatile uint8_t *)(uintptr_t)(e->base + slot2))[100], 0x5a);
    CHECK_EQ_INT(probe_access((uintptr_t)(e->base + slot2), 1), SIGSEGV);
    CHECK_EQ_INT(tm_sim_eacceptcopy(e, e->base + slot2, lin, &si), SGX_PAGE_ATTRIBUTES_MISMATCH);
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages + 2);
}

/* ---- TCS busy flags ---- */

static void test_tcs_acquire(void)
{
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_create_and_add(image, &e, &err) == 0);
    const struct tm_page_range *tcs = sb_range(image, TM_RANGE_TCS);
    REQUIRE(tcs != NULL);
    CHECK_EQ_INT(tm_sim_tcs_acquire(e, tcs->offset, &err), -EINVAL);   /* no EINIT yet */
    REQUIRE(tm_sim_einit(e, &sigstruct, &err) == 0);

    CHECK_EQ_INT(tm_sim_tcs_acquire(e, tcs->offset, &err), 0);
    CHECK_EQ_INT(tm_sim_tcs_acquire(e, tcs->offset, &err), -EBUSY);
    char want[64];
    snprintf(want, sizeof(want), "TCS at 0x%llx is busy", (unsigned long long)tcs->offset);
    CHECK_STR_CONTAINS(err.msg, want);
    tm_sim_tcs_release(e, tcs->offset);
    CHECK_EQ_INT(tm_sim_tcs_acquire(e, tcs->offset, &err), 0);
    tm_sim_tcs_release(e, tcs->offset);
    CHECK_EQ_INT(tm_sim_tcs_acquire(e, 0, &err), -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "not a TCS");
    CHECK_EQ_INT(tm_sim_tcs_acquire(e, tcs->offset + 8, &err), -EINVAL);

    /* Processes racing for one TCS: exactly one gets it. */
    enum { N = 6 };
    int gun[2];
    REQUIRE(pipe(gun) == 0);
    pid_t pids[N];
    fflush(NULL);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char c;
            close(gun[1]);
            if (read(gun[0], &c, 1) < 0)
                _exit(3);
            tm_error cerr;
            int r = tm_sim_tcs_acquire(e, tcs->offset, &cerr);
            _exit(r == 0 ? 0 : r == -EBUSY ? 1 : 2);
        }
    }
    close(gun[0]);
    close(gun[1]);   /* everyone goes at once */
    int won = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        int status;
        REQUIRE(waitpid(pids[i], &status, 0) == pids[i]);
        won += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        busy += WIFEXITED(status) && WEXITSTATUS(status) == 1;
    }
    CHECK_EQ_INT(won, 1);
    CHECK_EQ_INT(busy, N - 1);
    CHECK_EQ_INT(tm_sim_tcs_acquire(e, tcs->offset, &err), -EBUSY);   /* the winner's hold is shared */
}

/* ---- one enclave, several processes ---- */

static void test_fork_shares_state(void)
{
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_build(image, &sigstruct, &e, &err) == 0);
    const struct tm_page_range *tcs = sb_range(image, TM_RANGE_TCS);
    uint64_t slot = image->layout.regions.slots_offset;
    uint64_t pages = tm_sim_epc_pages(e);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {   /* another process of the same enclave: enter, EAUG, EACCEPT, write */
        tm_error cerr;
        struct sgx_secinfo si = secinfo(SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_PENDING);
        if (tm_sim_tcs_acquire(e, tcs->offset, &cerr) < 0 || tm_sim_eaug(e, slot, &cerr) < 0 ||
            tm_sim_eaccept(e, e->base + slot, &si) != 0)
            _exit(1);
        memcpy((void *)(uintptr_t)(e->base + slot), "from the child", 15);
        _exit(0);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK_EQ_INT(tm_sim_tcs_acquire(e, tcs->offset, &err), -EBUSY);
    CHECK_EQ_INT(tm_sim_epc_pages(e), pages + 1);
    struct tm_sim_epcm m = e->epcm[slot / PAGE];
    CHECK(m.valid && !m.pending);
    /* This process's mapping catches up on its next fault. */
    CHECK_EQ_INT(probe_access((uintptr_t)(e->base + slot), 0), SIGSEGV);
    CHECK(tm_sim_sync_page(e, slot + 5, PROT_READ | PROT_WRITE));
    CHECK(memcmp((void *)(uintptr_t)(e->base + slot), "from the child", 15) == 0);
    CHECK(!tm_sim_sync_page(e, slot + PAGE, PROT_READ));
    CHECK(!tm_sim_sync_page(e, tcs->offset, PROT_READ));
}

/* A process that never shared the mappings attaches from the two fds alone. */
static int attach_child(struct tm_sim_enclave *parent, uint64_t tcs_off, uint64_t slot)
{
    uint64_t base = parent->base, size = parent->size;
    int epc_fd = parent->epc_fd, state_fd = parent->state_fd;
    /* Forget what fork gave us: this process starts with the fds only. */
    munmap((void *)(uintptr_t)base, size);
    munmap(parent->cpu_view, size);
    struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    /* Attach reserves ELRANGE; all of it mapped as one view is the old whole-enclave attach. */
    if (tm_sim_attach(epc_fd, state_fd, base, size, &e, &err) < 0 ||
        tm_sim_map(e, 0, size, PROT_READ | PROT_WRITE | PROT_EXEC, &err) < 0) {
        fprintf(stderr, "  attach: %s\n", err.msg);
        return 1;
    }
    if (e->base != base || e->size != size || !e->state->initialized || e->measure)
        return 2;
    if (memcmp(e->state->secs.mrenclave, sigstruct.body.enclave_hash, 32))
        return 3;
    if (tm_sim_tcs_acquire(e, tcs_off, &err) != -EBUSY)   /* the parent holds it */
        return 4;
    /* Pages come with their EPCM permissions: the code readable, the TCS not. */
    const struct tm_page_range *code = NULL;
    for (size_t i = 0; i < image->layout.nranges; i++)
        if (image->layout.ranges[i].secinfo_flags & SGX_SECINFO_X)
            code = &image->layout.ranges[i];
    if (memcmp((void *)(uintptr_t)(base + code->offset), code->data, PAGE))
        return 5;
    if (probe_access((uintptr_t)(base + tcs_off), 0) != SIGSEGV ||
        probe_access((uintptr_t)(base + code->offset), 1) != SIGSEGV)
        return 6;
    if (tm_sim_eaug(e, slot, &err) < 0)
        return 7;
    /* Attaching twice at the same ELRANGE is refused. */
    struct tm_sim_enclave *again = NULL;
    if (tm_sim_attach(epc_fd, state_fd, base, size, &again, &err) != -EEXIST)
        return 8;
    tm_sim_destroy(e);
    return 0;
}

static void test_attach_from_fds(void)
{
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    REQUIRE(sb_build(image, &sigstruct, &e, &err) == 0);
    const struct tm_page_range *tcs = sb_range(image, TM_RANGE_TCS);
    uint64_t slot = image->layout.regions.slots_offset + PAGE;
    REQUIRE(tm_sim_tcs_acquire(e, tcs->offset, &err) == 0);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(attach_child(e, tcs->offset, slot));
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    /* The child's EAUG is in the one EPCM. */
    struct tm_sim_epcm m = e->epcm[slot / PAGE];
    CHECK(m.valid && m.pending);

    /* Garbage fds are refused. */
    struct tm_sim_enclave *bad = NULL;
    CHECK_EQ_INT(tm_sim_attach(e->state_fd, e->epc_fd, e->base, e->size, &bad, &err), -EINVAL);
    CHECK(bad == NULL);
}

/* A sparse 64 GiB enclave costs address space, not memory. */
static void test_large_enclave_is_sparse(void)
{
    struct sgx_secs secs;
    sb_secs(&secs, image);
    secs.size = TM_SIM_MAX_ENCLAVE_SIZE;
    _cleanup_sim_ struct tm_sim_enclave *e = NULL;
    tm_error err = { 0 };
    int ret = tm_sim_ecreate(&secs, &e, &err);
    if (ret == -ENOMEM)
        SKIP("not enough address space for a 64 GiB ELRANGE");
    REQUIRE(ret == 0);
    CHECK_EQ_INT(e->base & (secs.size - 1), 0);
    CHECK_EQ_INT(tm_sim_eadd(e, secs.size - PAGE, NULL, PAGE, SGX_SECINFO_REG | SGX_SECINFO_R, true, &err), 0);
    CHECK_EQ_INT(tm_sim_epc_pages(e), 1);
    CHECK_EQ_INT(probe_access((uintptr_t)(e->base + secs.size - 1), 0), 0);
    CHECK_EQ_INT(probe_access((uintptr_t)(e->base + secs.size - 1), 1), SIGSEGV);
    CHECK_EQ_INT(probe_access((uintptr_t)(e->base + secs.size / 2), 0), SIGSEGV);
}

int main(void)
{
    sb_setup();
    image = sb_image(65536);
    if (!image || sb_sign(image, sb_key, NULL, &sigstruct) < 0)
        return 2;
    RUN(test_ecreate_checks_secs);
    RUN(test_einit_accepts_its_sigstruct);
    RUN(test_einit_refuses_other_sigstructs);
    RUN(test_eadd_checks);
    RUN(test_elrange_follows_epcm);
    RUN(test_eaug_eaccept);
    RUN(test_tcs_acquire);
    RUN(test_fork_shares_state);
    RUN(test_attach_from_fds);
    RUN(test_large_enclave_is_sparse);
    tm_image_free(image);
    TEST_EXIT();
}
