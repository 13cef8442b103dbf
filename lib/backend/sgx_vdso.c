#include "backend/sgx_vdso.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/auxv.h>

#define VDSO_MAX_LOADS 8
#define VDSO_MAX_PHDRS 64
#define VDSO_MAX_VERDEFS 64
#define VDSO_MAX_SIZE (16u << 20)   /* the vDSO is a few pages; anything bigger is garbage */

struct vdso_parse {
    const uint8_t *image;
    size_t len;
    size_t nloads;
    Elf64_Phdr loads[VDSO_MAX_LOADS];
};

/* Copy size bytes at off, if they lie inside the image. memcpy: the image need
 * not be aligned (a fuzzer's buffer is not). */
static bool read_at(const struct vdso_parse *p, uint64_t off, void *dst, size_t size)
{
    if (off > p->len || size > p->len - off)
        return false;
    memcpy(dst, p->image + off, size);
    return true;
}

/* Image offset of [vaddr, vaddr + size) if it lies in the file contents of one
 * PT_LOAD (executable ones only when exec). */
static bool vaddr_to_off(const struct vdso_parse *p, uint64_t vaddr, uint64_t size, bool exec,
                         uint64_t *off)
{
    for (size_t i = 0; i < p->nloads; i++) {
        const Elf64_Phdr *ph = &p->loads[i];
        if (exec && !(ph->p_flags & PF_X))
            continue;
        if (vaddr < ph->p_vaddr || vaddr - ph->p_vaddr > ph->p_filesz ||
            size > ph->p_filesz - (vaddr - ph->p_vaddr))
            continue;
        uint64_t o = ph->p_offset + (vaddr - ph->p_vaddr);   /* p_offset + p_filesz <= len */
        if (o > p->len || size > p->len - o)
            continue;
        *off = o;
        return true;
    }
    return false;
}

static int malformed(tm_error *err, const char *what)
{
    return tm_error_set(err, ENOEXEC, "vDSO image is malformed: %s", what);
}

/* Program headers: keep the PT_LOADs, return PT_DYNAMIC. headers_only: the
 * image is just the headers, so segments are not checked against it. */
static int parse_phdrs(struct vdso_parse *p, Elf64_Phdr *dynamic, bool headers_only, tm_error *err)
{
    Elf64_Ehdr eh;
    if (!read_at(p, 0, &eh, sizeof(eh)))
        return malformed(err, "shorter than an ELF header");
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 || eh.e_type != ET_DYN)
        return malformed(err, "not an ELF64 x86-64 shared object");
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > VDSO_MAX_PHDRS)
        return malformed(err, "bad program header table");
    bool have_dynamic = false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (eh.e_phoff > UINT64_MAX - (uint64_t)i * sizeof(ph) ||
            !read_at(p, eh.e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph)))
            return malformed(err, "program header table outside the image");
        if (ph.p_type == PT_LOAD) {
            if (p->nloads == VDSO_MAX_LOADS)
                return malformed(err, "too many PT_LOAD segments");
            if (!headers_only && (ph.p_offset > p->len || ph.p_filesz > p->len - ph.p_offset))
                return malformed(err, "PT_LOAD outside the image");
            if (ph.p_vaddr > UINT64_MAX - ph.p_filesz || ph.p_offset > UINT64_MAX - ph.p_filesz)
                return malformed(err, "PT_LOAD wraps");
            p->loads[p->nloads++] = ph;
        } else if (ph.p_type == PT_DYNAMIC) {
            *dynamic = ph;
            have_dynamic = true;
        }
    }
    if (!p->nloads || !have_dynamic)
        return malformed(err, "no PT_LOAD or no PT_DYNAMIC");
    return 0;
}

struct vdso_dyn {
    uint64_t hash, gnu_hash, symtab, strtab, strsz, syment, versym, verdef, verdefnum;
};

static int parse_dynamic(const struct vdso_parse *p, const Elf64_Phdr *dyn_ph, struct vdso_dyn *d,
                         tm_error *err)
{
    memset(d, 0, sizeof(*d));
    if (dyn_ph->p_offset > p->len || dyn_ph->p_filesz > p->len - dyn_ph->p_offset)
        return malformed(err, "PT_DYNAMIC outside the image");
    size_t n = dyn_ph->p_filesz / sizeof(Elf64_Dyn);
    for (size_t i = 0; i < n; i++) {
        Elf64_Dyn dyn;
        read_at(p, dyn_ph->p_offset + i * sizeof(dyn), &dyn, sizeof(dyn));   /* inside: checked */
        if (dyn.d_tag == DT_NULL)
            break;
        switch (dyn.d_tag) {
        case DT_HASH: d->hash = dyn.d_un.d_ptr; break;
        case DT_GNU_HASH: d->gnu_hash = dyn.d_un.d_ptr; break;
        case DT_SYMTAB: d->symtab = dyn.d_un.d_ptr; break;
        case DT_STRTAB: d->strtab = dyn.d_un.d_ptr; break;
        case DT_STRSZ: d->strsz = dyn.d_un.d_val; break;
        case DT_SYMENT: d->syment = dyn.d_un.d_val; break;
        case DT_VERSYM: d->versym = dyn.d_un.d_ptr; break;
        case DT_VERDEF: d->verdef = dyn.d_un.d_ptr; break;
        case DT_VERDEFNUM: d->verdefnum = dyn.d_un.d_val; break;
        default: break;
        }
    }
    if (!d->symtab || !d->strtab || !d->strsz || (!d->hash && !d->gnu_hash))
        return malformed(err, "dynamic section lacks DT_SYMTAB, DT_STRTAB, DT_STRSZ or a hash table");
    if (d->syment && d->syment != sizeof(Elf64_Sym))
        return malformed(err, "DT_SYMENT is not sizeof(Elf64_Sym)");
    return 0;
}

static bool read_word(const struct vdso_parse *p, uint64_t vaddr, uint32_t *w)
{
    uint64_t off;
    return vaddr_to_off(p, vaddr, sizeof(*w), false, &off) && read_at(p, off, w, sizeof(*w));
}

/* Number of dynamic symbols: DT_HASH's nchain, or for DT_GNU_HASH one past the
 * last symbol of the longest-numbered chain (the table has no count). */
static int count_symbols(const struct vdso_parse *p, const struct vdso_dyn *d, uint64_t *nsyms,
                         tm_error *err)
{
    uint32_t w;
    if (d->hash) {
        if (!read_word(p, d->hash + 4, &w))
            return malformed(err, "DT_HASH outside the image");
        *nsyms = w;
        return 0;
    }
    uint32_t nbuckets, symoffset, bloom_size;
    if (!read_word(p, d->gnu_hash, &nbuckets) || !read_word(p, d->gnu_hash + 4, &symoffset) ||
        !read_word(p, d->gnu_hash + 8, &bloom_size))
        return malformed(err, "DT_GNU_HASH outside the image");
    uint64_t buckets = d->gnu_hash + 16 + (uint64_t)bloom_size * 8;
    uint64_t chains = buckets + (uint64_t)nbuckets * 4;
    if (buckets < d->gnu_hash || chains < buckets)
        return malformed(err, "DT_GNU_HASH wraps");
    uint32_t last = 0;
    for (uint32_t i = 0; i < nbuckets; i++) {
        if (!read_word(p, buckets + (uint64_t)i * 4, &w))
            return malformed(err, "DT_GNU_HASH buckets outside the image");
        if (w > last)
            last = w;
    }
    if (last < symoffset) {
        *nsyms = symoffset;
        return 0;
    }
    /* Walk the last chain to its end marker (bit 0); each step reads inside
     * the image, so the walk is bounded by its size. */
    for (uint64_t i = last;; i++) {
        if (!read_word(p, chains + (i - symoffset) * 4, &w))
            return malformed(err, "DT_GNU_HASH chain runs off the image");
        if (w & 1) {
            *nsyms = i + 1;
            return 0;
        }
    }
}

/* Name of the version definition with index ndx, or NULL. */
static const char *verdef_name(const struct vdso_parse *p, const struct vdso_dyn *d,
                               uint64_t stroff, uint16_t ndx)
{
    uint64_t vaddr = d->verdef;
    uint64_t limit = d->verdefnum && d->verdefnum < VDSO_MAX_VERDEFS ? d->verdefnum : VDSO_MAX_VERDEFS;
    for (uint64_t i = 0; vaddr && i < limit; i++) {
        Elf64_Verdef vd;
        Elf64_Verdaux va;
        uint64_t off, aux_off;
        if (!vaddr_to_off(p, vaddr, sizeof(vd), false, &off) || !read_at(p, off, &vd, sizeof(vd)))
            return NULL;
        if (!(vd.vd_flags & VER_FLG_BASE) && (vd.vd_ndx & 0x7fff) == ndx) {
            if (vaddr > UINT64_MAX - vd.vd_aux ||
                !vaddr_to_off(p, vaddr + vd.vd_aux, sizeof(va), false, &aux_off) ||
                !read_at(p, aux_off, &va, sizeof(va)) || va.vda_name >= d->strsz)
                return NULL;
            const char *s = (const char *)p->image + stroff + va.vda_name;
            return memchr(s, '\0', d->strsz - va.vda_name) ? s : NULL;
        }
        if (!vd.vd_next || vaddr > UINT64_MAX - vd.vd_next)
            return NULL;
        vaddr += vd.vd_next;
    }
    return NULL;
}

int tm_vdso_find(const uint8_t *image, size_t len, const char *name, const char *version,
                 size_t *offset, tm_error *err)
{
    struct vdso_parse p = { .image = image, .len = len };
    Elf64_Phdr dyn_ph;
    struct vdso_dyn d;
    uint64_t nsyms = 0, symoff, stroff, versymoff = 0;
    int ret = parse_phdrs(&p, &dyn_ph, false, err);
    if (ret == 0)
        ret = parse_dynamic(&p, &dyn_ph, &d, err);
    if (ret == 0)
        ret = count_symbols(&p, &d, &nsyms, err);
    if (ret < 0)
        return ret;
    if (nsyms > len / sizeof(Elf64_Sym) ||
        !vaddr_to_off(&p, d.symtab, nsyms * sizeof(Elf64_Sym), false, &symoff))
        return malformed(err, "symbol table outside the image");
    if (!vaddr_to_off(&p, d.strtab, d.strsz, false, &stroff))
        return malformed(err, "string table outside the image");
    if (d.versym && !vaddr_to_off(&p, d.versym, nsyms * 2, false, &versymoff))
        return malformed(err, "version table outside the image");

    size_t name_len = strlen(name) + 1;
    for (uint64_t i = 1; i < nsyms; i++) {
        Elf64_Sym sym;
        read_at(&p, symoff + i * sizeof(sym), &sym, sizeof(sym));   /* inside: checked */
        unsigned type = ELF64_ST_TYPE(sym.st_info), bind = ELF64_ST_BIND(sym.st_info);
        if ((type != STT_FUNC && type != STT_NOTYPE) || (bind != STB_GLOBAL && bind != STB_WEAK) ||
            sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
            continue;
        if (sym.st_name >= d.strsz || name_len > d.strsz - sym.st_name ||
            memcmp(image + stroff + sym.st_name, name, name_len) != 0)
            continue;
        if (version && d.versym) {
            uint16_t ver = 0;
            read_at(&p, versymoff + i * 2, &ver, sizeof(ver));   /* inside: checked */
            const char *vname = verdef_name(&p, &d, stroff, ver & 0x7fff);
            if (!vname || strcmp(vname, version) != 0)
                continue;
        }
        uint64_t code;
        if (!vaddr_to_off(&p, sym.st_value, 1, true, &code))
            return malformed(err, "symbol outside the executable segment");
        *offset = code;
        return 0;
    }
    return tm_error_set(err, ENOENT, "the vDSO has no %s%s%s", name, version ? "@" : "",
                        version ? version : "");
}

int tm_vdso_image(const uint8_t **image, size_t *len, tm_error *err)
{
    const uint8_t *base = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
    if (!base)
        return tm_error_set(err, ENOENT, "this process has no vDSO (AT_SYSINFO_EHDR is 0)");
    /* Only the first page is sure to be mapped: the extent of the PT_LOADs,
     * from the headers in it, is the image to parse. */
    struct vdso_parse p = { .image = base, .len = 4096 };
    Elf64_Phdr dyn_ph;
    int ret = parse_phdrs(&p, &dyn_ph, true, err);
    if (ret < 0)
        return ret;
    uint64_t end = 0;
    for (size_t i = 0; i < p.nloads; i++)
        if (p.loads[i].p_offset + p.loads[i].p_filesz > end)
            end = p.loads[i].p_offset + p.loads[i].p_filesz;
    if (end < sizeof(Elf64_Ehdr) || end > VDSO_MAX_SIZE)
        return malformed(err, "implausible size");
    *image = base;
    *len = end;
    return 0;
}

int tm_vdso_lookup(const char *name, void **fn, tm_error *err)
{
    const uint8_t *image;
    size_t len, off;
    int ret = tm_vdso_image(&image, &len, err);
    if (ret == 0)
        ret = tm_vdso_find(image, len, name, TM_VDSO_VERSION, &off, err);
    if (ret < 0)
        return ret;
    *fn = (void *)(image + off);
    return 0;
}

/* A plain function around the vDSO call: saves the callee-saved registers the
 * vDSO does not (R12-R15; it keeps RBX and RBP itself), passes run as the
 * stack argument and calls fn. Stack: 8 (return address) + 8 (RBP) + 5 * 8
 * pushed + 8 (run) keeps RSP 16-byte aligned at the call. */
__asm__(".text\n"
        ".globl tm_sgx_vdso_call\n"
        ".type tm_sgx_vdso_call, @function\n"
        "tm_sgx_vdso_call:\n"
        ".cfi_startproc\n"
        "    endbr64\n"
        "    push %rbp\n"
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset %rbp, -16\n"
        "    mov %rsp, %rbp\n"
        ".cfi_def_cfa_register %rbp\n"
        "    push %rbx\n"
        "    push %r12\n"
        "    push %r13\n"
        "    push %r14\n"
        "    push %r15\n"
        ".cfi_offset %rbx, -24\n"
        ".cfi_offset %r12, -32\n"
        ".cfi_offset %r13, -40\n"
        ".cfi_offset %r14, -48\n"
        ".cfi_offset %r15, -56\n"
        "    push 16(%rbp)\n"          /* run: the vDSO's 7th argument */
        "    call *24(%rbp)\n"         /* fn: our 8th */
        "    lea -40(%rbp), %rsp\n"
        "    pop %r15\n"
        "    pop %r14\n"
        "    pop %r13\n"
        "    pop %r12\n"
        "    pop %rbx\n"
        "    pop %rbp\n"
        ".cfi_def_cfa %rsp, 8\n"
        "    ret\n"
        ".cfi_endproc\n"
        ".size tm_sgx_vdso_call, .-tm_sgx_vdso_call\n");
