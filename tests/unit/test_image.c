/* The image loader and layout: a valid synthetic image lays out as tm_image.h
 * says, and every kind of malformed image is refused with a clear message. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "elf_builder.h"
#include "enclave/image.h"
#include "enclave/measure.h"
#include "harness.h"
#include "sgx_arch.h"

static struct eb_image im;

/* Load im; on failure return the message in err. */
static int load(struct tm_image **out, tm_error *err)
{
    return tm_image_load_memory(im.bytes, sizeof(im.bytes), "test.elf", out, err);
}

/* Expect loading im to fail with a message containing `needle`. */
static void expect_refused(const char *needle)
{
    struct tm_image *image = NULL;
    tm_error err = { 0 };
    CHECK(load(&image, &err) < 0);
    CHECK(image == NULL);
    CHECK_STR_CONTAINS(err.msg, needle);
    CHECK(strchr(err.msg, '\n') == NULL);
}

static void test_valid_image_layout(void)
{
    eb_build(&im);
    _cleanup_image_ struct tm_image *image = NULL;
    tm_error err = { 0 };
    int ret = load(&image, &err);
    if (ret < 0)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(ret == 0);
    const struct tm_layout *l = &image->layout;
    CHECK_EQ_INT(image->elf.nsegments, 3);
    CHECK_EQ_INT(image->elf.nrelocs, 2);
    CHECK_EQ_INT(l->entry, EB_PAGE);
    /* 3 segments + 2 threads x 4 ranges + heap + 4 slots */
    CHECK_EQ_INT(l->nranges, 3 + 8 + 1 + 4);
    uint64_t prev_end = 0;
    for (size_t i = 0; i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        CHECK(r->offset % 4096 == 0 && r->size % 4096 == 0 && r->size > 0);
        CHECK(r->offset >= prev_end);           /* ascending, no overlap */
        prev_end = r->offset + r->size;
    }
    CHECK(prev_end <= l->settings.enclave_size);
    /* the .bss page of the data segment is part of its range, zero-filled */
    CHECK_EQ_INT(l->ranges[2].size, 2 * EB_PAGE);
    CHECK_EQ_INT(l->ranges[2].data_len, EB_PAGE);
    CHECK(l->ranges[1].secinfo_flags == (SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X));
    CHECK(l->ranges[2].secinfo_flags == (SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W));
}

static void test_tcs_and_thread_data(void)
{
    eb_build(&im);
    _cleanup_image_ struct tm_image *image = NULL;
    tm_error err = { 0 };
    REQUIRE(load(&image, &err) == 0);
    const struct tm_layout *l = &image->layout;
    int threads = 0;
    for (size_t i = 0; i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        if (r->kind != TM_RANGE_TCS)
            continue;
        threads++;
        CHECK(r->secinfo_flags == SGX_SECINFO_TCS);   /* no R/W/X bits on a TCS */
        CHECK(r->measured);
        const struct tm_page_range *stack = r - 1, *ssa = r + 1, *td_range = r + 2;
        REQUIRE(stack->kind == TM_RANGE_STACK && ssa->kind == TM_RANGE_SSA &&
                td_range->kind == TM_RANGE_THREAD_DATA);
        const struct sgx_tcs *tcs = (const struct sgx_tcs *)r->data;
        CHECK_EQ_INT(tcs->oentry, EB_PAGE);
        CHECK_EQ_INT(tcs->ossa, ssa->offset);
        CHECK_EQ_INT(tcs->nssa, 2);
        CHECK_EQ_INT(tcs->cssa, 0);
        CHECK_EQ_INT(tcs->ofsbase, td_range->offset);
        CHECK(tcs->ofsbase % 4096 == 0 && (tcs->fslimit & 0xfff) == 0xfff);
        CHECK_EQ_INT(ssa->size, 2 * 4096);
        const struct tm_thread_data *td = (const struct tm_thread_data *)td_range->data;
        CHECK_EQ_INT(td->tcs_index, r->index);
        CHECK_EQ_INT(td->stack_top, stack->offset + stack->size);
        CHECK_EQ_INT(td->stack_bottom, stack->offset);
        CHECK_EQ_INT(td->regions.heap_size, 65536);
        CHECK_EQ_INT(td->regions.slot_count, 4);
        CHECK(td->regions.slots_offset % TM_LAYOUT_SLOT_ALIGN == 0);
        CHECK_EQ_INT(td->self, 0);   /* written inside the enclave, not by the loader */
        /* a guard page (never added) below every stack */
        CHECK((stack - 1)->offset + (stack - 1)->size < stack->offset);
    }
    CHECK_EQ_INT(threads, 2);
}

/* Place the layout's pages at two different bases and measure each copy from
 * memory, with offsets taken relative to its own base: both equal the
 * loader's MRENCLAVE, since nothing in the pages depends on the base. */
static void measure_placed(const struct tm_layout *l, uint8_t *base, uint8_t mr[32])
{
    tm_error err = { 0 };
    for (size_t i = 0; i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        if (r->data)
            memcpy(base + r->offset, r->data, r->data_len);
    }
    struct tm_measure m;
    REQUIRE(tm_measure_init(&m, NULL, NULL, &err) == 0);
    CHECK(tm_measure_ecreate(&m, l->settings.ssa_frame_pages, l->settings.enclave_size, &err) == 0);
    for (size_t i = 0; i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        for (uint8_t *p = base + r->offset; !r->on_demand && p < base + r->offset + r->size; p += 4096) {
            CHECK(tm_measure_eadd(&m, (uint64_t)(p - base), r->secinfo_flags, &err) == 0);
            if (r->measured)
                CHECK(tm_measure_eextend_page(&m, (uint64_t)(p - base), p, &err) == 0);
        }
    }
    CHECK(tm_measure_final(&m, mr, &err) == 0);
    tm_measure_free(&m);
}

static void test_base_independent_measurement(void)
{
    eb_build(&im);
    _cleanup_image_ struct tm_image *image = NULL;
    tm_error err = { 0 };
    REQUIRE(load(&image, &err) == 0);
    uint64_t size = image->layout.settings.enclave_size;
    uint8_t *area = mmap(NULL, 4 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(area != MAP_FAILED);
    /* two naturally aligned bases, as ELRANGE requires */
    uint8_t *a = (uint8_t *)(((uintptr_t)area + size - 1) & ~(uintptr_t)(size - 1));
    uint8_t *b = a + 2 * size;
    uint8_t mr_loader[32], mr_a[32], mr_b[32];
    CHECK(tm_measure_layout(&image->layout, NULL, NULL, mr_loader, &err) == 0);
    measure_placed(&image->layout, a, mr_a);
    measure_placed(&image->layout, b, mr_b);
    CHECK(memcmp(mr_a, mr_b, 32) == 0);
    CHECK(memcmp(mr_a, mr_loader, 32) == 0);
    munmap(area, 4 * size);
}

static void test_measurement_covers_contents(void)
{
    uint8_t mr1[32], mr2[32];
    tm_error err = { 0 };
    eb_build(&im);
    struct tm_image *image = NULL;
    REQUIRE(load(&image, &err) == 0);
    CHECK(tm_measure_layout(&image->layout, NULL, NULL, mr1, &err) == 0);
    tm_image_free(image);
    im.bytes[EB_PAGE + 100] ^= 1;     /* one bit of code */
    REQUIRE(load(&image, &err) == 0);
    CHECK(tm_measure_layout(&image->layout, NULL, NULL, mr2, &err) == 0);
    CHECK(memcmp(mr1, mr2, 32) != 0);
    tm_image_free(image);
    eb_build(&im);
    im.settings->heap_size += 4096;   /* the layout, too */
    REQUIRE(load(&image, &err) == 0);
    CHECK(tm_measure_layout(&image->layout, NULL, NULL, mr2, &err) == 0);
    CHECK(memcmp(mr1, mr2, 32) != 0);
    tm_image_free(image);
}

static void test_image_with_other_settings(void)
{
    eb_build(&im);
    _cleanup_image_ struct tm_image *image = NULL, *bigger = NULL, *bad = NULL;
    tm_error err = { 0 };
    REQUIRE(load(&image, &err) == 0);
    struct tm_layout_settings s = image->layout.settings;
    s.enclave_size <<= 2;
    s.heap_size = 8 << 20;
    REQUIRE(tm_image_with_settings(image, &s, &bigger, &err) == 0);
    CHECK_EQ_INT(bigger->layout.settings.enclave_size, s.enclave_size);
    CHECK_EQ_INT(bigger->layout.regions.heap_size, 8 << 20);
    uint8_t mr1[32], mr2[32];
    CHECK(tm_measure_layout(&image->layout, NULL, NULL, mr1, &err) == 0);
    CHECK(tm_measure_layout(&bigger->layout, NULL, NULL, mr2, &err) == 0);
    CHECK(memcmp(mr1, mr2, 32) != 0);
    s.heap_size = s.enclave_size;   /* checked like any note */
    CHECK(tm_image_with_settings(image, &s, &bad, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "does not fit");
}

static void test_every_truncation_is_refused(void)
{
    eb_build(&im);
    /* Any prefix that cuts into a segment, the headers or the note fails cleanly. */
    for (size_t len = 0; len < 2 * EB_PAGE + 0x800 + 4 * sizeof(Elf64_Dyn); len += 7) {
        struct tm_image *image = NULL;
        tm_error err = { 0 };
        int ret = tm_image_load_memory(im.bytes, len, "cut.elf", &image, &err);
        CHECK(ret < 0 && image == NULL && err.msg[0]);
        if (ret == 0)
            tm_image_free(image);
    }
}

static void test_bad_headers(void)
{
    eb_build(&im); im.bytes[1] = 'X'; expect_refused("not an ELF file");
    eb_build(&im); im.eh->e_ident[EI_CLASS] = ELFCLASS32; expect_refused("64-bit");
    eb_build(&im); im.eh->e_machine = EM_AARCH64; expect_refused("wrong machine");
    eb_build(&im); im.eh->e_type = ET_EXEC; expect_refused("-static-pie");
    eb_build(&im); im.eh->e_type = ET_REL; expect_refused("not an executable");
    eb_build(&im); im.eh->e_phnum = 2000; expect_refused("program header");
    eb_build(&im); im.eh->e_phoff = EB_SIZE - 8; expect_refused("program header");
}

static void test_bad_segments(void)
{
    eb_build(&im); im.ph[1].p_type = PT_INTERP; expect_refused("interpreter");
    eb_build(&im); im.ph[1].p_type = PT_TLS; expect_refused("PT_TLS");
    eb_build(&im); im.ph[1].p_vaddr = 0x800; expect_refused("not page aligned");
    eb_build(&im); im.ph[2].p_vaddr = EB_PAGE; expect_refused("overlaps");
    eb_build(&im); im.ph[0].p_memsz = EB_PAGE + 1; expect_refused("overlaps");
    eb_build(&im); im.ph[2].p_vaddr = 0; expect_refused("ascending");
    eb_build(&im); im.ph[2].p_filesz = 5 * EB_PAGE; im.ph[2].p_memsz = 5 * EB_PAGE;
    expect_refused("past the end of the file");
    eb_build(&im); im.ph[2].p_filesz = im.ph[2].p_memsz + 1; expect_refused("bad sizes");
    eb_build(&im); im.ph[2].p_memsz = UINT64_MAX - 10; expect_refused("bad sizes");
    eb_build(&im); im.ph[1].p_flags = PF_R | PF_W | PF_X; expect_refused("writable and executable");
    eb_build(&im); im.ph[2].p_flags = PF_W; expect_refused("writable but not readable");
    eb_build(&im); im.eh->e_entry = 2 * EB_PAGE; expect_refused("entry point");
    eb_build(&im); im.eh->e_entry = 1ULL << 40; expect_refused("entry point");
}

static void test_bad_dynamic(void)
{
    eb_build(&im);
    im.dyn[3] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = 1 };
    expect_refused("shared libraries");
    eb_build(&im); im.dyn[0].d_tag = DT_JMPREL; expect_refused("unsupported dynamic tag");
    eb_build(&im); im.rela[1].r_info = ELF64_R_INFO(3, R_X86_64_64); expect_refused("R_X86_64_RELATIVE");
    eb_build(&im); im.rela[1].r_offset = EB_PAGE + 8; expect_refused("not in a writable segment");
    eb_build(&im); im.rela[1].r_offset = 1ULL << 50; expect_refused("not in a writable segment");
    eb_build(&im); im.dyn[1].d_un.d_val = 1ULL << 40; expect_refused("relocation table");
    eb_build(&im); im.dyn[1].d_un.d_val = 17; expect_refused("entry size");
}

static void test_bad_layout_notes(void)
{
    eb_build(&im); im.ph[3].p_type = PT_NULL; expect_refused("no TeeMate layout note");
    eb_build(&im); ((Elf64_Nhdr *)(im.bytes + EB_NOTE_OFF))->n_descsz = 48; expect_refused("expected 72");
    eb_build(&im); im.ph[3].p_filesz = 1ULL << 40; expect_refused("note segment");
    eb_build(&im); im.settings->version = 9; expect_refused("version 9");
    eb_build(&im); im.settings->flags = 1; expect_refused("unknown flags");
    eb_build(&im); im.settings->enclave_size = 3 << 20; expect_refused("power of two");
    eb_build(&im); im.settings->enclave_size = 1ULL << 40; expect_refused("power of two");
    eb_build(&im); im.settings->tcs_count = 0; expect_refused("TCS count");
    eb_build(&im); im.settings->tcs_count = 100000; expect_refused("TCS count");
    eb_build(&im); im.settings->nssa = 0; expect_refused("SSA frames");
    eb_build(&im); im.settings->ssa_frame_pages = 99; expect_refused("SSA frame size");
    eb_build(&im); im.settings->stack_size = 100; expect_refused("stack size");
    eb_build(&im); im.settings->heap_size = 1ULL << 60; expect_refused("heap size");
    eb_build(&im); im.settings->slot_size = 0; expect_refused("slot size");
    eb_build(&im); im.settings->slot_count = 1 << 20; expect_refused("slot count");
    /* fits each check alone, but not together */
    eb_build(&im); im.settings->slot_count = 64; expect_refused("does not fit");
    eb_build(&im); im.settings->enclave_size = 8192; im.settings->heap_size = 0; im.settings->stack_size = 4096;
    im.settings->slot_size = 4096;
    im.settings->slot_count = 0; expect_refused("larger than the enclave");
}

int main(void)
{
    RUN(test_valid_image_layout);
    RUN(test_tcs_and_thread_data);
    RUN(test_base_independent_measurement);
    RUN(test_measurement_covers_contents);
    RUN(test_image_with_other_settings);
    RUN(test_every_truncation_is_refused);
    RUN(test_bad_headers);
    RUN(test_bad_segments);
    RUN(test_bad_dynamic);
    RUN(test_bad_layout_notes);
    TEST_EXIT();
}
