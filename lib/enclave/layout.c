#include "enclave/layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/elf.h"
#include "sgx_arch.h"

#define PAGE SGX_PAGE_SIZE

static bool page_aligned(uint64_t v)
{
    return (v & (PAGE - 1)) == 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

int tm_layout_settings_check(const struct tm_layout_settings *s, tm_error *err)
{
    if (s->version != TM_LAYOUT_VERSION)
        return tm_error_set(err, EINVAL, "layout note version %u is not supported (expected %u)",
                            s->version, TM_LAYOUT_VERSION);
    if (s->flags || s->reserved)
        return tm_error_set(err, EINVAL, "layout note has unknown flags 0x%x or reserved fields set",
                            s->flags);
    uint64_t size = s->enclave_size;
    if (size < 2 * PAGE || (size & (size - 1)) || size > TM_LAYOUT_MAX_ENCLAVE_SIZE)
        return tm_error_set(err, EINVAL,
                            "enclave size 0x%llx must be a power of two between 8 KiB and 64 GiB",
                            (unsigned long long)size);
    if (s->tcs_count < 1 || s->tcs_count > TM_LAYOUT_MAX_TCS)
        return tm_error_set(err, EINVAL, "TCS count %u must be between 1 and %u", s->tcs_count,
                            TM_LAYOUT_MAX_TCS);
    if (s->nssa < 1 || s->nssa > TM_LAYOUT_MAX_NSSA)
        return tm_error_set(err, EINVAL, "SSA frames per TCS %u must be between 1 and %u", s->nssa,
                            TM_LAYOUT_MAX_NSSA);
    if (s->ssa_frame_pages < 1 || s->ssa_frame_pages > TM_LAYOUT_MAX_SSA_FRAME_PAGES)
        return tm_error_set(err, EINVAL, "SSA frame size %u pages must be between 1 and %u",
                            s->ssa_frame_pages, TM_LAYOUT_MAX_SSA_FRAME_PAGES);
    if (s->slot_count > TM_LAYOUT_MAX_SLOTS)
        return tm_error_set(err, EINVAL, "slot count %u exceeds %u", s->slot_count,
                            TM_LAYOUT_MAX_SLOTS);
    const struct { const char *what; uint64_t v; bool nonzero; } sizes[] = {
        { "stack size", s->stack_size, true },
        { "heap size", s->heap_size, false },
        { "slot size", s->slot_size, s->slot_count > 0 },
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (!page_aligned(sizes[i].v) || sizes[i].v > size || (sizes[i].nonzero && !sizes[i].v))
            return tm_error_set(err, EINVAL,
                                "%s 0x%llx must be a non-zero multiple of 4 KiB within the enclave",
                                sizes[i].what, (unsigned long long)sizes[i].v);
    }
    if (!page_aligned(s->heap_on_demand) || s->heap_on_demand > s->heap_size)
        return tm_error_set(err, EINVAL,
                            "heap on demand 0x%llx must be a multiple of 4 KiB within the heap (0x%llx)",
                            (unsigned long long)s->heap_on_demand, (unsigned long long)s->heap_size);
    if (s->tcs_on_demand >= s->tcs_count)
        return tm_error_set(err, EINVAL, "TCSs on demand %u must be fewer than the TCS count %u "
                            "(a TCS is made from a built one)", s->tcs_on_demand, s->tcs_count);
    return 0;
}

const char *tm_range_kind_name(enum tm_range_kind kind)
{
    static const char *const names[] = {
        [TM_RANGE_SEGMENT] = "segment", [TM_RANGE_STACK] = "stack", [TM_RANGE_TCS] = "tcs",
        [TM_RANGE_SSA] = "ssa", [TM_RANGE_THREAD_DATA] = "thread-data", [TM_RANGE_HEAP] = "heap",
        [TM_RANGE_SLOT] = "slot",
    };
    return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *tm_range_perm_string(uint64_t flags, char buf[8])
{
    if ((flags & SGX_SECINFO_PT_MASK) == SGX_SECINFO_TCS)
        return strcpy(buf, "tcs");
    buf[0] = flags & SGX_SECINFO_R ? 'r' : '-';
    buf[1] = flags & SGX_SECINFO_W ? 'w' : '-';
    buf[2] = flags & SGX_SECINFO_X ? 'x' : '-';
    buf[3] = '\0';
    return buf;
}

static uint64_t sum_ranges(const struct tm_layout *layout, bool measured_only)
{
    uint64_t total = 0;
    for (size_t i = 0; i < layout->nranges; i++) {
        const struct tm_page_range *r = &layout->ranges[i];
        if (!r->on_demand && (!measured_only || r->measured))
            total += r->size;
    }
    return total;
}

uint64_t tm_layout_added_bytes(const struct tm_layout *layout)
{
    return sum_ranges(layout, false);
}

uint64_t tm_layout_measured_bytes(const struct tm_layout *layout)
{
    return sum_ranges(layout, true);
}

void tm_layout_free(struct tm_layout *layout)
{
    free(layout->ranges);
    free(layout->generated);
    memset(layout, 0, sizeof(*layout));
}

static void push_range(struct tm_layout *l, enum tm_range_kind kind, uint32_t index,
                       uint64_t offset, uint64_t size, uint64_t flags, bool measured,
                       const uint8_t *data, uint64_t data_len)
{
    l->ranges[l->nranges++] = (struct tm_page_range){
        .offset = offset, .size = size, .secinfo_flags = flags, .data = data,
        .data_len = data_len, .measured = measured, .on_demand = kind == TM_RANGE_SLOT,
        .kind = kind, .index = index,
    };
}

/* The heap: its part added at build (index 0), then its part added on demand
 * (index 1), either possibly empty. */
static void layout_heap(struct tm_layout *l, uint64_t offset)
{
    const struct tm_layout_settings *s = &l->settings;
    uint64_t built = s->heap_size - s->heap_on_demand;
    uint64_t rw = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W;
    if (built)
        push_range(l, TM_RANGE_HEAP, 0, offset, built, rw, false, NULL, 0);
    if (s->heap_on_demand) {
        push_range(l, TM_RANGE_HEAP, 1, offset + built, s->heap_on_demand, rw, false, NULL, 0);
        l->ranges[l->nranges - 1].on_demand = true;
    }
}

/* Thread t's stack, TCS, SSA frames, thread data page and guard, from cursor. */
static uint64_t layout_thread(struct tm_layout *l, uint32_t t, uint64_t cursor, uint8_t *pages)
{
    const struct tm_layout_settings *s = &l->settings;
    uint64_t stack = cursor;
    uint64_t tcs_off = stack + s->stack_size;
    uint64_t ssa = tcs_off + PAGE;
    uint64_t ssa_bytes = (uint64_t)s->nssa * s->ssa_frame_pages * PAGE;
    uint64_t tdata_off = ssa + ssa_bytes;

    struct sgx_tcs *tcs = (struct sgx_tcs *)pages;
    tcs->ossa = ssa;
    tcs->nssa = s->nssa;
    tcs->oentry = l->entry;
    tcs->ofsbase = tdata_off;
    tcs->ogsbase = tdata_off;
    tcs->fslimit = 0xFFFFFFFF;   /* low 12 bits must be set (EADD checks) */
    tcs->gslimit = 0xFFFFFFFF;

    struct tm_thread_data *td = (struct tm_thread_data *)(pages + PAGE);
    td->tcs_index = t;
    td->tcs_offset = tcs_off;
    td->stack_top = tcs_off;
    td->stack_bottom = stack;
    td->ssa_offset = ssa;
    td->ssa_frame_size = (uint64_t)s->ssa_frame_pages * PAGE;
    td->nssa = s->nssa;
    /* regions are copied in once all of them are known */

    push_range(l, TM_RANGE_STACK, t, stack, s->stack_size, SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W,
               false, NULL, 0);
    push_range(l, TM_RANGE_TCS, t, tcs_off, PAGE, SGX_SECINFO_TCS, true, pages, PAGE);
    push_range(l, TM_RANGE_SSA, t, ssa, ssa_bytes, SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W,
               true, NULL, 0);
    push_range(l, TM_RANGE_THREAD_DATA, t, tdata_off, PAGE,
               SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W, true, pages + PAGE, PAGE);
    if (t >= s->tcs_count - s->tcs_on_demand)
        for (size_t i = l->nranges - 4; i < l->nranges; i++)
            l->ranges[i].on_demand = true;   /* made at run time (tm_tcs_make.c) */
    return tdata_off + 2 * PAGE;   /* + guard page */
}

int tm_layout_build_from(struct tm_layout *layout, const struct tm_layout_settings *settings,
                         uint64_t entry, uint64_t image_end, const struct tm_page_range *segments,
                         size_t nsegments, tm_error *err)
{
    memset(layout, 0, sizeof(*layout));
    int ret = tm_layout_settings_check(settings, err);
    if (ret < 0)
        return ret;
    const struct tm_layout_settings *s = settings;
    if (image_end > s->enclave_size)
        return tm_error_set(err, EINVAL, "image (0x%llx bytes) is larger than the enclave (0x%llx)",
                            (unsigned long long)image_end, (unsigned long long)s->enclave_size);

    /* Every size is at most enclave_size <= 2^36 (checked), so none of the sums
     * below can overflow 64 bits; the fit is checked once at the end. */
    size_t max_ranges = nsegments + 4 * (size_t)s->tcs_count + 2 + s->slot_count;
    layout->ranges = calloc(max_ranges, sizeof(*layout->ranges));
    layout->generated = calloc((size_t)s->tcs_count * 2, PAGE);
    if (!layout->ranges || !layout->generated) {
        tm_layout_free(layout);
        return tm_error_set(err, ENOMEM, "out of memory laying out the enclave");
    }
    layout->settings = *s;
    layout->entry = entry;
    for (size_t i = 0; i < nsegments; i++)
        layout->ranges[layout->nranges++] = segments[i];

    uint64_t cursor = align_up(image_end, PAGE) + PAGE;   /* guard page after the image */
    for (uint32_t t = 0; t < s->tcs_count; t++)
        cursor = layout_thread(layout, t, cursor, layout->generated + (size_t)t * 2 * PAGE);

    struct tm_enclave_regions *rg = &layout->regions;
    rg->enclave_size = s->enclave_size;
    rg->image_size = align_up(image_end, PAGE);
    rg->tcs_count = s->tcs_count;
    rg->heap_offset = cursor;
    rg->heap_size = s->heap_size;
    if (s->heap_size) {
        layout_heap(layout, cursor);
        cursor += s->heap_size + PAGE;
    }
    rg->slots_offset = align_up(cursor, TM_LAYOUT_SLOT_ALIGN);
    rg->slot_size = s->slot_size;
    rg->slot_count = s->slot_count;
    for (uint32_t i = 0; i < s->slot_count; i++)
        push_range(layout, TM_RANGE_SLOT, i, rg->slots_offset + (uint64_t)i * s->slot_size,
                   s->slot_size, SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W, false, NULL, 0);
    uint64_t end = rg->slots_offset + (uint64_t)s->slot_count * s->slot_size;
    if (end > s->enclave_size) {
        tm_layout_free(layout);
        return tm_error_set(err, EINVAL,
                            "layout does not fit: it needs 0x%llx bytes, the enclave size is 0x%llx",
                            (unsigned long long)end, (unsigned long long)s->enclave_size);
    }
    for (uint32_t t = 0; t < s->tcs_count; t++) {
        struct tm_thread_data *td =
            (struct tm_thread_data *)(layout->generated + ((size_t)t * 2 + 1) * PAGE);
        td->regions = *rg;
        td->heap_on_demand = s->heap_on_demand;
        td->tcs_on_demand = s->tcs_on_demand;
    }
    return 0;
}

int tm_layout_build(struct tm_layout *layout, const struct tm_elf *elf, tm_error *err)
{
    struct tm_page_range segs[TM_ELF_MAX_SEGMENTS];
    for (size_t i = 0; i < elf->nsegments; i++) {
        const struct tm_elf_segment *seg = &elf->segments[i];
        segs[i] = (struct tm_page_range){
            .offset = seg->vaddr, .size = align_up(seg->memsz, PAGE),
            .secinfo_flags = SGX_SECINFO_REG | seg->secinfo_perm,
            .data = elf->file + seg->file_offset, .data_len = seg->filesz,
            .measured = true, .kind = TM_RANGE_SEGMENT, .index = (uint32_t)i,
        };
    }
    return tm_layout_build_from(layout, &elf->settings, elf->entry, elf->image_end, segs,
                                elf->nsegments, err);
}

int tm_layout_thread_span(const struct tm_layout *layout, uint32_t t, uint64_t *offset, uint64_t *len)
{
    uint64_t start = UINT64_MAX, end = 0;
    for (size_t i = 0; i < layout->nranges; i++) {
        const struct tm_page_range *r = &layout->ranges[i];
        if (r->index != t || (r->kind != TM_RANGE_STACK && r->kind != TM_RANGE_TCS &&
                              r->kind != TM_RANGE_SSA && r->kind != TM_RANGE_THREAD_DATA))
            continue;
        start = r->offset < start ? r->offset : start;
        end = r->offset + r->size > end ? r->offset + r->size : end;
    }
    if (!end)
        return -EINVAL;
    *offset = start;
    *len = end - start;
    return 0;
}
