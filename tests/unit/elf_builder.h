/* Builds small synthetic enclave images in memory, so each test can break
 * exactly one thing. Layout of the file (and of the image, vaddr = offset):
 *   page 0  R    ELF header, program headers, the TeeMate note, .rela.dyn
 *   page 1  R-X  code (entry at 0x1000)
 *   page 2  RW-  data, with the dynamic section at its end */
#ifndef TM_ELF_BUILDER_H
#define TM_ELF_BUILDER_H

#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "tm_image.h"

#define EB_PAGE 4096
#define EB_SIZE (3 * EB_PAGE)
#define EB_NOTE_OFF 0x200
#define EB_RELA_OFF 0x300
#define EB_DYN_OFF (2 * EB_PAGE + 0x800)

struct eb_image {
    uint8_t bytes[EB_SIZE];
    Elf64_Ehdr *eh;
    Elf64_Phdr *ph;            /* [0..2] PT_LOAD, [3] PT_NOTE, [4] PT_DYNAMIC */
    struct tm_layout_settings *settings;
    Elf64_Rela *rela;          /* two relocations */
    Elf64_Dyn *dyn;
};

static inline struct tm_layout_settings eb_default_settings(void)
{
    return (struct tm_layout_settings){
        .version = TM_LAYOUT_VERSION, .enclave_size = 1 << 22, .tcs_count = 2, .nssa = 2,
        .ssa_frame_pages = 1, .slot_count = 4, .stack_size = 16384, .heap_size = 65536,
        .slot_size = 131072,
    };
}

static inline void eb_build(struct eb_image *im)
{
    memset(im, 0, sizeof(*im));
    uint8_t *b = im->bytes;
    Elf64_Ehdr *eh = im->eh = (Elf64_Ehdr *)b;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_DYN;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = EB_PAGE;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 5;
    Elf64_Phdr *ph = im->ph = (Elf64_Phdr *)(b + eh->e_phoff);
    for (int i = 0; i < 3; i++) {
        ph[i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = (uint64_t)i * EB_PAGE,
                              .p_vaddr = (uint64_t)i * EB_PAGE, .p_paddr = (uint64_t)i * EB_PAGE,
                              .p_filesz = EB_PAGE, .p_memsz = EB_PAGE, .p_align = EB_PAGE };
    }
    ph[0].p_flags = PF_R;
    ph[1].p_flags = PF_R | PF_X;
    ph[2].p_flags = PF_R | PF_W;
    ph[2].p_memsz = 2 * EB_PAGE;   /* one page of .bss */

    /* The note: header, "TeeMate\0", settings. */
    Elf64_Nhdr *nh = (Elf64_Nhdr *)(b + EB_NOTE_OFF);
    nh->n_namesz = sizeof(TM_NOTE_NAME);
    nh->n_descsz = sizeof(struct tm_layout_settings);
    nh->n_type = TM_NOTE_LAYOUT;
    memcpy(nh + 1, TM_NOTE_NAME, sizeof(TM_NOTE_NAME));
    im->settings = (struct tm_layout_settings *)((uint8_t *)(nh + 1) + 8);
    *im->settings = eb_default_settings();
    ph[3] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_flags = PF_R, .p_offset = EB_NOTE_OFF,
                          .p_vaddr = EB_NOTE_OFF,
                          .p_filesz = sizeof(*nh) + 8 + sizeof(struct tm_layout_settings),
                          .p_align = 4 };
    ph[3].p_memsz = ph[3].p_filesz;

    /* Code: a recognisable pattern (contents are only measured, never run). */
    for (int i = 0; i < EB_PAGE; i++)
        b[EB_PAGE + i] = (uint8_t)(i * 7 + 3);

    /* Two relative relocations into the data page. */
    im->rela = (Elf64_Rela *)(b + EB_RELA_OFF);
    im->rela[0] = (Elf64_Rela){ .r_offset = 2 * EB_PAGE, .r_info = ELF64_R_INFO(0, R_X86_64_RELATIVE),
                                .r_addend = EB_PAGE };
    im->rela[1] = (Elf64_Rela){ .r_offset = 2 * EB_PAGE + 8,
                                .r_info = ELF64_R_INFO(0, R_X86_64_RELATIVE), .r_addend = 0x10 };
    im->dyn = (Elf64_Dyn *)(b + EB_DYN_OFF);
    im->dyn[0] = (Elf64_Dyn){ .d_tag = DT_RELA, .d_un.d_ptr = EB_RELA_OFF };
    im->dyn[1] = (Elf64_Dyn){ .d_tag = DT_RELASZ, .d_un.d_val = 2 * sizeof(Elf64_Rela) };
    im->dyn[2] = (Elf64_Dyn){ .d_tag = DT_RELAENT, .d_un.d_val = sizeof(Elf64_Rela) };
    im->dyn[3] = (Elf64_Dyn){ .d_tag = DT_NULL };
    ph[4] = (Elf64_Phdr){ .p_type = PT_DYNAMIC, .p_flags = PF_R | PF_W, .p_offset = EB_DYN_OFF,
                          .p_vaddr = EB_DYN_OFF, .p_filesz = 4 * sizeof(Elf64_Dyn),
                          .p_memsz = 4 * sizeof(Elf64_Dyn), .p_align = 8 };
}

#endif
