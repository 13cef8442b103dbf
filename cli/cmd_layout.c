/* teemate layout IMAGE: the enclave's ELRANGE, range by range. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "enclave/image.h"
#include "enclave/measure.h"
#include "sgx_arch.h"
#include "util/hex.h"

static const char usage[] =
    "Usage: teemate layout IMAGE\n\n"
    "Show the enclave layout IMAGE describes: every range with its offset from the\n"
    "enclave base, size, page type and permissions, and whether its contents are\n"
    "measured (EEXTEND), only added (EADD), or added on demand (EAUG: slots, and the heap's\n"
    "on-demand part).\n";

/* Human size: "64 KiB", "1 MiB", or bytes. */
static const char *size_string(uint64_t v, char buf[32])
{
    if (v >= (1ULL << 30) && v % (1ULL << 30) == 0)
        snprintf(buf, 32, "%" PRIu64 " GiB", v >> 30);
    else if (v >= (1ULL << 20) && v % (1ULL << 20) == 0)
        snprintf(buf, 32, "%" PRIu64 " MiB", v >> 20);
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(buf, 32, "%" PRIu64 " KiB", v >> 10);
    else
        snprintf(buf, 32, "%" PRIu64 " B", v);
    return buf;
}

static const char *how_added(const struct tm_page_range *r)
{
    return r->on_demand ? "on demand" : r->measured ? "measured" : "added";
}

static void print_range(const struct tm_page_range *r)
{
    char size[32], perm[8];
    printf("  0x%010" PRIx64 "-0x%010" PRIx64 "  %10s  %-11s %-3u  %-4s  %s\n", r->offset,
           r->offset + r->size, size_string(r->size, size), tm_range_kind_name(r->kind), r->index,
           tm_range_perm_string(r->secinfo_flags, perm), how_added(r));
}

int tm_cmd_layout(int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
    int c;
    while ((c = tm_cli_getopt("layout", argc, argv, "h", opts)) != -1) {
        if (c == 'h')
            return fputs(usage, stdout), 0;
        return TM_EXIT_USAGE;
    }
    if (optind + 1 != argc)
        return tm_cli_usage("layout", "expects exactly one IMAGE");

    tm_error err = { 0 };
    _cleanup_image_ struct tm_image *image = NULL;
    uint8_t mr[32];
    if (tm_image_load(argv[optind], &image, &err) < 0 ||
        tm_measure_layout(&image->layout, NULL, NULL, mr, &err) < 0)
        return tm_cli_fail(&err);

    const struct tm_layout *l = &image->layout;
    const struct tm_layout_settings *s = &l->settings;
    char a[32], b[32], hex[65];
    printf("image:        %s\n", image->path);
    printf("MRENCLAVE:    %s\n", tm_hex(hex, mr, sizeof(mr)));
    printf("enclave size: %s (ELRANGE: power-of-two size, naturally aligned base)\n",
           size_string(s->enclave_size, a));
    printf("entry:        0x%" PRIx64 "\n", l->entry);
    printf("threads:      %u TCS (%u of them made on demand), %u SSA frame(s) of %u page(s), %s stack "
           "each\n", s->tcs_count, s->tcs_on_demand, s->nssa, s->ssa_frame_pages,
           size_string(s->stack_size, a));
    printf("heap:         %s (enclave-global), %s of it added on demand\n",
           size_string(s->heap_size, a), size_string(s->heap_on_demand, b));
    printf("slots:        %u x %s (container slots, added on demand)\n", s->slot_count,
           size_string(s->slot_size, a));
    printf("relocations:  %zu (applied inside the enclave at first entry)\n", image->elf.nrelocs);
    printf("added:        %s before EINIT, of which %s measured\n\n",
           size_string(tm_layout_added_bytes(l), a), size_string(tm_layout_measured_bytes(l), b));
    printf("  %-25s  %10s  %-11s %-3s  %-4s  %s\n", "range (offset from base)", "size", "kind", "#",
           "perm", "contents");
    /* Collapse long runs of slots: the first two and the last say it all. */
    for (size_t i = 0; i < l->nranges; i++) {
        const struct tm_page_range *r = &l->ranges[i];
        if (r->kind == TM_RANGE_SLOT && r->index >= 2 && r->index + 1 < s->slot_count) {
            if (r->index == 2)
                printf("  ... %u more slots ...\n", s->slot_count - 3);
            continue;
        }
        print_range(r);
    }
    return 0;
}
