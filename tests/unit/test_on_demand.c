/* Layout settings for SGX2 growth: the enclave-global heap (heap_on_demand)
 * and TCSs (tcs_on_demand) added on demand. The heap:
 * how it is checked and laid out, and that a private enclave's heap grows
 * past its built part with EACCEPT (the sim EAUGs on that fault). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/devkey.h"
#include "enclave/ecall.h"
#include "enclave/enclave.h"
#include "harness.h"

static struct tm_layout_settings base_settings(void)
{
    return (struct tm_layout_settings){
        .version = TM_LAYOUT_VERSION, .enclave_size = 1 << 24, .tcs_count = 2, .nssa = 1,
        .ssa_frame_pages = 1, .slot_count = 2, .stack_size = 16384, .heap_size = 1 << 20,
        .slot_size = 1 << 20,
    };
}

static void test_settings_checked(void)
{
    struct tm_layout_settings s = base_settings();
    tm_error err = { 0 };
    s.heap_on_demand = 4096 + 1;
    CHECK(tm_layout_settings_check(&s, &err) == -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "heap on demand");
    s.heap_on_demand = s.heap_size + 4096;
    CHECK(tm_layout_settings_check(&s, &err) == -EINVAL);
    s.heap_on_demand = s.heap_size;   /* all of it: fine */
    CHECK(tm_layout_settings_check(&s, &err) == 0);
    s.reserved = 1;
    CHECK(tm_layout_settings_check(&s, &err) == -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "reserved");
}

static const struct tm_page_range *heap_range(const struct tm_layout *l, uint32_t index)
{
    for (size_t i = 0; i < l->nranges; i++)
        if (l->ranges[i].kind == TM_RANGE_HEAP && l->ranges[i].index == index)
            return &l->ranges[i];
    return NULL;
}

static void test_heap_split_in_layout(void)
{
    struct tm_layout_settings s = base_settings();
    struct tm_page_range seg = { .offset = 0, .size = 4096, .secinfo_flags = SGX_SECINFO_REG | SGX_SECINFO_R,
                                 .measured = true, .kind = TM_RANGE_SEGMENT };
    struct tm_layout whole, split;
    tm_error err = { 0 };
    REQUIRE(tm_layout_build_from(&whole, &s, 0, 4096, &seg, 1, &err) == 0);
    s.heap_on_demand = 768 << 10;
    REQUIRE(tm_layout_build_from(&split, &s, 0, 4096, &seg, 1, &err) == 0);
    const struct tm_page_range *built = heap_range(&split, 0), *grow = heap_range(&split, 1);
    REQUIRE(built && grow);
    CHECK(!built->on_demand && grow->on_demand);
    CHECK_EQ_INT(built->size, 256 << 10);
    CHECK_EQ_INT(grow->size, 768 << 10);
    CHECK_EQ_INT(grow->offset, built->offset + built->size);
    CHECK_EQ_INT(built->offset, whole.regions.heap_offset);
    /* the same regions, 768 KiB fewer pages added before EINIT */
    CHECK(memcmp(&whole.regions, &split.regions, sizeof whole.regions) == 0);
    CHECK_EQ_INT(tm_layout_added_bytes(&whole) - tm_layout_added_bytes(&split), 768 << 10);
    CHECK_EQ_INT(tm_enclave_build_pages(&whole) - tm_enclave_build_pages(&split), 192);
    /* the runtime learns it from the (measured) thread data */
    for (size_t i = 0; i < split.nranges; i++) {
        const struct tm_page_range *r = &split.ranges[i];
        if (r->kind == TM_RANGE_THREAD_DATA)
            CHECK_EQ_INT(((const struct tm_thread_data *)r->data)->heap_on_demand, 768 << 10);
    }
    CHECK(heap_range(&whole, 1) == NULL);
    tm_layout_free(&whole);
    tm_layout_free(&split);
    /* the whole heap on demand: no built part at all */
    s.heap_on_demand = s.heap_size;
    REQUIRE(tm_layout_build_from(&split, &s, 0, 4096, &seg, 1, &err) == 0);
    CHECK(heap_range(&split, 0) == NULL && heap_range(&split, 1) != NULL);
    tm_layout_free(&split);
}

/* Its "ok ..." lines are not this test's. */
static long swallow(void *ctx, int fd, const void *buf, size_t len)
{
    (void)ctx, (void)fd, (void)buf;
    return (long)len;
}

/* tcs_on_demand: fewer than tcs_count, and the last threads' four ranges
 * each on demand, the rest of the layout where it was. */
static void test_tcs_on_demand_in_layout(void)
{
    struct tm_layout_settings s = base_settings();
    struct tm_page_range seg = { .offset = 0, .size = 4096, .secinfo_flags = SGX_SECINFO_REG | SGX_SECINFO_R,
                                 .measured = true, .kind = TM_RANGE_SEGMENT };
    tm_error err = { 0 };
    s.tcs_count = 3;
    s.tcs_on_demand = 3;
    CHECK(tm_layout_settings_check(&s, &err) == -EINVAL);
    CHECK_STR_CONTAINS(err.msg, "a TCS is made from a built one");
    struct tm_layout all, some;
    s.tcs_on_demand = 0;
    REQUIRE(tm_layout_build_from(&all, &s, 0, 4096, &seg, 1, &err) == 0);
    s.tcs_on_demand = 2;
    REQUIRE(tm_layout_build_from(&some, &s, 0, 4096, &seg, 1, &err) == 0);
    CHECK_EQ_INT(all.nranges, some.nranges);
    uint64_t thread_bytes = 0;
    for (size_t i = 0; i < some.nranges; i++) {
        const struct tm_page_range *a = &all.ranges[i], *r = &some.ranges[i];
        CHECK(a->offset == r->offset && a->size == r->size && a->kind == r->kind);
        bool thread = r->kind == TM_RANGE_STACK || r->kind == TM_RANGE_TCS || r->kind == TM_RANGE_SSA ||
                      r->kind == TM_RANGE_THREAD_DATA;
        CHECK_EQ_INT(r->on_demand, (thread && r->index >= 1) || r->kind == TM_RANGE_SLOT);
        thread_bytes += thread && r->index >= 1 ? r->size : 0;
        if (r->kind == TM_RANGE_THREAD_DATA)
            CHECK_EQ_INT(((const struct tm_thread_data *)r->data)->tcs_on_demand, 2);
    }
    CHECK_EQ_INT(tm_layout_added_bytes(&all) - tm_layout_added_bytes(&some), thread_bytes);
    tm_layout_free(&all);
    tm_layout_free(&some);
}

/* selftest.elf with its heap (grown to 4 MiB) all or partly on demand: its
 * checks pass (a 200 KiB block, realloc, memalign) in a private enclave, and
 * the enclave holds more pages after than before. */
static void run_selftest(uint64_t heap, uint64_t on_demand)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build-san";
    char path[512], key[4200];
    snprintf(path, sizeof path, "%s/examples/selftest.elf", build);
    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL, *grown = NULL;
    REQUIRE(tm_image_load(path, &image, &err) == 0);
    struct tm_layout_settings s = image->layout.settings;
    s.heap_size = heap;
    s.heap_on_demand = on_demand;
    REQUIRE(tm_image_with_settings(image, &s, &grown, &err) == 0);
    struct sgx_sigstruct ss;
    REQUIRE(tm_devkey_sign(grown, &ss, key, sizeof key, &err) == 0);
    _cleanup_enclave_ struct tm_enclave *e = NULL;
    REQUIRE(tm_enclave_build(grown, &ss, &tm_backend_sim, &e, &err) == 0);
    CHECK_EQ_INT(e->stats.pages_added, (int64_t)tm_enclave_build_pages(&image->layout) +
                                           ((int64_t)(heap - on_demand) -
                                            (int64_t)image->layout.settings.heap_size) / 4096);
    uint64_t before = e->ops->epc_pages(e->be);
    static const char argv[] = "selftest.elf\0one";
    struct tm_ecall_call c = { .ecall = TM_ECALL_MAIN, .in = argv, .in_len = sizeof argv,
                               .write = swallow };
    REQUIRE(tm_ecall(e->ops, e->be, e->base, e->size, tm_enclave_tcs_offset(e, 0), &c, &err) == 0);
    CHECK_EQ_INT(c.retval, 0);
    uint64_t grew = e->ops->epc_pages(e->be) - before;
    if (on_demand) {
        CHECK(grew * 4096 + (heap - on_demand) >= 200 * 1024);   /* the 200 KiB block fits */
        CHECK(grew <= on_demand / 4096);
    }
    else
        CHECK_EQ_INT(grew, 0);
}

static void test_private_heap_grows(void)
{
    run_selftest(4 << 20, 4 << 20);
    run_selftest(4 << 20, (4 << 20) - (64 << 10));   /* 64 KiB built: too small for 200 KiB */
    run_selftest(4 << 20, 0);
}

int main(void)
{
    char dir[] = "/tmp/teemate-heap-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    setenv("TEEMATE_STATE_DIR", dir, 1);
    RUN(test_settings_checked);
    RUN(test_heap_split_in_layout);
    RUN(test_tcs_on_demand_in_layout);
    RUN(test_private_heap_grows);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    TEST_EXIT();
}
