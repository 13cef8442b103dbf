/* Enclave image ELF validation. The file is untrusted: every offset and size is
 * checked against the file before it is read, with overflow-safe arithmetic. */
#include "enclave/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "sgx_arch.h"

#define PAGE SGX_PAGE_SIZE

/* Is [off, off + len) inside the file? */
static bool in_file(const struct tm_elf *elf, uint64_t off, uint64_t len)
{
    uint64_t end;
    return !__builtin_add_overflow(off, len, &end) && end <= elf->file_len;
}

static int check_header(struct tm_elf *elf, const Elf64_Ehdr **out, const char *name, tm_error *err)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf->file;
    if (elf->file_len < SELFMAG || memcmp(eh->e_ident, ELFMAG, SELFMAG))
        return tm_error_set(err, ENOEXEC, "%s: not an ELF file", name);
    if (elf->file_len < sizeof(*eh))
        return tm_error_set(err, ENOEXEC, "%s: truncated ELF header (%zu bytes)", name, elf->file_len);
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return tm_error_set(err, ENOEXEC, "%s: not a 64-bit little-endian ELF file", name);
    if (eh->e_machine != EM_X86_64)
        return tm_error_set(err, ENOEXEC, "%s: wrong machine %u (an enclave image is x86-64)", name,
                            eh->e_machine);
    if (eh->e_type == ET_EXEC)
        return tm_error_set(err, ENOEXEC,
                            "%s: not position-independent (ET_EXEC); link it with -static-pie", name);
    if (eh->e_type != ET_DYN)
        return tm_error_set(err, ENOEXEC, "%s: ELF type %u is not an executable", name, eh->e_type);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64 ||
        !in_file(elf, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
        return tm_error_set(err, ENOEXEC, "%s: bad or truncated program header table", name);
    if (eh->e_phoff % 8)
        return tm_error_set(err, ENOEXEC, "%s: misaligned program header table", name);
    *out = eh;
    return 0;
}

static uint64_t secinfo_perm(uint32_t p_flags)
{
    return (p_flags & PF_R ? SGX_SECINFO_R : 0) | (p_flags & PF_W ? SGX_SECINFO_W : 0) |
           (p_flags & PF_X ? SGX_SECINFO_X : 0);
}

static int add_segment(struct tm_elf *elf, const Elf64_Phdr *ph, unsigned idx, const char *name,
                       tm_error *err)
{
    uint64_t end;
    if (elf->nsegments == TM_ELF_MAX_SEGMENTS)
        return tm_error_set(err, ENOEXEC, "%s: more than %d loadable segments", name,
                            TM_ELF_MAX_SEGMENTS);
    if (ph->p_vaddr % PAGE || (ph->p_align && ph->p_align % PAGE))
        return tm_error_set(err, ENOEXEC,
                            "%s: segment %u at 0x%llx is not page aligned (link with the TeeMate SDK script)",
                            name, idx, (unsigned long long)ph->p_vaddr);
    if (ph->p_filesz > ph->p_memsz || ph->p_memsz == 0 ||
        __builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &end) || end > TM_LAYOUT_MAX_ENCLAVE_SIZE)
        return tm_error_set(err, ENOEXEC, "%s: segment %u has bad sizes", name, idx);
    if (!in_file(elf, ph->p_offset, ph->p_filesz))
        return tm_error_set(err, ENOEXEC, "%s: segment %u extends past the end of the file (truncated?)",
                            name, idx);
    if ((ph->p_flags & PF_W) && !(ph->p_flags & PF_R))
        return tm_error_set(err, ENOEXEC, "%s: segment %u is writable but not readable", name, idx);
    if ((ph->p_flags & PF_W) && (ph->p_flags & PF_X))
        return tm_error_set(err, ENOEXEC, "%s: segment %u is both writable and executable", name, idx);
    if (elf->nsegments) {
        const struct tm_elf_segment *prev = &elf->segments[elf->nsegments - 1];
        uint64_t prev_end = (prev->vaddr + prev->memsz + PAGE - 1) & ~(PAGE - 1);
        if (ph->p_vaddr < prev->vaddr)
            return tm_error_set(err, ENOEXEC, "%s: loadable segments are not in ascending address order",
                                name);
        if (ph->p_vaddr < prev_end)
            return tm_error_set(err, ENOEXEC,
                                "%s: segment %u (0x%llx) overlaps the page(s) of the segment before it (ends 0x%llx)",
                                name, idx, (unsigned long long)ph->p_vaddr, (unsigned long long)prev_end);
    }
    elf->segments[elf->nsegments++] = (struct tm_elf_segment){
        .vaddr = ph->p_vaddr, .memsz = ph->p_memsz, .file_offset = ph->p_offset,
        .filesz = ph->p_filesz, .secinfo_perm = secinfo_perm(ph->p_flags),
    };
    elf->image_end = (end + PAGE - 1) & ~(PAGE - 1);
    return 0;
}

/* Look through one PT_NOTE segment for the TeeMate layout note. */
static int scan_notes(struct tm_elf *elf, const Elf64_Phdr *ph, bool *found, const char *name,
                      tm_error *err)
{
    if (!in_file(elf, ph->p_offset, ph->p_filesz))
        return tm_error_set(err, ENOEXEC, "%s: note segment extends past the end of the file", name);
    const uint8_t *p = elf->file + ph->p_offset;
    uint64_t left = ph->p_filesz;
    while (left >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, p, sizeof(nh));
        uint64_t namesz = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
        uint64_t descsz = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
        if (namesz + descsz > left - sizeof(nh))
            return tm_error_set(err, ENOEXEC, "%s: truncated ELF note", name);
        const uint8_t *nm = p + sizeof(nh);
        if (nh.n_namesz == sizeof(TM_NOTE_NAME) && !memcmp(nm, TM_NOTE_NAME, sizeof(TM_NOTE_NAME)) &&
            nh.n_type == TM_NOTE_LAYOUT) {
            if (*found)
                return tm_error_set(err, ENOEXEC, "%s: more than one TeeMate layout note", name);
            if (nh.n_descsz != sizeof(elf->settings))
                return tm_error_set(err, ENOEXEC, "%s: TeeMate layout note has %u bytes, expected %zu",
                                    name, nh.n_descsz, sizeof(elf->settings));
            memcpy(&elf->settings, nm + namesz, sizeof(elf->settings));
            elf->settings_file_offset = (uint64_t)(nm + namesz - elf->file);
            *found = true;
        }
        p += sizeof(nh) + namesz + descsz;
        left -= sizeof(nh) + namesz + descsz;
    }
    return 0;
}

/* Map an address in the image to the segment that holds it (NULL if none). */
static const struct tm_elf_segment *segment_at(const struct tm_elf *elf, uint64_t vaddr, uint64_t len)
{
    for (size_t i = 0; i < elf->nsegments; i++) {
        const struct tm_elf_segment *s = &elf->segments[i];
        if (vaddr >= s->vaddr && vaddr - s->vaddr <= s->memsz && len <= s->memsz - (vaddr - s->vaddr))
            return s;
    }
    return NULL;
}

/* The dynamic section: no shared libraries, and only relative relocations
 * that land in writable memory (the runtime applies them inside the enclave). */
static int check_dynamic(struct tm_elf *elf, const Elf64_Phdr *ph, const char *name, tm_error *err)
{
    if (!in_file(elf, ph->p_offset, ph->p_filesz))
        return tm_error_set(err, ENOEXEC, "%s: dynamic section extends past the end of the file", name);
    uint64_t rela = 0, relasz = 0, relaent = sizeof(Elf64_Rela);
    size_t n = ph->p_filesz / sizeof(Elf64_Dyn);
    for (size_t i = 0; i < n; i++) {
        Elf64_Dyn d;
        memcpy(&d, elf->file + ph->p_offset + i * sizeof(d), sizeof(d));
        if (d.d_tag == DT_NULL)
            break;
        switch (d.d_tag) {
        case DT_NEEDED:
            return tm_error_set(err, ENOEXEC,
                                "%s: dynamic executable (needs shared libraries); link it with -static-pie", name);
        case DT_RELA: rela = d.d_un.d_ptr; break;
        case DT_RELASZ: relasz = d.d_un.d_val; break;
        case DT_RELAENT: relaent = d.d_un.d_val; break;
        case DT_REL: case DT_JMPREL: case DT_TEXTREL:
            return tm_error_set(err, ENOEXEC, "%s: unsupported dynamic tag %lld (only RELA relocations)",
                                name, (long long)d.d_tag);
        }
    }
    if (!relasz)
        return 0;
    if (relaent != sizeof(Elf64_Rela) || relasz % sizeof(Elf64_Rela))
        return tm_error_set(err, ENOEXEC, "%s: bad relocation table entry size", name);
    const struct tm_elf_segment *seg = segment_at(elf, rela, relasz);
    if (!seg || rela - seg->vaddr + relasz > seg->filesz)
        return tm_error_set(err, ENOEXEC, "%s: relocation table is outside the image's file data", name);
    const uint8_t *table = elf->file + seg->file_offset + (rela - seg->vaddr);
    elf->nrelocs = relasz / sizeof(Elf64_Rela);
    for (size_t i = 0; i < elf->nrelocs; i++) {
        Elf64_Rela r;
        memcpy(&r, table + i * sizeof(r), sizeof(r));
        uint32_t type = ELF64_R_TYPE(r.r_info);
        if (type == R_X86_64_NONE)
            continue;
        if (type != R_X86_64_RELATIVE)
            return tm_error_set(err, ENOEXEC,
                                "%s: relocation %zu has type %u; enclave images may only use R_X86_64_RELATIVE",
                                name, i, type);
        const struct tm_elf_segment *target = segment_at(elf, r.r_offset, 8);
        if (!target || !(target->secinfo_perm & SGX_SECINFO_W))
            return tm_error_set(err, ENOEXEC,
                                "%s: relocation %zu at 0x%llx is not in a writable segment", name, i,
                                (unsigned long long)r.r_offset);
    }
    return 0;
}

int tm_elf_parse(struct tm_elf *elf, const uint8_t *file, size_t len, const char *name, tm_error *err)
{
    memset(elf, 0, sizeof(*elf));
    elf->file = file;
    elf->file_len = len;
    const Elf64_Ehdr *eh = NULL;
    int ret = check_header(elf, &eh, name, err);
    if (ret < 0)
        return ret;

    const Elf64_Phdr *phdrs = (const Elf64_Phdr *)(file + eh->e_phoff);
    bool note_found = false;
    const Elf64_Phdr *dynamic = NULL;
    for (unsigned i = 0; i < eh->e_phnum && ret == 0; i++) {
        const Elf64_Phdr *ph = &phdrs[i];
        switch (ph->p_type) {
        case PT_LOAD: ret = add_segment(elf, ph, i, name, err); break;
        case PT_NOTE: ret = scan_notes(elf, ph, &note_found, name, err); break;
        case PT_DYNAMIC: dynamic = ph; break;
        case PT_INTERP:
            return tm_error_set(err, ENOEXEC,
                                "%s: dynamic executable (has an interpreter); link it with -static-pie", name);
        case PT_TLS:
            return tm_error_set(err, ENOEXEC,
                                "%s: thread-local storage (PT_TLS) is not supported in enclave images", name);
        }
    }
    if (ret < 0)
        return ret;
    if (elf->nsegments == 0)
        return tm_error_set(err, ENOEXEC, "%s: no loadable segments", name);
    if (dynamic && (ret = check_dynamic(elf, dynamic, name, err)) < 0)
        return ret;
    if (!note_found)
        return tm_error_set(err, ENOEXEC,
                            "%s: no TeeMate layout note (was it built with the TeeMate SDK?)", name);
    elf->entry = eh->e_entry;
    const struct tm_elf_segment *entry_seg = segment_at(elf, eh->e_entry, 1);
    if (!entry_seg || !(entry_seg->secinfo_perm & SGX_SECINFO_X))
        return tm_error_set(err, ENOEXEC, "%s: entry point 0x%llx is not in an executable segment",
                            name, (unsigned long long)eh->e_entry);
    return 0;
}
